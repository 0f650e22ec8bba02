/**
 * Cold start with real parts on loopback: the resolver holds 1,000 concurrent requests (POST bodies
 * up to 200 KiB included) for a target at zero, wakes it through the runtime's wake endpoint, sees the
 * backend's endpoint turn ready through the EndpointSlice watch, and releases every request exactly
 * once — counted by the backend process, which is only started after the first request arrived and
 * takes over a second to listen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeCluster, RESOLVER_TOKEN, until, wallNow } from './support/cluster.js';
import { fire, plan, verify } from './support/load.js';

describe('resolver cold start with a real backend process', () => {
  let cluster: FakeCluster;
  before(async () => {
    // KEDA + kubelet are played by the test: the backend starts when the test says so (after the wake).
    cluster = await FakeCluster.start({
      autoStart: false,
      appStartMs: 1_000,
      backendEnv: { RESPONSE_DELAY_MS: '5' },
      route: { releaseConcurrency: 16, maxHeld: 2_000 },
    });
  });
  after(async () => {
    await cluster?.close();
  });

  it('holds 1,000 concurrent requests, wakes the target once, and delivers each exactly once with its body', async () => {
    // GIVEN a target with no ready endpoint, and 1,000 requests (600 POST, 200 GET, 100 PUT, 100 DELETE)
    const planned = plan(1_000, 'cold');
    // WHEN the first arrives
    const sentAt = wallNow();
    const first = fire(cluster.resolver.proxyPort, planned.slice(0, 1));
    // THEN the runtime is asked to wake the workload at once, with the resolver's token
    await until(() => cluster.wakes.length > 0, 5_000, 'the wake-up');
    const wokenAfterMs = (cluster.wakes[0]?.at ?? 0) - sentAt;
    assert.ok(wokenAfterMs < 1_000, `woken ${wokenAfterMs.toFixed(0)} ms after the first request`);
    // WHEN 999 more arrive at once
    const rest = fire(cluster.resolver.proxyPort, planned.slice(1));
    // THEN all 1,000 are held, and nothing has started yet
    for (let i = 0; i < 1_000; i++) {
      if ((await cluster.metric('elasticai_resolver_held_requests', { target: 'shop/web' })) === 1_000) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await cluster.metric('elasticai_resolver_held_requests', { target: 'shop/web' }), 1_000);
    assert.ok(
      cluster.wakes.every((w) => w.token === RESOLVER_TOKEN && w.path === '/api/v1/workloads/shop/web/wake'),
    );
    assert.equal(cluster.deliveries.length, 0, 'nothing delivered before the backend exists');

    // WHEN KEDA starts the pod, which takes a second to listen, and its endpoint turns ready
    const backend = await cluster.startBackend();
    const results = [...(await first), ...(await rest)];

    // THEN every request completed exactly once with its own body, counted at the backend
    const verdict = verify(planned, results, cluster.deliveries);
    assert.deepEqual(verdict.wrong, []);
    assert.equal(verdict.ok, 1_000);
    assert.deepEqual(verdict.lost, []);
    assert.deepEqual(verdict.duplicated, []);
    assert.equal(backend.requests.length, 1_000);
    // AND the first held request reached the backend promptly after its endpoint turned ready
    const releaseDelayMs = (cluster.deliveries[0]?.at ?? Infinity) - (cluster.readyAt[0] ?? 0);
    // (typically 10–30 ms here; the bound leaves room for a loaded CI machine — well under a second)
    assert.ok(releaseDelayMs >= 0 && releaseDelayMs < 500, `release delay ${releaseDelayMs.toFixed(1)} ms`);
    // AND the release never had more than 16 requests in flight at the one pod
    const peak = Math.max(...backend.requests.map((r) => r.inflight ?? 0));
    assert.ok(peak <= 16 && peak >= 2, `peak concurrency at the backend: ${peak}`);
    // AND the metrics tell the story: one wake-up, one cold start of 1–5 s, 1,000 released, none refused
    assert.equal(await cluster.metric('elasticai_resolver_wakeups_total', { target: 'shop/web' }), 1);
    assert.equal(await cluster.metric('elasticai_resolver_released_total', { target: 'shop/web' }), 1_000);
    assert.equal(await cluster.metric('elasticai_resolver_held_requests', { target: 'shop/web' }), 0);
    assert.equal(await cluster.metric('elasticai_resolver_rejected_total', { target: 'shop/web' }), 0);
    assert.equal(await cluster.metric('elasticai_resolver_cold_start_seconds', { target: 'shop/web' }), 1);
    const text = await cluster.resolver.metrics.registry.metrics();
    const sum = Number(
      /elasticai_resolver_cold_start_seconds_sum\{target="shop\/web"\} (\S+)/.exec(text)?.[1],
    );
    // (the test's own measure: first request sent → endpoint marked ready, at least the backend's 1 s
    // start; the resolver's clock starts a little later and stops when the watch shows the endpoint)
    const measured = ((cluster.readyAt[0] ?? Infinity) - sentAt) / 1000;
    assert.ok(measured >= 1, `measured cold start ${measured} s`);
    assert.ok(sum >= measured - 0.25 && sum <= measured + 1, `cold start ${sum} s, measured ${measured} s`);
  });

  it('passes requests straight through while the target is ready, without holding or waking', async () => {
    // GIVEN the target from the first case, now ready
    const wakes = cluster.wakes.length;
    const planned = plan(50, 'warm');
    // WHEN more requests arrive
    const verdict = verify(planned, await fire(cluster.resolver.proxyPort, planned), cluster.deliveries);
    // THEN they are delivered once each, forwarded (not held), and nobody is woken
    assert.equal(verdict.ok, 50);
    assert.deepEqual(verdict.duplicated, []);
    assert.equal(await cluster.metric('elasticai_resolver_forwarded_total', { target: 'shop/web' }), 50);
    assert.equal(await cluster.metric('elasticai_resolver_released_total', { target: 'shop/web' }), 1_000);
    assert.equal(cluster.wakes.length, wakes);
  });
});
