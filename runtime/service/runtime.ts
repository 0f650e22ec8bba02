/**
 * The decision runtime assembled from its configuration: history sources, the workload registry, the
 * KEDA gRPC scaler, the HTTP API, and — when a Kubernetes API is reachable — authentication, overrides,
 * workload discovery and the leader-elected override-expiry job. `startRuntime` returns once both
 * servers listen; `shutdown` drains them (SIGTERM path).
 */
import type { Authenticator } from './auth/authenticator.js';
import { createAuthenticator } from './auth/authenticator.js';
import { ApiKeyError } from './auth/api-keys.js';
import type { RuntimeConfig } from './config.js';
import { ConfigError, ENV, checkMountedFiles, listenFailure, tlsFolder } from './config.js';
import { EventStore } from './history/event-store.js';
import type { HistorySource } from './history/history-source.js';
import type { PrometheusSourceOptions } from './history/prometheus-source.js';
import { PrometheusSource } from './history/prometheus-source.js';
import { PrometheusUsageSource } from './history/prometheus-usage.js';
import { TimeScaledSource, scaledClock } from './history/time-scaled-source.js';
import type { OverrideStore, Readiness } from './http/api-deps.js';
import type { RunningApiServer } from './http/api-server.js';
import { startApiServer } from './http/api-server.js';
import type { ScalerServer } from './grpc/scaler-server.js';
import { startScalerThread } from './grpc/scaler-thread.js';
import { KubeClient } from './kube/kube-client.js';
import { LeaderElector } from './kube/leader-election.js';
import { ScaledObjectOverrides } from './kube/scaled-object-overrides.js';
import { type CgroupMemory, MemoryGuard, cgroupMemory } from './memory-guard.js';
import { RuntimeMetrics } from './metrics.js';
import type { WorkloadRef } from './workload-spec.js';
import { parseWorkloadSpec } from './workload-spec.js';
import { WorkloadRegistry } from './workload-registry.js';
import type { Decision } from '../engine/workload-engine.js';

/** Name of the Service the construct creates (scaler addresses are derived from it). */
export const RUNTIME_SERVICE_NAME = 'elasticai-runtime';
/** Lease held by the replica that runs the singleton jobs. */
export const LEADER_LEASE_NAME = 'elasticai-runtime-leader';

export interface RuntimeOptions {
  /** Wall clock in ms. @default Date.now */
  readonly clock?: () => number;
  /** Replaces the Kubernetes client built from the config (tests: the in-process API server). */
  readonly kube?: KubeClient | null;
  /** Options of the Prometheus source (tests: injected fetch or credentials). */
  readonly prometheus?: PrometheusSourceOptions;
  /** Seconds between registry ticks. @default 5 */
  readonly tickSeconds?: number;
  /** Seconds between ScaledObject discovery runs. @default 60 */
  readonly discoverySeconds?: number;
  /** One JSON line per changed decision and per lifecycle event. @default process.stdout */
  readonly log?: (line: string) => void;
  /**
   * The gRPC scaler's thread died: KEDA gets no answers from this replica any more.
   * @default exit the process with status 1 (Kubernetes restarts the container)
   */
  readonly onScalerExit?: (error: Error) => void;
  /**
   * The container's memory cgroup: its limit (when the config gives none) and its working set, which
   * admission counts against the limit. @default the process's cgroup
   */
  readonly containerMemory?: () => CgroupMemory | undefined;
}

export interface Runtime {
  readonly config: RuntimeConfig;
  readonly registry: WorkloadRegistry;
  readonly metrics: RuntimeMetrics;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly httpUrl: string;
  readonly events: EventStore;
  readonly authenticator: Authenticator;
  /** Stops accepting, lets in-flight gRPC and HTTP calls finish, releases the Lease. */
  shutdown(): Promise<void>;
}

/** The listen host as the setting a failure to listen names. */
function listenHost(config: RuntimeConfig): { variable: string; value: string } {
  return { variable: ENV.listenHost, value: config.listenHost };
}

/** Addresses KEDA may use for this runtime (the trigger's scalerAddress), for discovery. */
export function scalerAddresses(config: RuntimeConfig): string[] {
  const host = `${RUNTIME_SERVICE_NAME}.${config.namespace}`;
  return [`${host}.svc.cluster.local`, `${host}.svc`, host].map((h) => `${h}:${config.grpcPort}`);
}

/**
 * Starts the runtime; a configuration that turns out unusable only now (a mount, an address to listen
 * on) throws ConfigError naming the variable, as loadRuntimeConfig does.
 */
export async function startRuntime(config: RuntimeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  checkMountedFiles(config);
  const wallClock = options.clock ?? Date.now;
  // Compressed replays: engines run on a virtual clock; origin on a day boundary keeps grids aligned.
  const origin = Math.floor(wallClock() / 1000 / 86_400) * 86_400;
  const scaled = config.timeScale > 1;
  const clock = scaled ? scaledClock(wallClock, config.timeScale, origin) : wallClock;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (event: string, fields: Record<string, unknown>): void =>
    log(JSON.stringify({ time: new Date(wallClock()).toISOString(), event, ...fields }));
  const metrics = new RuntimeMetrics();
  const container = (options.containerMemory ?? cgroupMemory)();
  const memoryLimit =
    config.memoryLimitMiB === undefined
      ? container?.limitBytes
      : config.memoryLimitMiB * 1024 * 1024 || undefined;
  const memory = memoryLimit
    ? new MemoryGuard({ limitBytes: memoryLimit, ...(container && { usedBytes: container.usedBytes }) })
    : undefined;
  const events = new EventStore({
    clock: wallClock,
    metrics,
    retentionSeconds: config.historySeconds,
    ...(memory && { hasRoomFor: (bytes: number) => memory.hasRoomFor(bytes) }),
  });
  const sources: Partial<Record<'prometheus' | 'webhook', HistorySource>> = {
    webhook: scaled ? new TimeScaledSource(events, config.timeScale, origin) : events,
  };
  let usage: PrometheusUsageSource | undefined;
  if (config.prometheus) {
    const prometheus = new PrometheusSource(config.prometheus, options.prometheus ?? {});
    usage = new PrometheusUsageSource(prometheus, { clock: wallClock });
    sources.prometheus = scaled ? new TimeScaledSource(prometheus, config.timeScale, origin) : prometheus;
  }
  const registry = new WorkloadRegistry({
    sources,
    clock,
    historySeconds: config.historySeconds,
    settleSeconds: config.settleSeconds,
    refitEpochSeconds: config.refitEpochSeconds,
    staleAfterSeconds: config.staleAfterSeconds,
    metrics,
    ...(memory && { memory }),
  });
  registry.on('decision', (ref: WorkloadRef, decision: Decision) =>
    emit('decision', { namespace: ref.namespace, name: ref.name, ...decisionLogFields(decision) }),
  );
  registry.on('state', (ref: WorkloadRef, state: string, previous: string) =>
    emit('state', { namespace: ref.namespace, name: ref.name, state, previous }),
  );

  const kube = options.kube === undefined ? KubeClient.fromConfig(config) : (options.kube ?? undefined);
  let authenticator: Authenticator;
  try {
    authenticator = createAuthenticator(config, kube, {
      onError: (error) => emit('auth-error', { message: String(error) }),
    });
  } catch (error) {
    // A missing API key folder or a bad key in it: the Secret's mount, named by its variable.
    if (error instanceof ApiKeyError) throw new ConfigError(ENV.apiKeysDir, config.apiKeysDir, error.message);
    throw error;
  }
  const soOverrides = kube ? new ScaledObjectOverrides(kube) : undefined;
  const overrides: OverrideStore | undefined = soOverrides && overrideStore(soOverrides);

  let discovered = kube === undefined;
  const shutdown = new AbortController();
  const readiness = (): Readiness =>
    shutdown.signal.aborted
      ? { ready: false, reason: 'shutting down' }
      : discovered
        ? { ready: true }
        : { ready: false, reason: 'first ScaledObject discovery has not completed' };

  const grpcTls =
    config.grpcTlsDir === undefined ? undefined : tlsFolder(ENV.grpcTlsDir, config.grpcTlsDir, true);
  const grpc: ScalerServer = await startScalerThread({
    registry,
    tenants: config.tenants,
    metrics,
    host: config.listenHost,
    port: config.grpcPort,
    ...(grpcTls ? { tls: grpcTls } : {}),
    onExit: (error) => {
      emit('scaler-exit', { message: error.message });
      (options.onScalerExit ?? (() => process.exit(1)))(error);
    },
  }).catch((error: unknown) => {
    throw listenFailure(error, listenHost(config), { variable: ENV.grpcPort, value: config.grpcPort });
  });
  const http: RunningApiServer = await startApiServer(
    {
      config,
      registry,
      metrics,
      authenticator,
      ...(overrides ? { overrides } : {}),
      events,
      ...(usage ? { usage } : {}),
      // The dashboard's live stream (GET /api/v1/stream) listens to the registry's decisions.
      decisions: registry,
      readiness,
      shutdown: shutdown.signal,
      clock: wallClock,
      // Audit lines (overrides set and cleared, webhook deliveries), warnings and errors (a 5xx's
      // cause: what a caller is not told) as JSON lines on the same log; no line per request.
      logger: { level: 'info', stream: { write: (line: string) => log(line.trimEnd()) } },
    },
    {
      host: config.listenHost,
      port: config.httpPort,
      ...(config.httpTlsDir ? { tlsDir: config.httpTlsDir } : {}),
    },
  ).catch(async (error: unknown) => {
    await grpc.close(0);
    throw listenFailure(error, listenHost(config), { variable: ENV.httpPort, value: config.httpPort });
  });

  const timers: NodeJS.Timeout[] = [];
  const every = (seconds: number, job: () => Promise<unknown>): void => {
    let running = false;
    const run = (): void => {
      if (running || shutdown.signal.aborted) return;
      running = true;
      job()
        .catch((error: unknown) => emit('job-error', { message: String(error) }))
        .finally(() => {
          running = false;
        });
    };
    timers.push(setInterval(run, seconds * 1000));
    run();
  };
  every(options.tickSeconds ?? 5, () => registry.tick());

  let elector: LeaderElector | undefined;
  if (kube && soOverrides) {
    const addresses = scalerAddresses(config);
    every(options.discoverySeconds ?? 60, async () => {
      await discover(registry, soOverrides, addresses, config, emit);
      discovered = true;
    });
    let expiry: NodeJS.Timeout | undefined;
    elector = new LeaderElector({
      kube,
      namespace: config.namespace,
      name: LEADER_LEASE_NAME,
      identity: config.podName,
      onStartedLeading: () => {
        emit('leader', { identity: config.podName, leading: true });
        expiry = setInterval(() => {
          soOverrides.expireOverrides(new Date(wallClock())).then(
            (cleared) => cleared.forEach((ref) => emit('override-expired', { ...ref })),
            (error: unknown) => emit('job-error', { message: String(error) }),
          );
        }, 30_000);
      },
      onStoppedLeading: () => {
        clearInterval(expiry);
        emit('leader', { identity: config.podName, leading: false });
      },
      onError: (error) => emit('lease-error', { message: String(error) }),
    });
    elector.start();
  }
  const httpPort = Number(new URL(http.url).port);
  emit('started', {
    grpcPort: grpc.port,
    httpPort,
    prometheus: config.prometheus?.url ?? null,
    // New workloads are refused within 10% of this (null: every workload is admitted).
    memoryLimitBytes: memoryLimit ?? null,
  });

  return {
    config,
    registry,
    metrics,
    grpcPort: grpc.port,
    httpPort,
    httpUrl: http.url,
    events,
    authenticator,
    shutdown: async () => {
      if (shutdown.signal.aborted) return;
      shutdown.abort();
      emit('stopping', { graceMs: config.shutdownGraceMs });
      for (const timer of timers) clearInterval(timer);
      // HTTP: in-flight requests finish; connections still open after the grace period (a client that
      // connected and never sent a request) are cut, so shutdown never outlives the grace period.
      const httpClosed = http.close();
      const cut = setTimeout(() => http.app.server.closeAllConnections(), config.shutdownGraceMs);
      await Promise.all([grpc.close(config.shutdownGraceMs), httpClosed, elector?.stop()]);
      clearTimeout(cut);
      emit('stopped', {});
    },
  };
}

/** The decision's explanation as log fields: one line each, ready for Loki or EFK. */
function decisionLogFields(d: Decision): Record<string, unknown> {
  return {
    desiredReplicas: d.desiredReplicas,
    rule: d.rule,
    summary: d.summary,
    demand: d.inputs.demand,
    model: d.forecast.model,
    forecastPeak: d.forecast.leadPeak,
    forecastUpper: d.forecast.upper,
    anomaly: d.anomaly.state,
    anomalyScore: d.anomaly.score,
    headroomPods: d.headroomPods,
    pointTime: d.timestamp,
  };
}

function overrideStore(so: ScaledObjectOverrides): OverrideStore {
  return {
    get: async (namespace, name) => {
      const o = await so.get(namespace, name);
      if (!o) return undefined;
      return {
        replicas: o.replicas,
        ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
        ...(o.by ? { by: o.by } : {}),
      };
    },
    set: async (namespace, name, replicas, options) => {
      await so.set(namespace, name, replicas, options);
    },
    clear: (namespace, name) => so.clear(namespace, name),
  };
}

/** Registers every ScaledObject trigger that points at this runtime and drops the ones deleted. */
async function discover(
  registry: WorkloadRegistry,
  so: ScaledObjectOverrides,
  addresses: readonly string[],
  config: RuntimeConfig,
  emit: (event: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  const triggers = await so.listRuntimeScaledObjects(addresses);
  const seen = new Set<string>();
  for (const t of triggers) {
    const ref = { namespace: t.namespace, name: t.name };
    seen.add(`${t.namespace}/${t.name}`);
    try {
      void registry.register(ref, parseWorkloadSpec(ref, t.metadata, config.tenants));
    } catch (error) {
      emit('invalid-trigger', { namespace: t.namespace, name: t.name, message: String(error) });
    }
  }
  for (const ref of registry.refs()) if (!seen.has(`${ref.namespace}/${ref.name}`)) registry.unregister(ref);
}
