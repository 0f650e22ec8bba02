/**
 * The load generator of the scaler benchmark, in its own process: one HTTP/2 connection (as KEDA keeps
 * one per scaler address) that plays its share of KEDA's calls on a fixed schedule. Calls
 * `index, index + clients, ...` of the common schedule are this process's. Requests are encoded once
 * per ScaledObject up front (KEDA sends the same trigger metadata every time) and sent as plain gRPC
 * over a hand-framed HTTP/2 client (h2-grpc-client.ts), so the generator spends little CPU on the cores
 * it shares with the runtime and its own collections do not pass for the runtime's latency. Latency
 * is measured per call from the moment it is issued to its status trailer, on the client: it includes
 * both processes' HTTP/2 work, the runtime's gRPC server and any wait in the runtime's event loop.
 *
 * Usage: node scaler-load.js '{"port", "count", "clients", "index", "startAt", "warmupSeconds", "seconds"}'
 * Prints one JSON line when done: latencies of the measured calls (ms), errors, event-loop delay.
 */
import type * as grpc from '@grpc/grpc-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RUNTIME_SCALER_ADDRESS, loadScalerPackage } from '../../support/keda-client.js';
import { GrpcH2Client } from './h2-grpc-client.js';

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

/** SCALER_INTERVAL: every workload's interval in seconds (unset: the default, 60). */
const INTERVAL_SECONDS = process.env.SCALER_INTERVAL;

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
      scalerAddress: RUNTIME_SCALER_ADDRESS,
      query: `sum(rate(http_requests_total{app="app-${k}"}[1m]))`,
      capacityPerReplica: String(20 + (k % 30)),
      leadSeconds: '120',
      nodePool: `pool-${k % 4}`,
      ...(INTERVAL_SECONDS ? { intervalSeconds: INTERVAL_SECONDS } : {}),
    },
  };
}

type Method = grpc.MethodDefinition<unknown, unknown>;

/** A message with gRPC's 5-byte prefix (uncompressed, length). */
function frame(message: Buffer): Buffer {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const Ctor = loadScalerPackage().ExternalScaler as grpc.ServiceClientConstructor;
  const methods = Ctor.service as unknown as Record<string, Method>;
  const getMetrics = methods.GetMetrics as Method;
  const isActive = methods.IsActive as Method;
  const client = new GrpcH2Client(o.port);
  // Every ScaledObject's two requests, encoded and framed once.
  const metricsRequests: Buffer[] = [];
  const activeRequests: Buffer[] = [];
  for (let k = 0; k < o.count; k++) {
    const ref = scaledObjectRef(k);
    metricsRequests.push(
      frame(getMetrics.requestSerialize({ scaledObjectRef: ref, metricName: 's0-elasticai-replicas' })),
    );
    activeRequests.push(frame(isActive.requestSerialize(ref)));
  }
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
    client.unary(
      method.path,
      (active ? activeRequests[k] : metricsRequests[k]) as Buffer,
      (error, answeredAt, message) => {
        if (measured) {
          if (error || !message) errors++;
          else {
            latencies.push(answeredAt - started);
            if (!answerIsRight(active, method.responseDeserialize(message))) wrong++;
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
