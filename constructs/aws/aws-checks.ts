// Prop checks for AWS identifiers (regions, zones, ARNs, queue URLs, CIDRs). Free of aws-cdk-lib, so
// that cdk8s-only constructs (NodeTerminationHandler) can use it; a CDK token (`${Token[...]}`) is
// accepted wherever a value may come from another resource, since it is only known at deploy time.
import { checkIamRoleArn as checkIamRoleArnLiteral } from '../k8s/aws-arns.js';
import { AWS_REGION_NAME } from '../k8s/aws-regions.js';
import { parseSqsQueueUrl } from '../k8s/keda/aws-sqs.js';
import { PropError } from '../k8s/validation.js';

/** True for a string holding an unresolved CDK token: its value is only known at deploy time. */
export function isCdkToken(value: string): boolean {
  return value.includes('${Token[');
}

/** Throws unless `value` has the form of an AWS region name (e.g. `us-east-1`). */
export function checkAwsRegion(prop: string, value: string): void {
  if (typeof value !== 'string' || !AWS_REGION_NAME.test(value)) {
    throw new PropError(prop, value, 'must be an AWS region name like "us-east-1"');
  }
}

/**
 * Throws unless `value` is an IAM role ARN (the one rule of `constructs/k8s/aws-arns.ts`) or a CDK token,
 * e.g. another role's `roleArn`.
 */
export function checkIamRoleArn(prop: string, value: string): void {
  if (typeof value === 'string' && isCdkToken(value)) return;
  checkIamRoleArnLiteral(prop, value);
}

/**
 * Throws unless `value` is an SQS queue URL in `region` (or a CDK token, e.g. a queue's `queueUrl`), on
 * the SQS domain of the region's partition: the forms `parseSqsQueueUrl` takes.
 */
export function checkSqsQueueUrl(prop: string, value: string, region: string): void {
  if (typeof value === 'string' && isCdkToken(value)) return;
  const queue = parseSqsQueueUrl(value);
  if (!queue) {
    throw new PropError(
      prop,
      value,
      'must be an SQS queue URL like "https://sqs.us-east-1.amazonaws.com/123456789012/interruptions"',
    );
  }
  if (queue.region !== region) {
    throw new PropError(
      prop,
      value,
      `must name a queue in region "${region}" (the queue is in "${queue.region}")`,
    );
  }
  if (queue.hostProblem !== undefined) throw new PropError(prop, value, queue.hostProblem);
}

/**
 * Throws unless every zone is an availability zone name of `region` (`<region>` plus one letter,
 * e.g. `us-east-1a`) and no zone is listed twice.
 */
export function checkAvailabilityZones(prop: string, zones: readonly string[], region: string): void {
  const seen = new Set<string>();
  zones.forEach((zone, i) => {
    if (typeof zone !== 'string' || !zone.startsWith(region) || !/^[a-z]$/.test(zone.slice(region.length))) {
      throw new PropError(
        `${prop}[${i}]`,
        zone,
        `must be an availability zone of region "${region}" ("${region}" followed by one letter, e.g. "${region}a")`,
      );
    }
    if (seen.has(zone)) throw new PropError(`${prop}[${i}]`, zone, 'is listed twice');
    seen.add(zone);
  });
}

/** A parsed CIDR: family, address as a big integer, prefix length. */
interface Cidr {
  readonly family: 4 | 6;
  readonly address: bigint;
  readonly prefix: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

/** Parses an IPv4 (`a.b.c.d/n`) or IPv6 (`x:y::z/n`) CIDR, or undefined if it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const v4 = parseIpv4(m[1] as string);
  if (v4 !== undefined) return prefix <= 32 ? { family: 4, address: v4, prefix } : undefined;
  const v6 = parseIpv6(m[1] as string);
  if (v6 !== undefined) return prefix <= 128 ? { family: 6, address: v6, prefix } : undefined;
  return undefined;
}

/** True if the CIDR has no bits set after its prefix (`10.0.0.0/8`, not `10.1.2.3/8`). */
export function isCanonicalCidr(cidr: Cidr): boolean {
  const bits = BigInt(cidr.family === 4 ? 32 : 128);
  const hostBits = bits - BigInt(cidr.prefix);
  return (cidr.address & ((1n << hostBits) - 1n)) === 0n;
}

/** EKS cluster names: 1-100 letters, digits, "-" and "_", starting with a letter or digit. */
const EKS_CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Throws unless `value` is an EKS cluster name (or a CDK token, e.g. a cluster's `clusterName`). */
export function checkEksClusterName(prop: string, value: string): void {
  if (typeof value === 'string' && isCdkToken(value)) return;
  if (typeof value !== 'string' || !EKS_CLUSTER_NAME.test(value)) {
    throw new PropError(
      prop,
      value,
      'must be an EKS cluster name (1-100 letters, digits, "-" or "_", starting with a letter or digit)',
    );
  }
}
