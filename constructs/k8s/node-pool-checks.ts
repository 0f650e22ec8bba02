// Node label, taint, zone and pool-name checks shared by the EKS node groups and the AKS pools:
// cloud-neutral (no aws-cdk-lib, no Pulumi), so both clouds' constructs import it from here.
import type { NodeTaint } from './cluster-info.js';
import { PropError } from './validation.js';

/** A Kubernetes qualified name with an optional DNS-subdomain prefix (label and taint keys). */
const QUALIFIED_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A label value: empty, or up to 63 alphanumerics, "-", "_" and "." starting and ending alphanumeric. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** Taint effects the kubelet registers. */
export const TAINT_EFFECTS: readonly NodeTaint['effect'][] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** True if `key` is a valid Kubernetes label (or taint) key: `[prefix/]name`, prefix at most 253. */
export function isQualifiedKey(key: string): boolean {
  if (typeof key !== 'string' || !QUALIFIED_KEY.test(key)) return false;
  const slash = key.indexOf('/');
  return slash < 0 || slash <= 253;
}

/**
 * Throws unless every label key and value is valid, naming `prop` for a bad key and `<prop>.<key>` for
 * a bad value, or if a key is one of `reserved` (labels the construct sets itself).
 */
export function checkNodeLabels(
  prop: string,
  labels: Readonly<Record<string, string>>,
  reserved: readonly string[] = [],
): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedKey(key)) throw new PropError(prop, key, 'is not a valid Kubernetes label key');
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new PropError(`${prop}.${key}`, value, 'is not a valid label value');
    }
    if (reserved.includes(key)) {
      throw new PropError(prop, { [key]: value }, `must not set ${key}: the construct sets it itself`);
    }
  }
}

/**
 * Throws unless every taint has a valid key, a valid (optional) value and a known effect, and no key
 * is repeated (cluster-autoscaler's node-template tags hold one taint per key). Errors name
 * `<prop>[i].<field>`.
 */
export function checkNodeTaints(prop: string, taints: readonly NodeTaint[]): void {
  const seen = new Set<string>();
  taints.forEach((taint, i) => {
    if (!isQualifiedKey(taint.key)) {
      throw new PropError(`${prop}[${i}].key`, taint.key, 'is not a valid Kubernetes taint key');
    }
    if (taint.value !== undefined && (typeof taint.value !== 'string' || !LABEL_VALUE.test(taint.value))) {
      throw new PropError(`${prop}[${i}].value`, taint.value, 'is not a valid taint value');
    }
    if (!TAINT_EFFECTS.includes(taint.effect)) {
      throw new PropError(`${prop}[${i}].effect`, taint.effect, `must be one of ${TAINT_EFFECTS.join(', ')}`);
    }
    if (seen.has(taint.key)) {
      throw new PropError(`${prop}[${i}].key`, taint.key, 'must not repeat a taint key of the pool');
    }
    seen.add(taint.key);
  });
}

/** Pool names taken so far, per cluster object, with the construct path that took each. */
const CLAIMED_POOL_NAMES = new WeakMap<object, Map<string, string>>();

/**
 * Records that the construct at `path` uses pool `name` in `cluster`; throws, naming `prop`, if
 * another node group of the same cluster already uses it (the node group / Auto Scaling group names and
 * the `elasticai.io/node-pool` label would collide).
 */
export function claimPoolName(cluster: object, prop: string, name: string, path: string): void {
  let names = CLAIMED_POOL_NAMES.get(cluster);
  if (!names) {
    names = new Map();
    CLAIMED_POOL_NAMES.set(cluster, names);
  }
  const previous = names.get(name);
  if (previous !== undefined) {
    throw new PropError(prop, name, `must be unique among the cluster's node groups (${previous} uses it)`);
  }
  names.set(name, path);
}

/**
 * Throws unless every zone is one of `available` (the cluster VPC's zones) and none is listed twice,
 * naming the zones outside the VPC.
 */
export function checkPoolZones(prop: string, zones: readonly string[], available: readonly string[]): void {
  if (zones.length === 0) throw new PropError(prop, zones, 'must not be empty (omit it for all zones)');
  const outside = zones.filter((z) => !available.includes(z));
  if (outside.length > 0) {
    throw new PropError(
      prop,
      zones,
      `names zones outside the cluster's VPC (${outside.join(', ')}); the VPC has ${available.join(', ')}`,
    );
  }
  const seen = new Set<string>();
  for (const zone of zones) {
    if (seen.has(zone)) throw new PropError(prop, zones, `lists ${zone} twice`);
    seen.add(zone);
  }
}
