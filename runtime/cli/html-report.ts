/**
 * Self-contained HTML reports: one file with inline CSS and inline SVG charts, no script, no fonts, no
 * images, nothing fetched (a Content-Security-Policy of `default-src 'none'` makes browsers refuse any
 * fetch even if one slipped in), so a report opens offline, attaches to a ticket and survives an archive.
 *
 * Charts of long traces are drawn in at most {@link MAX_COLUMNS} columns. Each column combines its rows
 * as the note under the chart says (a line at the column's highest or lowest value, and a light band
 * from its lowest to its highest), so peaks are never averaged away. Marked rows (violations, anomalies)
 * are never lost either: a column with one marked row is marked, and its tooltip counts them.
 */
import { isoTimestamp } from './csv-output.js';

/** Most columns a chart is drawn in (the SVG's view box is 1000 units wide). */
export const MAX_COLUMNS = 800;

const VIEW_WIDTH = 1000;
const MARGIN = { left: 64, right: 12, top: 12, bottom: 30 } as const;

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number for SVG coordinates: one decimal keeps files small and lines sharp. */
const px = (v: number): string => String(Math.round(v * 10) / 10);

/** A number for axis labels and tooltips: grouped digits, at most 3 significant decimals. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** One series drawn as a line over the rows. */
export interface ChartLine {
  readonly label: string;
  /** One value per row; NaN is a missing value (the line breaks there). */
  readonly values: ArrayLike<number>;
  /** CSS colour. */
  readonly color: string;
  /** How the rows of one column combine: `max` shows peaks (demand), `min` the worst case (capacity). */
  readonly combine: 'max' | 'min';
  /** Also draw the column's min..max as a light band. @default false */
  readonly band?: boolean;
  /** Draw as steps (a value holds for its whole interval), as replica counts do. @default false */
  readonly step?: boolean;
  /** Dashed line. @default false */
  readonly dashed?: boolean;
}

export interface ChartOptions {
  /** Heading above the chart; also the SVG's accessible name. */
  readonly title: string;
  /** A sentence describing the chart for screen readers. */
  readonly description: string;
  /** Epoch seconds, one per row. */
  readonly timestamps: ArrayLike<number>;
  readonly lines: readonly ChartLine[];
  /** Rows to mark with a red band across the plot (violations). */
  readonly markedRows?: ArrayLike<boolean>;
  /** Noun of a marked row for the legend and tooltips (`violation`). */
  readonly markLabel?: string;
  /** Rows to mark with a dot on the first line (anomalies), with a tooltip each. */
  readonly points?: readonly { readonly row: number; readonly note: string }[];
  /** Noun of a point for the legend (`anomaly`). */
  readonly pointLabel?: string;
  /** Horizontal reference lines. */
  readonly thresholds?: readonly { readonly value: number; readonly label: string }[];
  /** Fixed axis bounds; by default 0 (or the lowest value when negative) up to the highest value. */
  readonly yMin?: number;
  readonly yMax?: number;
  /** Plot height in view-box units. @default 240 */
  readonly height?: number;
}

interface Column {
  readonly from: number;
  readonly to: number; // exclusive
}

function columnsOf(rows: number): Column[] {
  const count = Math.min(rows, MAX_COLUMNS);
  return Array.from({ length: count }, (_, c) => ({
    from: Math.floor((c * rows) / count),
    to: Math.floor(((c + 1) * rows) / count),
  }));
}

/** Min and max of the finite values of each column (NaN when the column has none). */
function extremes(values: ArrayLike<number>, columns: readonly Column[]): { min: number[]; max: number[] } {
  const min: number[] = [];
  const max: number[] = [];
  for (const { from, to } of columns) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min.push(lo === Infinity ? NaN : lo);
    max.push(hi === -Infinity ? NaN : hi);
  }
  return { min, max };
}

/** A round step for about `count` ticks over `range`. */
function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * magnitude;
}

/** Axis label of a timestamp: the date for spans over two days, date and time otherwise. */
function timeLabel(t: number, spanSeconds: number): string {
  const iso = isoTimestamp(t);
  return spanSeconds > 2 * 86_400 ? iso.slice(0, 10) : iso.slice(5, 16).replace('T', ' ');
}

/** A `<figure>` with the chart as inline SVG and an HTML legend. */
export function timeChart(o: ChartOptions): string {
  const rows = o.timestamps.length;
  const height = o.height ?? 240;
  const plotW = VIEW_WIDTH - MARGIN.left - MARGIN.right;
  const viewH = height + MARGIN.top + MARGIN.bottom;
  if (rows === 0) return `<figure><figcaption>${escapeHtml(o.title)}: no rows</figcaption></figure>`;
  const columns = columnsOf(rows);
  const n = columns.length;
  const colW = plotW / n;
  const x0 = (c: number): number => MARGIN.left + c * colW;

  const stats = o.lines.map((line) => extremes(line.values, columns));
  let lo = o.yMin ?? Math.min(0, ...stats.flatMap((s) => s.min.filter(Number.isFinite)));
  let hi =
    o.yMax ??
    Math.max(
      ...stats.flatMap((s) => s.max.filter(Number.isFinite)),
      ...(o.thresholds ?? []).map((t) => t.value),
      lo + 1,
    );
  const step = niceStep(hi - lo, 4);
  if (o.yMax === undefined) hi = Math.ceil(hi / step) * step;
  if (o.yMin === undefined) lo = Math.floor(lo / step) * step;
  const y = (v: number): number => MARGIN.top + height - ((v - lo) / (hi - lo || 1)) * height;

  const parts: string[] = [];
  const titleId = `c${Math.abs(hash(o.title)).toString(36)}`;
  parts.push(
    `<svg viewBox="0 0 ${VIEW_WIDTH} ${viewH}" role="img" aria-labelledby="${titleId}-t ${titleId}-d" preserveAspectRatio="none">`,
    `<title id="${titleId}-t">${escapeHtml(o.title)}</title><desc id="${titleId}-d">${escapeHtml(o.description)}</desc>`,
  );

  // Grid and y axis.
  for (let v = lo; v <= hi + step / 1e6; v += step) {
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${VIEW_WIDTH - MARGIN.right}" y1="${px(y(v))}" y2="${px(y(v))}"/>`,
      `<text class="axis" x="${MARGIN.left - 6}" y="${px(y(v) + 4)}" text-anchor="end">${escapeHtml(formatValue(v))}</text>`,
    );
  }
  // Time axis: about six labels.
  const first = o.timestamps[0] as number;
  const span = (o.timestamps[rows - 1] as number) - first;
  const ticks = Math.min(6, n);
  for (let k = 0; k < ticks; k++) {
    const c = Math.round((k * (n - 1)) / Math.max(1, ticks - 1));
    const t = o.timestamps[(columns[c] as Column).from] as number;
    const x = x0(c) + colW / 2;
    parts.push(
      `<line class="tick" x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top + height}" y2="${MARGIN.top + height + 4}"/>`,
      `<text class="axis" x="${px(x)}" y="${MARGIN.top + height + 18}" text-anchor="${k === 0 ? 'start' : k === ticks - 1 ? 'end' : 'middle'}">${escapeHtml(timeLabel(t, span))}</text>`,
    );
  }

  // Marked rows: contiguous marked columns become one band with a tooltip.
  let markedTotal = 0;
  if (o.markedRows) {
    const marks = o.markedRows;
    const counts = columns.map(({ from, to }) => {
      let k = 0;
      for (let i = from; i < to; i++) if (marks[i]) k++;
      return k;
    });
    for (let c = 0; c < n;) {
      if ((counts[c] as number) === 0) {
        c++;
        continue;
      }
      let end = c;
      let total = 0;
      while (end < n && (counts[end] as number) > 0) total += counts[end++] as number;
      markedTotal += total;
      const from = o.timestamps[(columns[c] as Column).from] as number;
      const to = o.timestamps[(columns[end - 1] as Column).to - 1] as number;
      const label = `${total} ${o.markLabel ?? 'marked'} interval${total === 1 ? '' : 's'}, ${isoTimestamp(from)}${to === from ? '' : ` – ${isoTimestamp(to)}`}`;
      parts.push(
        `<rect class="mark" x="${px(x0(c))}" y="${MARGIN.top}" width="${px((end - c) * colW)}" height="${height}"><title>${escapeHtml(label)}</title></rect>`,
        `<rect class="mark-strip" x="${px(x0(c))}" y="${MARGIN.top + height - 5}" width="${px(Math.max((end - c) * colW, 1.5))}" height="5"/>`,
      );
      c = end;
    }
  }

  for (const [i, line] of o.lines.entries()) {
    const { min, max } = stats[i] as { min: number[]; max: number[] };
    if (line.band) parts.push(bandPath(min, max, x0, colW, y, line.color));
    const values = line.combine === 'max' ? max : min;
    parts.push(linePath(values, x0, colW, y, line));
  }

  for (const t of o.thresholds ?? []) {
    parts.push(
      `<line class="threshold" x1="${MARGIN.left}" x2="${VIEW_WIDTH - MARGIN.right}" y1="${px(y(t.value))}" y2="${px(y(t.value))}"><title>${escapeHtml(t.label)}</title></line>`,
    );
  }

  if (o.points && o.points.length > 0) {
    const base = o.lines[0]?.values;
    for (const p of o.points) {
      const c = Math.min(n - 1, Math.floor((p.row * n) / rows));
      const v = base ? (base[p.row] as number) : NaN;
      const cy = Number.isFinite(v) ? y(Math.min(hi, Math.max(lo, v))) : MARGIN.top + height - 3;
      parts.push(
        `<circle class="point" cx="${px(x0(c) + colW / 2)}" cy="${px(cy)}" r="3.5"><title>${escapeHtml(p.note)}</title></circle>`,
      );
    }
  }
  parts.push(
    `<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${height}"/>`,
    '</svg>',
  );

  const legend = o.lines.map(
    (l) =>
      `<span class="key"><span class="swatch${l.dashed ? ' dashed' : ''}" style="border-color:${l.color}"></span>${escapeHtml(l.label)}</span>`,
  );
  if (o.markedRows) {
    legend.push(
      `<span class="key"><span class="swatch mark-key"></span>${escapeHtml(o.markLabel ?? 'marked')} (${markedTotal} interval${markedTotal === 1 ? '' : 's'})</span>`,
    );
  }
  if (o.points) {
    legend.push(
      `<span class="key"><span class="dot"></span>${escapeHtml(o.pointLabel ?? 'point')} (${o.points.length})</span>`,
    );
  }
  for (const t of o.thresholds ?? []) {
    legend.push(`<span class="key"><span class="swatch threshold-key"></span>${escapeHtml(t.label)}</span>`);
  }
  const perColumn = Math.ceil(rows / n);
  const note =
    perColumn > 1
      ? `<p class="note">Each column of the chart is up to ${perColumn} rows: ${o.lines
          .map((l) => `${escapeHtml(l.label)} at its ${l.combine === 'max' ? 'highest' : 'lowest'}`)
          .join(', ')}.</p>`
      : '';
  return (
    `<figure>\n<figcaption>${escapeHtml(o.title)}</figcaption>\n${parts.join('\n')}\n` +
    `<div class="legend">${legend.join('')}</div>${note}\n</figure>\n`
  );
}

function linePath(
  values: readonly number[],
  x0: (c: number) => number,
  colW: number,
  y: (v: number) => number,
  line: ChartLine,
): string {
  let d = '';
  let open = false;
  for (const [c, v] of values.entries()) {
    if (!Number.isFinite(v)) {
      open = false;
      continue;
    }
    if (line.step) {
      d += `${open ? 'L' : 'M'}${px(x0(c))} ${px(y(v))}H${px(x0(c) + colW)}`;
    } else {
      d += `${open ? 'L' : 'M'}${px(x0(c) + colW / 2)} ${px(y(v))}`;
    }
    open = true;
  }
  const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
  return `<path class="line" d="${d}" stroke="${line.color}"${dash}><title>${escapeHtml(line.label)}</title></path>`;
}

function bandPath(
  min: readonly number[],
  max: readonly number[],
  x0: (c: number) => number,
  colW: number,
  y: (v: number) => number,
  color: string,
): string {
  // One closed polygon per run of columns that have values.
  let d = '';
  for (let c = 0; c < min.length;) {
    if (!Number.isFinite(min[c] as number)) {
      c++;
      continue;
    }
    let end = c;
    while (end < min.length && Number.isFinite(min[end] as number)) end++;
    const top: string[] = [];
    const bottom: string[] = [];
    for (let k = c; k < end; k++) {
      const x = px(x0(k) + colW / 2);
      top.push(`${x} ${px(y(max[k] as number))}`);
      bottom.unshift(`${x} ${px(y(min[k] as number))}`);
    }
    d += `M${top.join('L')}L${bottom.join('L')}Z`;
    c = end;
  }
  return d ? `<path class="band" d="${d}" fill="${color}"/>` : '';
}

/** A small stable hash for element ids. */
function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/** An HTML table; `numeric` columns are right-aligned. Cells are text (escaped here). */
export function htmlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[] = header.map((_, i) => i > 0),
): string {
  const cell = (tag: 'th' | 'td', text: string, i: number): string =>
    `<${tag}${numeric[i] ? ' class="num"' : ''}${tag === 'th' ? ' scope="col"' : ''}>${escapeHtml(text)}</${tag}>`;
  return (
    `<table>\n<thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead>\n<tbody>\n` +
    rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('\n') +
    '\n</tbody>\n</table>\n'
  );
}

/** A definition list of facts (`Trace`, `Parameters`, ...). */
export function htmlFacts(facts: readonly (readonly [string, string])[]): string {
  return `<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>\n`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bad: #cf222e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 16px; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: #f6f8fa; } .num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 16px 0 24px; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; font-size: 11px; }
svg .grid { stroke: #eaeef2; stroke-width: 1; } svg .tick { stroke: var(--muted); }
svg .axis { fill: var(--muted); } svg .frame { fill: none; stroke: var(--line); }
svg .line { fill: none; stroke-width: 1.4; vector-effect: non-scaling-stroke; }
svg .band { opacity: 0.18; stroke: none; }
svg .mark { fill: var(--bad); opacity: 0.10; } svg .mark-strip { fill: var(--bad); opacity: 0.8; }
svg .threshold { stroke: var(--bad); stroke-dasharray: 4 3; stroke-width: 1; }
svg .point { fill: var(--bad); stroke: #fff; stroke-width: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; color: var(--muted); margin-top: 4px; }
.key { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 22px; border-top: 3px solid; }
.swatch.dashed { border-top-style: dashed; }
.mark-key { border: none; height: 10px; background: var(--bad); opacity: 0.5; }
.threshold-key { border-top: 2px dashed var(--bad); }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: var(--bad); }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;

/** A complete HTML document; `body` is trusted HTML built by this module's helpers. */
export function htmlPage(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="subtitle">${escapeHtml(subtitle)}</p>
${body}
</main>
</body>
</html>
`;
}
