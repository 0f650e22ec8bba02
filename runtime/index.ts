/**
 * `elasticai/runtime`: the decision engine and the what-if simulator as a library, for embedding the
 * engine elsewhere or replaying traces from code (the CLI's `simulate` and `detect` are built on the
 * same pieces). The service (gRPC scaler, HTTP API) is not part of it: it runs as the container.
 */
export type { Decision } from './engine/workload-engine.js';
export { WorkloadEngine, summarize } from './engine/workload-engine.js';
export type { EngineSettings, ResolvedEngineSettings } from './engine/settings.js';
export { EngineSettingsError, MAX_REPLICAS, resolveEngineSettings } from './engine/settings.js';
export type { Assessment, SignalState } from './engine/anomaly.js';
export { SeriesMonitor } from './engine/series-monitor.js';
export type {
  Trace,
  TraceRow,
  PolicyContext,
  PolicyFactory,
  RunResult,
  RunMeasures,
} from './simulation/types.js';
export { TraceError, parseTrace, readTrace } from './simulation/trace.js';
export { simulate, compareRuns } from './simulation/simulator.js';
export type { RunComparison } from './simulation/simulator.js';
export { predictivePolicy } from './simulation/predictive-policy.js';
export { hpaPolicy } from './simulation/hpa-policy.js';
export { oraclePolicy } from './simulation/oracle-policy.js';
