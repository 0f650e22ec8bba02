/**
 * What the HTTP API server is built from. The wiring passes the runtime's real parts; tests pass a real
 * registry with in-memory sources and small in-memory stores.
 */
import type { FastifyServerOptions } from 'fastify';
import type { Decision } from '../../engine/workload-engine.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RuntimeConfig } from '../config.js';
import type { EventStore } from '../history/event-store.js';
import type { RuntimeMetrics } from '../metrics.js';
import type { RecommenderOptions, UsageSource } from '../recommendations.js';
import type { WorkloadRegistry } from '../workload-registry.js';
import type { WorkloadRef } from '../workload-spec.js';

/** A manual override as stored on the ScaledObject (KEDA's `autoscaling.keda.sh/paused-replicas`). */
export interface OverrideRecord {
  readonly replicas: number;
  /** ISO 8601; absent: until cleared. */
  readonly expiresAt?: string;
  /** Caller id of whoever set it. */
  readonly by?: string;
}

/**
 * Reads and writes manual overrides. Convention: a method that finds no ScaledObject throws an error
 * whose `status` is 404 (as `KubeApiError` does); any other error with a numeric `status` is a failed
 * Kubernetes API call (0: no answer).
 */
export interface OverrideStore {
  get(namespace: string, name: string): Promise<OverrideRecord | undefined>;
  set(
    namespace: string,
    name: string,
    replicas: number,
    options: { readonly expiresAt?: Date; readonly by: string },
  ): Promise<void>;
  clear(namespace: string, name: string): Promise<void>;
}

/**
 * Where `GET /api/v1/stream` learns of decisions and of changes to the list: the registry's `decision`,
 * `state`, `removed` and `refused` events.
 */
export interface DecisionFeed {
  on(event: 'decision', listener: (ref: WorkloadRef, decision: Decision) => void): unknown;
  on(event: 'state' | 'removed' | 'refused', listener: (ref: WorkloadRef) => void): unknown;
  off(event: 'decision', listener: (ref: WorkloadRef, decision: Decision) => void): unknown;
  off(event: 'state' | 'removed' | 'refused', listener: (ref: WorkloadRef) => void): unknown;
}

/** Limits of the live stream (`GET /api/v1/stream`). */
export interface StreamOptions {
  /** A comment line every so often, so proxies keep the connection and clients know it is alive. @default 15000 */
  readonly heartbeatMs?: number;
  /** A stream ends after this long; the client reconnects, and its credentials are checked again. @default 600000 */
  readonly maxStreamMs?: number;
  /** Bytes of events a slow client may have waiting (one per workload, newest wins) before it is cut off. @default 262144 */
  readonly maxBufferedBytes?: number;
  /** How long one stream reuses a namespace's permission answer. @default 60000 */
  readonly permissionTtlMs?: number;
  /** Streams open at once; more are answered 503 with Retry-After. @default 1000 */
  readonly maxStreams?: number;
  /** Reconnection delay the client is told (`retry:`). @default 3000 */
  readonly retryMs?: number;
}

/** Whether the runtime should receive traffic (`GET /readyz`). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface ApiServerDeps {
  readonly config: Pick<
    RuntimeConfig,
    'readAccess' | 'rateLimitPerMinute' | 'bodyLimitBytes' | 'webhookSecretFile' | 'tenants'
  >;
  readonly registry: Pick<WorkloadRegistry, 'list' | 'status' | 'history' | 'wake' | 'refused'>;
  readonly metrics: RuntimeMetrics;
  /** Absent: every request that needs a caller is refused with 401. */
  readonly authenticator?: Authenticator;
  /** Absent (no Kubernetes API): override endpoints answer 503, and lists show no override. */
  readonly overrides?: OverrideStore;
  /** Where webhook events go; required when `config.webhookSecretFile` is set. */
  readonly events?: EventStore;
  /** Absent: `GET /api/v1/recommendations` answers 404 (needs a usage source such as Prometheus). */
  readonly usage?: UsageSource;
  readonly recommender?: RecommenderOptions;
  /** Decision events for the live stream; absent: `GET /api/v1/stream` answers 404. */
  readonly decisions?: DecisionFeed;
  readonly stream?: StreamOptions;
  /** Absent: ready as soon as the server runs. */
  readonly readiness?: () => Readiness;
  /**
   * A request (headers and body) not received within this is answered 408 and its connection closed,
   * so a client that stops sending, or sends less body than its Content-Length, holds no socket for
   * Node's default 300 s. @default 30000
   */
  readonly requestTimeoutMs?: number;
  /** Aborted on SIGTERM: `/readyz` answers 503 from then on, so the Service stops routing here. */
  readonly shutdown?: AbortSignal;
  /** Wall clock in milliseconds. @default Date.now */
  readonly clock?: () => number;
  /** Fastify logger option (pino); overrides and webhook deliveries are logged at info. @default false */
  readonly logger?: FastifyServerOptions['logger'];
}
