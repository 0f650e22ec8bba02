/**
 * The runtime's Prometheus metrics (prom-client), in one registry per runtime so tests can run several
 * runtimes in one process. Names follow Prometheus conventions: `elasticai_` prefix, base units,
 * `_total` counters. Label sets stay bounded: workload labels only on per-workload gauges.
 */
import type { GaugeConfiguration, LabelValues, MetricObjectWithValues, MetricValue } from 'prom-client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A gauge with a series per workload, kept compactly: one Map entry per series, keyed by its label
 * values, instead of prom-client's objects (a key string, an entry object and its labels). At 10,000
 * workloads the per-workload gauges held about 30 MB of heap that every major GC marks, and every
 * decision replaced their entry objects. `/metrics` prints the series straight from the Map
 * ({@link exposition}): through prom-client's registry, 60,000 series took 250–340 ms of the event loop
 * per scrape. `get()` still hands them to prom-client for other readers. Output (series order, label
 * order = `labelNames`, values) is what the plain Gauge printed.
 */
export class WorkloadGauge<T extends string> extends Gauge<T> {
  private readonly series = new Map<string, number>();
  private readonly metricName: string;
  private readonly helpText: string;
  private readonly names: readonly T[];

  constructor(config: GaugeConfiguration<T>) {
    super(config);
    this.metricName = config.name;
    this.helpText = config.help;
    this.names = config.labelNames ?? [];
  }

  override set(labels: LabelValues<T>, value: number): void;
  override set(value: number): void;
  override set(labels: LabelValues<T> | number, value?: number): void {
    if (typeof labels === 'number' || typeof value !== 'number') {
      throw new TypeError(`${this.metricName}: set(labels, value) with a numeric value only`);
    }
    this.series.set(this.keyOf(labels), value);
  }

  override remove(...values: (LabelValues<T> | string | number)[]): void {
    const labels = values[0];
    if (typeof labels === 'object') this.series.delete(this.keyOf(labels));
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    (this.series as Map<string, number> | undefined)?.clear();
    super.reset();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<T>>> {
    const names = this.names;
    for (const [key, value] of this.series) {
      const parts = key.split('\u0000');
      const labels: Partial<Record<T, string>> = {};
      names.forEach((name, i) => {
        if (parts[i] !== undefined && parts[i] !== '\u0001') labels[name] = parts[i];
      });
      super.set(labels as LabelValues<T>, value);
    }
    try {
      return await super.get();
    } finally {
      super.reset();
    }
  }

  /** This gauge's exposition text, exactly as prom-client's registry prints it (no final newline). */
  exposition(): string {
    const name = escapeText(this.metricName);
    const lines = [`# HELP ${name} ${escapeText(this.helpText)}`, `# TYPE ${name} gauge`];
    for (const [key, value] of this.series) {
      const labels = this.labelText(key);
      lines.push(`${name}${labels === '' ? '' : `{${labels}}`} ${valueText(value)}`);
    }
    return lines.join('\n');
  }

  /** `name="value",…` for a series key, labels in `labelNames` order, absent ones left out. */
  private labelText(key: string): string {
    // Most keys need no escaping: test once per key, not per label.
    const plain = !/[\\\n"]/.test(key);
    let text = '';
    let start = 0;
    for (let i = 0; i < this.names.length; i++) {
      let end = key.indexOf('\u0000', start);
      if (end < 0) end = key.length;
      const part = key.slice(start, end);
      start = end + 1;
      if (part === '\u0001') continue;
      const value = plain ? part : escapeText(part).replace(/"/g, '\\"');
      text += `${text === '' ? '' : ','}${this.names[i] as string}="${value}"`;
    }
    return text;
  }

  /** The label values in `labelNames` order, \0-separated (\1 for an absent one). */
  private keyOf(labels: LabelValues<T>): string {
    for (const name in labels) {
      if (!(this.names as readonly string[]).includes(name)) {
        throw new Error(`${this.metricName}: label "${name}" is not one of ${this.names.join(', ')}`);
      }
    }
    let key = '';
    for (let i = 0; i < this.names.length; i++) {
      const value = labels[this.names[i] as T];
      key += (i > 0 ? '\u0000' : '') + (value === undefined ? '\u0001' : String(value));
    }
    return key;
  }
}

/** Backslashes and newlines escaped, as the text format wants in HELP and label values. */
function escapeText(text: string): string {
  return /[\\\n]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : text;
}

/** A sample value as prom-client prints it (its `Nan` included: Prometheus parses it). */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** The gRPC call histogram's definition (also built by the scaler thread, in its own registry). */
export const GRPC_LATENCY = {
  name: 'elasticai_grpc_request_duration_seconds',
  help: 'Duration of KEDA external-scaler calls, by method and gRPC status code.',
  labelNames: ['method', 'code'] as const,
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2],
};

export class RuntimeMetrics {
  readonly registry = new Registry();
  /** The gRPC histogram's text when another thread's registry keeps it (appended to this one's). */
  private grpcLatencyElsewhere: (() => Promise<string>) | undefined;
  readonly decisions: Counter<'rule'>;
  readonly desiredReplicas: Gauge<'namespace' | 'name'>;
  readonly predictedDemand: Gauge<'namespace' | 'name'>;
  readonly observedDemand: Gauge<'namespace' | 'name'>;
  readonly forecastError: Gauge<'namespace' | 'name'>;
  readonly anomalyScore: Gauge<'namespace' | 'name' | 'state'>;
  readonly degraded: Gauge<'namespace' | 'name' | 'state'>;
  readonly headroomPods: Gauge<'node_pool'>;
  readonly sourceFailures: Counter<'source' | 'kind'>;
  readonly sourceLatency: Histogram<'source'>;
  readonly grpcLatency: Histogram<'method' | 'code'>;
  readonly workloads: Gauge;
  /** New workloads refused for lack of memory (each refused call counts; KEDA asks again). */
  readonly workloadsRefused: Counter;
  readonly stateBytes: Gauge;
  /** What `stateBytes` reads at each scrape (the workload registry's count). */
  private stateBytesSource: (() => number) | undefined;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly webhookEvents: Counter<'stream'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'elasticai_' });
    this.decisions = new Counter({
      name: 'elasticai_decisions_total',
      help: 'Scaling decisions made, by the rule that bound the result.',
      labelNames: ['rule'],
      registers,
    });
    this.desiredReplicas = new WorkloadGauge({
      name: 'elasticai_desired_replicas',
      help: 'Replicas the runtime asks KEDA for.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.predictedDemand = new WorkloadGauge({
      name: 'elasticai_predicted_demand',
      help: 'Upper quantile of the forecast demand peak over the lead time.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.observedDemand = new WorkloadGauge({
      name: 'elasticai_observed_demand',
      help: 'Latest demand value read from the history source.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.forecastError = new WorkloadGauge({
      name: 'elasticai_forecast_error_ratio',
      help: 'Relative error of the lead-time forecast made one lead time ago: (actual peak - forecast) / forecast.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.anomalyScore = new WorkloadGauge({
      name: 'elasticai_anomaly_score',
      help: 'Anomaly likelihood of the latest point (0.5 ordinary, ≥ 0.99 anomalous), labelled with the state.',
      labelNames: ['namespace', 'name', 'state'],
      registers,
    });
    this.degraded = new WorkloadGauge({
      name: 'elasticai_degraded',
      help: '1 while a workload is served from its last good state (stale) or held (holding).',
      labelNames: ['namespace', 'name', 'state'],
      registers,
    });
    this.headroomPods = new Gauge({
      name: 'elasticai_headroom_pods',
      help: 'Extra pods predicted within the node-provisioning horizon, per node pool.',
      labelNames: ['node_pool'],
      registers,
    });
    this.sourceFailures = new Counter({
      name: 'elasticai_history_source_failures_total',
      help: 'Failed history queries, by source and failure kind.',
      labelNames: ['source', 'kind'],
      registers,
    });
    this.sourceLatency = new Histogram({
      name: 'elasticai_history_query_duration_seconds',
      help: 'Duration of history queries.',
      labelNames: ['source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.grpcLatency = new Histogram({
      ...GRPC_LATENCY,
      labelNames: [...GRPC_LATENCY.labelNames],
      registers,
    });
    this.workloads = new Gauge({
      name: 'elasticai_workloads',
      help: 'Workloads the runtime decides for.',
      registers,
    });
    this.workloadsRefused = new Counter({
      name: 'elasticai_workloads_refused_total',
      help: 'Times a new workload was refused because the runtime is near its memory limit.',
      registers,
    });
    const stateBytes: Gauge = new Gauge({
      name: 'elasticai_workload_state_bytes',
      help: 'Bytes of engine, chart and decision-log state held for all workloads, counted at scrape time (most of the memory that grows with workloads).',
      registers,
      collect: () => {
        const source = this.stateBytesSource;
        if (source) stateBytes.set(source());
      },
    });
    this.stateBytes = stateBytes;
    this.httpRequests = new Counter({
      name: 'elasticai_http_requests_total',
      help: 'HTTP API requests, by route and status code.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.webhookEvents = new Counter({
      name: 'elasticai_webhook_events_total',
      help: 'Events ingested through the signed webhook, by stream.',
      labelNames: ['stream'],
      registers,
    });
  }

  /** Where `elasticai_workload_state_bytes` is read from (the workload registry calls this). */
  measureStateBytes(source: () => number): void {
    this.stateBytesSource = source;
  }

  /**
   * The scaler runs in its own thread and observes gRPC calls in its own registry: this one stops
   * exposing its (unused) histogram and appends that thread's text instead.
   */
  exposeGrpcLatencyFrom(text: () => Promise<string>): void {
    this.registry.removeSingleMetric(GRPC_LATENCY.name);
    this.grpcLatencyElsewhere = text;
  }

  /** The gRPC histogram's exposition text alone, wherever it is kept (the benchmark reads it). */
  grpcLatencyText(): Promise<string> {
    return this.grpcLatencyElsewhere?.() ?? this.registry.getSingleMetricAsString(GRPC_LATENCY.name);
  }

  /** `registry.metrics()`, with the per-workload gauges printed by their own fast path. */
  private async registryText(): Promise<string> {
    const parts = await Promise.all(
      this.registry
        .getMetricsAsArray()
        .map((metric) =>
          metric instanceof WorkloadGauge
            ? metric.exposition()
            : this.registry.getSingleMetricAsString(metric.name),
        ),
    );
    return `${parts.join('\n\n')}\n`;
  }

  /** The exposition text of every metric (`/metrics`). */
  async text(): Promise<string> {
    const elsewhere = this.grpcLatencyElsewhere;
    const parts = await Promise.all([this.registryText(), ...(elsewhere ? [elsewhere()] : [])]);
    return parts.map((part) => (part.endsWith('\n') || part === '' ? part : `${part}\n`)).join('');
  }
}
