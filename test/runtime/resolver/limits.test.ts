/**
 * Bounds of the hold queue, with the real resolver on loopback: a full queue and an expired hold answer
 * 503 with Retry-After at once (never a hang), the bound holds over all targets too, and a client that
 * disconnects frees its slot — and is never delivered.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeCluster, send, sleep, until } from './support/cluster.js';

const TARGET = { target: 'shop/web' };

describe('resolver hold limits', () => {
  let cluster: FakeCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  const held = (c: FakeCluster): Promise<number> => c.metric('elasticai_resolver_held_requests', TARGET);

  it('answers 503 with Retry-After at once when the target queue is full', async () => {
    // GIVEN a target at zero that never starts, holding at most 5 requests
    const c = (cluster = await FakeCluster.start({
      autoStart: false,
      route: { maxHeld: 5, retryAfterSeconds: 7 },
      resolver: { shutdownGraceMs: 100 },
    }));
    const waiting = Array.from({ length: 5 }, (_, i) =>
      send(c.resolver.proxyPort, { headers: { 'x-request-id': `w${i}` } }).catch((e: Error) => e),
    );
    await until(() => c.resolver.targets.get('shop/web')?.heldRequests === 5, 5_000, '5 held');
    // WHEN a sixth arrives
    const t0 = performance.now();
    const refused = await send(c.resolver.proxyPort, { method: 'POST', body: 'x' });
    // THEN it is refused at once with 503, Retry-After and the reason (not after the 30 s hold timeout;
    // the bound leaves a loaded CI machine room)
    assert.ok(performance.now() - t0 < 5_000);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '7');
    assert.equal(JSON.parse(refused.body).error, 'queue-full');
    assert.equal(await c.metric('elasticai_resolver_rejected_total', { ...TARGET, reason: 'queue-full' }), 1);
    assert.equal(await held(c), 5);
    // AND the held ones are still waiting (not refused)
    assert.equal(c.resolver.targets.get('shop/web')?.heldRequests, 5);
    // AND when the resolver stops before the target comes up, they are answered 503, not dropped
    await c.resolver.shutdown();
    for (const r of await Promise.all(waiting)) assert.equal((r as { status: number }).status, 503);
  });

  it('bounds held requests over all targets too', async () => {
    const c = (cluster = await FakeCluster.start({
      autoStart: false,
      resolver: { maxHeldTotal: 3, shutdownGraceMs: 100 },
    }));
    const waiting = Array.from({ length: 3 }, () => send(c.resolver.proxyPort).catch((e: Error) => e));
    await until(() => c.resolver.targets.get('shop/web')?.heldRequests === 3, 5_000, '3 held');
    const refused = await send(c.resolver.proxyPort);
    assert.equal(refused.status, 503);
    assert.match(JSON.parse(refused.body).message, /holds as many requests as it may/);
    await c.resolver.shutdown();
    await Promise.all(waiting);
  });

  it('answers 503 with Retry-After when the hold times out, and forgets the request', async () => {
    // GIVEN a target that never becomes ready and a 1 s hold timeout
    const c = (cluster = await FakeCluster.start({
      autoStart: false,
      route: { holdTimeoutSeconds: 1, retryAfterSeconds: 3 },
    }));
    // WHEN requests wait for it
    const t0 = performance.now();
    const replies = await Promise.all(
      ['GET', 'POST'].map((method) =>
        send(c.resolver.proxyPort, { method, body: method === 'POST' ? 'b' : undefined }),
      ),
    );
    const waited = performance.now() - t0;
    // THEN each is answered 503 with Retry-After after about a second — never a hang
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '3');
      assert.equal(JSON.parse(r.body).error, 'timeout');
    }
    assert.ok(waited >= 950 && waited < 2_500, `waited ${waited.toFixed(0)} ms`);
    assert.equal(await c.metric('elasticai_resolver_rejected_total', { ...TARGET, reason: 'timeout' }), 2);
    assert.equal(await held(c), 0);
    // AND a backend that comes up later never sees them
    await c.startBackend({ START_DELAY_MS: '0' });
    await sleep(100);
    assert.equal(c.deliveries.length, 0);
  });

  it('frees the slot of a client that disconnects, and never delivers its request', async () => {
    // GIVEN a full queue of 4
    const c = (cluster = await FakeCluster.start({ autoStart: false, route: { maxHeld: 4 } }));
    const aborts = Array.from({ length: 4 }, () => new AbortController());
    const first = aborts.map((a, i) =>
      send(c.resolver.proxyPort, {
        method: 'POST',
        body: `gone-${i}`,
        headers: { 'x-request-id': `gone-${i}` },
        signal: a.signal,
      }).catch((e: Error) => e),
    );
    await until(() => c.resolver.targets.get('shop/web')?.heldRequests === 4, 5_000, '4 held');
    // WHEN two clients disconnect
    aborts[0]?.abort();
    aborts[1]?.abort();
    await until(() => c.resolver.targets.get('shop/web')?.heldRequests === 2, 5_000, 'slots freed');
    assert.equal(await c.metric('elasticai_resolver_cancelled_total', TARGET), 2);
    // THEN two new requests fit, and a third does not
    const next = ['kept-a', 'kept-b'].map((id) =>
      send(c.resolver.proxyPort, { method: 'POST', body: id, headers: { 'x-request-id': id } }),
    );
    await until(() => c.resolver.targets.get('shop/web')?.heldRequests === 4, 5_000, '4 held again');
    assert.equal((await send(c.resolver.proxyPort)).status, 503);
    // AND once the target is ready, exactly the requests whose clients stayed are delivered
    await c.startBackend({ START_DELAY_MS: '0' });
    const replies = await Promise.all([...first.slice(2), ...next]);
    for (const r of replies) assert.equal((r as { status: number }).status, 200);
    await sleep(100);
    assert.deepEqual(c.deliveries.map((d) => d.id).sort(), ['gone-2', 'gone-3', 'kept-a', 'kept-b']);
    assert.equal(await held(c), 0);
  });
});
