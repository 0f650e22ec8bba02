/**
 * The policy evaluation suite: which real traces, and the per-replica capacity and start-up delay used
 * for each. Capacity is chosen so that the trace's peak needs about 40 replicas ("tens of replicas"),
 * start-up so that a new pod misses at least one full interval. These are fixed for every trace
 * family, never tuned per trace.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { M4Series } from '../../runtime/evaluation/m4-metrics.js';
import { replicasNeeded } from '../../runtime/simulation/oracle-policy.js';
import { readyDelayRows, simulate } from '../../runtime/simulation/simulator.js';
import { readEventLog, readTrace } from '../../runtime/simulation/trace.js';
import type { PolicyContext, PolicyFactory, RunMeasures, Trace } from '../../runtime/simulation/types.js';
import { SHARED_DIR } from '../support/paths.js';

export interface SuiteTrace {
  readonly name: string;
  readonly trace: Trace;
  readonly capacityPerReplica: number;
  readonly startupSeconds: number;
  /** How capacity was derived, printed next to the results. */
  readonly note: string;
}

/** Replicas the peak should need. */
const PEAK_REPLICAS = 40;

function peakSized(name: string, trace: Trace, startupSeconds: number): SuiteTrace {
  let peak = 0;
  for (const row of trace.rows) if (Number.isFinite(row.demand) && row.demand > peak) peak = row.demand;
  const capacityPerReplica = Number((peak / PEAK_REPLICAS).toPrecision(3));
  return {
    name,
    trace,
    capacityPerReplica,
    startupSeconds,
    note: `capacity = peak ${Number(peak.toPrecision(4))} / ${PEAK_REPLICAS}, startup ${startupSeconds}s`,
  };
}

/**
 * An M4 hourly series (train then test) as a demand trace for the hold-out run: hourly rows from an
 * arbitrary epoch (M4 has no dates), sized like the suite, start-up 120 s (ready after two rows, as
 * anything under an hour would be).
 */
export function m4DemandTrace(series: M4Series): SuiteTrace {
  const values = [...series.train, ...series.test];
  const trace: Trace = {
    rows: values.map((demand, i) => ({ timestamp: M4_EPOCH + i * 3600, demand, line: i + 1 })),
    intervalSeconds: 3600,
    source: `M4 ${series.id}`,
  };
  return peakSized(series.id, trace, 120);
}

/** 2026-01-05T00:00:00Z, a Monday: where the hold-out's hourly rows start. */
const M4_EPOCH = Date.UTC(2026, 0, 5) / 1000;

/** The suite the `bench:policy` table reports on. */
export function policySuite(): SuiteTrace[] {
  const traces = join(SHARED_DIR, 'traces');
  const nab = join(traces, 'nab', 'realAWSCloudwatch');
  const suite: SuiteTrace[] = [
    peakSized(
      'nasa-http-1min',
      readTrace(join(traces, 'nasa-http-1995', 'nasa_http_requests_per_minute.csv')),
      120,
    ),
    peakSized('nyc-taxi-30min', readTrace(join(traces, 'nab', 'realKnownCause', 'nyc_taxi.csv')), 300),
    peakSized(
      'azure-llm-code-10s',
      readEventLog(join(traces, 'azure-llm-inference-2023', 'AzureLLMInferenceTrace_code.csv'), 10),
      30,
    ),
  ];
  for (const file of readdirSync(nab)
    .filter((f) => f.startsWith('ec2_cpu_utilization'))
    .sort()) {
    suite.push(
      peakSized(
        `nab-${file.replace('.csv', '').replace('ec2_cpu_utilization_', 'cpu-')}`,
        readTrace(join(nab, file)),
        120,
      ),
    );
  }
  return suite;
}

/** The simulation context of a suite trace: its capacity and start-up, 1 to 1000 replicas. */
export function suiteContext(entry: SuiteTrace): PolicyContext {
  return {
    intervalSeconds: entry.trace.intervalSeconds,
    capacityPerReplica: entry.capacityPerReplica,
    startupSeconds: entry.startupSeconds,
    minReplicas: 1,
    maxReplicas: 1000,
  };
}

/**
 * Runs one policy over a suite trace. Every policy starts with what the first rows need, so that the
 * first rows (before any pod can start) count against none of them.
 */
export function runOnSuiteTrace(entry: SuiteTrace, factory: PolicyFactory): RunMeasures {
  const context = suiteContext(entry);
  const need = replicasNeeded(entry.trace, context);
  const initialReplicas = Math.max(...need.slice(0, readyDelayRows(context)));
  return simulate(entry.trace, factory, context, { initialReplicas }).measures;
}

/** The suite's goal: at most half of the baseline's violation intervals at no more replica-intervals. */
export function meetsGoal(run: RunMeasures, hpa: RunMeasures): boolean {
  return (
    run.violationIntervals <= Math.floor(hpa.violationIntervals / 2) &&
    run.replicaIntervals <= hpa.replicaIntervals
  );
}
