/**
 * A small block-style YAML writer for the manifests the CLI writes (the runtime image carries no YAML
 * library). It covers JSON data only: objects, arrays, strings, finite numbers, booleans and null.
 * Strings are written plain only when YAML 1.1 and 1.2 both read them back as the same string (no
 * `yes`/`no`/`on`/`off`, nothing number-like, no indicator characters); everything else is a JSON string,
 * which is a valid YAML double-quoted scalar.
 */

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`YAML output: ${value} is not a finite number`);
    return String(value);
  }
  return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
}

function key(k: string): string {
  return KEY.test(k) && !RESERVED.test(k) && !/^[\d.+-]/.test(k) ? k : JSON.stringify(k);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isEmpty = (v: unknown): boolean =>
  (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.values(v).every((x) => x === undefined));

/** A value that fits on its key's (or dash's) line. */
function inline(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isObject(value)) return isEmpty(value) ? '{}' : undefined;
  return scalar(value as string | number | boolean | null);
}

/** Lines of a non-empty array or object, each starting with `indent`. */
function block(value: unknown[] | Record<string, unknown>, indent: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = inline(item);
      if (text !== undefined) {
        lines.push(`${indent}- ${text}`);
        continue;
      }
      // A nested block starts on the dash's line, its other lines two columns in.
      const [first, ...more] = block(item as unknown[] | Record<string, unknown>, `${indent}  `);
      lines.push(`${indent}- ${(first as string).trimStart()}`, ...more);
    }
    return lines;
  }
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const text = inline(v);
    if (text !== undefined) lines.push(`${indent}${key(k)}: ${text}`);
    // A sequence under a key is written at the key's indent, as kubectl writes it.
    else if (Array.isArray(v)) lines.push(`${indent}${key(k)}:`, ...block(v, indent));
    else lines.push(`${indent}${key(k)}:`, ...block(v as Record<string, unknown>, `${indent}  `));
  }
  return lines;
}

/** One YAML document (no `---`), ending with a newline. */
export function toYaml(value: Record<string, unknown>): string {
  return isEmpty(value) ? '{}\n' : `${block(value, '').join('\n')}\n`;
}
