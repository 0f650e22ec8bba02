/**
 * The load generator of the scaler benchmark, in its own process: one HTTP/2 connection (as KEDA keeps
 * one per scaler address) that plays its share of KEDA's calls on a fixed schedule. Calls
 * `index, index + clients, ...` of the common schedule are this process's. Requests are encoded once
 * per ScaledObject up front (KEDA sends the same trigger metadata every time) and sent as plain gRPC
 * over node:http2, so the generator spends little CPU on the cores it shares with the runtime. Latency
 * is measured per call from the moment it is issued to its status trailer, on the client: it includes
 * both processes' HTTP/2 work, the runtime's gRPC server and any wait in the runtime's event loop.
 *
 * Usage: node scaler-load.js '{"port", "count", "clients", "index", "startAt", "warmupSeconds", "seconds"}'
 * Prints one JSON line when done: latencies of the measured calls (ms), errors, event-loop delay.
 */
import type * as grpc from '@grpc/grpc-js';
import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';
import { connect } from 'node:http2';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { loadScalerPackage } from '../../support/keda-client.js';

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

/**
 * A unary gRPC call over node:http2 with a request framed in advance: what grpc-js's client does on
 * the wire (POST, application/grpc, te: trailers, grpc-timeout, a length-prefixed message; status in
 * the trailers), at a fraction of its CPU, so the generator leaves the shared cores to the runtime.
 */
function unary(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  framed: Buffer,
  deserialize: (message: Buffer) => unknown,
  done: (error: Error | undefined, answeredAt: number, response: unknown) => void,
): void {
  const stream = session.request(headers);
  const chunks: Buffer[] = [];
  let status: unknown;
  let answeredAt = 0;
  stream.on('response', (h) => {
    if (h['grpc-status'] !== undefined) {
      status = h['grpc-status'];
      answeredAt = performance.now();
    }
  });
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('trailers', (t) => {
    status = t['grpc-status'];
    answeredAt = performance.now();
  });
  stream.on('error', () => undefined);
  stream.on('close', () => {
    if (status !== '0') {
      done(new Error(`grpc-status ${String(status)}`), answeredAt, undefined);
      return;
    }
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
    if (length < 0 || body.length < 5 + length) done(new Error('truncated answer'), answeredAt, undefined);
    else done(undefined, answeredAt, deserialize(body.subarray(5, 5 + length)));
  });
  stream.end(framed);
}

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
  const session = connect(`http://127.0.0.1:${o.port}`);
  session.on('error', () => undefined);
  const headersOf = (method: Method): OutgoingHttpHeaders => ({
    ':method': 'POST',
    ':path': method.path,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '3S',
  });
  const metricsHeaders = headersOf(getMetrics);
  const activeHeaders = headersOf(isActive);
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
    unary(
      session,
      active ? activeHeaders : metricsHeaders,
      (active ? activeRequests[k] : metricsRequests[k]) as Buffer,
      method.responseDeserialize as (b: Buffer) => unknown,
      (error, answeredAt, response) => {
        if (measured) {
          if (error) errors++;
          else {
            latencies.push(answeredAt - started);
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
  session.close();
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
