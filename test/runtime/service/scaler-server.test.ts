import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { startScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { registryBackend } from '../../../runtime/service/grpc/scaler-backend.js';
import { RuntimeMetrics } from '../../../runtime/service/metrics.js';
import type { WorkloadRegistry } from '../../../runtime/service/workload-registry.js';
import { KedaClient, shopScaledObject } from '../../support/keda-client.js';
import { MemorySource, dailyDemand, dayRegistry } from '../../support/memory-source.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ref = shopScaledObject;

/** Waits (up to 5 s) for the registry's first decision on shop/`name`. */
async function untilDecided(registry: WorkloadRegistry, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (registry.status({ namespace: 'shop', name })?.decision === undefined && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Polls `check` every 10 ms for up to 10 s (only a failing test waits that long). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('KEDA external scaler over gRPC', () => {
  const clock = { now: T0 };
  const source = new MemorySource(dailyDemand);
  const metrics = new RuntimeMetrics({ defaultMetrics: false });
  let registry: WorkloadRegistry;
  let server: ScalerServer;
  let client: KedaClient;

  before(async () => {
    registry = dayRegistry(source, { clock: () => clock.now, metrics });
    server = await startScalerServer({
      backend: registryBackend(registry),
      metrics,
      host: '127.0.0.1',
      port: 0,
      firstAnswerWaitMs: 500,
    });
    client = new KedaClient(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client.close();
    await server.close(1000);
  });

  it('answers GetMetricSpec with one AverageValue target of 1 replica', async () => {
    const spec = await client.getMetricSpec(ref('checkout'));
    assert.deepEqual(spec.metricSpecs, [
      { metricName: 'elasticai-replicas', targetSize: 1, targetSizeFloat: 1 },
    ]);
  });

  it('answers GetMetrics with exactly one value: the registry decision, as float and rounded up', async () => {
    // (GetMetricSpec registered checkout; its backfill may outlast the first answer's 500 ms wait on a
    // loaded machine, and that wait is not what this test is about)
    await untilDecided(registry, 'checkout');
    const response = await client.getMetrics(ref('checkout'), 's0-elasticai-replicas');
    const served = registry.value({ namespace: 'shop', name: 'checkout' }).value;
    assert.equal(response.metricValues.length, 1);
    assert.deepEqual(response.metricValues[0], {
      metricName: 's0-elasticai-replicas',
      metricValue: Math.ceil(served),
      metricValueFloat: served,
    });
    assert.ok(served >= Math.ceil(dailyDemand(registry.settledEnd(60)) / 40 / 0.8));
    const active = await client.isActive(ref('checkout'));
    assert.equal(active.result, true);
  });

  it('refuses bad metadata with INVALID_ARGUMENT naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ capacityPerReplica: 'lots' }, /metadata\.capacityPerReplica: must be a number/],
      [{ targetUtilization: '1.5' }, /metadata\.targetUtilization: must be in \(0, 1\]/],
      [{ capacityPerReplicas: '4' }, /metadata\.capacityPerReplicas: is not a key the runtime reads/],
      [{ models: 'prophet' }, /metadata\.models: must be "auto" or a comma list/],
      [{ minReplicas: '5', maxReplicas: '2' }, /metadata\.minReplicas: must not exceed maxReplicas/],
      [{ metric: 'headroom' }, /metadata\.nodePool: is required when metric is "headroom"/],
    ];
    for (const [meta, message] of cases) {
      await assert.rejects(client.getMetrics(ref('bad', meta)), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.match(e.details, message);
        return true;
      });
    }
    const noQuery = ref('bad');
    delete noQuery.scalerMetadata.query;
    await assert.rejects(client.getMetricSpec(noQuery), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /metadata\.query: is required/);
      return true;
    });
    await assert.rejects(
      client.getMetrics({ ...ref('x'), namespace: 'Bad_NS' }),
      /namespace: must be a namespace name/,
    );
  });

  it('answers UNAVAILABLE within the wait bound when the source has never answered (the HPA then holds)', async () => {
    source.delayMs = 5000;
    const started = Date.now();
    await assert.rejects(client.getMetrics(ref('cold', { query: 'slow' })), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE);
      assert.match(e.details, /no decision yet: loading history/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, 'answered well within KEDA’s 3 s budget');
    source.delayMs = 0;
  });

  it('streams IsActive=true when the workload is woken, and ends streams on shutdown', async () => {
    const woken = ref('wake-me', { minReplicas: '0' });
    await client.getMetricSpec(woken);
    const listening = registry.listenerCount('active');
    const stream = client.stream(woken);
    // (once the stream listens: a wake-up before that reaches nobody; a loaded machine may take a while)
    await until('the stream to listen', () => registry.listenerCount('active') > listening);
    registry.wake({ namespace: 'shop', name: 'wake-me' });
    await until('IsActive=true', () => stream.received.includes(true));
    assert.ok(stream.received.includes(true));
    stream.call.cancel();
    await stream.ended;
  });

  it('records gRPC latency per method and status code', async () => {
    const text = await metrics.registry.metrics();
    assert.match(text, /elasticai_grpc_request_duration_seconds_count\{method="GetMetrics",code="OK"\} \d+/);
    assert.match(
      text,
      /elasticai_grpc_request_duration_seconds_count\{method="GetMetrics",code="INVALID_ARGUMENT"\} \d+/,
    );
  });
});

describe('graceful shutdown', () => {
  it('lets in-flight calls finish and then refuses new ones', async () => {
    // GIVEN a server whose first backfill is slow (an in-flight GetMetrics waits on it)
    const source = new MemorySource(dailyDemand);
    source.delayMs = 300;
    const registry = dayRegistry(source, { clock: () => T0 });
    const server = await startScalerServer({
      backend: registryBackend(registry),
      host: '127.0.0.1',
      port: 0,
      firstAnswerWaitMs: 1500,
    });
    const client = new KedaClient(`127.0.0.1:${server.port}`);
    const inFlight = client.getMetrics(ref('draining'));
    // (once the call has reached the server, which registers the workload; a loaded machine may take a while)
    await until('the call in flight', () => registry.has({ namespace: 'shop', name: 'draining' }));

    // WHEN the runtime shuts down (SIGTERM path)
    await server.close(2000);

    // THEN the in-flight call completed with a value
    const response = await inFlight;
    assert.equal(response.metricValues.length, 1);
    assert.ok((response.metricValues[0]?.metricValueFloat ?? 0) > 0);
    // AND new calls fail
    await assert.rejects(
      client.getMetricSpec(ref('draining')),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE,
    );
    client.close();
  });
});
