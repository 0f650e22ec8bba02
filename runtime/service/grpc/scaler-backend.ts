/**
 * What the KEDA scaler needs from the runtime: track a workload, read the value to serve, hear about
 * wake-ups. Two implementations: `registryBackend` reads the registry in the same thread (tests, and a
 * scaler embedded in another program); `WorkloadTable` (scaler-thread.ts) reads values the runtime's
 * main thread publishes to the scaler's own thread, so no collection on the main thread's big heap
 * ever holds a gRPC answer back.
 */
import type { WorkloadRegistry } from '../workload-registry.js';
import type { WorkloadRef, WorkloadSpec } from '../workload-spec.js';

export interface ServedValue {
  /** Replicas for a demand workload, pods for a headroom one. */
  readonly value: number;
  readonly active: boolean;
}

export interface ScalerBackend {
  /**
   * Tracks `workload` with `spec` (idempotent; a changed spec replaces the engine). Resolves with the
   * workload's first backfill while it runs (what a call asking for a value may wait for, bounded), or
   * undefined when there is nothing to wait for. Rejects with NotReadyError when the workload cannot be
   * tracked (its history source is not configured here).
   */
  track(workload: WorkloadRef, spec: WorkloadSpec): Promise<{ firstBackfill?: Promise<void> }>;
  /** The value to serve now; throws NotReadyError when there is none yet. */
  value(workload: WorkloadRef): ServedValue;
  /** Calls `listener` whenever a workload turns active; returns the unsubscribe function. */
  onActive(listener: (workload: WorkloadRef) => void): () => void;
}

/** What `track` resolves with when there is nothing to wait for (shared: no garbage per call). */
export const NOTHING_TO_WAIT_FOR: Promise<{ firstBackfill?: Promise<void> }> = Promise.resolve({});

/** The registry itself, read in the calling thread. */
export function registryBackend(registry: WorkloadRegistry): ScalerBackend {
  return {
    track: (workload, spec) => {
      try {
        const first = !registry.has(workload);
        const loading = registry.register(workload, spec);
        const firstBackfill = first ? loading : registry.firstBackfill(workload);
        return firstBackfill ? Promise.resolve({ firstBackfill }) : NOTHING_TO_WAIT_FOR;
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    value: (workload) => registry.value(workload),
    onActive: (listener) => {
      registry.on('active', listener);
      return () => registry.off('active', listener);
    },
  };
}
