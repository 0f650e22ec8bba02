/**
 * Human output helpers: colours and bold only where wanted (a TTY, NO_COLOR unset), and aligned tables
 * whose widths ignore colour codes.
 */

/**
 * Whether to colour output written to a stream: only on a TTY, never when `NO_COLOR` is set to a
 * non-empty value (https://no-color.org) or the terminal is `dumb`.
 */
export function colorWanted(isTty: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTty === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

const sgr =
  (on: number, off: number) =>
  (text: string, color: boolean): string =>
    color ? `\u001b[${on}m${text}\u001b[${off}m` : text;

/** Bold when `color`, the text unchanged otherwise. */
export const bold = sgr(1, 22);
/** Dim (faint) when `color`. */
export const dim = sgr(2, 22);
/** Red when `color`: failures, removals, violations. */
export const red = sgr(31, 39);
/** Green when `color`: healthy states, additions. */
export const green = sgr(32, 39);
/** Yellow when `color`: degraded states, changes, overrides. */
export const yellow = sgr(33, 39);

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The length of `text` as shown on a terminal (colour codes take no room). */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Column alignment of {@link table}. */
export type Align = 'left' | 'right';

/**
 * A table, two spaces between columns. By default the first column is left-aligned and the others
 * right-aligned; `align` sets each column. The header row is bold when `color`; cells may carry colour.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  color: boolean,
  align?: readonly Align[],
): string {
  const widths = header.map((h, c) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[c] ?? ''))),
  );
  const alignOf = (c: number): Align => align?.[c] ?? (c === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => {
        const pad = ' '.repeat(Math.max(0, (widths[c] as number) - visibleLength(cell)));
        return alignOf(c) === 'left' ? cell + pad : pad + cell;
      })
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
