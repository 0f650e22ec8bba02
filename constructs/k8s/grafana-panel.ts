/**
 * Typed Grafana panels for {@link GrafanaDashboard}: time series, stat and row panels with Prometheus
 * queries, rendered to Grafana's dashboard JSON model (schema version 39, Grafana 10 and later). The
 * dashboard assigns ids and grid positions, so panels carry only what they show.
 */
import { PropError, checkInteger } from './validation.js';

/** Grafana unit ids the panels use. */
export type PanelUnit = 'short' | 'none' | 'percentunit' | 's' | 'ms' | 'ops' | 'reqps' | 'bytes';

const UNITS: readonly PanelUnit[] = ['short', 'none', 'percentunit', 's', 'ms', 'ops', 'reqps', 'bytes'];

/** One Prometheus query of a panel. */
export interface PanelQuery {
  /** PromQL; Grafana variables (`$namespace`, `$__rate_interval`) may appear. */
  readonly expr: string;
  /** Legend template, e.g. `{{name}} predicted`. @default Grafana's automatic legend */
  readonly legend?: string;
}

/** A threshold step: from `value` up, the panel uses `color`. */
export interface PanelThreshold {
  readonly value: number;
  /** A Grafana color name (`green`, `orange`, `red`, ...) or `#rrggbb`. */
  readonly color: string;
}

/** What every data panel has. */
export interface DataPanelOptions {
  /** Title, unique within the dashboard. */
  readonly title: string;
  /** Shown on hover of the panel's info icon. @default none */
  readonly description?: string;
  /** Queries, at most 26 (refIds A to Z). */
  readonly queries: readonly PanelQuery[];
  /** Unit of the values. @default 'short' */
  readonly unit?: PanelUnit;
  /** Decimals shown. @default Grafana's automatic choice */
  readonly decimals?: number;
  /** Color steps above the base color; drawn as lines on time series. @default none */
  readonly thresholds?: readonly PanelThreshold[];
  /** Base color below the first threshold. @default 'green' */
  readonly baseColor?: string;
  /** Width in grid columns (1–24). @default 12 for time series, 6 for stats */
  readonly width?: number;
  /** Height in grid rows (1–50). @default 8 for time series, 4 for stats */
  readonly height?: number;
}

/** Options of {@link DashboardPanel.timeSeries}. */
export interface TimeSeriesPanelOptions extends DataPanelOptions {
  /** Lower end of the axis. @default automatic */
  readonly min?: number;
  /** Upper end of the axis. @default automatic */
  readonly max?: number;
  /** Stack the series. @default false */
  readonly stacked?: boolean;
  /** How points are drawn. @default 'line' */
  readonly drawStyle?: 'line' | 'bars' | 'points';
}

/** Options of {@link DashboardPanel.stat}. */
export interface StatPanelOptions extends DataPanelOptions {
  /** How the series become the one value shown. @default 'lastNotNull' */
  readonly reducer?: 'lastNotNull' | 'max' | 'min' | 'mean' | 'sum';
}

/** A Grafana datasource reference. */
export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

/** Where the dashboard places a panel. */
export interface GridPos {
  readonly h: number;
  readonly w: number;
  readonly x: number;
  readonly y: number;
}

const COLOR = /^(#[0-9a-fA-F]{6}|[a-z][a-z-]*)$/;

/** A panel of a {@link GrafanaDashboard}. */
export class DashboardPanel {
  /** A time series graph. */
  static timeSeries(options: TimeSeriesPanelOptions): DashboardPanel {
    const where = panelProp(options.title);
    if (options.min !== undefined && options.max !== undefined && options.min >= options.max) {
      throw new PropError(`${where}.min`, options.min, `must be below max (${options.max})`);
    }
    const base = checkData(where, options, 12, 8);
    return new DashboardPanel('timeseries', options.title, options.description, base, options.queries, {
      type: 'timeseries',
      fieldConfig: {
        defaults: {
          ...base.fieldDefaults,
          ...(options.min !== undefined ? { min: options.min } : {}),
          ...(options.max !== undefined ? { max: options.max } : {}),
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: options.drawStyle ?? 'line',
            lineWidth: 1,
            fillOpacity: options.stacked ? 40 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: options.stacked ? 'normal' : 'none', group: 'A' },
            thresholdsStyle: { mode: options.thresholds?.length ? 'line' : 'off' },
          },
        },
        overrides: [],
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    });
  }

  /** One big number (the reduced value of its series), colored by the thresholds. */
  static stat(options: StatPanelOptions): DashboardPanel {
    const where = panelProp(options.title);
    const base = checkData(where, options, 6, 4);
    const reducer = options.reducer ?? 'lastNotNull';
    if (!['lastNotNull', 'max', 'min', 'mean', 'sum'].includes(reducer)) {
      throw new PropError(`${where}.reducer`, reducer, 'must be lastNotNull, max, min, mean or sum');
    }
    return new DashboardPanel('stat', options.title, options.description, base, options.queries, {
      type: 'stat',
      fieldConfig: { defaults: { ...base.fieldDefaults, color: { mode: 'thresholds' } }, overrides: [] },
      options: {
        reduceOptions: { calcs: [reducer], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
      },
    });
  }

  /** A full-width row header starting a new section. */
  static row(title: string): DashboardPanel {
    checkTitle(title);
    return new DashboardPanel('row', title, undefined, { width: 24, height: 1 }, [], { type: 'row' });
  }

  /** Grid columns. */
  readonly width: number;
  /** Grid rows. */
  readonly height: number;

  private constructor(
    readonly type: 'timeseries' | 'stat' | 'row',
    readonly title: string,
    readonly description: string | undefined,
    size: { readonly width: number; readonly height: number },
    readonly queries: readonly PanelQuery[],
    /** The type-specific part of the JSON model. */
    private readonly model: Readonly<Record<string, unknown>>,
  ) {
    this.width = size.width;
    this.height = size.height;
  }

  /** Grafana's JSON for the panel at `gridPos` with id `id`, querying `datasource`. */
  render(id: number, gridPos: GridPos, datasource: DatasourceRef): Record<string, unknown> {
    if (this.type === 'row') {
      return { id, type: 'row', title: this.title, collapsed: false, gridPos: { ...gridPos }, panels: [] };
    }
    const { type, ...rest } = this.model;
    return {
      id,
      type,
      title: this.title,
      ...(this.description !== undefined ? { description: this.description } : {}),
      datasource: { ...datasource },
      gridPos: { ...gridPos },
      ...structuredClone(rest),
      targets: this.queries.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: { ...datasource },
        editorMode: 'code',
        expr: q.expr,
        legendFormat: q.legend ?? '__auto',
        range: true,
      })),
    };
  }
}

function panelProp(title: unknown): string {
  return `panel ${JSON.stringify(title)}`;
}

function checkTitle(title: string): void {
  if (typeof title !== 'string' || title.trim().length === 0) {
    throw new PropError('panel.title', title, 'must be a non-empty string');
  }
}

/** Checks the common options; returns the size and the field defaults. */
function checkData(
  where: string,
  o: DataPanelOptions,
  defaultWidth: number,
  defaultHeight: number,
): { width: number; height: number; fieldDefaults: Record<string, unknown> } {
  checkTitle(o.title);
  const width = o.width ?? defaultWidth;
  const height = o.height ?? defaultHeight;
  checkInteger(`${where}.width`, width, 1, 24);
  checkInteger(`${where}.height`, height, 1, 50);
  if (o.queries.length === 0 || o.queries.length > 26) {
    throw new PropError(`${where}.queries`, o.queries.length, 'must hold 1 to 26 queries');
  }
  o.queries.forEach((q, i) => {
    if (typeof q.expr !== 'string' || q.expr.trim().length === 0) {
      throw new PropError(`${where}.queries[${i}].expr`, q.expr, 'must be a PromQL expression');
    }
  });
  const unit = o.unit ?? 'short';
  if (!UNITS.includes(unit)) throw new PropError(`${where}.unit`, unit, `must be one of ${UNITS.join(', ')}`);
  if (o.decimals !== undefined) checkInteger(`${where}.decimals`, o.decimals, 0, 10);
  const baseColor = o.baseColor ?? 'green';
  const steps = o.thresholds ?? [];
  [baseColor, ...steps.map((s) => s.color)].forEach((color) => {
    if (!COLOR.test(color))
      throw new PropError(`${where}.thresholds`, color, 'colors must be names or #rrggbb');
  });
  steps.forEach((s, i) => {
    if (!Number.isFinite(s.value))
      throw new PropError(`${where}.thresholds[${i}].value`, s.value, 'must be finite');
    const previous = steps[i - 1];
    if (previous !== undefined && s.value <= previous.value) {
      throw new PropError(`${where}.thresholds[${i}].value`, s.value, `must be above ${previous.value}`);
    }
  });
  return {
    width,
    height,
    fieldDefaults: {
      unit,
      ...(o.decimals !== undefined ? { decimals: o.decimals } : {}),
      thresholds: {
        mode: 'absolute',
        steps: [{ color: baseColor, value: null }, ...steps.map((s) => ({ color: s.color, value: s.value }))],
      },
    },
  };
}
