/**
 * Runs the KEDA scaler in a worker thread of its own, fed by the registry on the main thread.
 *
 * Why: at 10,000 workloads the main thread's heap holds the engines (hundreds of MiB), and a major
 * collection of it stops that thread for 100 ms and more. A gRPC answer waiting behind it broke the
 * 5 ms p99 goal. The scaler thread has its own small heap: its collections take about a millisecond,
 * and the main thread's never stop it. Values cross through shared memory (see workload-table.ts), so
 * an answer never waits for the main thread either; only a workload's first call does (its tracking
 * is confirmed by the main thread, and its first backfill waited for, bounded, as before).
 *
 * Every replica still gives the same answer: the value is the registry's decision, unchanged.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { TenantLimits } from '../config.js';
import type { RuntimeMetrics } from '../metrics.js';
import type { WorkloadRegistry } from '../workload-registry.js';
import { NotReadyError } from '../workload-registry.js';
import type { WorkloadRef, WorkloadSpec } from '../workload-spec.js';
import type { ScalerServer, TlsFiles } from './scaler-server.js';
import type { ToMain, ToScaler } from './workload-table.js';
import { SharedValues, keyOf } from './workload-table.js';

/** What the scaler thread starts from (structured-cloned into it). */
export interface ScalerWorkerData {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsFiles;
  readonly tenants: readonly TenantLimits[];
  readonly firstAnswerWaitMs?: number;
  readonly buffer: SharedArrayBuffer;
}

export interface ScalerThreadOptions {
  readonly registry: WorkloadRegistry;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: TlsFiles;
  readonly tenants?: readonly TenantLimits[];
  /** The runtime's metrics: its `/metrics` gets the scaler thread's gRPC histogram. */
  readonly metrics?: RuntimeMetrics;
  /** Longest wait for a new workload's backfill before answering UNAVAILABLE. @default 1500 */
  readonly firstAnswerWaitMs?: number;
  /** V8 heap limits of the scaler thread. @default SCALER_THREAD_LIMITS */
  readonly resourceLimits?: ResourceLimits;
  /** The thread died while serving: the runtime cannot answer KEDA any more. */
  readonly onExit?: (error: Error) => void;
}

/**
 * Heap limits of the scaler thread. Its live data is small (an entry per workload, calls in flight);
 * young space big enough that a call's objects die there instead of being promoted.
 */
export const SCALER_THREAD_LIMITS: ResourceLimits = {
  maxOldGenerationSizeMb: 64,
  maxYoungGenerationSizeMb: 12,
};

/** Slots allocated at start (grown by doubling). */
const INITIAL_SLOTS = 1024;
/** Longest wait for the scaler thread's metrics before `/metrics` answers without them. */
const METRICS_WAIT_MS = 2000;

export async function startScalerThread(options: ScalerThreadOptions): Promise<ScalerServer> {
  const shared = SharedValues.withCapacity(INITIAL_SLOTS);
  const data: ScalerWorkerData = {
    host: options.host,
    port: options.port,
    tenants: options.tenants ?? [],
    buffer: shared.buffer,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.firstAnswerWaitMs !== undefined ? { firstAnswerWaitMs: options.firstAnswerWaitMs } : {}),
  };
  const worker = new Worker(new URL('./scaler-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: options.resourceLimits ?? SCALER_THREAD_LIMITS,
  });
  const send = (message: ToScaler): void => worker.postMessage(message);
  const publisher = new ValuePublisher(options.registry, shared, send);

  let closing = false;
  const metricReplies = new Map<number, (text: string) => void>();
  let onClosed: (() => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (message: ToMain) => {
      switch (message.type) {
        case 'listening':
          resolve(message.port);
          return;
        case 'failed':
          closing = true;
          void worker.terminate();
          reject(Object.assign(new Error(`gRPC scaler: ${message.message}`), { code: message.code }));
          return;
        case 'track':
          publisher.track(message.seq, message.key, message.ref, message.spec);
          return;
        case 'metrics':
          metricReplies.get(message.id)?.(message.text);
          metricReplies.delete(message.id);
          return;
        case 'closed':
          onClosed?.();
          return;
      }
    });
    const died = (error: Error): void => {
      publisher.stop();
      if (closing) return;
      closing = true;
      reject(error);
      options.onExit?.(error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`gRPC scaler thread exited with code ${code}`)));
  });

  let nextId = 0;
  const metricsText = (): Promise<string> =>
    closing
      ? Promise.resolve('')
      : new Promise<string>((resolve) => {
          const id = ++nextId;
          const timer = setTimeout(() => {
            metricReplies.delete(id);
            resolve('');
          }, METRICS_WAIT_MS);
          metricReplies.set(id, (text) => {
            clearTimeout(timer);
            resolve(text);
          });
          send({ type: 'metrics', id });
        });
  options.metrics?.exposeGrpcLatencyFrom(metricsText);

  return {
    port,
    close: async (graceMs) => {
      if (closing) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(resolve, graceMs + 1000);
        onClosed = () => {
          clearTimeout(force);
          resolve();
        };
        send({ type: 'close', graceMs });
      });
      closing = true;
      publisher.stop();
      await worker.terminate();
    },
  };
}

/**
 * The main thread's side: gives each workload the scaler tracks a slot, and writes its value there
 * whenever the registry publishes a decision (and headroom values when their pool's decisions move).
 */
class ValuePublisher {
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  private used = 0;
  /** Headroom workloads: their value is a sum over the pool, recomputed after decisions. */
  private readonly headroom = new Map<string, WorkloadRef>();
  private headroomFlush: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: WorkloadRegistry,
    private shared: SharedValues,
    private readonly send: (message: ToScaler) => void,
  ) {
    const onDecision = (ref: WorkloadRef, decision: { desiredReplicas: number }): void => {
      const slot = this.slots.get(keyOf(ref));
      if (slot !== undefined) {
        const value = decision.desiredReplicas;
        this.shared.set(slot, { value, active: value > 0 });
      }
      if (this.headroom.size > 0) this.headroomFlush ??= setTimeout(() => this.flushHeadroom(), 100);
    };
    const onState = (ref: WorkloadRef, state: string): void => {
      const slot = this.slots.get(keyOf(ref));
      if (slot !== undefined && (state === 'backfilling' || state === 'failed')) this.write(slot, ref);
    };
    const onActive = (ref: WorkloadRef): void => {
      const key = keyOf(ref);
      if (this.slots.has(key)) this.send({ type: 'active', key });
    };
    const onRemoved = (ref: WorkloadRef): void => {
      const key = keyOf(ref);
      const slot = this.slots.get(key);
      if (slot === undefined) return;
      this.slots.delete(key);
      this.headroom.delete(key);
      this.shared.clear(slot);
      this.free.push(slot);
      this.send({ type: 'removed', key });
    };
    registry.on('decision', onDecision);
    registry.on('state', onState);
    registry.on('active', onActive);
    registry.on('removed', onRemoved);
    this.unsubscribe = () => {
      registry.off('decision', onDecision);
      registry.off('state', onState);
      registry.off('active', onActive);
      registry.off('removed', onRemoved);
      clearTimeout(this.headroomFlush);
    };
  }

  /** Answers the scaler's `track`: registers, assigns the slot, fills it, reports the backfill. */
  track(seq: number, key: string, ref: WorkloadRef, spec: WorkloadSpec): void {
    let loading: Promise<void>;
    try {
      loading = this.registry.register(ref, spec);
    } catch (error) {
      this.send({ type: 'rejected', seq, key, message: reasonOf(error) });
      return;
    }
    const slot = this.slotOf(key);
    if (spec.kind === 'headroom') this.headroom.set(key, ref);
    else this.headroom.delete(key);
    this.write(slot, ref);
    this.send({ type: 'tracked', seq, key, slot });
    void loading.then(() => {
      if (this.slots.get(key) === slot) this.write(slot, ref);
      this.send({ type: 'backfilled', seq, key });
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  private slotOf(key: string): number {
    const known = this.slots.get(key);
    if (known !== undefined) return known;
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (slot >= this.shared.capacity) {
        // The scaler reads the new buffer from this message on; both threads see messages in order,
        // so it never learns of a slot its buffer lacks.
        this.shared = this.shared.grown();
        this.send({ type: 'buffer', buffer: this.shared.buffer });
      }
    }
    this.slots.set(key, slot);
    return slot;
  }

  /** Copies the registry's value for `ref` to its slot, or clears it and says why there is none. */
  private write(slot: number, ref: WorkloadRef): void {
    try {
      this.shared.set(slot, this.registry.value(ref));
    } catch (error) {
      this.shared.clear(slot);
      this.send({ type: 'reason', key: keyOf(ref), message: reasonOf(error) });
    }
  }

  private flushHeadroom(): void {
    this.headroomFlush = undefined;
    for (const [key, ref] of this.headroom) {
      const slot = this.slots.get(key);
      if (slot !== undefined) this.write(slot, ref);
    }
  }
}

/** The scaler thread prefixes the workload itself (NotReadyError): send only the reason. */
function reasonOf(error: unknown): string {
  if (error instanceof NotReadyError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}
