// The forms of Amazon SQS queue URLs and ARNs in every AWS partition, in one place: KEDA's
// `aws-sqs-queue` trigger takes a queue URL, and the AWS constructs and stacks check the same URLs (the
// interruption queue of NodeTerminationHandler) and the ARNs derived from them (KedaOperatorRole). It
// lives beside the trigger because `constructs/k8s` may not import `constructs/aws`; it imports nothing.

const REGION_PART = '[a-z]{2}(?:-(?:gov|iso|isob|isoe|isof))?-[a-z]+-\\d{1,2}';
/**
 * Commercial, GovCloud, China and ISO region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
 * `cn-north-1`, `us-iso-east-1`, `us-isob-east-1`.
 */
export const AWS_REGION_NAME = new RegExp(`^${REGION_PART}$`);

/** The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, ...). */
export function awsPartitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  const iso = /^[a-z]{2}-iso([a-z]?)-/.exec(region);
  if (iso) return iso[1] ? `aws-iso-${iso[1]}` : 'aws-iso';
  return 'aws';
}

/** The SQS endpoint domain of each partition whose queues can be named here. */
const SQS_DOMAINS: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
};

/** Queue names: 1-80 letters, digits, `-` and `_`, a FIFO queue's with the `.fifo` suffix. */
const NAME_PART = '[A-Za-z0-9_-]{1,80}(?:\\.fifo)?';

/** `sqs.<region>.<domain>`, or the legacy `<region>.queue.amazonaws.com`. */
const SQS_HOST = new RegExp(
  `^(?:sqs\\.(${REGION_PART})\\.(amazonaws\\.com|amazonaws\\.com\\.cn|c2s\\.ic\\.gov|sc2s\\.sgov\\.gov)|(${REGION_PART})\\.queue\\.(amazonaws\\.com))$`,
);
const SQS_QUEUE_URL = /^https:\/\/([^/]+)\/(\d{12})\/([^/]+)$/;
const QUEUE_NAME = new RegExp(`^${NAME_PART}$`);
const SQS_QUEUE_ARN = new RegExp(
  `^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):sqs:(${REGION_PART}):(\\d{12}):(${NAME_PART})$`,
);

/** An SQS endpoint's region, and whether its domain is the one of that region's partition. */
export interface SqsEndpoint {
  readonly region: string;
  /** False for e.g. `sqs.cn-north-1.amazonaws.com` (China's queues are under `amazonaws.com.cn`). */
  readonly domainMatchesRegion: boolean;
}

/** The region of an SQS endpoint host (`sqs.<region>.<domain>` or `<region>.queue.amazonaws.com`). */
export function parseSqsEndpoint(host: string): SqsEndpoint | undefined {
  const m = SQS_HOST.exec(host);
  if (!m) return undefined;
  const region = (m[1] ?? m[3]) as string;
  const domain = (m[2] ?? m[4]) as string;
  return { region, domainMatchesRegion: SQS_DOMAINS[awsPartitionOf(region)] === domain };
}

/** A queue's identity, as its URL and its ARN both carry it. */
export interface SqsQueueAddress {
  /** The region's partition (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`). */
  readonly partition: string;
  readonly region: string;
  /** The 12-digit account id. */
  readonly account: string;
  readonly name: string;
}

/**
 * The parts of an SQS queue URL: `https://sqs.<region>.amazonaws.com/<account>/<name>` (also GovCloud),
 * `https://sqs.<region>.amazonaws.com.cn/...` (China), `https://sqs.<region>.c2s.ic.gov/...` (ISO),
 * `https://sqs.<region>.sc2s.sgov.gov/...` (ISO-B) or the legacy `https://<region>.queue.amazonaws.com/...`.
 * Undefined for anything else; `domainMatchesRegion` tells a domain of another partition than the region's.
 */
export function parseSqsQueueUrl(value: string): (SqsQueueAddress & SqsEndpoint) | undefined {
  const m = typeof value === 'string' ? SQS_QUEUE_URL.exec(value) : null;
  const endpoint = m ? parseSqsEndpoint(m[1] as string) : undefined;
  if (!m || !endpoint || !QUEUE_NAME.test(m[3] as string)) return undefined;
  return {
    ...endpoint,
    partition: awsPartitionOf(endpoint.region),
    account: m[2] as string,
    name: m[3] as string,
  };
}

/**
 * The parts of an SQS queue ARN, `arn:<partition>:sqs:<region>:<account>:<name>` with the partition of
 * the region (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`); undefined for anything else.
 */
export function parseSqsQueueArn(value: string): SqsQueueAddress | undefined {
  const m = typeof value === 'string' ? SQS_QUEUE_ARN.exec(value) : null;
  if (!m || awsPartitionOf(m[2] as string) !== m[1]) return undefined;
  return { partition: m[1], region: m[2] as string, account: m[3] as string, name: m[4] as string };
}

/** `arn:<partition>:sqs:<region>:<account>:<name>`. */
export function sqsQueueArn(queue: SqsQueueAddress): string {
  return `arn:${queue.partition}:sqs:${queue.region}:${queue.account}:${queue.name}`;
}
