import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import { createApiServer } from '../../../../runtime/service/http/api-server.js';
import type {
  ContainerRecommendation,
  ContainerUsage,
  UsageSource,
} from '../../../../runtime/service/recommendations.js';
import {
  formatCpu,
  formatMemory,
  percentile,
  recommend,
  recommendContainer,
} from '../../../../runtime/service/recommendations.js';
import { readTrace } from '../../../../runtime/simulation/trace.js';
import { join } from 'node:path';
import { SHARED_DIR } from '../../../support/paths.js';
import { TOKENS, bearer, deps } from './support.js';

const MI = 1024 * 1024;

/** 1..n, shuffled deterministically (the order must not matter). */
function oneTo(n: number, scale = 1): number[] {
  const values = Array.from({ length: n }, (_, i) => (i + 1) * scale);
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [values[i], values[j]] = [values[j] as number, values[i] as number];
  }
  return values;
}

function usage(over: Partial<ContainerUsage> = {}): ContainerUsage {
  return {
    namespace: 'team-a',
    workload: 'checkout',
    container: 'app',
    cpuCores: oneTo(101, 0.01), // 0.01 … 1.01 cores
    memoryBytes: oneTo(101, 10 * MI), // 10 … 1010 MiB
    stepSeconds: 900, // 101 samples × 15 min ≈ 25 h
    ...over,
  };
}

describe('recommendations arithmetic', () => {
  it('takes percentiles linearly between closest ranks', () => {
    const sorted = Array.from({ length: 101 }, (_, i) => i);
    assert.equal(percentile(sorted, 0.9), 90);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('formats Kubernetes quantities, rounding up', () => {
    assert.equal(formatCpu(0.25), '250m');
    assert.equal(formatCpu(0.2501), '251m');
    assert.equal(formatCpu(2), '2');
    assert.equal(formatCpu(1.5), '1500m');
    assert.equal(formatCpu(0.1 + 0.2), '300m'); // float noise does not round up
    assert.equal(formatMemory(512 * MI), '512Mi');
    assert.equal(formatMemory(512 * MI + 1), '513Mi');
    assert.equal(formatMemory(2048 * MI), '2Gi');
    assert.equal(formatMemory(250 * MI), '250Mi');
  });

  it('targets p90 CPU and p95 memory plus 15%, bounds from p50 / p99, delta against the requests', () => {
    // GIVEN usage 0.01..1.01 cores and 10..1010 MiB over ~25 h, requests 1 core / 256 MiB
    const rec = recommendContainer(usage({ currentRequests: { cpuCores: 1, memoryBytes: 256 * MI } }));
    const cpu = rec.cpu as NonNullable<ContainerRecommendation['cpu']>;
    const memory = rec.memory as NonNullable<ContainerRecommendation['memory']>;
    // THEN CPU: p90 = 0.91 cores → × 1.15 = 1.0465 → 1047m; p50 0.51 → 587m (586.5 rounded up); p99 1.00 → 1150m
    assert.equal(cpu.basis.percentile, 0.9);
    assert.ok(Math.abs(cpu.basis.value - 0.91) < 1e-12);
    assert.equal(cpu.target, '1047m');
    assert.equal(cpu.lowerBound, '587m');
    assert.equal(cpu.upperBound, '1150m');
    assert.equal(cpu.targetValue, 1.047);
    // memory: p95 = 960 MiB → × 1.15 = 1104 MiB; p50 510 → 586.5 → 587Mi; p99 1000 → 1150Mi
    assert.equal(memory.basis.percentile, 0.95);
    assert.equal(memory.basis.value, 960 * MI);
    assert.equal(memory.target, '1104Mi');
    assert.equal(memory.lowerBound, '587Mi');
    assert.equal(memory.upperBound, '1150Mi');
    // evidence
    assert.deepEqual(
      { ...cpu.evidence, p90: Math.round(cpu.evidence.p90 * 100) / 100 },
      { samples: 101, p50: 0.51, p90: 0.91, p95: 0.96, p99: 1, max: 1.01 },
    );
    // requests and limits: memory limit at the upper bound, no CPU limit
    assert.deepEqual(rec.requests, { cpu: '1047m', memory: '1104Mi' });
    assert.deepEqual(rec.limits, { memory: '1150Mi' });
    // deltas against the current requests
    assert.equal(cpu.current?.request, '1');
    assert.ok(Math.abs((cpu.current?.change ?? 0) - 0.047) < 1e-9);
    assert.ok(Math.abs((cpu.current?.ratio ?? 0) - 0.047) < 1e-9);
    assert.equal(memory.current?.request, '256Mi');
    assert.equal(memory.current?.change, (1104 - 256) * MI);
    assert.equal(memory.current?.ratio, (1104 - 256) / 256);
    // 25 h of samples: confident
    assert.equal(rec.coveredSeconds, 101 * 900);
    assert.equal(rec.confidence, 'high');
  });

  it("floors tiny usage at 25m / 250Mi per pod, split over the pod's containers as VPA does", () => {
    const idle = { cpuCores: [0.001, 0.002], memoryBytes: [5 * MI, 6 * MI], stepSeconds: 3600 };
    const [app, sidecar] = recommend([
      usage({ container: 'app', ...idle }),
      usage({ container: 'sidecar', ...idle }),
    ]) as [ContainerRecommendation, ContainerRecommendation];
    assert.equal(app.cpu?.target, '13m'); // 12.5m rounded up
    assert.equal(app.memory?.target, '125Mi');
    assert.equal(app.cpu?.floored, true);
    assert.equal(sidecar.memory?.lowerBound, '125Mi');
    const alone = recommendContainer(usage({ ...idle }));
    assert.equal(alone.cpu?.target, '25m');
    assert.equal(alone.memory?.target, '250Mi');
  });

  it('has low confidence below 24 h of samples and ignores missing samples', () => {
    const short = recommendContainer(
      usage({ cpuCores: [0.5, Number.NaN, 0.5], memoryBytes: [MI, MI, Number.NaN], stepSeconds: 3600 }),
    );
    assert.equal(short.confidence, 'low');
    assert.match(short.confidenceReason, /only 2 h of samples \(fewer than 24 h\)/);
    assert.equal(short.cpu?.evidence.samples, 2);
    const noMemory = recommendContainer(usage({ memoryBytes: [] }));
    assert.equal(noMemory.confidence, 'low');
    assert.equal(noMemory.memory, undefined);
    assert.deepEqual(noMemory.limits, {});
    assert.equal(noMemory.confidenceReason, 'no memory samples');
  });

  it('sizes a real CPU trace: two weeks of EC2 CPU utilisation on a 2-core node', () => {
    // GIVEN NAB's EC2 CPU utilisation (percent of the instance, 5 min) as cores of a 2-core container
    const rows = readTrace(
      join(SHARED_DIR, 'traces', 'nab', 'realAWSCloudwatch', 'ec2_cpu_utilization_5f5533.csv'),
    ).rows;
    const cores = rows.map((r) => (r.demand / 100) * 2);
    const memory = rows.map((r) => 300 * MI + r.demand * 4 * MI);
    const rec = recommendContainer(usage({ cpuCores: cores, memoryBytes: memory, stepSeconds: 300 }));
    // THEN the target is the hand-computed p90 × 1.15, rounded up to a millicore
    const sorted = [...cores].sort((a, b) => a - b);
    const h = (sorted.length - 1) * 0.9;
    const p90 =
      (sorted[Math.floor(h)] as number) +
      (h - Math.floor(h)) * ((sorted[Math.floor(h) + 1] as number) - (sorted[Math.floor(h)] as number));
    assert.equal(rec.cpu?.targetValue, Math.ceil(p90 * 1.15 * 1000 - 1e-6) / 1000);
    assert.equal(rec.cpu?.evidence.samples, rows.length);
    assert.ok((rec.cpu?.lowerBoundValue as number) <= (rec.cpu?.targetValue as number));
    assert.ok((rec.cpu?.targetValue as number) <= (rec.cpu?.upperBoundValue as number));
    assert.equal(rec.confidence, 'high'); // 14 days
    // AND only its first 12 hours give a low-confidence recommendation
    const early = recommendContainer(
      usage({ cpuCores: cores.slice(0, 144), memoryBytes: memory.slice(0, 144), stepSeconds: 300 }),
    );
    assert.equal(early.confidence, 'low');
  });
});

class FixedUsage implements UsageSource {
  readonly asked: (string | undefined)[] = [];
  constructor(private readonly data: ContainerUsage[]) {}
  async containers(namespace?: string): Promise<ContainerUsage[]> {
    this.asked.push(namespace);
    return this.data.filter((u) => namespace === undefined || u.namespace === namespace);
  }
}

describe('GET /api/v1/recommendations', () => {
  const data = [usage(), usage({ namespace: 'team-b', workload: 'search', container: 'api' })];

  it('lists recommendations for the namespaces the caller may list', async () => {
    const source = new FixedUsage(data);
    const app = createApiServer(await deps({ usage: source }));
    const all = await app.inject({
      method: 'GET',
      url: '/api/v1/recommendations',
      headers: bearer(TOKENS.viewer),
    });
    assert.equal(all.statusCode, 200);
    const body = all.json<{ recommendations: ContainerRecommendation[]; method: { safetyMargin: number } }>();
    assert.deepEqual(
      body.recommendations.map((r) => `${r.namespace}/${r.workload}/${r.container}`),
      ['team-a/checkout/app', 'team-b/search/api'],
    );
    assert.equal(body.recommendations[0]?.requests.cpu, '1047m');
    assert.equal(body.method.safetyMargin, 0.15);
    const tenant = await app.inject({
      method: 'GET',
      url: '/api/v1/recommendations',
      headers: bearer(TOKENS.tenantA),
    });
    assert.deepEqual(
      tenant.json<{ recommendations: ContainerRecommendation[] }>().recommendations.map((r) => r.namespace),
      ['team-a'],
    );
    const forbidden = await app.inject({
      method: 'GET',
      url: '/api/v1/recommendations?namespace=team-b',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(forbidden.statusCode, 403);
    const one = await app.inject({
      method: 'GET',
      url: '/api/v1/recommendations?namespace=team-b',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(one.json<{ recommendations: unknown[] }>().recommendations.length, 1);
    assert.equal(source.asked.at(-1), 'team-b');
  });

  it('is 404 without a usage source and 502 when the source fails', async () => {
    const none = createApiServer(await deps());
    const res = await none.inject({
      method: 'GET',
      url: '/api/v1/recommendations',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'recommendations-disabled');
    const failing: UsageSource = {
      containers: async () => {
        throw new Error('secret internal detail');
      },
    };
    const app = createApiServer(await deps({ usage: failing }));
    const bad = await app.inject({
      method: 'GET',
      url: '/api/v1/recommendations',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(bad.statusCode, 502);
    assert.deepEqual(bad.json(), {
      error: { code: 'usage-source-error', message: 'usage history unavailable (the usage source failed)' },
    });
    // A Prometheus failure names its kind, never the message with Prometheus' address
    const unreachable: UsageSource = {
      containers: async () => {
        throw new SourceError('unreachable', 'connect ECONNREFUSED 10.0.0.9:9090');
      },
    };
    const down = await createApiServer(await deps({ usage: unreachable })).inject({
      method: 'GET',
      url: '/api/v1/recommendations',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(down.statusCode, 502);
    assert.deepEqual(down.json(), {
      error: { code: 'usage-source-error', message: 'usage history unavailable (Prometheus: unreachable)' },
    });
  });
});
