// Prop checks and name derivation for Azure resources.
import { createHash } from 'node:crypto';
import { PropError } from '../k8s/validation.js';

/** Azure location names as ARM returns them: lowercase letters and digits, e.g. `westeurope`, `eastus2`. */
const LOCATION = /^[a-z][a-z0-9]{2,39}$/;

/** Throws unless `value` is an Azure location name (`westeurope`, not the display name `West Europe`). */
export function checkAzureLocation(prop: string, value: string): void {
  if (typeof value !== 'string' || !LOCATION.test(value)) {
    throw new PropError(
      prop,
      value,
      'must be an Azure location name like "westeurope" (lowercase letters and digits, as `az account list-locations` prints `name`)',
    );
  }
}

/** Tags per Azure resource at most. */
const MAX_TAGS = 50;
/** Characters Azure refuses in tag names (Azure Resource Manager's tag limitations). */
const BAD_TAG_NAME = /[<>%&\\?/]/;

/**
 * Throws unless `tags` are tags Azure takes: at most 50, names of 1-512 characters without
 * `<`, `>`, `%`, `&`, `\`, `?` or `/`, values of at most 256 characters.
 */
export function checkAzureTags(prop: string, tags: Readonly<Record<string, string>>): void {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) {
    throw new PropError(prop, Object.keys(tags), `must hold at most ${MAX_TAGS} tags (Azure's limit)`);
  }
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > 512 || BAD_TAG_NAME.test(name)) {
      throw new PropError(prop, name, 'must have tag names of 1-512 characters without < > % & \\ ? /');
    }
    if (typeof value !== 'string' || value.length > 256) {
      throw new PropError(`${prop}.${name}`, value, 'must be a string of at most 256 characters');
    }
  }
}

/**
 * `name` when it has at most `max` characters; otherwise its first characters, a hyphen and 8 hex
 * characters of its SHA-256, `max` characters in all. Deterministic, and distinct names stay distinct
 * (short names are unchanged, so existing resources keep their names).
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const head = name.slice(0, max - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return `${head}-${hash}`;
}
