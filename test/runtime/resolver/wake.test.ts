/**
 * Waking a target: every ready runtime replica is told (KEDA's stream may sit on any of them), failed
 * calls are retried quickly, and the wake-up is repeated while requests wait so KEDA's cooldown cannot
 * take the target back to zero under them.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeCluster, RESOLVER_TOKEN, send, sleep, until } from './support/cluster.js';

describe('waking a target through the decision runtime', () => {
  let cluster: FakeCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('tells every ready runtime replica at once, with the resolver ServiceAccount token', async () => {
    const c = (cluster = await FakeCluster.start({ runtimes: 3, autoStart: false }));
    const pending = send(c.resolver.proxyPort, { headers: { 'x-request-id': 'fan-out' } });
    await until(() => c.runtimes.every((r) => r.wakes.length >= 1), 10_000, 'all three replicas woken');
    const first = c.runtimes.map((r) => r.wakes[0]?.at ?? 0);
    // (the three calls go out together; the bound leaves a loaded CI machine room)
    assert.ok(Math.max(...first) - Math.min(...first) < 500, 'in parallel');
    assert.ok(c.wakes.every((w) => w.token === RESOLVER_TOKEN));
    assert.equal(await c.metric('elasticai_resolver_wakeups_total', { target: 'shop/web' }), 1);
    await c.startBackend({ START_DELAY_MS: '0' });
    assert.equal((await pending).status, 200);
  });

  it('retries within 200 ms–2 s while no replica accepts, then repeats every rewake interval while requests wait', async () => {
    const c = (cluster = await FakeCluster.start({ autoStart: false, resolver: { rewakeMs: 400 } }));
    const runtime = c.runtimes[0];
    assert.ok(runtime);
    runtime.status = 503;
    const pending = send(c.resolver.proxyPort);
    // the first calls fail: retried after 200, 400, 800 ms …
    await until(() => runtime.wakes.length >= 3, 10_000, 'retries');
    const gaps = runtime.wakes.slice(1, 3).map((w, i) => w.at - (runtime.wakes[i]?.at ?? 0));
    assert.ok(
      gaps.every((g) => g >= 150 && g < 1_500),
      `retry gaps ${gaps.map((g) => g.toFixed(0))}`,
    );
    assert.ok((await c.metric('elasticai_resolver_wake_failures_total', { target: 'shop/web' })) >= 2);
    // once accepted, repeated every 400 ms (not faster) while the request still waits
    runtime.status = 202;
    const accepted = runtime.wakes.length;
    await until(() => runtime.wakes.length >= accepted + 3, 10_000, 'repeated wake-ups');
    const later = runtime.wakes.slice(accepted);
    const interval = ((later[2]?.at ?? 0) - (later[1]?.at ?? 0)) as number;
    assert.ok(interval >= 350 && interval < 2_000, `rewake interval ${interval.toFixed(0)} ms`);
    // still one wake-up episode
    assert.equal(await c.metric('elasticai_resolver_wakeups_total', { target: 'shop/web' }), 1);
    // once the target is ready, the repetition stops
    await c.startBackend({ START_DELAY_MS: '0' });
    assert.equal((await pending).status, 200);
    const settled = runtime.wakes.length;
    await sleep(900);
    assert.equal(runtime.wakes.length, settled);
  });
});
