/**
 * The workload chart: demand, the forecast band (from the forecast peak up to its upper quantile),
 * desired replicas on a second axis, and anomalies marked. `chartModel` is the geometry (pure, tested in
 * Node); `renderChart` draws it as inline SVG; `chartSummary` is its text alternative. Runs in the
 * browser (bundled by ../assets.ts: every export is a self-contained function).
 */
import type { DomDocument, DomElement } from './dom.js';
import { formatClock, formatNumber, formatScore, formatTime } from './format.js';

/** The chart arrays of `GET /api/v1/workloads/{ns}/{name}` (`history`); JSON turns NaN into null. */
export interface ChartData {
  readonly timestamps: readonly number[];
  readonly demand: readonly (number | null)[];
  readonly forecast: readonly (number | null)[];
  readonly upper: readonly (number | null)[];
  readonly replicas: readonly (number | null)[];
  readonly anomalies: readonly {
    readonly timestamp: number;
    readonly state: string;
    readonly score: number;
  }[];
}

export interface Tick {
  readonly at: number;
  readonly label: string;
}

export interface AnomalyMark {
  readonly x: number;
  readonly y: number;
  readonly timestamp: number;
  readonly label: string;
}

export interface ChartModel {
  readonly width: number;
  readonly height: number;
  readonly plot: {
    readonly left: number;
    readonly top: number;
    readonly right: number;
    readonly bottom: number;
  };
  /** `points` attributes of the demand polylines, one per run of values without a gap. */
  readonly demand: string[];
  /** `points` of the forecast-peak polylines. */
  readonly forecast: string[];
  /** `points` of the band polygons (upper edge left to right, then the forecast edge back). */
  readonly band: string[];
  /** `d` of the replica step paths. */
  readonly replicas: string[];
  readonly anomalies: AnomalyMark[];
  readonly xTicks: Tick[];
  readonly yTicks: Tick[];
  readonly replicaTicks: Tick[];
  /** Demand points drawn. */
  readonly points: number;
}

/** A finite number (the API sends null where the runtime had NaN). */
export function usable(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals up to `max`. */
export function niceStep(max: number, count: number): number {
  if (!(max > 0)) return 1;
  const raw = max / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

/** Ticks from 0 to at least `max`; returns the ticks and the axis top. */
export function valueTicks(max: number, count: number): { top: number; ticks: number[] } {
  const step = niceStep(max, count);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return { top, ticks };
}

/** Time ticks on round minutes, hours or days, at most about `count` of them. */
export function timeTicks(start: number, end: number, count: number): number[] {
  const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];
  const span = Math.max(1, end - start);
  const step = steps.find((s) => span / s <= count) ?? 604_800;
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  return ticks;
}

/** The chart's geometry in a `width` × `height` box. */
export function chartModel(data: ChartData, width: number, height: number): ChartModel {
  const plot = { left: 56, top: 12, right: width - 48, bottom: height - 28 };
  const n = data.timestamps.length;
  const t0 = data.timestamps[0] ?? 0;
  const t1 = data.timestamps[n - 1] ?? t0 + 1;
  const span = t1 > t0 ? t1 - t0 : 1;
  let vmax = 0;
  let rmax = 0;
  for (let i = 0; i < n; i++) {
    for (const v of [data.demand[i], data.forecast[i], data.upper[i]])
      if (usable(v)) vmax = Math.max(vmax, v);
    const r = data.replicas[i];
    if (usable(r)) rmax = Math.max(rmax, r);
  }
  const values = valueTicks(vmax, 5);
  const reps = valueTicks(rmax, 5);
  const round = (v: number): number => Math.round(v * 10) / 10;
  const x = (t: number): number => round(plot.left + ((t - t0) / span) * (plot.right - plot.left));
  const y = (v: number): number => round(plot.bottom - (v / values.top) * (plot.bottom - plot.top));
  const yr = (v: number): number => round(plot.bottom - (v / reps.top) * (plot.bottom - plot.top));

  /** Index runs where `ok(i)` holds. */
  const runs = (ok: (i: number) => boolean): number[][] => {
    const out: number[][] = [];
    let current: number[] = [];
    for (let i = 0; i < n; i++) {
      if (ok(i)) current.push(i);
      else if (current.length > 0) {
        out.push(current);
        current = [];
      }
    }
    if (current.length > 0) out.push(current);
    return out;
  };
  const at = (i: number): number => data.timestamps[i] as number;
  const polyline = (series: readonly (number | null)[]): string[] =>
    runs((i) => usable(series[i])).map((run) =>
      run.map((i) => `${x(at(i))},${y(series[i] as number)}`).join(' '),
    );

  const band = runs((i) => usable(data.forecast[i]) && usable(data.upper[i])).map((run) => {
    const hi = run.map((i) => {
      const v = Math.max(data.upper[i] as number, data.forecast[i] as number);
      return `${x(at(i))},${y(v)}`;
    });
    const lo = [...run].reverse().map((i) => {
      const v = Math.min(data.upper[i] as number, data.forecast[i] as number);
      return `${x(at(i))},${y(v)}`;
    });
    return [...hi, ...lo].join(' ');
  });

  const replicas = runs((i) => usable(data.replicas[i])).map((run) => {
    let d = '';
    let previous: number | undefined;
    for (const i of run) {
      const py = yr(data.replicas[i] as number);
      const px = x(at(i));
      d += previous === undefined ? `M${px},${py}` : `H${px}V${py}`;
      previous = py;
    }
    return d;
  });

  const index = new Map<number, number>();
  data.timestamps.forEach((t, i) => index.set(t, i));
  const anomalies: AnomalyMark[] = data.anomalies
    .filter((a) => a.timestamp >= t0 && a.timestamp <= t1)
    .map((a) => {
      const i = index.get(a.timestamp);
      const v = i === undefined ? undefined : data.demand[i];
      return {
        x: x(a.timestamp),
        y: usable(v) ? y(v) : plot.bottom,
        timestamp: a.timestamp,
        label: `Anomaly at ${formatTime(a.timestamp)}: ${a.state}, score ${formatScore(a.score)}, demand ${formatNumber(v)}`,
      };
    });

  const withDay = span > 86_400;
  return {
    width,
    height,
    plot,
    demand: polyline(data.demand),
    forecast: polyline(data.forecast),
    band,
    replicas,
    anomalies,
    xTicks: n === 0 ? [] : timeTicks(t0, t1, 6).map((t) => ({ at: x(t), label: formatClock(t, withDay) })),
    yTicks: values.ticks.map((v) => ({ at: y(v), label: formatNumber(v) })),
    replicaTicks: reps.ticks.map((v) => ({ at: yr(v), label: formatNumber(v) })),
    points: data.demand.filter(usable).length,
  };
}

/** One or two sentences saying what the chart shows, for its caption and screen readers. */
export function chartSummary(data: ChartData, leadSeconds: number | undefined): string {
  const n = data.timestamps.length;
  if (n === 0) return 'No chart data yet: the runtime is still loading this workload’s history.';
  const demand = data.demand.filter(usable);
  const replicas = data.replicas.filter(usable);
  const last = <T>(values: readonly T[]): T | undefined => values[values.length - 1];
  const t0 = data.timestamps[0] as number;
  const t1 = data.timestamps[n - 1] as number;
  const inRange = data.anomalies.filter((a) => a.timestamp >= t0 && a.timestamp <= t1);
  const lead = leadSeconds === undefined ? '' : ` over the next ${Math.round(leadSeconds / 60)} min`;
  const parts = [
    `${n} points from ${formatTime(t0)} to ${formatTime(t1)}.`,
    demand.length === 0
      ? 'No demand values.'
      : `Demand: latest ${formatNumber(last(demand))}, lowest ${formatNumber(Math.min(...demand))}, highest ${formatNumber(Math.max(...demand))}.`,
    `Forecast peak${lead}: latest ${formatNumber(last(data.forecast.filter(usable)))}, upper band ${formatNumber(last(data.upper.filter(usable)))}.`,
    replicas.length === 0
      ? ''
      : `Desired replicas: latest ${formatNumber(last(replicas))}, between ${formatNumber(Math.min(...replicas))} and ${formatNumber(Math.max(...replicas))}.`,
    inRange.length === 0
      ? 'No anomalies in this window.'
      : `${inRange.length} ${inRange.length === 1 ? 'anomaly' : 'anomalies'} marked: ${inRange
          .slice(-5)
          .map((a) => `${formatTime(a.timestamp)} (${a.state})`)
          .join(', ')}${inRange.length > 5 ? ' and earlier ones' : ''}.`,
  ];
  return parts.filter((p) => p !== '').join(' ');
}

/** Draws `model` as an `<svg>` (role img, named by `labelId`, described by `descriptionId`). */
export function renderChart(
  doc: DomDocument,
  model: ChartModel,
  labelId: string,
  descriptionId: string,
): DomElement {
  const NS = 'http://www.w3.org/2000/svg';
  const node = (tag: string, attrs: Record<string, string | number>, text?: string): DomElement => {
    const e = doc.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const { plot } = model;
  const svg = node('svg', {
    viewBox: `0 0 ${model.width} ${model.height}`,
    role: 'img',
    'aria-labelledby': labelId,
    'aria-describedby': descriptionId,
    class: 'chart',
    preserveAspectRatio: 'xMidYMid meet',
  });
  const grid = node('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const t of model.yTicks) {
    grid.append(node('line', { x1: plot.left, x2: plot.right, y1: t.at, y2: t.at }));
    grid.append(node('text', { x: plot.left - 6, y: t.at + 4, 'text-anchor': 'end' }, t.label));
  }
  for (const t of model.replicaTicks) {
    grid.append(
      node(
        'text',
        { x: plot.right + 6, y: t.at + 4, 'text-anchor': 'start', class: 'replica-tick' },
        t.label,
      ),
    );
  }
  for (const t of model.xTicks) {
    grid.append(node('line', { x1: t.at, x2: t.at, y1: plot.bottom, y2: plot.bottom + 4 }));
    grid.append(node('text', { x: t.at, y: plot.bottom + 18, 'text-anchor': 'middle' }, t.label));
  }
  grid.append(
    node('line', { class: 'axis', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }),
  );
  svg.append(grid);
  const series = node('g', { 'aria-hidden': 'true' });
  for (const points of model.band) series.append(node('polygon', { class: 'band', points }));
  for (const points of model.forecast) series.append(node('polyline', { class: 'forecast', points }));
  for (const points of model.demand) series.append(node('polyline', { class: 'demand', points }));
  for (const d of model.replicas) series.append(node('path', { class: 'replicas', d }));
  svg.append(series);
  const marks = node('g', { class: 'anomalies' });
  for (const a of model.anomalies) {
    const mark = node('circle', { class: 'anomaly', cx: a.x, cy: a.y, r: 5, 'data-timestamp': a.timestamp });
    mark.append(node('title', {}, a.label));
    marks.append(mark);
  }
  svg.append(marks);
  return svg;
}
