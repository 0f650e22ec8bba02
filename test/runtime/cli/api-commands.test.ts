// The API commands (status, explain, override, recommend) run as child processes against a real
// runtime HTTP API listening on 127.0.0.1: a real WorkloadRegistry fed from the NASA and NAB traces,
// a usage source built from NAB CloudWatch traces.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { createApiServer } from '../../../runtime/service/http/api-server.js';
import type { WorkloadDetail, WorkloadSummary } from '../../../runtime/service/http/workload-view.js';
import type {
  ContainerRecommendation,
  ContainerUsage,
  UsageSource,
} from '../../../runtime/service/recommendations.js';
import { readTrace } from '../../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../../support/paths.js';
import type { KubeObject } from '../../support/validate.js';
import { validateAll } from '../../support/validate.js';
import type { MemoryOverrides, World } from '../service/http/support.js';
import { TOKENS, deps, world } from '../service/http/support.js';
import type { CliResult } from './support.js';
import { PACKAGE_MAIN, RUNTIME_MAIN, cleanEnv, runAsync } from './support.js';

const MI = 1024 * 1024;
const STACK_LINE = /at .*\.js:\d+/;
const nab = (name: string): number[] =>
  readTrace(join(SHARED_DIR, 'traces', 'nab', 'realAWSCloudwatch', `${name}.csv`)).rows.map((r) => r.demand);

/** Container usage shaped by real CloudWatch traces (5-minute samples). */
class TraceUsage implements UsageSource {
  readonly all: ContainerUsage[] = [
    {
      namespace: 'team-a',
      workload: 'checkout',
      container: 'app',
      cpuCores: nab('ec2_cpu_utilization_5f5533').map((v) => (v / 100) * 2), // 0.7–1.4 cores, 14 days
      memoryBytes: nab('rds_cpu_utilization_cc0c53').map((v) => v * 40 * MI), // 200 MiB–1 GiB
      stepSeconds: 300,
      currentRequests: { cpuCores: 0.5, memoryBytes: 512 * MI },
    },
    {
      namespace: 'team-b',
      workload: 'search',
      container: 'app',
      cpuCores: nab('ec2_cpu_utilization_24ae8d').slice(0, 50),
      memoryBytes: nab('rds_cpu_utilization_e47b3b')
        .slice(0, 50)
        .map((v) => v * 10 * MI),
      stepSeconds: 300, // 50 samples: about 4 h, low confidence
    },
  ];

  async containers(namespace?: string): Promise<ContainerUsage[]> {
    return this.all.filter((u) => namespace === undefined || u.namespace === namespace);
  }
}

interface Server {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly overrides: MemoryOverrides;
}

async function serve(withUsage: boolean): Promise<Server> {
  const d = await deps(withUsage ? { usage: new TraceUsage() } : {});
  const app = createApiServer(d);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { app, url: `http://127.0.0.1:${address.port}`, overrides: d.overrides };
}

let w: World;
let server: Server;
let bare: Server; // no usage source
let home = '';
let dir = '';

before(async () => {
  w = await world();
  server = await serve(true);
  bare = await serve(false);
  home = mkdtempSync(join(tmpdir(), 'elasticai-home-'));
  dir = mkdtempSync(join(tmpdir(), 'elasticai-api-cli-'));
});
after(async () => {
  await server.app.close();
  await bare.app.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** The runtime image's CLI with flags for the URL and token (null: no token). */
const cli = (
  args: readonly string[],
  token: string | null = TOKENS.admin,
  url = server.url,
): Promise<CliResult> =>
  runAsync(
    RUNTIME_MAIN,
    [...args, '--url', url, ...(token === null ? [] : ['--token', token])],
    cleanEnv(home),
  );

/** GET from the API directly, as the reference the CLI's --json must equal. */
async function api<T>(path: string, token: string = TOKENS.admin, base = server.url): Promise<T> {
  const res = await fetch(`${base}/${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** A failure the user can act on: exit 1, nothing on stdout, a message, no stack trace. */
function assertFailure(r: CliResult, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

function assertUsage(r: CliResult, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
}

/** The table row of `workload` split on runs of two or more spaces. */
function row(text: string, first: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`${first} `));
  assert.ok(line, `no row for ${first} in:\n${text}`);
  return line.trim().split(/ {2,}/);
}

describe('elasticai status', () => {
  it('lists every workload with the values the runtime serves, and why degraded ones are degraded', async () => {
    // GIVEN an override on checkout
    await server.overrides.set('team-a', 'checkout', 7, { by: 'ops-admin' });
    try {
      // WHEN running status
      const r = await cli(['status']);
      // THEN one row per workload, with the registry's own decision
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Runtime {2}${server.url}/: 4 workloads \\(`));
      const checkout = w.registry.status({ namespace: 'team-a', name: 'checkout' });
      const d = checkout?.decision;
      assert.ok(d);
      const cells = row(r.stdout, 'team-a/checkout');
      assert.equal(cells[1], 'fresh');
      assert.equal(cells[4], String(d.desiredReplicas));
      assert.equal(cells[5], d.rule);
      assert.equal(cells[7], '7');
      // AND the headroom workload shows pods, the failed one shows no replicas
      assert.match(row(r.stdout, 'ops/headroom-general')[4] as string, /^\d+ pods?$/);
      const reports = row(r.stdout, 'team-b/reports');
      assert.equal(reports[1], 'failed');
      assert.equal(reports[4], '—');
      // AND the degraded section names the source's error
      assert.match(r.stdout, /Degraded\n {2}team-b\/reports: failed, unreachable: connect ECONNREFUSED/);
      // AND no colour codes without a terminal
      assert.ok(!r.stdout.includes('\u001b['));
    } finally {
      await server.overrides.clear('team-a', 'checkout');
    }
  });

  it('prints the API answer with --json, and filters by --namespace', async () => {
    const r = await cli(['status', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), await api('api/v1/workloads'));
    const a = await cli(['status', '--namespace', 'team-a', '--json']);
    const names = (JSON.parse(a.stdout) as { workloads: WorkloadSummary[] }).workloads.map((x) => x.name);
    assert.deepEqual(names, ['checkout']);
  });

  it('takes the URL and token from ELASTICAI_URL and ELASTICAI_TOKEN', async () => {
    const r = await runAsync(
      RUNTIME_MAIN,
      ['status', '--json'],
      cleanEnv(home, { ELASTICAI_URL: server.url, ELASTICAI_TOKEN: TOKENS.viewer }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { workloads: unknown[] }).workloads.length, 4);
  });

  it('says what to do on 401: without a token, and with a token the runtime refuses', async () => {
    assertFailure(
      await cli(['status'], null),
      /needs credentials \(401.*\): pass --token or set ELASTICAI_TOKEN/,
    );
    assertFailure(
      await cli(['status'], 'stolen-token'),
      /refused the --token \(401: Authorization: the credentials are not valid\): pass --token or set ELASTICAI_TOKEN/,
    );
  });

  it('says how to reach the runtime when nothing listens, and that a URL is needed when none is given', async () => {
    // GIVEN a port nothing listens on (a server started and closed)
    const gone = await serve(false);
    await gone.app.close();
    assertFailure(
      await cli(['status'], TOKENS.admin, gone.url),
      /cannot reach the runtime at .*ECONNREFUSED.*port-forward/,
    );
    // AND no URL anywhere
    assertUsage(
      await runAsync(RUNTIME_MAIN, ['status'], cleanEnv(home)),
      /no runtime URL: pass --url .*ELASTICAI_URL/,
    );
    assertUsage(
      await cli(['status'], TOKENS.admin, 'ftp://x'),
      /--url must be an http\(s\) URL .*got "ftp:\/\/x"/,
    );
  });
});

describe('elasticai explain', () => {
  it("explains the runtime's current decision: inputs, forecast, the rules and the one that bound it", async () => {
    const r = await cli(['explain', 'team-a/checkout']);
    assert.equal(r.status, 0, r.stderr);
    const d = w.registry.status({ namespace: 'team-a', name: 'checkout' })?.decision;
    assert.ok(d);
    assert.match(r.stdout, /^team-a\/checkout {2}fresh {2}\(tenant team-a, prometheus sum\(rate/);
    assert.ok(r.stdout.includes(d.summary), 'the decision summary');
    assert.match(r.stdout, new RegExp(`Forecast {3}model ${d.forecast.model}:`));
    assert.match(r.stdout, new RegExp(`Why ${d.desiredReplicas} replicas`));
    // every competing rule with the replicas it asked for; the bound one marked
    const rules: [string, number][] = [
      ['current-demand', d.replicasFor.currentDemand],
      ['forecast', d.replicasFor.forecast],
      ['surge', d.replicasFor.surge],
      ['scale-down-stabilization', d.replicasFor.stabilized],
    ];
    for (const [rule, replicas] of rules) {
      const cells = row(r.stdout, rule);
      assert.equal(cells[1], String(replicas), rule);
      assert.equal(cells[2] === '← bound the result', rule === d.rule, `${rule} marked`);
    }
    // the models table, the chosen model among them, and the decision log
    assert.match(r.stdout, /\nModels \(back-tested loss/);
    assert.ok(row(r.stdout, d.forecast.model).length === 3);
    assert.match(r.stdout, /\nRecent decisions \(\d+ of \d+, oldest first\)/);
  });

  it('shows an override with its expiry to the second and who set it', async () => {
    await server.overrides.set('team-a', 'checkout', 7, {
      by: 'ops-admin',
      expiresAt: new Date(w.now + 3600_500),
    });
    try {
      const r = await cli(['explain', 'team-a/checkout']);
      const until = new Date(w.now + 3600_000).toISOString().replace('.000Z', 'Z');
      assert.match(
        r.stdout,
        new RegExp(`\nOverride {3}held at 7 replicas until ${until} \\(by ops-admin\\)\n`),
      );
    } finally {
      await server.overrides.clear('team-a', 'checkout');
    }
  });

  it('prints the API answer with --json', async () => {
    const r = await cli(['explain', 'team-b/search', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), await api<WorkloadDetail>('api/v1/workloads/team-b/search'));
  });

  it('explains a failed workload by its error, and refuses unknown and malformed names', async () => {
    const failed = await cli(['explain', 'team-b/reports']);
    assert.equal(failed.status, 0, failed.stderr);
    assert.match(failed.stdout, /Last error unreachable: connect ECONNREFUSED/);
    assert.match(failed.stdout, /No decision yet/);
    assertFailure(
      await cli(['explain', 'team-a/nope']),
      /no workload team-a\/nope is known to the runtime \(404\); run `elasticai status`/,
    );
    assertUsage(
      await cli(['explain', 'checkout']),
      /NS\/NAME must be a namespace and a ScaledObject name.*got "checkout"/,
    );
    assertUsage(await cli(['explain']), /NS\/NAME is required/);
  });
});

describe('elasticai override', () => {
  it('sets an override for a duration, shows it and clears it, through KEDA-annotation store of the runtime', async () => {
    // WHEN setting 7 replicas for 2 hours
    const set = await cli(['override', 'set', 'team-a/checkout', '--replicas', '7', '--for', '2h']);
    assert.equal(set.status, 0, set.stderr);
    // THEN the runtime's store holds it, expiring 2 h after the runtime's clock, set by the caller
    const expiresAt = new Date(w.now + 7200_000).toISOString();
    assert.deepEqual(server.overrides.data.get('team-a/checkout'), {
      replicas: 7,
      by: 'ops-admin',
      expiresAt,
    });
    assert.match(
      set.stdout,
      /override set team-a\/checkout: held at 7 replicas until \S+ \(set by ops-admin\)/,
    );
    // AND show prints it, as JSON too
    const show = await cli(['override', 'show', 'team-a/checkout']);
    assert.match(show.stdout, /^team-a\/checkout: held at 7 replicas until /);
    const json = JSON.parse((await cli(['override', 'show', 'team-a/checkout', '--json'])).stdout) as {
      override: { replicas: number; expiresAt: string };
    };
    assert.equal(json.override.replicas, 7);
    assert.equal(json.override.expiresAt, expiresAt);
    // AND a second set replaces it and says so
    const again = await cli(['override', 'set', 'team-a/checkout', '--replicas', '9']);
    assert.match(again.stdout, /held at 9 replicas until cleared .*\(replaces 7 replicas\)/);
    // WHEN clearing THEN the store is empty and show says there is none
    const clear = await cli(['override', 'clear', 'team-a/checkout']);
    assert.equal(clear.status, 0, clear.stderr);
    assert.equal(server.overrides.data.size, 0);
    assert.match(
      (await cli(['override', 'show', 'team-a/checkout'])).stdout,
      /no override; the runtime decides/,
    );
  });

  it("refuses without patch rights (403) and above the tenant's cap (422), changing nothing", async () => {
    assertFailure(
      await cli(['override', 'set', 'team-a/checkout', '--replicas', '3'], TOKENS.viewer),
      /not allowed \(403\): .* may not patch scaledobject checkout in namespace team-a; overrides need a token allowed to patch/,
    );
    assertFailure(
      await cli(['override', 'set', 'team-a/checkout', '--replicas', '41']),
      /replicas: 41 exceeds tenant team-a's cap of 40 replicas \(422\)/,
    );
    assert.equal(server.overrides.data.size, 0);
  });

  it('checks its arguments before calling the runtime', async () => {
    assertUsage(await cli(['override', 'set', 'team-a/checkout']), /--replicas is required/);
    assertUsage(
      await cli(['override', 'set', 'team-a/checkout', '--replicas', '2', '--for', '8d']),
      /--for must be a duration such as 90s, 30m, 2h, 1h30m or 1d, at most 7d \(got "8d"\)/,
    );
    // a unit twice or out of order is a typo, not 4 h or 90 min
    for (const typo of ['2h2h', '30m1h']) {
      assertUsage(
        await cli(['override', 'set', 'team-a/checkout', '--replicas', '2', '--for', typo]),
        new RegExp(`--for must be a duration such as .* \\(got "${typo}"\\)`),
      );
    }
    assertUsage(
      await cli(['override', 'set', 'team-a/checkout', '--replicas', '-1']),
      /--replicas must be an integer in \[0, 2147483647\] \(got "-1"\)/,
    );
    assertUsage(
      await cli(['override', 'pause', 'team-a/checkout']),
      /unknown action "pause": use set, clear or show/,
    );
    assertUsage(
      await cli(['override', 'clear', 'team-a/checkout', '--replicas', '2']),
      /unknown flag --replicas/,
    );
    assert.equal(server.overrides.data.size, 0);
  });
});

describe('elasticai recommend', () => {
  it("shows each container's requests with the evidence, and the API answer with --json", async () => {
    const answer = await api<{ recommendations: ContainerRecommendation[] }>('api/v1/recommendations');
    const checkout = answer.recommendations.find((x) => x.workload === 'checkout');
    assert.ok(checkout?.cpu && checkout.memory);
    const r = await cli(['recommend']);
    assert.equal(r.status, 0, r.stderr);
    // THEN the cpu row: current request, target, change, bounds, the percentile it came from and confidence
    const cpu = row(r.stdout, 'team-a/checkout/app');
    assert.deepEqual(cpu.slice(0, 6), [
      'team-a/checkout/app',
      'cpu',
      '500m',
      checkout.cpu.target,
      `+${Math.round((checkout.cpu.current?.ratio ?? 0) * 100)}%`,
      `${checkout.cpu.lowerBound}..${checkout.cpu.upperBound}`,
    ]);
    assert.equal(cpu[6], 'none'); // no CPU limit
    assert.match(
      cpu[7] as string,
      new RegExp(
        `^p90 \\d+m of ${checkout.cpu.evidence.samples} samples \\(p50 \\d+m, p99 \\d+m, max \\d+m\\)$`,
      ),
    );
    assert.equal(cpu[8], 'high');
    // AND the memory row has the limit
    const memoryLine =
      r.stdout.split('\n')[r.stdout.split('\n').findIndex((l) => l.startsWith('team-a/checkout/app')) + 1];
    assert.match(
      memoryLine ?? '',
      new RegExp(`memory +512Mi +${checkout.memory.target} .* ${checkout.limits.memory} +p95 `),
    );
    // AND low confidence is explained
    assert.match(r.stdout, /low confidence: team-b\/search\/app: only 4\.2 h of samples \(fewer than 24 h\)/);
    assert.match(r.stdout, /Method: requests at p90 CPU and p95 memory usage \+ 15%/);
    const json = await cli(['recommend', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), answer);
  });

  it('writes VerticalPodAutoscalers in recommendation mode that pass the VPA CRD schema', async () => {
    const out = join(dir, 'vpa');
    const r = await cli(['recommend', '--write-vpa', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /manifests \(updateMode Off\) written to .*vpa: 2 files and README\.md/);
    const answer = await api<{ recommendations: ContainerRecommendation[] }>('api/v1/recommendations');
    const objects: KubeObject[] = [];
    for (const rec of answer.recommendations) {
      const obj = parse(
        readFileSync(join(out, rec.namespace, `${rec.workload}-vpa.yaml`), 'utf8'),
      ) as KubeObject & {
        spec: { targetRef: unknown; updatePolicy: unknown };
        metadata: { annotations: Record<string, string> };
      };
      objects.push(obj);
      assert.equal(obj.metadata?.name, `${rec.workload}-vpa`);
      assert.equal(obj.metadata?.namespace, rec.namespace);
      assert.deepEqual(obj.spec.targetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: rec.workload });
      assert.deepEqual(obj.spec.updatePolicy, { updateMode: 'Off' });
      // the recommendation and its evidence travel in the annotations
      const detail = JSON.parse(obj.metadata.annotations['elasticai.io/recommendation'] as string) as {
        containers: Record<
          string,
          { requests: unknown; limits: unknown; evidence: { cpuCores: { samples: number } } }
        >;
      };
      assert.deepEqual(detail.containers[rec.container]?.requests, rec.requests);
      assert.deepEqual(detail.containers[rec.container]?.limits, rec.limits);
      assert.equal(detail.containers[rec.container]?.evidence.cpuCores.samples, rec.cpu?.evidence.samples);
      assert.equal(
        obj.metadata.annotations['elasticai.io/recommended-resources'],
        `app: requests cpu=${rec.requests.cpu} memory=${rec.requests.memory}, limits memory=${rec.limits.memory}`,
      );
    }
    assert.deepEqual(await validateAll(objects), []);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(readme, /\| team-a\/checkout \| app \| \S+ \| \S+ \| \S+ \| high \(/);
  });

  it('checks --write-vpa before calling the runtime, and writes nothing when a target is in the way', async () => {
    // GIVEN --write-vpa naming a file, and a URL where nothing listens
    const plain = join(dir, 'vpa-is-a-file');
    writeFileSync(plain, 'not a folder');
    // WHEN recommending THEN a usage error names the flag (the runtime is never asked)
    assertUsage(
      await cli(['recommend', '--write-vpa', plain], TOKENS.admin, 'http://127.0.0.1:9'),
      /--write-vpa cannot be written \(got ".*vpa-is-a-file": it is not a directory\)/,
    );
    assertUsage(
      await cli(['recommend', '--write-vpa', join(plain, 'sub')], TOKENS.admin, 'http://127.0.0.1:9'),
      /--write-vpa cannot be written \(got ".*vpa-is-a-file\/sub": .*vpa-is-a-file is not a directory\)/,
    );
    // GIVEN a folder where a file stands in the place of namespace team-b's folder
    const out = join(dir, 'vpa-blocked');
    mkdirSync(out);
    writeFileSync(join(out, 'team-b'), 'in the way');
    // WHEN recommending THEN a usage error names the flag and the file in the way
    assertUsage(
      await cli(['recommend', '--write-vpa', out]),
      /--write-vpa cannot be written \(got ".*vpa-blocked": .*vpa-blocked\/team-b is not a directory\)/,
    );
    // AND nothing was written: not team-a's VPA, not the README
    assert.deepEqual(readdirSync(out), ['team-b']);
  });

  it('suggests an on-demand base at the forecast floor and spot above it, with the cost difference', async () => {
    // GIVEN prices for the pool checkout runs in (nodePool general) and for a pool no workload uses
    const prices = join(dir, 'prices.json');
    writeFileSync(
      prices,
      JSON.stringify({
        currency: 'USD',
        pools: {
          general: {
            node: { cpu: '1', memory: '16Gi' },
            onDemandHourly: 0.2,
            spotHourly: 0.07,
            current: { onDemandBase: 1, onDemandPercentAboveBase: 20 },
          },
          spot: { node: { cpu: 8, memory: '32Gi' }, onDemandHourly: 0.4, spotHourly: 0.12 },
        },
      }),
    );
    // WHEN asking for the node mix
    const r = await cli(['recommend', '--node-mix', '--prices', prices, '--json']);
    assert.equal(r.status, 0, r.stderr);
    type Mix = {
      pool: string;
      onDemandBase: number;
      need: { floor: number; peak: number };
      cost: { allOnDemand: { hourly: number }; suggested: { hourly: number }; current: { hourly: number } };
      difference: { against: string; monthly: number };
    };
    const out = JSON.parse(r.stdout) as {
      nodeMix: { pools: Mix[]; skipped: { pool: string; reason: string }[] };
    };
    // THEN recomputed from the API's own history: checkout's pods ask 500m / 512Mi (its current
    // requests), so on 1-core nodes CPU decides: nodes = ceil(replicas × 0.5)
    const detail = await api<WorkloadDetail>('api/v1/workloads/team-a/checkout');
    const replicas = detail.history?.replicas ?? [];
    const nodes: number[] = [];
    let last: number | undefined;
    for (const v of replicas) {
      if (typeof v === 'number' && Number.isFinite(v)) last = v;
      if (last !== undefined) nodes.push(Math.ceil(last * 0.5));
    }
    const sorted = [...nodes].sort((a, b) => a - b);
    const floor = sorted[Math.floor(0.05 * (sorted.length - 1))] as number;
    const mean = (f: (n: number) => number): number => nodes.reduce((s, n) => s + f(n), 0) / nodes.length;
    const general = out.nodeMix.pools.find((p) => p.pool === 'general');
    assert.ok(general);
    assert.ok(sorted[sorted.length - 1]! > floor, 'the window has a peak above its floor');
    assert.equal(general.need.floor, floor);
    assert.equal(general.onDemandBase, floor);
    assert.equal(general.need.peak, sorted[sorted.length - 1]);
    const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    close(
      general.cost.allOnDemand.hourly,
      mean((n) => n * 0.2),
    );
    close(
      general.cost.suggested.hourly,
      mean((n) => Math.min(n, floor) * 0.2 + Math.max(0, n - floor) * 0.07),
    );
    close(
      general.cost.current.hourly,
      mean((n) => Math.min(n, 1) * 0.2 + Math.max(0, n - 1) * (0.2 * 0.2 + 0.8 * 0.07)),
    );
    assert.equal(general.difference.against, 'current');
    close(general.difference.monthly, (general.cost.suggested.hourly - general.cost.current.hourly) * 730);
    // AND the pool without workloads is skipped with the reason
    assert.deepEqual(out.nodeMix.skipped, [
      { pool: 'spot', reason: 'no workload of the runtime names this nodePool in its trigger metadata' },
    ]);
    // AND the human view has the table row of the pool
    const human = await cli(['recommend', '--node-mix', '--prices', prices]);
    const cells = row(human.stdout, 'general');
    assert.equal(cells[2], `${floor} (p5)`);
    assert.equal(cells[3], `${floor} on-demand + spot`);
    assert.match(human.stdout, /spot: skipped: no workload of the runtime names this nodePool/);
  });

  it('explains a runtime without a usage source, and needs pod sizes for the node mix then', async () => {
    assertFailure(
      await cli(['recommend'], TOKENS.admin, bare.url),
      /recommendations need a usage source .*\(404\); the runtime needs ELASTICAI_PROMETHEUS_URL/,
    );
    const prices = join(dir, 'prices-pods.json');
    const pool = { node: { cpu: '4', memory: '16Gi' }, onDemandHourly: 0.2, spotHourly: 0.07 };
    writeFileSync(prices, JSON.stringify({ pools: { general: pool } }));
    const unsized = await cli(['recommend', '--node-mix', '--prices', prices], TOKENS.admin, bare.url);
    assert.equal(unsized.status, 0, unsized.stderr);
    assert.match(unsized.stdout, /Right-sizing: unavailable: recommendations need a usage source/);
    assert.match(unsized.stdout, /general: skipped: no pod size for team-a\/checkout: .*add "pods"/);
    writeFileSync(
      prices,
      JSON.stringify({ pools: { general: pool }, pods: { 'team-a/checkout': { cpu: 1, memory: '1Gi' } } }),
    );
    const sized = await cli(
      ['recommend', '--node-mix', '--prices', prices, '--json'],
      TOKENS.admin,
      bare.url,
    );
    const out = JSON.parse(sized.stdout) as { recommendations: null; nodeMix: { pools: { pool: string }[] } };
    assert.equal(out.recommendations, null);
    assert.deepEqual(
      out.nodeMix.pools.map((p) => p.pool),
      ['general'],
    );
  });

  it('refuses a bad prices file naming the field, and --node-mix without prices', async () => {
    const prices = join(dir, 'bad-prices.json');
    writeFileSync(
      prices,
      JSON.stringify({
        pools: { general: { node: { cpu: '4', memory: '16Gi' }, onDemandHourly: 0.2, spotHourly: 'cheap' } },
      }),
    );
    assertUsage(
      await cli(['recommend', '--node-mix', '--prices', prices]),
      /--prices .*bad-prices\.json: pools\.general\.spotHourly: must be a price per hour, a number >= 0 \(got "cheap"\)/,
    );
    writeFileSync(
      prices,
      JSON.stringify({ pools: { general: { node: { cpu: '4', memory: '16Gi' }, onDemand: 1 } } }),
    );
    assertUsage(
      await cli(['recommend', '--node-mix', '--prices', prices]),
      /pools\.general\.onDemand: unknown field/,
    );
    assertUsage(await cli(['recommend', '--node-mix']), /--node-mix needs --prices PRICES\.json/);
  });
});

describe('kubeconfig (the package CLI reads YAML, the runtime image JSON only)', () => {
  const kubeconfig = (user: Record<string, unknown>, url = server.url): string => `apiVersion: v1
kind: Config
current-context: prod
contexts:
  - name: prod
    context:
      cluster: prod
      user: alice
      extensions:
        - name: elasticai.io/runtime
          extension:
            url: ${url}
  - name: other
    context:
      cluster: other
      user: nobody
users:
  - name: alice
    user: ${JSON.stringify(user)}
`;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const pkg = (args: string[], env: Record<string, string>): Promise<CliResult> =>
    runAsync(PACKAGE_MAIN, args, cleanEnv(home, env));

  it("uses the current context's runtime URL and user token, from $KUBECONFIG", async () => {
    const path = file('token.yaml', kubeconfig({ token: TOKENS.viewer }));
    const r = await pkg(['status', '--json'], { KUBECONFIG: path });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { workloads: unknown[] }).workloads.length, 4);
    // the viewer token reads but may not override: the refusal names the kubeconfig user
    assertFailure(
      await pkg(['override', 'clear', 'team-a/checkout'], { KUBECONFIG: path }),
      /not allowed \(403\): system:serviceaccount:monitoring:viewer may not patch/,
    );
  });

  it('runs an exec credential plugin for the token, and reads tokenFile relative to the kubeconfig', async () => {
    // GIVEN a plugin printing an ExecCredential (as aws eks get-token does) and recording its input
    const plugin = file(
      'plugin.mjs',
      `#!${process.execPath}\nimport { writeFileSync } from 'node:fs';\n` +
        `writeFileSync(process.env.RECORD, JSON.stringify({ info: JSON.parse(process.env.KUBERNETES_EXEC_INFO), args: process.argv.slice(2), cluster: process.env.CLUSTER }));\n` +
        `console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: '${TOKENS.admin}' } }));\n`,
    );
    chmodSync(plugin, 0o755);
    const record = join(dir, 'plugin-record.json');
    const path = file(
      'exec.yaml',
      kubeconfig({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: './plugin.mjs',
          args: ['eks', 'get-token', '--cluster-name', 'prod'],
          env: [{ name: 'CLUSTER', value: 'prod-use1' }],
        },
      }),
    );
    // WHEN setting an override (needs the admin token the plugin hands out)
    const r = await pkg(['override', 'set', 'team-a/checkout', '--replicas', '2', '--kubeconfig', path], {
      RECORD: record,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.overrides.data.get('team-a/checkout')?.by, 'ops-admin');
    await server.overrides.clear('team-a', 'checkout');
    // THEN the plugin ran as kubectl runs it
    const seen = JSON.parse(readFileSync(record, 'utf8')) as {
      info: unknown;
      args: string[];
      cluster: string;
    };
    assert.deepEqual(seen.info, {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    assert.deepEqual(seen.args, ['eks', 'get-token', '--cluster-name', 'prod']);
    assert.equal(seen.cluster, 'prod-use1');
    // AND a tokenFile is read relative to the kubeconfig's folder
    file('alice.token', `${TOKENS.viewer}\n`);
    const tf = file('token-file.yaml', kubeconfig({ tokenFile: 'alice.token' }));
    assert.equal((await pkg(['status', '--json'], { KUBECONFIG: tf })).status, 0);
  });

  it('explains credentials the runtime cannot take, unknown contexts and flags winning over the kubeconfig', async () => {
    const cert = file(
      'cert.yaml',
      kubeconfig({ 'client-certificate-data': 'LS0t', 'client-key-data': 'LS0t' }),
    );
    assertFailure(
      await pkg(['status'], { KUBECONFIG: cert }),
      /needs credentials \(401.*\): pass --token or set ELASTICAI_TOKEN.*; kubeconfig user "alice" authenticates with a client certificate/,
    );
    // --token wins over the kubeconfig user
    assert.equal((await pkg(['status', '--token', TOKENS.admin], { KUBECONFIG: cert })).status, 0);
    // an unknown --context is a bad flag (exit 2), naming it and the contexts there are
    assertUsage(
      await pkg(['status', '--context', 'staging'], { KUBECONFIG: cert }),
      /--context staging: kubeconfig has no context "staging"; known: prod, other/,
    );
    // a context without the runtime extension needs --url
    assertUsage(
      await pkg(['status', '--context', 'other'], { KUBECONFIG: cert }),
      /no runtime URL: pass --url/,
    );
  });

  it('names the tokenFile or the exec plugin (exit 2) when the credential cannot be obtained', async () => {
    // GIVEN kubeconfigs whose user's token cannot be had: a tokenFile that is missing or a directory, an
    // exec plugin that is not installed, exits 1 saying why on stderr, or prints something else than JSON
    const missingFile = file('missing-token.yaml', kubeconfig({ tokenFile: 'no-such.token' }));
    mkdirSync(join(dir, 'token-dir'), { recursive: true });
    const dirFile = file('dir-token.yaml', kubeconfig({ tokenFile: 'token-dir' }));
    const notInstalled = file(
      'failing.yaml',
      kubeconfig({ exec: { command: 'no-such-credential-plugin', installHint: 'install it first' } }),
    );
    const failing = file(
      'expired.mjs',
      `#!${process.execPath}\nprocess.stderr.write('\\nError: the SSO session has expired\\nrun aws sso login\\n');\nprocess.exit(3);\n`,
    );
    chmodSync(failing, 0o755);
    const expired = file('expired.yaml', kubeconfig({ exec: { command: './expired.mjs' } }));
    const chatty = file('chatty.mjs', `#!${process.execPath}\nconsole.log('token: abc');\n`);
    chmodSync(chatty, 0o755);
    const notJson = file('chatty.yaml', kubeconfig({ exec: { command: './chatty.mjs' } }));
    // WHEN running status with each THEN it exits 2 naming what to fix, and no call is made
    assertUsage(
      await pkg(['status'], { KUBECONFIG: missingFile }),
      new RegExp(
        `kubeconfig user "alice": cannot read tokenFile ${join(dir, 'no-such.token')}: no such file or directory; or pass --token`,
      ),
    );
    assertUsage(
      await pkg(['status', '--kubeconfig', dirFile], {}),
      /kubeconfig user "alice": cannot read tokenFile .*token-dir: it is a directory/,
    );
    // an empty (or blank) tokenFile is named too, rather than sent as an empty bearer token
    file('blank.token', ' \n');
    assertUsage(
      await pkg(['status'], {
        KUBECONFIG: file('blank-token.yaml', kubeconfig({ tokenFile: 'blank.token' })),
      }),
      new RegExp(`kubeconfig user "alice": tokenFile ${join(dir, 'blank.token')} is empty; or pass --token`),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: notInstalled }),
      /exec credential plugin of kubeconfig user "alice" failed: "no-such-credential-plugin" was not found on the PATH \(install it first\); or pass --token/,
    );
    const r = await pkg(['status'], { KUBECONFIG: expired });
    assertUsage(
      r,
      /elasticai status: the exec credential plugin of kubeconfig user "alice" failed: "\.\/expired\.mjs" exited with 3: Error: the SSO session has expired; or pass --token/,
    );
    // AND the plugin's own stderr was passed through, before the message
    assert.match(r.stderr, /^\nError: the SSO session has expired\nrun aws sso login\nelasticai status: /);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assertUsage(
      await pkg(['status'], { KUBECONFIG: notJson }),
      /exec credential plugin of kubeconfig user "alice" \("\.\/chatty\.mjs"\) did not print an ExecCredential \(JSON\)/,
    );
    // AND a server that cannot be reached is still a failure (exit 1), not a usage error
    file('alice.token', `${TOKENS.viewer}\n`);
    const offline = file('offline.yaml', kubeconfig({ tokenFile: 'alice.token' }, 'http://127.0.0.1:9'));
    assertFailure(await pkg(['status'], { KUBECONFIG: offline }), /cannot reach the runtime at/);
  });

  it('names --kubeconfig (exit 2) when the file it gives is missing or malformed, as --trace and --prices do', async () => {
    const missing = join(dir, 'no-such-kubeconfig.json');
    assertUsage(
      await runAsync(RUNTIME_MAIN, ['status', '--kubeconfig', missing], cleanEnv(home)),
      /elasticai status: --kubeconfig .*no-such-kubeconfig\.json does not exist/,
    );
    const yaml = file('flag.yaml', kubeconfig({ token: TOKENS.viewer }));
    assertUsage(
      await runAsync(RUNTIME_MAIN, ['status', '--kubeconfig', yaml], cleanEnv(home)),
      /--kubeconfig .*flag\.yaml cannot be parsed: .*reads JSON kubeconfigs only/,
    );
    const list = file('flag-list.json', '[]');
    assertUsage(
      await pkg(['status', '--kubeconfig', list], {}),
      /--kubeconfig .*flag-list\.json is not a mapping/,
    );
    const contexts = file('flag-contexts.json', '{"contexts": {}}');
    assertUsage(
      await pkg(['status', '--kubeconfig', contexts], {}),
      /--kubeconfig .*flag-contexts\.json: contexts must be a list/,
    );
  });

  it('names the file of $KUBECONFIG (exit 2) that is malformed, as kubectl fails on it; missing ones are skipped', async () => {
    // GIVEN a good kubeconfig, a malformed one and a path that does not exist
    const good = file('env-good.yaml', kubeconfig({ token: TOKENS.viewer }));
    const broken = file('env-broken.yaml', 'contexts: [unclosed\n');
    const noList = file('env-contexts.json', '{"contexts": {}}');
    const missing = join(dir, 'env-missing.yaml');
    // WHEN $KUBECONFIG names the malformed one, alone or after the good one (kubectl merges every file
    // and fails on any it cannot load) THEN it exits 2 naming the variable and the file
    assertUsage(
      await pkg(['status'], { KUBECONFIG: broken }),
      new RegExp(`elasticai status: KUBECONFIG file ${broken} cannot be parsed: `),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: [good, noList].join(delimiter) }),
      new RegExp(`KUBECONFIG file ${noList}: contexts must be a list`),
    );
    // AND so is one without a current context when no --context is given
    const noCurrent = file(
      'env-no-current.yaml',
      kubeconfig({ token: TOKENS.viewer }).replace(/^current-context: .*\n/m, ''),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: noCurrent }),
      new RegExp(`kubeconfig ${noCurrent} has no current context: pass --context NAME`),
    );
    // AND one whose current-context names no context, naming the file and the contexts it has
    const wrongCurrent = file(
      'env-wrong-current.yaml',
      kubeconfig({ token: TOKENS.viewer }).replace(/^current-context: .*$/m, 'current-context: gone'),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: wrongCurrent }),
      new RegExp(
        `kubeconfig ${wrongCurrent}: current-context "gone" names no context; known: prod, other; ` +
          'fix current-context or pass --context NAME',
      ),
    );
    // AND a path of $KUBECONFIG that does not exist is skipped, as kubectl skips it
    const r = await pkg(['status', '--json'], { KUBECONFIG: [missing, good].join(delimiter) });
    assert.equal(r.status, 0, r.stderr);
  });

  it('names ~/.kube/config (exit 2) when it is malformed and the runtime URL must come from it', async () => {
    const otherHome = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(otherHome, '.kube'));
    writeFileSync(join(otherHome, '.kube', 'config'), '{"contexts": {}}');
    assertUsage(
      await runAsync(RUNTIME_MAIN, ['status'], cleanEnv(otherHome)),
      new RegExp(`kubeconfig ${join(otherHome, '.kube', 'config')}: contexts must be a list`),
    );
    // with --url and --token it is not needed, and not read
    const r = await runAsync(
      RUNTIME_MAIN,
      ['status', '--json', '--url', server.url, '--token', TOKENS.viewer],
      cleanEnv(otherHome),
    );
    assert.equal(r.status, 0, r.stderr);
  });

  it("names the file and the field (exit 2) when the context's elasticai.io/runtime extension is malformed", async () => {
    // GIVEN kubeconfigs whose current context's extension has no usable url, or is not a mapping
    const field = /contexts\[name=prod\]\.context\.extensions\[name=elasticai\.io\/runtime\]\.extension/
      .source;
    const noUrl = file('ext-no-url.yaml', kubeconfig({ token: TOKENS.viewer }, 'null'));
    const numeric = file('ext-numeric.yaml', kubeconfig({ token: TOKENS.viewer }, '42'));
    const ftp = file('ext-ftp.yaml', kubeconfig({ token: TOKENS.viewer }, 'ftp://elasticai.example.com'));
    const notMapping = file(
      'ext-list.yaml',
      kubeconfig({ token: TOKENS.viewer }).replace(/extension:\n\s+url: .*\n/, 'extension: [a]\n'),
    );
    const notList = file(
      'ext-map.yaml',
      kubeconfig({ token: TOKENS.viewer }).replace(
        /extensions:\n\s+- name: elasticai.io\/runtime\n/,
        'extensions:\n          name: elasticai.io/runtime\n',
      ),
    );
    // WHEN the runtime URL must come from it THEN it exits 2 naming the variable or flag, the file and
    // the field
    assertUsage(
      await pkg(['status'], { KUBECONFIG: noUrl }),
      new RegExp(
        `elasticai status: KUBECONFIG file ${noUrl}: ${field}\\.url must be the runtime's http\\(s\\) URL \\(got null\\)`,
      ),
    );
    assertUsage(
      await pkg(['status', '--kubeconfig', numeric], {}),
      new RegExp(
        `--kubeconfig ${numeric}: ${field}\\.url must be the runtime's http\\(s\\) URL \\(got 42\\)`,
      ),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: ftp }),
      new RegExp(
        `KUBECONFIG file ${ftp}: ${field}\\.url must be an http\\(s\\) URL such as http://127\\.0\\.0\\.1:8080 \\(got "ftp://elasticai\\.example\\.com"\\)`,
      ),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: notMapping }),
      new RegExp(
        `KUBECONFIG file ${notMapping}: ${field} must be a mapping with the runtime's url \\(got \\["a"\\]\\)`,
      ),
    );
    assertUsage(
      await pkg(['status'], { KUBECONFIG: notList }),
      new RegExp(`KUBECONFIG file ${notList}: contexts\\[name=prod\\]\\.context\\.extensions must be a list`),
    );
    // AND with --url the extension is not used: the context still gives its user's token
    const r = await pkg(['status', '--json', '--url', server.url], { KUBECONFIG: noUrl });
    assert.equal(r.status, 0, r.stderr);
    assertFailure(
      await pkg(['override', 'clear', 'team-a/checkout', '--url', server.url], { KUBECONFIG: noUrl }),
      /not allowed \(403\): system:serviceaccount:monitoring:viewer may not patch/,
    );
  });

  it('the runtime image reads JSON kubeconfigs and says so for YAML ones', async () => {
    const yamlPath = file('image.yaml', kubeconfig({ token: TOKENS.viewer }));
    assertUsage(
      await runAsync(RUNTIME_MAIN, ['status'], cleanEnv(home, { KUBECONFIG: yamlPath })),
      /KUBECONFIG file .*image\.yaml cannot be parsed.*reads JSON kubeconfigs only/,
    );
    const jsonPath = file('image.json', JSON.stringify(parse(kubeconfig({ token: TOKENS.viewer }))));
    const r = await runAsync(RUNTIME_MAIN, ['status', '--json'], cleanEnv(home, { KUBECONFIG: jsonPath }));
    assert.equal(r.status, 0, r.stderr);
  });
});
