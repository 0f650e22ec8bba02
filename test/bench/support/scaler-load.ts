/**
 * The load generator of the scaler benchmark, in its own process: one gRPC connection (as KEDA keeps
 * one per scaler address) that plays its share of KEDA's calls on a fixed schedule. Calls
 * `index, index + clients, ...` of the common schedule are this process's; requests are encoded once
 * per ScaledObject up front (KEDA sends the same trigger metadata every time), so the generator spends
 * its time on the calls, not on building them. Latency is measured per call from the moment it is
 * issued to its answer, on the client: it includes both processes' HTTP/2 and gRPC work and any wait
 * in the runtime's event loop.
 *
 * Usage: node scaler-load.js '{"port", "count", "clients", "index", "startAt", "warmupSeconds", "seconds"}'
 * Prints one JSON line when done: latencies of the measured calls (ms), errors, event-loop delay.
 */
import * as grpc from '@grpc/grpc-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { loadScalerPackage } from '../../../runtime/service/grpc/scaler-server.js';

export interface LoadOptions {
  readonly port: number;
  readonly count: number;
  readonly clients: number;
  readonly index: number;
  /** Date.now() at which call 0 of the schedule is due. */
  readonly startAt: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export interface LoadResult {
  /** Client-side latency of each measured call, ms. */
  readonly latencies: number[];
  readonly errors: number;
  /** Answers that were not one positive replica value (GetMetrics) or a boolean (IsActive). */
  readonly wrong: number;
  readonly loop: { readonly p99: number; readonly max: number };
}

/** KEDA's rate per ScaledObject: GetMetrics every HPA sync (15 s), GetMetrics + IsActive every 30 s. */
export const CALLS_PER_OBJECT_PER_SECOND = 1 / 15 + 2 / 30;

/** The trigger metadata of ScaledObject k (the same as scaler-target.ts registers). */
export function scaledObjectRef(k: number): {
  namespace: string;
  name: string;
  scalerMetadata: Record<string, string>;
} {
  return {
    namespace: `team-${k % 50}`,
    name: `app-${k}`,
    scalerMetadata: {
      scalerAddress: 'elasticai-runtime.elasticai-system.svc.cluster.local:9090',
      query: `sum(rate(http_requests_total{app="app-${k}"}[1m]))`,
      capacityPerReplica: String(20 + (k % 30)),
      leadSeconds: '120',
      nodePool: `pool-${k % 4}`,
    },
  };
}

type Method = grpc.MethodDefinition<unknown, unknown>;

async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const Ctor = loadScalerPackage().ExternalScaler as grpc.ServiceClientConstructor;
  const methods = Ctor.service as unknown as Record<string, Method>;
  const getMetrics = methods.GetMetrics as Method;
  const isActive = methods.IsActive as Method;
  const client = new grpc.Client(`127.0.0.1:${o.port}`, grpc.credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
  });
  // Every ScaledObject's two requests, encoded once.
  const metricsRequests: Buffer[] = [];
  const activeRequests: Buffer[] = [];
  for (let k = 0; k < o.count; k++) {
    const ref = scaledObjectRef(k);
    metricsRequests.push(
      getMetrics.requestSerialize({ scaledObjectRef: ref, metricName: 's0-elasticai-replicas' }),
    );
    activeRequests.push(isActive.requestSerialize(ref));
  }
  const identity = (b: Buffer): Buffer => b;
  const rate = o.count * CALLS_PER_OBJECT_PER_SECOND;
  const warmup = Math.round(rate * o.warmupSeconds);
  const total = Math.round(rate * o.seconds) + warmup;
  const latencies: number[] = [];
  let errors = 0;
  let wrong = 0;
  let outstanding = 0;
  let issuing = true;
  let measuring = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  // Date.now() → performance.now() once, so every process keeps the same schedule.
  const origin = performance.now() + (o.startAt - Date.now());
  for (let i = o.index; i < total; i += o.clients) {
    const due = origin + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const measured = i >= warmup;
    if (measured && !measuring) {
      measuring = true;
      loop.enable();
    }
    const k = (i * 7919) % o.count;
    const active = i % 4 === 3;
    const method = active ? isActive : getMetrics;
    const started = performance.now();
    outstanding++;
    client.makeUnaryRequest(
      method.path,
      identity,
      method.responseDeserialize as (b: Buffer) => unknown,
      (active ? activeRequests[k] : metricsRequests[k]) as Buffer,
      { deadline: Date.now() + 3000 },
      (error, response) => {
        if (measured) {
          if (error) errors++;
          else {
            latencies.push(performance.now() - started);
            if (!answerIsRight(active, response)) wrong++;
          }
        }
        if (--outstanding === 0 && !issuing) finish();
      },
    );
  }
  issuing = false;
  if (outstanding > 0) await finished;
  loop.disable();
  client.close();
  return { latencies, errors, wrong, loop: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 } };
}

function answerIsRight(active: boolean, response: unknown): boolean {
  if (active) return typeof (response as { result?: unknown }).result === 'boolean';
  const values = (response as { metricValues?: { metricValueFloat?: number }[] }).metricValues;
  return values?.length === 1 && (values[0]?.metricValueFloat ?? 0) > 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runLoad(JSON.parse(process.argv[2] ?? '{}') as LoadOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
