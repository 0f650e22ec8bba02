import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import type { ScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { startScalerThread } from '../../../runtime/service/grpc/scaler-thread.js';
import { MemoryGuard } from '../../../runtime/service/memory-guard.js';
import { RuntimeMetrics } from '../../../runtime/service/metrics.js';
import { WorkloadRegistry } from '../../../runtime/service/workload-registry.js';
import { KedaClient, shopScaledObject } from '../../support/keda-client.js';
import { MemorySource, dailyDemand, dayRegistry } from '../../support/memory-source.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ref = shopScaledObject;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms for up to 5 s. */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check() && Date.now() < deadline) await sleep(20);
}

describe('KEDA scaler in its own thread, fed by the registry on the main thread', () => {
  const clock = { now: T0 };
  const source = new MemorySource(dailyDemand);
  const metrics = new RuntimeMetrics({ defaultMetrics: false });
  let registry: WorkloadRegistry;
  let server: ScalerServer;
  let client: KedaClient;

  before(async () => {
    registry = dayRegistry(source, { clock: () => clock.now, metrics });
    server = await startScalerThread({ registry, metrics, host: '127.0.0.1', port: 0 });
    client = new KedaClient(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client.close();
    await server.close(1000);
  });

  it("serves the registry's decision: a new workload's first call waits for its backfill", async () => {
    // GIVEN a workload KEDA has not asked about, whose history takes 300 ms to load
    source.delayMs = 300;
    // WHEN KEDA's first GetMetrics comes
    const response = await client.getMetrics(ref('checkout'), 's0-elasticai-replicas');
    source.delayMs = 0;
    // THEN it carries the main thread's decision, as a float and rounded up
    const served = registry.value({ namespace: 'shop', name: 'checkout' }).value;
    assert.deepEqual(response.metricValues, [
      { metricName: 's0-elasticai-replicas', metricValue: Math.ceil(served), metricValueFloat: served },
    ]);
    assert.ok(served > 0);
    assert.equal((await client.isActive(ref('checkout'))).result, true);
  });

  it('follows new decisions without a call reaching the main thread', async () => {
    // GIVEN a served value at noon
    const before = registry.value({ namespace: 'shop', name: 'checkout' }).value;
    // WHEN nine hours pass and the registry ticks (the daily pattern is at a different level)
    clock.now = T0 + 9 * 3600_000;
    await registry.tick();
    const after = registry.value({ namespace: 'shop', name: 'checkout' }).value;
    assert.notEqual(after, before, 'the decision changed');
    // THEN the scaler thread serves the new decision
    const response = await client.getMetrics(ref('checkout'));
    assert.equal(response.metricValues[0]?.metricValueFloat, after);
  });

  it('refuses bad metadata with INVALID_ARGUMENT, parsed in the scaler thread', async () => {
    await assert.rejects(
      client.getMetrics(ref('bad', { capacityPerReplica: 'lots' })),
      (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.match(e.details, /metadata\.capacityPerReplica: must be a number/);
        return true;
      },
    );
    assert.equal(registry.has({ namespace: 'shop', name: 'bad' }), false);
  });

  it("answers UNAVAILABLE with the main thread's reason when a workload cannot be tracked", async () => {
    // GIVEN a trigger reading the webhook source, which this registry does not have
    const webhook = ref('hooked', { source: 'webhook', stream: 'orders' });
    delete webhook.scalerMetadata.query;
    await assert.rejects(client.getMetrics(webhook), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE);
      assert.equal(e.details, 'shop/hooked: history source "webhook" is not configured in this runtime');
      return true;
    });
  });

  it('answers UNAVAILABLE within the wait bound while the first backfill is still running', async () => {
    source.delayMs = 5000;
    const started = Date.now();
    await assert.rejects(client.getMetrics(ref('cold', { query: 'slow' })), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE);
      assert.equal(e.details, 'shop/cold: no decision yet: loading history');
      return true;
    });
    assert.ok(Date.now() - started < 2500, 'answered well within KEDA’s 3 s budget');
    source.delayMs = 0;
  });

  it('passes wake-ups to StreamIsActive', async () => {
    const woken = ref('wake-me', { minReplicas: '0' });
    await client.getMetricSpec(woken);
    const stream = client.stream(woken);
    // WHEN the workload is woken (again every 200 ms: a wake-up before the scaler thread's stream listens
    // reaches nobody, and on a loaded machine that can take more than a moment)
    const deadline = Date.now() + 10_000;
    while (!stream.received.includes(true) && Date.now() < deadline) {
      registry.wake({ namespace: 'shop', name: 'wake-me' });
      await sleep(200);
    }
    assert.ok(stream.received.includes(true));
    stream.call.cancel();
    await stream.ended;
  });

  it('tracks a workload again after the registry dropped it', async () => {
    await client.getMetricSpec(ref('ephemeral'));
    await eventually(() => registry.has({ namespace: 'shop', name: 'ephemeral' }));
    registry.unregister({ namespace: 'shop', name: 'ephemeral' });
    // (a moment for the removal to reach the scaler thread: 500 ms, more than a loaded machine needs)
    await sleep(500);
    // KEDA still asks (the ScaledObject came back): the scaler tracks it anew instead of failing
    const response = await client.getMetrics(ref('ephemeral'));
    assert.ok((response.metricValues[0]?.metricValueFloat ?? 0) > 0);
    assert.equal(registry.has({ namespace: 'shop', name: 'ephemeral' }), true);
  });

  it('answers while the main thread is blocked', async () => {
    // GIVEN a KEDA client in a thread of its own (this thread is about to stop)
    const clientThread = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.module).then(({ KedaClient }) => {
         const client = new KedaClient(workerData.address);
         parentPort.once('message', async () => {
           const started = performance.now();
           const response = await client.getMetrics(workerData.ref);
           parentPort.postMessage({ ms: performance.now() - started, value: response.metricValues[0].metricValueFloat });
           client.close();
         });
         parentPort.postMessage('ready');
       });`,
      {
        eval: true,
        workerData: {
          module: new URL('../../support/keda-client.js', import.meta.url).href,
          address: `127.0.0.1:${server.port}`,
          ref: ref('checkout'),
        },
      },
    );
    await new Promise((resolve) => clientThread.once('message', resolve));
    const answer = new Promise<{ ms: number; value: number }>((resolve) =>
      clientThread.once('message', resolve),
    );
    // WHEN it calls GetMetrics while this thread spins for 3 s (as a long collection of the engines'
    // heap would stop it)
    clientThread.postMessage('go');
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // busy
    }
    // THEN the answer came long before this thread was free again
    const { ms, value } = await answer;
    await clientThread.terminate();
    assert.equal(value, registry.value({ namespace: 'shop', name: 'checkout' }).value);
    // (answered by the scaler thread, milliseconds; through this thread it would take the 3 s. The bound
    // leaves a loaded CI machine room)
    assert.ok(ms < 2000, `answered in ${ms.toFixed(0)} ms while the main thread was blocked`);
  });

  it("exposes the scaler thread's call histogram in the runtime's metrics, once", async () => {
    const text = await metrics.text();
    assert.match(
      text,
      /elasticai_grpc_request_duration_seconds_count\{method="GetMetrics",code="OK"\} [1-9]/,
    );
    assert.match(
      text,
      /elasticai_grpc_request_duration_seconds_count\{method="GetMetrics",code="INVALID_ARGUMENT"\} 1/,
    );
    assert.equal(text.match(/# HELP elasticai_grpc_request_duration_seconds /g)?.length, 1);
    assert.match(text, /# HELP elasticai_decisions_total /);
  });
});

describe('scaler thread start-up', () => {
  it('fails with the bind error when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const registry = new WorkloadRegistry({
      sources: {},
      historySeconds: 3600,
      settleSeconds: 0,
      refitEpochSeconds: 3600,
      staleAfterSeconds: 60,
    });
    try {
      await assert.rejects(startScalerThread({ registry, host: '127.0.0.1', port }), /gRPC scaler: .*/);
    } finally {
      taken.close();
    }
  });
});

describe('scaler thread when the runtime is short of memory', () => {
  it('answers UNAVAILABLE naming why for a workload refused, and serves it once memory is freed', async () => {
    // GIVEN a registry whose memory guard finds the runtime full
    const resident = { bytes: 1e9 };
    const memory = new MemoryGuard({ limitBytes: 1e9, usedBytes: () => resident.bytes });
    const registry = new WorkloadRegistry({
      sources: { prometheus: new MemorySource(dailyDemand) },
      clock: () => T0,
      historySeconds: 86_400,
      settleSeconds: 30,
      refitEpochSeconds: 86_400,
      staleAfterSeconds: 300,
      memory,
    });
    const server = await startScalerThread({ registry, host: '127.0.0.1', port: 0 });
    const client = new KedaClient(`127.0.0.1:${server.port}`);
    try {
      // WHEN KEDA asks for a new ScaledObject's spec and metrics
      // THEN both are UNAVAILABLE (the HPA keeps the current replica count) and say why
      for (const call of [() => client.getMetricSpec(ref('cart')), () => client.getMetrics(ref('cart'))]) {
        await assert.rejects(call(), (e: grpc.ServiceError) => {
          assert.equal(e.code, grpc.status.UNAVAILABLE);
          assert.match(e.details, /shop\/cart: refused: not enough memory/);
          return true;
        });
      }
      assert.equal(registry.has({ namespace: 'shop', name: 'cart' }), false);
      // AND KEDA's next poll, after memory was freed, is served
      resident.bytes = 0;
      const response = await client.getMetrics(ref('cart'));
      assert.ok((response.metricValues[0]?.metricValueFloat ?? 0) > 0);
    } finally {
      client.close();
      await server.close(1000);
    }
  });
});
