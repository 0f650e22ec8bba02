/** Human output helpers: optional bold (only on a colour-capable TTY) and right-aligned tables. */

/** Bold when `color`, the text unchanged otherwise. */
export function bold(text: string, color: boolean): string {
  return color ? `\u001b[1m${text}\u001b[22m` : text;
}

/**
 * A table: the first column left-aligned, the others right-aligned, two spaces apart. The header row is
 * bold when `color`.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  color: boolean,
): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
      .join('  ')
      .trimEnd();
  return [bold(line(header), color), ...rows.map(line)].join('\n') + '\n';
}

/** A share as a percentage with `digits` decimals (`12.5%`). */
export function percent(share: number, digits = 1): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(digits)}%` : 'n/a';
}

/** A ratio for the comparison line (`×0.42`, `∞`, `n/a`). */
export function ratio(value: number, digits = 2): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return '∞';
  return `×${value.toFixed(digits)}`;
}

/** A JSON-safe number: NaN and ±Infinity become null. */
export function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
