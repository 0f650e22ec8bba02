/**
 * Fixtures of the dashboard tests: a real WorkloadRegistry on a clock the test moves (so a tick makes a
 * new decision, as in production every interval), fed from real traces through the HTTP tests'
 * in-memory source; a usage source from a real CPU trace; the API server listening on loopback; and
 * headless Debian Chromium driven by playwright-core.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { ReadAccess } from '../../../../runtime/service/config.js';
import type { ApiServerDeps, RunningApiServer } from '../../../../runtime/service/http/api-server.js';
import { startApiServer } from '../../../../runtime/service/http/api-server.js';
import { MemoryGuard } from '../../../../runtime/service/memory-guard.js';
import { RuntimeMetrics } from '../../../../runtime/service/metrics.js';
import type { ContainerUsage, UsageSource } from '../../../../runtime/service/recommendations.js';
import { WorkloadRegistry } from '../../../../runtime/service/workload-registry.js';
import type { WorkloadRef } from '../../../../runtime/service/workload-spec.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import { readTrace } from '../../../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../../../support/paths.js';
import { ELB, MemoryOverrides, MemorySource, NASA, TENANTS, TestAuthenticator } from '../http/support.js';

export { MemoryOverrides, TestAuthenticator, TENANTS };
export { TOKENS } from '../http/support.js';

export const CHECKOUT: WorkloadRef = { namespace: 'team-a', name: 'checkout' };
export const SEARCH: WorkloadRef = { namespace: 'team-b', name: 'search' };
export const REPORTS: WorkloadRef = { namespace: 'team-b', name: 'reports' };
export const HEADROOM: WorkloadRef = { namespace: 'ops', name: 'headroom-general' };

export const CHECKOUT_QUERY = 'sum(rate(http_requests_total{service="checkout"}[1m]))*60';
const SEARCH_QUERY = 'sum(rate(elb_requests[5m]))*300';
const REPORTS_QUERY = 'sum(rate(reports_total[1m]))';

/**
 * The registry starts at 1995-07-05 21:00 UTC (+1 min: the newest settled point is 21:00), so its
 * 6-hour chart of the NASA trace holds the real sudden zeros of 17:32, 17:33 and 20:21 (anomalies).
 */
export const START_MS = (Date.UTC(1995, 6, 5, 21, 0) / 1000 + 60) * 1000;

export interface DashboardWorld {
  readonly registry: WorkloadRegistry;
  readonly source: MemorySource;
  /** The registry's clock (ms); `advance` moves it. */
  now(): number;
  /** Moves the clock by `seconds` and runs a tick: each workload decides on the new points. */
  advance(seconds: number): Promise<void>;
  /** Makes the registry's memory guard see memory full (new workloads refused) or empty. */
  setMemoryFull(full: boolean): void;
}

/** A fresh registry (each test file gets its own: tests move its clock). */
export async function dashboardWorld(): Promise<DashboardWorld> {
  let now = START_MS;
  const nasa = readTrace(NASA).rows.filter((r) => r.timestamp < Date.UTC(1995, 6, 9) / 1000);
  const elb = readTrace(ELB).rows;
  const source = new MemorySource();
  source.load(CHECKOUT_QUERY, nasa);
  // The ELB trace (2014, 5 min) moved so that it ends a day after the start, on the 5-minute grid.
  const elbEnd = (elb[elb.length - 1] as { timestamp: number }).timestamp;
  const shift = Math.floor((START_MS / 1000 + 86_400) / 300) * 300 - elbEnd;
  source.load(
    SEARCH_QUERY,
    elb.map((r) => ({ timestamp: r.timestamp + shift, demand: r.demand })),
  );
  source.failing.add(REPORTS_QUERY);
  let resident = 0;
  const registry = new WorkloadRegistry({
    memory: new MemoryGuard({ limitBytes: 1e9, marginBytes: 0, usedBytes: () => resident }),
    sources: { prometheus: source },
    clock: () => now,
    historySeconds: 2 * 86_400,
    settleSeconds: 0,
    refitEpochSeconds: 86_400,
    staleAfterSeconds: 300,
    metrics: new RuntimeMetrics({ defaultMetrics: false }),
  });
  await Promise.all([
    registry.register(
      CHECKOUT,
      parseWorkloadSpec(
        CHECKOUT,
        { query: CHECKOUT_QUERY, capacityPerReplica: '20', maxReplicas: '40', nodePool: 'general' },
        TENANTS,
      ),
    ),
    registry.register(
      SEARCH,
      parseWorkloadSpec(
        SEARCH,
        { query: SEARCH_QUERY, capacityPerReplica: '25', intervalSeconds: '300' },
        TENANTS,
      ),
    ),
    registry.register(
      REPORTS,
      parseWorkloadSpec(REPORTS, { query: REPORTS_QUERY, capacityPerReplica: '10' }, TENANTS),
    ),
    registry.register(
      HEADROOM,
      parseWorkloadSpec(HEADROOM, { metric: 'headroom', nodePool: 'general' }, TENANTS),
    ),
  ]);
  return {
    registry,
    source,
    now: () => now,
    async advance(seconds: number) {
      now += seconds * 1000;
      await registry.tick();
    },
    setMemoryFull(full: boolean) {
      resident = full ? 1e9 : 0;
    },
  };
}

/**
 * Container usage from NAB's EC2 CPU utilisation (percent of a 2-core instance, 5 min) for
 * team-a/checkout's `app` container, with a working set that follows it.
 */
export class TraceUsage implements UsageSource {
  private readonly rows = readTrace(
    join(SHARED_DIR, 'traces', 'nab', 'realAWSCloudwatch', 'ec2_cpu_utilization_5f5533.csv'),
  ).rows;

  async containers(namespace?: string): Promise<ContainerUsage[]> {
    const all: ContainerUsage[] = [
      {
        namespace: 'team-a',
        workload: 'checkout',
        container: 'app',
        cpuCores: this.rows.map((r) => (r.demand / 100) * 2),
        memoryBytes: this.rows.map((r) => (300 + r.demand * 4) * 1024 * 1024),
        stepSeconds: 300,
        currentRequests: { cpuCores: 0.5, memoryBytes: 256 * 1024 * 1024 },
      },
    ];
    return all.filter((u) => namespace === undefined || u.namespace === namespace);
  }
}

export interface DashboardServer {
  readonly server: RunningApiServer;
  readonly url: string;
  readonly overrides: MemoryOverrides;
  readonly authenticator: TestAuthenticator;
}

/** The API server over `world` on a free loopback port, with the stream fed by the registry. */
export async function startDashboardServer(
  world: DashboardWorld,
  extra: Partial<Omit<ApiServerDeps, 'config'>> & { readAccess?: ReadAccess } = {},
): Promise<DashboardServer> {
  const { readAccess, ...rest } = extra;
  const overrides = new MemoryOverrides();
  const authenticator = new TestAuthenticator();
  const server = await startApiServer(
    {
      registry: world.registry,
      decisions: world.registry,
      metrics: new RuntimeMetrics({ defaultMetrics: false }),
      authenticator,
      overrides,
      usage: new TraceUsage(),
      clock: () => world.now(),
      stream: { heartbeatMs: 1000 },
      ...rest,
      config: {
        readAccess: readAccess ?? 'authenticated',
        rateLimitPerMinute: 10_000,
        bodyLimitBytes: 4096,
        tenants: TENANTS,
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
  return { server, url: server.url, overrides, authenticator };
}

/** Headless Debian Chromium, with the flags that keep it off the (absent) network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** GET `path` as JSON with a bearer token. */
export async function getJson<T>(url: string, path: string, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
