/**
 * Prop checks shared by every construct. Each error names the prop (as the user wrote it, e.g.
 * `replicas.max`) and the offending value, so a failed synth says exactly what to fix.
 */

import type { Duration } from 'cdk8s';

/** An invalid construct prop, raised at construction or synth time. */
export class PropError extends Error {
  constructor(
    readonly prop: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${prop}: ${reason} (got ${formatValue(value)})`);
    this.name = 'PropError';
  }
}

/** Renders a value for an error message: strings quoted, objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Throws unless `value` is an integer within [min, max]. */
export function checkInteger(prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value)) throw new PropError(prop, value, 'must be an integer');
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new PropError(prop, value, `must be ${range}`);
  }
}

/** Throws unless `value` is a finite number within [min, max]. */
export function checkNumber(prop: string, value: number, min: number, max = Number.MAX_VALUE): void {
  if (!Number.isFinite(value)) throw new PropError(prop, value, 'must be a finite number');
  if (value < min || value > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `between ${min} and ${max}`;
    throw new PropError(prop, value, `must be ${range}`);
  }
}

/**
 * Whole seconds of a duration within [min, max]; a fractional duration (e.g. 1500 ms) is refused with
 * the prop and the duration named, instead of cdk8s's "cannot be converted into a whole number".
 */
export function wholeSeconds(
  prop: string,
  duration: Duration,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds)) {
    throw new PropError(prop, duration.toHumanString(), 'must be a whole number of seconds');
  }
  checkInteger(prop, seconds, min, max);
  return seconds;
}

/** Throws unless `min <= max` for a pair of props. */
export function checkMinMax(minProp: string, min: number, maxProp: string, max: number): void {
  if (min > max) throw new PropError(minProp, min, `must not exceed ${maxProp} (${max})`);
}

// RFC 1123 label (Service, Namespace names) and subdomain (most other object names).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Throws unless `value` is a valid RFC 1123 DNS label (at most 63 characters). */
export function checkDnsLabel(prop: string, value: string): void {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new PropError(
      prop,
      value,
      'must be a lowercase RFC 1123 label (a-z, 0-9, "-", at most 63 characters)',
    );
  }
}

/** Throws unless `value` is a valid RFC 1123 DNS subdomain (at most 253 characters). */
export function checkDnsSubdomain(prop: string, value: string): void {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new PropError(prop, value, 'must be a lowercase RFC 1123 subdomain (at most 253 characters)');
  }
}

/** Throws unless the array has at least one element. */
export function checkNonEmpty(prop: string, value: readonly unknown[]): void {
  if (value.length === 0) throw new PropError(prop, value, 'must not be empty');
}

/**
 * Throws unless `image` names a registry image pinned to a tag or digest. `latest` and untagged
 * references are refused: they make a deployment non-reproducible and a GitOps diff meaningless.
 */
export function checkImage(prop: string, image: string): void {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : undefined;
  if (/\s/.test(image) || image.length === 0) throw new PropError(prop, image, 'must be an image reference');
  if (!digest && (tag === undefined || tag === '')) {
    throw new PropError(prop, image, 'must be pinned to a tag or digest');
  }
  if (!digest && tag === 'latest') throw new PropError(prop, image, 'must not use the mutable "latest" tag');
}

/** Throws unless `value` is one of `allowed` (for enum-like props that may arrive unchecked, `as any`). */
export function checkOneOf<T extends string | number>(prop: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new PropError(prop, value, `must be one of ${allowed.map((a) => formatValue(a)).join(', ')}`);
  }
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Throws unless `value` is a Kubernetes label value: at most 63 characters of letters, digits, "-",
 * "_" and ".", beginning and ending with a letter or digit (or empty). `what` says where the value
 * ends up when it is not itself a label prop, e.g. 'it is also the app.kubernetes.io/name label'.
 */
export function checkLabelValue(prop: string, value: string, what?: string): void {
  if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
    const reason =
      'must be a label value (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)';
    throw new PropError(prop, value, what ? `${reason}: ${what}` : reason);
  }
}

/**
 * Throws unless `key` is a Kubernetes qualified name, the syntax of label and annotation keys: an
 * optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
 */
export function checkQualifiedName(prop: string, key: string, kind = 'label'): void {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixOk || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    throw new PropError(
      prop,
      key,
      `must be ${kind === 'annotation' ? 'an' : 'a'} ${kind} key (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
    );
  }
}

/** Throws unless `labels` has valid label keys and values; keys are named in the prop path of values. */
export function checkLabels(prop: string, labels: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(labels)) {
    checkQualifiedName(prop, key);
    checkLabelValue(`${prop}.${key}`, value);
  }
}

/** Throws unless every key of `annotations` is a valid annotation key (values are free text). */
export function checkAnnotationKeys(prop: string, annotations: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(annotations)) checkQualifiedName(prop, key, 'annotation');
}

// Kubernetes' relaxed environment variable name (IsEnvVarName): no "=", no leading digit.
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Throws unless `name` is a name Kubernetes accepts for a container environment variable. */
export function checkEnvName(prop: string, name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new PropError(
      prop,
      name,
      'must be an environment variable name (letters, digits, "_", "-", ".", not starting with a digit)',
    );
  }
}

/** Throws unless `key` is a Secret or ConfigMap data key (letters, digits, "-", "_", ".", at most 253). */
export function checkDataKey(prop: string, key: string): void {
  if (key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key)) {
    throw new PropError(prop, key, 'must be a Secret data key (letters, digits, "-", "_" or ".")');
  }
}
