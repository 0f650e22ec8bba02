/**
 * Repeated scale-to-zero cycles through the target's Service, as clients really reach it: a
 * kube-proxy stand-in sends each connection to one endpoint of the union of the Service's
 * EndpointSlices. At zero the resolver's own slice is the only one with a ready endpoint, so clients
 * reach the resolver; once the pod is ready the resolver empties its slice and clients reach the pod
 * directly (the warm path has no resolver in it); when KEDA scales the pod away after its cooldown the
 * resolver's slice comes back. Every request of every cycle is delivered exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../support/fake-kube-api.js';
import type { Reply } from './support/cluster.js';
import { FakeCluster, NAMESPACE, ServiceProxy, sleep, until, wallNow } from './support/cluster.js';
import { fire, plan, verify } from './support/load.js';

const SLICE = 'web-elasticai-resolver';

function resolverAddresses(cluster: FakeCluster): string[] {
  const slice = cluster.api.endpointSlice(NAMESPACE, SLICE);
  return ((slice?.endpoints as JsonObject[] | undefined) ?? []).map(
    (e) => (e.addresses as string[])[0] as string,
  );
}

describe('scale to zero and back, repeatedly, through the Service', () => {
  let cluster: FakeCluster;
  let service: ServiceProxy;
  before(async () => {
    cluster = await FakeCluster.start({
      scheduleMs: 150,
      appStartMs: 500,
      backendEnv: { RESPONSE_DELAY_MS: '2' },
    });
    service = await ServiceProxy.start(cluster.api, NAMESPACE, 'web', 'http');
  });
  after(async () => {
    await service?.close();
    await cluster?.close();
  });

  it('routes the Service through the resolver only at zero, and loses nothing over 3 cycles', async (t) => {
    // GIVEN a target at zero: the resolver has put its own pod into the Service's endpoints
    await until(() => resolverAddresses(cluster).length === 1, 10_000, 'the resolver slice');
    const slice = cluster.api.endpointSlice(NAMESPACE, SLICE) as JsonObject;
    assert.deepEqual((slice.metadata as JsonObject).labels, {
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'resolver.elasticai.io',
      'app.kubernetes.io/managed-by': 'elasticai',
      'app.kubernetes.io/component': 'scale-to-zero-resolver',
    });
    // owned by the Service, so it goes when the Service goes
    const owner = ((slice.metadata as JsonObject).ownerReferences as JsonObject[])[0];
    assert.equal(owner?.kind, 'Service');
    assert.equal(owner?.name, 'web');
    assert.deepEqual(slice.ports, [{ name: 'http', port: cluster.resolver.proxyPort, protocol: 'TCP' }]);

    const all: { planned: ReturnType<typeof plan>; replies: (Reply | Error)[] }[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      // WHEN 100 clients arrive at zero through the Service
      const planned = plan(100, `cycle${cycle}`);
      const before = service.routed.length;
      const replies = await fire(service.port, planned);
      all.push({ planned, replies });
      // THEN they all reached the resolver (the only endpoint), which woke the target and released them
      assert.ok(service.routed.slice(before).every((r) => r.to === 'resolver'));
      const verdict = verify(planned, replies, cluster.deliveries);
      assert.deepEqual(verdict.wrong, []);
      assert.equal(verdict.ok, 100);
      // AND once the pod is ready the resolver leaves the Service's endpoints
      const readyAt = cluster.readyAt.at(-1) as number;
      await until(() => resolverAddresses(cluster).length === 0, 10_000, 'the switch to the pod');
      t.diagnostic(
        `cycle ${cycle}: switched to the pod ${(wallNow() - readyAt).toFixed(0)} ms after readiness (upper bound)`,
      );
      // WHEN warm traffic comes
      const warmFrom = service.routed.length;
      const warm = plan(20, `warm${cycle}`);
      const warmReplies: (Reply | Error)[] = [];
      for (const p of warm) warmReplies.push(...(await fire(service.port, [p])));
      all.push({ planned: warm, replies: warmReplies });
      // THEN it goes straight to the pod: no resolver in the warm path
      assert.ok(
        service.routed.slice(warmFrom).every((r) => r.to === 'pod'),
        JSON.stringify(service.routed.slice(warmFrom)),
      );
      assert.equal(verify(warm, warmReplies, cluster.deliveries).ok, 20);
      // WHEN the cooldown passes and KEDA scales the pod away
      await cluster.scaleToZero();
      // THEN the resolver is back in the Service's endpoints
      await until(() => resolverAddresses(cluster).length === 1, 10_000, 'the switch back to the resolver');
    }
    // AND over all cycles: each request delivered exactly once, one wake-up and one cold start per cycle
    const planned = all.flatMap((c) => c.planned);
    const verdict = verify(
      planned,
      all.flatMap((c) => c.replies),
      cluster.deliveries,
    );
    assert.equal(verdict.ok, 360);
    assert.deepEqual(verdict.lost, []);
    assert.deepEqual(verdict.duplicated, []);
    assert.equal(cluster.starts, 3);
    assert.equal(await cluster.metric('elasticai_resolver_wakeups_total', { target: 'shop/web' }), 3);
    assert.equal(await cluster.metric('elasticai_resolver_cold_start_seconds', { target: 'shop/web' }), 3);
    assert.equal(await cluster.metric('elasticai_resolver_released_total', { target: 'shop/web' }), 300);
  });

  it('holds requests that arrive while the last pod terminates, and wakes the target again', async () => {
    // GIVEN a warm target
    const warmup = await fire(service.port, plan(1, 'wake-it'));
    assert.equal((warmup[0] as Reply).status, 200);
    await until(() => resolverAddresses(cluster).length === 0, 10_000, 'warm');
    const starts = cluster.starts;
    // WHEN clients keep coming every 20 ms while KEDA takes the last pod away
    const planned = plan(60, 'racing');
    const replies: Promise<(Reply | Error)[]>[] = [];
    const stream = (async () => {
      for (const p of planned) {
        replies.push(fire(service.port, [p]));
        await sleep(20);
      }
    })();
    await sleep(200);
    // (the pod keeps serving for its preStop delay while its endpoint is terminating, as a pod should)
    const backend = cluster.running;
    assert.ok(backend);
    cluster.replicas = 0;
    cluster.putTargetEndpoints([{ port: backend.port, ready: false, terminating: true }]);
    await sleep(150);
    await backend.stop('SIGTERM');
    cluster.putTargetEndpoints([]);
    await stream;
    const results = (await Promise.all(replies)).flat();
    // THEN none was lost or failed: those after the switch were held and released to the next pod
    const verdict = verify(planned, results, cluster.deliveries);
    assert.deepEqual(verdict.wrong, []);
    assert.deepEqual(verdict.lost, []);
    assert.deepEqual(verdict.duplicated, []);
    assert.equal(cluster.starts, starts + 1);
    // (sanity) the late ones really went through the resolver
    assert.ok(service.routed.slice(-20).some((r) => r.to === 'resolver'));
  });
});
