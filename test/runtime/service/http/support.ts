/**
 * Shared fixtures of the HTTP API tests: a real WorkloadRegistry fed from real traces through an
 * in-memory history source, a small Authenticator with fixed tokens and rules, and an in-memory
 * override store with the store contract's 404 convention.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Action, Authenticator, Caller } from '../../../../runtime/service/auth/authenticator.js';
import type { ReadAccess, TenantLimits } from '../../../../runtime/service/config.js';
import { EventStore } from '../../../../runtime/service/history/event-store.js';
import type {
  HistorySource,
  RangeQuery,
  Series,
} from '../../../../runtime/service/history/history-source.js';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import type {
  ApiServerDeps,
  OverrideRecord,
  OverrideStore,
} from '../../../../runtime/service/http/api-server.js';
import { RuntimeMetrics } from '../../../../runtime/service/metrics.js';
import { WorkloadRegistry } from '../../../../runtime/service/workload-registry.js';
import type { WorkloadRef } from '../../../../runtime/service/workload-spec.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import { readTrace } from '../../../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../../../support/paths.js';

export const NASA = join(SHARED_DIR, 'traces', 'nasa-http-1995', 'nasa_http_requests_per_minute.csv');
export const ELB = join(SHARED_DIR, 'traces', 'nab', 'realAWSCloudwatch', 'elb_request_count_8c0756.csv');

/** A Prometheus stand-in: each query names a fixed series (timestamp → value), served on the step grid. */
export class MemorySource implements HistorySource {
  readonly name = 'prometheus';
  readonly series = new Map<string, Map<number, number>>();
  readonly failing = new Set<string>();

  load(query: string, rows: readonly { timestamp: number; demand: number }[]): void {
    this.series.set(query, new Map(rows.map((r) => [r.timestamp, r.demand])));
  }

  async queryRange(q: RangeQuery): Promise<Series> {
    if (this.failing.has(q.query)) throw new SourceError('unreachable', `connect ECONNREFUSED (${q.query})`);
    const data = this.series.get(q.query);
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let t = q.start; t <= q.end; t += q.stepSeconds) {
      const v = data?.get(t);
      if (v === undefined) continue;
      timestamps.push(t);
      values.push(v);
    }
    return { timestamps, values };
  }
}

export const TENANTS: TenantLimits[] = [
  { name: 'team-a', namespaces: ['team-a'], maxReplicas: 40 },
  { name: 'team-b', namespaces: ['team-b'], maxReplicas: 30 },
];

/** Fixed tokens. */
export const TOKENS = {
  admin: 'admin-key-0123456789',
  tenantA: 'tenant-a-key-0123456789',
  viewer: 'viewer-sa-token',
} as const;

const CALLERS: Record<string, Caller> = {
  [TOKENS.admin]: { id: 'ops-admin', via: 'api-key', groups: [] },
  [TOKENS.tenantA]: { id: 'team-a-deployer', via: 'api-key', groups: [], namespaces: ['team-a'] },
  [TOKENS.viewer]: {
    id: 'system:serviceaccount:monitoring:viewer',
    via: 'token-review',
    groups: ['viewers'],
  },
};

/** Admin may do anything, the tenant key anything in its namespaces, the viewer only get and list. */
export class TestAuthenticator implements Authenticator {
  readonly asked: { caller: string; action: Action }[] = [];

  async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    const m = /^Bearer (\S+)$/.exec(authorization ?? '');
    return m ? CALLERS[m[1] as string] : undefined;
  }

  async authorize(caller: Caller, action: Action): Promise<boolean> {
    this.asked.push({ caller: caller.id, action });
    if (caller.id === 'ops-admin') return true;
    if (caller.id === 'team-a-deployer') return action.namespace === 'team-a';
    return action.verb !== 'patch';
  }
}

/** The store contract in memory; `gone` names ScaledObjects that no longer exist (404). */
export class MemoryOverrides implements OverrideStore {
  readonly data = new Map<string, OverrideRecord>();
  readonly gone = new Set<string>();

  private check(namespace: string, name: string): void {
    if (this.gone.has(`${namespace}/${name}`)) {
      throw Object.assign(new Error(`scaledobjects.keda.sh "${name}" not found`), { status: 404 });
    }
  }

  async get(namespace: string, name: string): Promise<OverrideRecord | undefined> {
    this.check(namespace, name);
    return this.data.get(`${namespace}/${name}`);
  }

  async set(
    namespace: string,
    name: string,
    replicas: number,
    options: { expiresAt?: Date; by: string },
  ): Promise<void> {
    this.check(namespace, name);
    this.data.set(`${namespace}/${name}`, {
      replicas,
      by: options.by,
      ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
    });
  }

  async clear(namespace: string, name: string): Promise<void> {
    this.check(namespace, name);
    this.data.delete(`${namespace}/${name}`);
  }
}

export const CHECKOUT: WorkloadRef = { namespace: 'team-a', name: 'checkout' };
export const SEARCH: WorkloadRef = { namespace: 'team-b', name: 'search' };
export const BROKEN: WorkloadRef = { namespace: 'team-b', name: 'reports' };
export const HEADROOM: WorkloadRef = { namespace: 'ops', name: 'headroom-general' };

/** Rows of the NASA trace used (July 1995, one per minute). */
const NASA_ROWS = 4 * 1440;

export interface World {
  readonly registry: WorkloadRegistry;
  readonly metrics: RuntimeMetrics;
  readonly source: MemorySource;
  /** Wall clock (ms) the registry runs at: the trace's newest settled point is one minute before it. */
  readonly now: number;
}

let cached: Promise<World> | undefined;

/**
 * A registry with four workloads: team-a/checkout on NASA HTTP requests per minute, team-b/search on a
 * NAB ELB request count (5 min), team-b/reports whose source is down, and a headroom workload.
 * Built once per test process (the backfill of two traces takes a moment).
 */
export function world(): Promise<World> {
  cached ??= (async () => {
    const nasa = readTrace(NASA).rows.slice(0, NASA_ROWS);
    const elb = readTrace(ELB).rows;
    const source = new MemorySource();
    source.load('sum(rate(http_requests_total{service="checkout"}[1m]))*60', nasa);
    // Shift the ELB trace (2014, rows at :04, :09, ...) to end on the 5-minute grid at the NASA trace's end,
    // so that one clock serves both.
    const last = (nasa[nasa.length - 1] as { timestamp: number }).timestamp;
    const elbEnd = (elb[elb.length - 1] as { timestamp: number }).timestamp;
    const shift = Math.floor(last / 300) * 300 - elbEnd;
    source.load(
      'sum(rate(elb_requests[5m]))*300',
      elb.map((r) => ({ timestamp: r.timestamp + shift, demand: r.demand })),
    );
    source.failing.add('sum(rate(reports_total[1m]))');
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const now = (last + 60) * 1000;
    const registry = new WorkloadRegistry({
      sources: { prometheus: source },
      clock: () => now,
      historySeconds: 2 * 86_400,
      settleSeconds: 0,
      refitEpochSeconds: 86_400,
      staleAfterSeconds: 300,
      metrics,
    });
    await Promise.all([
      registry.register(
        CHECKOUT,
        parseWorkloadSpec(
          CHECKOUT,
          {
            query: 'sum(rate(http_requests_total{service="checkout"}[1m]))*60',
            capacityPerReplica: '20',
            maxReplicas: '40',
            nodePool: 'general',
          },
          TENANTS,
        ),
      ),
      registry.register(
        SEARCH,
        parseWorkloadSpec(
          SEARCH,
          { query: 'sum(rate(elb_requests[5m]))*300', capacityPerReplica: '25', intervalSeconds: '300' },
          TENANTS,
        ),
      ),
      registry.register(
        BROKEN,
        parseWorkloadSpec(
          BROKEN,
          { query: 'sum(rate(reports_total[1m]))', capacityPerReplica: '10' },
          TENANTS,
        ),
      ),
      registry.register(
        HEADROOM,
        parseWorkloadSpec(HEADROOM, { metric: 'headroom', nodePool: 'general' }, TENANTS),
      ),
    ]);
    return { registry, metrics, source, now };
  })();
  return cached;
}

/** Deps for a server over the shared world; `extra` overrides any part. */
export async function deps(
  extra: Partial<Omit<ApiServerDeps, 'config'>> & { config?: Partial<ApiServerDeps['config']> } = {},
): Promise<ApiServerDeps & { authenticator: TestAuthenticator; overrides: MemoryOverrides }> {
  const w = await world();
  const { config, ...rest } = extra;
  return {
    registry: w.registry,
    metrics: new RuntimeMetrics({ defaultMetrics: false }),
    authenticator: new TestAuthenticator(),
    overrides: new MemoryOverrides(),
    clock: () => w.now,
    ...rest,
    config: {
      readAccess: 'authenticated' as ReadAccess,
      rateLimitPerMinute: 1000,
      bodyLimitBytes: 4096,
      tenants: TENANTS,
      ...config,
    },
  } as ApiServerDeps & { authenticator: TestAuthenticator; overrides: MemoryOverrides };
}

/** A webhook secret file in a fresh folder. */
export function secretFile(secret: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'elasticai-webhook-'));
  const path = join(dir, 'secret');
  writeFileSync(path, `${secret}\n`);
  return path;
}

/** Signs like a sender does, with node:crypto directly (independent of the server's code). */
export function sign(secret: string, timestamp: number, stream: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}\n${stream}\n${body}`).digest('hex');
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A pino destination collecting log lines as objects. */
export function logSink(): { stream: Pick<Writable, 'write'>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    stream: {
      write(chunk: string): boolean {
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
        return true;
      },
    } as Pick<Writable, 'write'>,
  };
}

export { EventStore };
