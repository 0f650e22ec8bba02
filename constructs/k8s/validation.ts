/**
 * Prop checks shared by every construct. Each error names the prop (as the user wrote it, e.g.
 * `replicas.max`) and the offending value, so a failed synth says exactly what to fix.
 */

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
