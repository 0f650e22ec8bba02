/**
 * A backend that dies in the middle of releasing held requests: no request is lost and no POST is
 * delivered twice. Requests that never reached it go to its replacement; idempotent ones it may have
 * received are sent again; POSTs it may have received are answered 502 and never sent again. Deliveries
 * are counted by the backend processes themselves (logged on receipt, before answering).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Reply } from './support/cluster.js';
import { FakeCluster, sleep, until } from './support/cluster.js';
import { fire, plan } from './support/load.js';

describe('backend dying during release', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await FakeCluster.start({
      autoStart: false,
      route: { releaseConcurrency: 8 },
      backendEnv: { START_DELAY_MS: '0', RESPONSE_DELAY_MS: '150' },
    });
  });
  after(async () => {
    await cluster?.close();
  });

  it('delivers every request, and no non-idempotent one twice', async (t) => {
    // GIVEN 120 held requests (72 POST, 24 GET, 12 PUT, 12 DELETE)
    const planned = plan(120, 'crash');
    const replies = fire(cluster.resolver.proxyPort, planned);
    await until(() => cluster.resolver.targets.get('shop/web')?.heldRequests === 120, 5_000, '120 held');
    // WHEN the first pod comes up and is killed (SIGKILL) as it receives its 20th request
    const first = await cluster.startBackend({ DIE_AFTER: '20' });
    await first.exited;
    assert.equal(first.child.signalCode, 'SIGKILL');
    // AND the kubelet notices a moment later and a replacement pod turns ready
    await sleep(300);
    cluster.putTargetEndpoints([]);
    const second = await cluster.startBackend({ START_DELAY_MS: '200' });
    const results = (await replies) as (Reply | Error)[];

    // THEN every client got an answer: 200, or 502 for a POST the dead pod may have acted on
    const byId = new Map(planned.map((p, i) => [p.id, { planned: p, reply: results[i] }]));
    const count = (backend: typeof first, id: string): number =>
      backend.requests.filter((r) => r.id === id).length;
    let failed = 0;
    for (const [id, { planned: p, reply }] of byId) {
      assert.ok(!(reply instanceof Error), `${id}: ${String(reply)}`);
      const r = reply as Reply;
      const atFirst = count(first, id);
      const atSecond = count(second, id);
      if (p.method === 'POST') {
        // A POST is delivered at most once, ever.
        assert.ok(atFirst + atSecond <= 1, `${id} (POST) delivered ${atFirst + atSecond} times`);
      }
      if (r.status === 200) {
        assert.equal(JSON.parse(r.body).sha, p.sha, `${id}: wrong body`);
        assert.ok(atFirst + atSecond >= 1, `${id} answered but not delivered`);
        // Only an idempotent request may have reached both pods (sent again after the crash).
        if (atFirst + atSecond > 1) assert.notEqual(p.method, 'POST');
      } else {
        assert.equal(r.status, 502, `${id}: HTTP ${r.status}`);
        failed++;
        // 502 only for requests that were on their way to the dead pod (it may have logged them, or died
        // reading them) and that are not safe to send again.
        assert.ok(atFirst <= 1, `${id}: 502 after ${atFirst} deliveries`);
        assert.equal(atSecond, 0, `${id}: 502 yet delivered to the replacement`);
        assert.ok(
          p.method === 'POST' || p.body.length > 64 * 1024,
          `${id}: ${p.method} should have been sent again`,
        );
      }
    }
    // AND nothing was lost: whatever the dead pod never received and was not answered 502 (a POST cut
    // off mid-body) went to the replacement, once
    const receivedByFirst = new Set(first.requests.map((r) => r.id));
    let moved = 0;
    planned.forEach((p, i) => {
      if (receivedByFirst.has(p.id) || (results[i] as Reply).status !== 200) return;
      assert.equal(count(second, p.id), 1, `${p.id} lost`);
      moved++;
    });
    assert.ok(moved >= 90, `${moved} requests went to the replacement`);
    assert.ok(first.requests.length === 20, `the first pod logged ${first.requests.length}`);
    assert.ok(failed >= 1 && failed <= 8, `${failed} answered 502 (at most the 8 in flight)`);
    assert.equal(
      await cluster.metric('elasticai_resolver_rejected_total', {
        target: 'shop/web',
        reason: 'backend-error',
      }),
      failed,
    );
    t.diagnostic(
      `received by the dead pod: 20, answered 502: ${failed}, delivered to the replacement: ${second.requests.length}`,
    );
  });
});
