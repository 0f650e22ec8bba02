/**
 * Field-level differences between two versions of a Kubernetes object, written for pull-request review:
 * `spec.template.spec.containers[name=web].image: "acme/web:1.0" → "acme/web:1.1"`.
 *
 * - Lists whose items all carry a unique `name` (containers, env, ports, volumes, triggers, ...) are
 *   matched by name, so inserting one container does not show every later one as changed; a pure
 *   reordering shows as one `order` change. Other lists are compared by index.
 * - A long or multi-line string (a dashboard JSON, a script) shows as a text change with the line
 *   counts and its first differing line, not as two walls of text.
 * - Values are shown as JSON, objects and lists shortened to one line.
 */

/** One difference at a field. `old` or `new` is absent when the field was added or removed. */
export interface FieldChange {
  /** The field's path (`spec.replicas`, `metadata.annotations["a/b"]`, `containers[name=app].image`). */
  readonly path: string;
  readonly old?: unknown;
  readonly new?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function child(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** The items' names when every item is an object with a unique string `name`. */
function names(list: readonly unknown[]): string[] | undefined {
  if (list.length === 0) return undefined;
  const out: string[] = [];
  for (const item of list) {
    if (!isRecord(item) || typeof item.name !== 'string') return undefined;
    out.push(item.name);
  }
  return new Set(out).size === out.length ? out : undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** Every field that differs between `a` (old) and `b` (new), in a stable order. */
export function diffValues(a: unknown, b: unknown, path = ''): FieldChange[] {
  if (sameJson(a, b)) return [];
  if (isRecord(a) && isRecord(b)) {
    const out: FieldChange[] = [];
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const k of keys) {
      const p = child(path, k);
      const inA = Object.hasOwn(a, k) && a[k] !== undefined;
      const inB = Object.hasOwn(b, k) && b[k] !== undefined;
      if (inA && !inB) out.push({ path: p, old: a[k] });
      else if (!inA && inB) out.push({ path: p, new: b[k] });
      else if (inA && inB) out.push(...diffValues(a[k], b[k], p));
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = names(a);
    const nb = names(b);
    if (na && nb) {
      const out: FieldChange[] = [];
      const byName = (list: readonly unknown[], n: string): unknown =>
        list.find((x) => (x as { name: string }).name === n);
      for (const n of [...na, ...nb.filter((x) => !na.includes(x))]) {
        const p = `${path}[name=${n}]`;
        const inA = na.includes(n);
        const inB = nb.includes(n);
        if (inA && !inB) out.push({ path: p, old: byName(a, n) });
        else if (!inA && inB) out.push({ path: p, new: byName(b, n) });
        else out.push(...diffValues(byName(a, n), byName(b, n), p));
      }
      const common = na.filter((x) => nb.includes(x));
      const commonB = nb.filter((x) => na.includes(x));
      if (common.join('\u0000') !== commonB.join('\u0000')) {
        out.push({ path: `${path} (order)`, old: common, new: commonB });
      }
      return out;
    }
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= b.length) out.push({ path: p, old: a[i] });
      else if (i >= a.length) out.push({ path: p, new: b[i] });
      else out.push(...diffValues(a[i], b[i], p));
    }
    return out;
  }
  return [{ path, old: a, new: b }];
}

/** Longest value shown on one line. */
const MAX_VALUE = 80;

/** A value on one line, shortened. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_VALUE ? text : `${text.slice(0, MAX_VALUE - 1)}…`;
}

const isLongText = (v: unknown): v is string =>
  typeof v === 'string' && (v.includes('\n') || v.length > MAX_VALUE);

/** `path: old → new` with absent sides and long texts described. */
export function formatChange(change: FieldChange): string {
  const hasOld = Object.hasOwn(change, 'old');
  const hasNew = Object.hasOwn(change, 'new');
  if (hasOld && hasNew && isLongText(change.old) && isLongText(change.new)) {
    return `${change.path}: ${textChange(change.old, change.new)}`;
  }
  const show = (present: boolean, v: unknown): string => {
    if (!present) return '(absent)';
    if (isLongText(v)) return `text of ${v.split('\n').length} lines, ${v.length} characters`;
    return showValue(v);
  };
  return `${change.path}: ${show(hasOld, change.old)} → ${show(hasNew, change.new)}`;
}

/** `text changed (120 → 122 lines), first at line 14: "a" → "b"`. */
export function textChange(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  const line = (l: string | undefined): string => (l === undefined ? '(end of text)' : showValue(l.trim()));
  const counts = la.length === lb.length ? `${la.length} lines` : `${la.length} → ${lb.length} lines`;
  return `text changed (${counts}), first at line ${i + 1}: ${line(la[i])} → ${line(lb[i])}`;
}
