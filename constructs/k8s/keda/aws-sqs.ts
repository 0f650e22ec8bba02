// The forms of Amazon SQS queue URLs and ARNs in every AWS partition, in one place: KEDA's
// `aws-sqs-queue` trigger takes a queue URL, and the AWS constructs and stacks check the same URLs (the
// interruption queue of NodeTerminationHandler) and the ARNs derived from them (KedaOperatorRole). It
// lives beside the trigger because `constructs/k8s` may not import `constructs/aws`; it imports only the
// region names and partitions of `../aws-regions.ts`.
import {
  AWS_DNS_SUFFIX,
  AWS_PARTITIONS,
  AWS_REGION_NAME,
  AWS_REGION_PATTERN,
  awsPartitionOf,
} from '../aws-regions.js';

/**
 * The SQS endpoint hosts of each partition whose queues can be named here, `<region>` standing for the
 * region: `sqs.<region>.<the partition's DNS suffix>` everywhere (the SDK's SQS endpoint rules give it
 * for every partition, e.g. `amazonaws.eu` for the European Sovereign Cloud), and in the commercial
 * partition also the FIPS (`sqs-fips.`), dual-stack (`.api.aws`) and FIPS dual-stack endpoints that the
 * SQS endpoints page lists. FIPS and dual-stack hosts of the other partitions are left out until
 * confirmed (GovCloud's FIPS endpoint is its plain `sqs.<region>.amazonaws.com`).
 */
const SQS_HOSTS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  AWS_PARTITIONS.map((partition) => [
    partition,
    [
      `sqs.<region>.${AWS_DNS_SUFFIX[partition] as string}`,
      ...(partition === 'aws'
        ? ['sqs-fips.<region>.amazonaws.com', 'sqs.<region>.api.aws', 'sqs-fips.<region>.api.aws']
        : []),
    ],
  ]),
);
/** The partitions whose regions answer the legacy `<region>.queue.amazonaws.com`. */
const LEGACY_PARTITIONS: readonly string[] = ['aws', 'aws-us-gov'];

/** Queue names: 1-80 letters, digits, `-` and `_`, a FIFO queue's with the `.fifo` suffix. */
const NAME_PART = '[A-Za-z0-9_-]{1,80}(?:\\.fifo)?';

/** The domains of {@link SQS_HOSTS}, as regex alternatives. */
const DOMAINS = [
  ...new Set(Object.values(SQS_HOSTS).flatMap((hosts) => hosts.map((h) => h.replace(/^.*<region>\./, '')))),
]
  .map((domain) => domain.replace(/\./g, '\\.'))
  .join('|');
/** `sqs[-fips].<region>.<domain>` of any partition, or the legacy `<region>.queue.amazonaws.com`. */
const SQS_HOST = new RegExp(
  `^(?:(sqs|sqs-fips)\\.(${AWS_REGION_PATTERN})\\.(${DOMAINS})|(${AWS_REGION_PATTERN})\\.queue\\.(amazonaws\\.com))$`,
);
const SQS_QUEUE_URL = /^https:\/\/([^/]+)\/(\d{12})\/([^/]+)$/;
/**
 * An interface VPC endpoint's own DNS name for SQS, `vpce-<endpoint id>.sqs.<region>.vpce.amazonaws.com`
 * (regional, or zonal with the zone after the id), as queue URLs through the endpoint use it
 * (`https://vpce-x-y.sqs.us-east-1.vpce.amazonaws.com/1234567890/demo` in the SQS queue URL plugin of
 * aws-sdk-ruby). The region is taken loosely here so that a wrong one is reported as a mismatch.
 */
const SQS_VPC_ENDPOINT_HOST = /^vpce-[a-z0-9]+(?:-[a-z0-9]+)*\.sqs\.([a-z0-9-]+)\.vpce\.amazonaws\.com$/;
/** `/<12-digit account>/<queue name>`: the path of a queue URL. */
const SQS_QUEUE_PATH = new RegExp(`^/(\\d{12})/(${NAME_PART})$`);
const QUEUE_NAME = new RegExp(`^${NAME_PART}$`);
const SQS_QUEUE_ARN = new RegExp(
  `^arn:(${AWS_PARTITIONS.join('|')}):sqs:(${AWS_REGION_PATTERN}):(\\d{12}):(${NAME_PART})$`,
);

/** An SQS endpoint's region, and what is wrong with the host for that region, if anything. */
export interface SqsEndpoint {
  readonly region: string;
  /**
   * Undefined when the host is one of the SQS endpoints of the region's own partition; otherwise what
   * is wrong with it, as a PropError reason: its domain is another partition's
   * (`sqs.cn-north-1.amazonaws.com`: `must use the SQS domain of region "cn-north-1"`), or the domain
   * is right but the prefix is not one the partition's endpoints have here
   * (`sqs-fips.cn-north-1.amazonaws.com.cn`: `... the prefix "sqs-fips" is not one of partition aws-cn's
   * (sqs.cn-north-1.amazonaws.com.cn)`). FIPS and dual-stack hosts outside the commercial partition
   * are not taken until confirmed (see {@link SQS_HOSTS}).
   */
  readonly hostProblem: string | undefined;
}

/**
 * The region of an SQS endpoint host: `sqs.<region>.<domain>`, `sqs-fips.<region>.<domain>` or
 * `<region>.queue.amazonaws.com`, with a domain of any partition. `hostProblem` tells why the host is
 * not one of the SQS endpoints of the region's own partition.
 */
export function parseSqsEndpoint(host: string): SqsEndpoint | undefined {
  const m = SQS_HOST.exec(host);
  if (!m) return undefined;
  const region = (m[4] ?? m[2]) as string;
  const partition = awsPartitionOf(region);
  const wrongDomain = `must use the SQS domain of region "${region}"`;
  if (m[4] !== undefined) {
    return { region, hostProblem: LEGACY_PARTITIONS.includes(partition) ? undefined : wrongDomain };
  }
  const prefix = m[1] as string;
  const domain = m[3] as string;
  const hosts = SQS_HOSTS[partition] ?? [];
  if (hosts.includes(`${prefix}.<region>.${domain}`)) return { region, hostProblem: undefined };
  const onDomain = hosts
    .filter((h) => h.endsWith(`<region>.${domain}`))
    .map((h) => h.replace('<region>', region));
  if (onDomain.length === 0) return { region, hostProblem: wrongDomain };
  return {
    region,
    hostProblem:
      `must use an SQS endpoint of region "${region}": the domain is right but the prefix "${prefix}" ` +
      `is not one of partition ${partition}'s (${onDomain.join(' or ')})`,
  };
}

/**
 * The region of an SQS interface VPC endpoint's own DNS name,
 * `vpce-<endpoint id>.sqs.<region>.vpce.amazonaws.com`; undefined for any other host. The region is
 * whatever stands in its place (check it against the queue's region).
 */
export function parseSqsVpcEndpointHost(host: string): string | undefined {
  return SQS_VPC_ENDPOINT_HOST.exec(host)?.[1];
}

/**
 * The partitions whose regions' SQS interface VPC endpoints are named on `vpce.amazonaws.com`
 * ({@link SQS_VPC_ENDPOINT_HOST}): only the commercial one is confirmed. Other partitions' VPC endpoint
 * domains (China's would be under `amazonaws.com.cn`) are not taken until confirmed.
 */
const VPC_ENDPOINT_PARTITIONS: readonly string[] = ['aws'];
const HTTPS_URL = /^https:\/\/([^/?#]+)(.*)$/s;

/**
 * A queue URL on an SQS interface VPC endpoint's own DNS name,
 * `https://vpce-<endpoint id>.sqs.<region>.vpce.amazonaws.com/<12-digit account>/<queue name>`
 * (regional, or zonal with the zone after the id): the region of its host ({@link parseSqsVpcEndpointHost}),
 * the queue when the path is `/<12-digit account>/<queue name>` with nothing after it
 * ({@link parseSqsQueuePath}), and `hostProblem` when the region is not an AWS region name or is not in a
 * partition whose VPC endpoints are confirmed on this domain (only the commercial `aws` so far).
 * Undefined when the URL is not https on such a host.
 */
export function parseSqsVpcEndpointQueueUrl(
  value: string,
): (SqsEndpoint & { readonly queue: SqsQueueAddress | undefined }) | undefined {
  const m = typeof value === 'string' ? HTTPS_URL.exec(value) : null;
  const region = m ? parseSqsVpcEndpointHost(m[1] as string) : undefined;
  if (!m || region === undefined) return undefined;
  const partition = awsPartitionOf(region);
  let hostProblem: string | undefined;
  if (!AWS_REGION_NAME.test(region)) {
    hostProblem = `must name an AWS region in the VPC endpoint's host (it names "${region}")`;
  } else if (!VPC_ENDPOINT_PARTITIONS.includes(partition)) {
    hostProblem =
      `must be on a VPC endpoint of the commercial partition: region "${region}" is in ${partition}, ` +
      'whose SQS VPC endpoint domain is not confirmed here';
  }
  const path = parseSqsQueuePath(m[2] as string);
  return { region, hostProblem, queue: path ? { partition, region, ...path } : undefined };
}

/** The account and queue name of a queue URL's path, `/<12-digit account>/<queue name>`; undefined otherwise. */
export function parseSqsQueuePath(path: string): { account: string; name: string } | undefined {
  const m = SQS_QUEUE_PATH.exec(path);
  return m ? { account: m[1] as string, name: m[2] as string } : undefined;
}

/** A queue's identity, as its URL and its ARN both carry it. */
export interface SqsQueueAddress {
  /** The region's partition (`awsPartitionOf`: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ...). */
  readonly partition: string;
  readonly region: string;
  /** The 12-digit account id. */
  readonly account: string;
  readonly name: string;
}

/**
 * The parts of an SQS queue URL: `https://sqs.<region>.amazonaws.com/<account>/<name>` (also GovCloud,
 * and commercial `sqs-fips.<region>.amazonaws.com`, `sqs[-fips].<region>.api.aws`),
 * `https://sqs.<region>.amazonaws.com.cn/...` (China), `https://sqs.<region>.c2s.ic.gov/...` (ISO),
 * `https://sqs.<region>.sc2s.sgov.gov/...` (ISO-B), `https://sqs.<region>.cloud.adc-e.uk/...` (ISO-E),
 * `https://sqs.<region>.csp.hci.ic.gov/...` (ISO-F), `https://sqs.<region>.amazonaws.eu/...` (European
 * Sovereign Cloud) or the legacy `https://<region>.queue.amazonaws.com/...`.
 * Undefined for anything else; `hostProblem` tells why the host is not an SQS endpoint of the region's
 * partition (a domain of another partition, or a prefix the partition does not take).
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
 * the region (`AWS_PARTITIONS`); undefined for anything else.
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
