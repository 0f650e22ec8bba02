// AWS region names and the partitions they belong to, in one place: the region checks (aws-checks,
// the KEDA trigger, the cluster autoscaler), the SQS queue URL and ARN parser and the GitOps role ARNs
// all take a region and some map it to its partition. It lives in `constructs/k8s` because the
// cloud-neutral constructs check AWS regions too, and `constructs/k8s` may not import `constructs/aws`.

/**
 * The region names of each partition, as regex sources without anchors. They follow the `regionRegex`
 * of each partition in the AWS SDK's partitions table (`@aws-sdk/core`, util-endpoints
 * `partitions.js`; aws-cdk-lib's region-info agrees), with `[a-z]+` for the SDK's `\w+` and at most
 * two digits. The commercial one is wider than the SDK's list of country codes (new ones keep being
 * added, and the SDK puts a region it does not know in `aws` too) but leaves out `cn-`; the patterns
 * do not overlap, so a region has one partition.
 */
const REGIONS_OF_PARTITION: Readonly<Record<string, string>> = {
  aws: '(?!cn-)[a-z]{2}-[a-z]+-\\d{1,2}',
  'aws-cn': 'cn-[a-z]+-\\d{1,2}',
  'aws-us-gov': 'us-gov-[a-z]+-\\d{1,2}',
  'aws-iso': 'us-iso-[a-z]+-\\d{1,2}',
  'aws-iso-b': 'us-isob-[a-z]+-\\d{1,2}',
  'aws-iso-e': 'eu-isoe-[a-z]+-\\d{1,2}',
  'aws-iso-f': 'us-isof-[a-z]+-\\d{1,2}',
  'aws-eusc': 'eusc-de-[a-z]+-\\d{1,2}',
};

/**
 * Each partition's DNS suffix (the SDK's `dnsSuffix`, `@aws-sdk/core` partitions table): service
 * endpoints are `<service>.<region>.<suffix>` where a service has no other rule.
 */
export const AWS_DNS_SUFFIX: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-iso-e': 'cloud.adc-e.uk',
  'aws-iso-f': 'csp.hci.ic.gov',
  'aws-eusc': 'amazonaws.eu',
};

/**
 * The AWS partitions, as the first field of an ARN: commercial, China, GovCloud, the ISO partitions and
 * the European Sovereign Cloud.
 */
export const AWS_PARTITIONS: readonly string[] = Object.keys(REGIONS_OF_PARTITION);

/** An AWS region name of any partition, as a regex source without anchors (for larger patterns). */
export const AWS_REGION_PATTERN = `(?:${Object.values(REGIONS_OF_PARTITION).join('|')})`;

/**
 * Region names of every partition: `us-east-1`, `eu-central-2`, `cn-north-1`, `us-gov-west-1`,
 * `us-iso-east-1`, `us-isob-east-1`, `eu-isoe-west-1`, `us-isof-south-1`, `eusc-de-east-1`.
 */
export const AWS_REGION_NAME = new RegExp(`^${AWS_REGION_PATTERN}$`);

const PARTITION_OF_REGION: readonly (readonly [string, RegExp])[] = Object.entries(REGIONS_OF_PARTITION).map(
  ([partition, regions]) => [partition, new RegExp(`^${regions}$`)] as const,
);

/**
 * The partition of a region (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`,
 * `aws-iso-f`, `aws-eusc`); `aws` for a name that is not an {@link AWS_REGION_NAME}, as the SDK does.
 */
export function awsPartitionOf(region: string): string {
  return PARTITION_OF_REGION.find(([, regions]) => regions.test(region))?.[0] ?? 'aws';
}
