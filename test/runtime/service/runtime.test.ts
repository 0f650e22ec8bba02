/**
 * The assembled runtime against an in-process Kubernetes API (real REST paths and JSON): ScaledObject
 * discovery, authenticated overrides written to KEDA's annotation, TokenReview/SubjectAccessReview,
 * Lease leadership, degraded answers on garbage from Prometheus; and the container entry point's
 * SIGTERM drain in a real child process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadRuntimeConfig } from '../../../runtime/service/config.js';
import { processChargedBytes } from '../../../runtime/service/memory-guard.js';
import { KubeClient } from '../../../runtime/service/kube/kube-client.js';
import type { Runtime } from '../../../runtime/service/runtime.js';
import { LEADER_LEASE_NAME, startRuntime } from '../../../runtime/service/runtime.js';
import { parseWorkloadSpec } from '../../../runtime/service/workload-spec.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import type { FakePrometheus } from '../../support/fake-prometheus.js';
import { startFakePrometheus } from '../../support/fake-prometheus.js';
import { KedaClient } from '../../support/keda-client.js';
import { dailyDemand } from '../../support/memory-source.js';
import { REPO_ROOT } from '../../support/paths.js';
import { freePort } from '../../support/free-port.js';

const SA_TOKEN = 'runtime-service-account-token';
const ALICE = 'alice-token';
const BOB = 'bob-token';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function scaledObject(
  namespace: string,
  name: string,
  scalerAddress: string,
  metadata: Record<string, string>,
) {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name, namespace },
    spec: {
      scaleTargetRef: { name },
      triggers: [
        { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
        { type: 'external', metadata: { scalerAddress, ...metadata } },
      ],
    },
  };
}

describe('assembled runtime with a Kubernetes API', () => {
  let kube: FakeKubeApi;
  let prometheus: FakePrometheus;
  let runtime: Runtime;
  let address: string;
  const logs: string[] = [];

  before(async () => {
    kube = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    kube.users.set(ALICE, { username: 'alice@example.com', groups: ['sre'] });
    kube.users.set(BOB, { username: 'bob@example.com', groups: ['dev'] });
    kube.accessRules.push({ groups: ['sre'], verbs: ['get', 'list', 'patch'], namespaces: ['shop'] });
    prometheus = await startFakePrometheus(dailyDemand);
    const grpcPort = await freePort();
    address = `elasticai-runtime.elasticai-system.svc.cluster.local:${grpcPort}`;
    const meta = { query: 'sum(rate(http_requests_total[1m]))', capacityPerReplica: '40' };
    kube.putScaledObject(scaledObject('shop', 'checkout', address, meta));
    kube.putScaledObject(scaledObject('shop', 'elsewhere', 'other-scaler.keda:9090', meta));
    kube.putScaledObject(scaledObject('shop', 'typo', address, { ...meta, capacityPerReplicas: '4' }));
    runtime = await startRuntime(
      loadRuntimeConfig({
        ELASTICAI_PROMETHEUS_URL: prometheus.url,
        ELASTICAI_LISTEN_HOST: '127.0.0.1',
        ELASTICAI_GRPC_PORT: String(grpcPort),
        ELASTICAI_HTTP_PORT: '0',
        ELASTICAI_POD_NAME: 'elasticai-runtime-abc12',
        ELASTICAI_STALE_AFTER_SECONDS: '1',
      }),
      {
        kube: new KubeClient({ url: kube.url, token: SA_TOKEN }),
        tickSeconds: 0.2,
        log: (l) => logs.push(l),
      },
    );
    // (up to 15 s: only a failing start waits that long)
    for (let i = 0; i < 150 && (await fetch(`${runtime.httpUrl}/readyz`)).status !== 200; i++)
      await sleep(100);
  });

  after(async () => {
    await runtime?.shutdown();
    await prometheus?.close();
    await kube?.close();
  });

  it('discovers the ScaledObjects whose external trigger points at it, and only those', async () => {
    assert.equal((await fetch(`${runtime.httpUrl}/readyz`)).status, 200);
    const refs = runtime.registry.refs().map((r) => `${r.namespace}/${r.name}`);
    assert.deepEqual(refs, ['shop/checkout']);
    for (
      let i = 0;
      i < 150 && runtime.registry.status({ namespace: 'shop', name: 'checkout' })?.state !== 'fresh';
      i++
    ) {
      await sleep(100);
    }
    assert.equal(runtime.registry.status({ namespace: 'shop', name: 'checkout' })?.state, 'fresh');
  });

  it('reads require a caller by default, and a Kubernetes token that may list works', async () => {
    assert.equal((await fetch(`${runtime.httpUrl}/api/v1/workloads`)).status, 401);
    const response = await fetch(`${runtime.httpUrl}/api/v1/workloads`, {
      headers: { authorization: `Bearer ${ALICE}` },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { workloads: { name: string; desiredReplicas: number }[] };
    assert.equal(body.workloads[0]?.name, 'checkout');
    assert.equal(
      body.workloads[0]?.desiredReplicas,
      runtime.registry.value({ namespace: 'shop', name: 'checkout' }).value,
    );
  });

  it('writes an authorized override to KEDA’s paused-replicas annotation, and refuses others', async () => {
    const url = `${runtime.httpUrl}/api/v1/workloads/shop/checkout/override`;
    const post = (token: string | undefined, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    assert.equal((await post(undefined, { replicas: 7 })).status, 401);
    assert.equal((await post('not-a-token', { replicas: 7 })).status, 401);
    assert.equal((await post(BOB, { replicas: 7 })).status, 403);
    const bad = await post(ALICE, { replicas: -1 });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /replicas/);
    const untouched = kube.scaledObject('shop', 'checkout')?.metadata as {
      annotations?: Record<string, string>;
    };
    assert.equal(
      untouched.annotations?.['autoscaling.keda.sh/paused-replicas'],
      undefined,
      'refused calls wrote nothing',
    );

    const ok = await post(ALICE, { replicas: 7, durationSeconds: 3600 });
    assert.equal(ok.status, 201);
    const annotations = (
      kube.scaledObject('shop', 'checkout')?.metadata as { annotations?: Record<string, string> }
    ).annotations;
    assert.equal(annotations?.['autoscaling.keda.sh/paused-replicas'], '7');
    assert.equal(annotations?.['elasticai.io/override-by'], 'alice@example.com');
    assert.ok(annotations?.['elasticai.io/override-expires-at']);

    const cleared = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${ALICE}` } });
    assert.equal(cleared.status, 204);
    const after = (
      kube.scaledObject('shop', 'checkout')?.metadata as { annotations?: Record<string, string> }
    ).annotations;
    assert.equal(after?.['autoscaling.keda.sh/paused-replicas'], undefined);
    // AND both changes are audit lines on the runtime's log, naming who did what; no line per request
    const audit = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'audit' in l);
    assert.deepEqual(
      audit.map((l) => [l['audit'], l['caller'], l['namespace'], l['name']]),
      [
        ['override-set', 'alice@example.com', 'shop', 'checkout'],
        ['override-cleared', 'alice@example.com', 'shop', 'checkout'],
      ],
    );
    assert.ok(!logs.some((l) => /request completed|incoming request/.test(l)), 'no per-request lines');
  });

  it('wakes a workload for the scale-to-zero resolver: authorized callers only, streamed to KEDA at once', async () => {
    const keda = new KedaClient(`127.0.0.1:${runtime.grpcPort}`);
    const stream = keda.stream({
      namespace: 'shop',
      name: 'checkout',
      scalerMetadata: {
        scalerAddress: address,
        query: 'sum(rate(http_requests_total[1m]))',
        capacityPerReplica: '40',
      },
    });
    // (once the stream is open: checkout is active, so its first message says so; up to 10 s on a loaded
    // machine, and at least 200 ms)
    await sleep(200);
    for (const deadline = Date.now() + 10_000; stream.received.length === 0 && Date.now() < deadline;)
      await sleep(20);
    const before = stream.received.length;
    const wake = (token?: string) =>
      fetch(`${runtime.httpUrl}/api/v1/workloads/shop/checkout/wake`, {
        method: 'POST',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    assert.equal((await wake()).status, 401);
    assert.equal((await wake(BOB)).status, 403);
    assert.equal(stream.received.length, before, 'refused wake-ups reach nobody');
    assert.equal((await wake(ALICE)).status, 202);
    for (const deadline = Date.now() + 10_000; stream.received.length === before && Date.now() < deadline;)
      await sleep(20);
    await sleep(100); // (and a moment for a second message, were one sent)
    assert.deepEqual(stream.received.slice(before), [true]);
    stream.call.cancel();
    keda.close();
  });

  it('holds the Lease that elects the override-expiry job', async () => {
    for (let i = 0; i < 100 && !kube.lease('elasticai-system', LEADER_LEASE_NAME); i++) await sleep(100);
    const lease = kube.lease('elasticai-system', LEADER_LEASE_NAME) as { spec?: { holderIdentity?: string } };
    assert.equal(lease?.spec?.holderIdentity, 'elasticai-runtime-abc12');
  });

  it('serves the last good decision when Prometheus answers garbage, and shows why', async () => {
    const keda = new KedaClient(`127.0.0.1:${runtime.grpcPort}`);
    const ref = {
      namespace: 'shop',
      name: 'fast',
      // A 1-second interval so the registry queries again within the test.
      scalerMetadata: {
        scalerAddress: address,
        query: 'demand',
        capacityPerReplica: '40',
        intervalSeconds: '1',
      },
    };
    let good = 0;
    for (let i = 0; i < 20 && good === 0; i++) {
      good = (await keda.getMetrics(ref).catch(() => undefined))?.metricValues[0]?.metricValueFloat ?? 0;
    }
    prometheus.garbage = true;
    const deadline = Date.now() + 10_000;
    let status = runtime.registry.status({ namespace: 'shop', name: 'fast' });
    while (status?.lastError === undefined && Date.now() < deadline) {
      await sleep(100);
      status = runtime.registry.status({ namespace: 'shop', name: 'fast' });
    }
    assert.equal(status?.lastError?.kind, 'bad-response');
    assert.equal(status?.state, 'stale');
    const served = (await keda.getMetrics(ref)).metricValues[0]?.metricValueFloat ?? 0;
    assert.ok(served >= good, 'never below the last good value');
    prometheus.garbage = false;
    keda.close();
  });
});

describe('container entry point', () => {
  it('exits 2 naming the variable on a bad configuration', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'build', 'runtime', 'service', 'main.js')], {
      env: { ...process.env, ELASTICAI_GRPC_PORT: 'ninety' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /ELASTICAI_GRPC_PORT: must be an integer/);
  });

  it('exits 2 naming the variable when a mount or the address to listen on is unusable', async () => {
    // GIVEN an empty folder, a folder with a certificate that is not one, an empty secret and a taken port
    const empty = mkdtempSync(join(tmpdir(), 'elasticai-empty-'));
    const garbage = mkdtempSync(join(tmpdir(), 'elasticai-tls-'));
    writeFileSync(join(garbage, 'tls.crt'), 'not a certificate');
    writeFileSync(join(garbage, 'tls.key'), 'not a key');
    const blank = join(empty, 'blank-secret');
    writeFileSync(blank, '\n');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = String((taken.address() as AddressInfo).port);
    const cases: [Record<string, string>, RegExp][] = [
      [
        { ELASTICAI_HTTP_TLS_DIR: '/nonexistent' },
        /^elasticai-runtime: ELASTICAI_HTTP_TLS_DIR: cannot read \/nonexistent\/tls\.crt \(ENOENT\)/,
      ],
      [
        { ELASTICAI_GRPC_TLS_DIR: empty },
        /^elasticai-runtime: ELASTICAI_GRPC_TLS_DIR: cannot read .*tls\.crt/,
      ],
      [
        { ELASTICAI_GRPC_TLS_DIR: garbage },
        /^elasticai-runtime: ELASTICAI_GRPC_TLS_DIR: not a usable certificate and key/,
      ],
      [
        { ELASTICAI_API_KEYS_DIR: '/nonexistent' },
        /^elasticai-runtime: ELASTICAI_API_KEYS_DIR: API key \/nonexistent: cannot read the folder/,
      ],
      [
        { ELASTICAI_WEBHOOK_SECRET_FILE: '/nonexistent' },
        /^elasticai-runtime: ELASTICAI_WEBHOOK_SECRET_FILE: cannot read \/nonexistent \(ENOENT\)/,
      ],
      [
        { ELASTICAI_WEBHOOK_SECRET_FILE: blank },
        /^elasticai-runtime: ELASTICAI_WEBHOOK_SECRET_FILE: the file is empty/,
      ],
      [
        { ELASTICAI_LISTEN_HOST: '999.1.1.1' },
        /^elasticai-runtime: ELASTICAI_LISTEN_HOST: must be an IP address or a host name/,
      ],
      // TEST-NET-1: an address that is not this machine's
      [
        { ELASTICAI_LISTEN_HOST: '192.0.2.1' },
        /^elasticai-runtime: ELASTICAI_LISTEN_HOST: cannot listen there \(.*EADDRNOTAVAIL/,
      ],
      [
        { ELASTICAI_HTTP_PORT: takenPort },
        /^elasticai-runtime: ELASTICAI_HTTP_PORT: cannot listen there \(.*EADDRINUSE/,
      ],
    ];
    try {
      for (const [env, message] of cases) {
        // WHEN the runtime starts with it
        const child = spawnSync(
          process.execPath,
          [join(REPO_ROOT, 'build', 'runtime', 'service', 'main.js')],
          {
            env: {
              ...process.env,
              ELASTICAI_LISTEN_HOST: '127.0.0.1',
              ELASTICAI_GRPC_PORT: '0',
              ELASTICAI_HTTP_PORT: '0',
              ELASTICAI_TOKEN_REVIEW: 'false',
              ELASTICAI_MEMORY_LIMIT_MIB: '0',
              KUBERNETES_SERVICE_HOST: '',
              ...env,
            },
            encoding: 'utf8',
            timeout: 15_000,
          },
        );
        // THEN it exits 2 with one line naming the variable
        assert.equal(child.status, 2, `${JSON.stringify(env)}: ${child.stderr}`);
        assert.match(child.stderr, message);
        assert.equal(child.stderr.trim().split('\n').length, 1, child.stderr);
      }
    } finally {
      taken.close();
    }
  });

  it(
    'drains on SIGTERM: the call in flight completes, then the process exits 0',
    { timeout: 20_000 },
    async () => {
      // GIVEN the runtime process, with a slow Prometheus so the first GetMetrics of a workload waits on
      // its backfill (one day of history: a single 200 ms query, inside the 1.5 s the first answer may
      // wait. A first backfill in a cold process could take longer than that under two busy loops, so
      // another workload is backfilled first)
      const prometheus = await startFakePrometheus(dailyDemand);
      const grpcPort = await freePort();
      const httpPort = await freePort();
      const child = spawn(process.execPath, [join(REPO_ROOT, 'build', 'runtime', 'service', 'main.js')], {
        env: {
          ...process.env,
          ELASTICAI_PROMETHEUS_URL: prometheus.url,
          ELASTICAI_HISTORY_DAYS: '1',
          ELASTICAI_LISTEN_HOST: '127.0.0.1',
          ELASTICAI_GRPC_PORT: String(grpcPort),
          ELASTICAI_HTTP_PORT: String(httpPort),
          ELASTICAI_SHUTDOWN_GRACE_MS: '1500',
          ELASTICAI_TOKEN_REVIEW: 'false',
          KUBERNETES_SERVICE_HOST: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const keda = new KedaClient(`127.0.0.1:${grpcPort}`);
      let silent: Socket | undefined;
      // Whatever fails, nothing of this test may keep the test process alive.
      try {
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        // (and a client that opened an HTTP connection and never sent a request)
        const connection = connect(httpPort, '127.0.0.1');
        silent = connection;
        connection.on('error', () => undefined);
        await new Promise<void>((resolve) => connection.once('connect', () => resolve()));
        const ref = {
          namespace: 'shop',
          name: 'drain',
          scalerMetadata: { query: 'demand', capacityPerReplica: '40' },
        };
        const warm = { ...ref, name: 'warm-up' };
        for (let i = 0; i < 20; i++) {
          if (
            await keda.getMetrics(warm).then(
              () => true,
              () => false,
            )
          )
            break;
          await sleep(100);
        }
        prometheus.delayMs = 200;
        const queried = prometheus.queries;
        // WHEN SIGTERM arrives while the call waits
        const inFlight = keda.getMetrics(ref);
        // (once the call waits on its backfill: Prometheus has the query; on a loaded machine that can
        // take more than a moment)
        for (const deadline = Date.now() + 10_000; prometheus.queries === queried && Date.now() < deadline;)
          await sleep(10);
        const terminatedAt = Date.now();
        child.kill('SIGTERM');
        // THEN the call completes with a value and the process exits cleanly
        const response = await inFlight;
        assert.ok((response.metricValues[0]?.metricValueFloat ?? 0) > 0);
        assert.equal(await exited, 0);
        assert.ok(
          Date.now() - terminatedAt < 4000,
          'the silent connection did not hold shutdown past the grace period',
        );
      } finally {
        child.kill('SIGKILL');
        silent?.destroy();
        keda.close();
        await prometheus.close();
      }
    },
  );
});

describe('runtime memory admission', () => {
  const env = { ELASTICAI_LISTEN_HOST: '127.0.0.1', ELASTICAI_GRPC_PORT: '0', ELASTICAI_HTTP_PORT: '0' };
  const ref = { namespace: 'shop', name: 'cart' };
  const spec = { source: 'webhook', stream: 'cart', capacityPerReplica: '10' };

  async function withRuntime(
    extra: Record<string, string>,
    limit: number | undefined,
    check: (rt: Runtime, logs: string[]) => Promise<void> | void,
  ): Promise<void> {
    const logs: string[] = [];
    const rt = await startRuntime(loadRuntimeConfig({ ...env, ...extra }), {
      kube: null,
      log: (l) => logs.push(l),
      containerMemory: () =>
        limit === undefined ? undefined : { limitBytes: limit, usedBytes: processChargedBytes },
    });
    try {
      await check(rt, logs);
    } finally {
      await rt.shutdown();
    }
  }

  it("admits workloads against the container's limit, says so at start, and ELASTICAI_MEMORY_LIMIT_MIB overrides it", async () => {
    // GIVEN a container limit far below what the process already uses
    await withRuntime({}, 1024 * 1024, (rt, logs) => {
      // THEN the start-up log names the limit, and a new workload is refused
      assert.ok(logs.some((l) => /"event":"started",.*"memoryLimitBytes":1048576/.test(l)));
      assert.throws(() => rt.registry.register(ref, parseWorkloadSpec(ref, spec)), /not enough memory/);
      // AND the webhook's event store asks the same guard before its arrays grow
      assert.equal(rt.events.roomFor('cart', 1), false);
    });
    // GIVEN the same container with admission turned off by the variable
    await withRuntime({ ELASTICAI_MEMORY_LIMIT_MIB: '0' }, 1024 * 1024, async (rt, logs) => {
      assert.ok(logs.some((l) => /"event":"started",.*"memoryLimitBytes":null/.test(l)));
      assert.equal(rt.events.roomFor('cart', 1), true);
      await rt.registry.register(ref, parseWorkloadSpec(ref, spec));
      assert.equal(rt.registry.has(ref), true);
    });
    // AND a limit set by the variable applies where the container reports none
    await withRuntime({ ELASTICAI_MEMORY_LIMIT_MIB: '1' }, undefined, (rt) => {
      assert.throws(() => rt.registry.register(ref, parseWorkloadSpec(ref, spec)), /not enough memory/);
    });
  });
});
