/**
 * EndpointSlices through the Kubernetes client: the fake API server keeps the real server's semantics the
 * resolver relies on (label selectors, resourceVersion preconditions, validation, watch resumption and
 * 410 Expired), `KubeClient.watch` streams its events, and `SliceInformer` turns them into ready
 * endpoints within milliseconds — resuming watches without re-listing, re-listing on 410.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SliceInformer } from '../../../runtime/resolver/slice-informer.js';
import type { WatchEvent } from '../../../runtime/service/kube/kube-client.js';
import { KubeApiError, KubeClient } from '../../../runtime/service/kube/kube-client.js';
import { FakeKubeApi, type JsonObject } from '../../support/fake-kube-api.js';
import { FakeCluster, sleep, until } from './support/cluster.js';

const TOKEN = 'sa-token-0123456789abcdef';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';

async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KubeApiError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}

function slice(
  name: string,
  service: string,
  port: number,
  ready: boolean,
  extra: JsonObject = {},
): JsonObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    ...FakeCluster.slice('shop', service, name, 'http', port, [{ address: '10.0.0.7', ready }]),
    ...extra,
  };
}

describe('EndpointSlices on the fake API server', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: TOKEN });
    kube = new KubeClient({ url: api.url, token: TOKEN });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('lists by label selector (=, !=, in, notin, exists, !) and field selector on the name', async () => {
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    api.putEndpointSlice(slice('api-a', 'api', 8080, true));
    api.putEndpointSlice(slice('db-a', 'db', 5432, true));
    const names = async (query: Record<string, string>): Promise<string[]> =>
      (await kube.list<{ items: JsonObject[] }>(SLICES, query)).items.map(
        (i) => (i.metadata as JsonObject).name as string,
      );
    assert.deepEqual(await names({ labelSelector: 'kubernetes.io/service-name in (web,api)' }), [
      'api-a',
      'web-a',
    ]);
    assert.deepEqual(await names({ labelSelector: 'kubernetes.io/service-name notin (web)' }), [
      'api-a',
      'db-a',
    ]);
    assert.deepEqual(await names({ labelSelector: 'kubernetes.io/service-name=db' }), ['db-a']);
    assert.deepEqual(
      await names({ labelSelector: 'kubernetes.io/service-name!=db,kubernetes.io/service-name' }),
      ['api-a', 'web-a'],
    );
    assert.deepEqual(await names({ labelSelector: '!kubernetes.io/service-name' }), []);
    assert.deepEqual(await names({ fieldSelector: 'metadata.name=api-a' }), ['api-a']);
    assert.equal((await failure(kube.list(SLICES, { labelSelector: 'a in (b' }))).status, 400);
    assert.equal((await failure(kube.list(SLICES, { fieldSelector: 'spec.x=1' }))).status, 400);
  });

  it('creates, updates with a resourceVersion precondition, patches and deletes, checking the object', async () => {
    const created = await kube.post<JsonObject>(SLICES, slice('mine', 'web', 8080, true));
    const rv = (created.metadata as JsonObject).resourceVersion as string;
    assert.equal(
      (await failure(kube.post(SLICES, slice('mine', 'web', 8080, true)))).reason,
      'AlreadyExists',
    );
    const updated = await kube.replace<JsonObject>(`${SLICES}/mine`, {
      ...slice('mine', 'web', 9090, true),
      metadata: { ...(created.metadata as JsonObject), resourceVersion: rv },
    });
    assert.notEqual((updated.metadata as JsonObject).resourceVersion, rv);
    // a stale resourceVersion is a conflict
    const stale = { ...slice('mine', 'web', 7070, true), metadata: { name: 'mine', resourceVersion: rv } };
    assert.equal((await failure(kube.replace(`${SLICES}/mine`, stale))).status, 409);
    // addressType is immutable, addresses and ports are checked
    const v6 = { ...slice('mine', 'web', 8080, true), addressType: 'IPv6' };
    assert.equal((await failure(kube.replace(`${SLICES}/mine`, v6))).status, 422);
    const badAddress = { ...slice('bad', 'web', 8080, true), endpoints: [{ addresses: ['not-an-ip'] }] };
    assert.match((await failure(kube.post(SLICES, badAddress))).message, /valid IPv4 address/);
    const badPort = { ...slice('bad', 'web', 70000, true) };
    assert.equal((await failure(kube.post(SLICES, badPort))).status, 422);
    const patched = await kube.mergePatch<JsonObject>(`${SLICES}/mine`, { endpoints: [] });
    assert.deepEqual(patched.endpoints, []);
    const deleted = await fetch(`${api.url}${SLICES}/mine`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(deleted.status, 200);
    assert.equal((await failure(kube.get(`${SLICES}/mine`))).status, 404);
    assert.equal(api.deleteEndpointSlice('shop', 'mine'), false);
  });

  it('streams watch events from a resourceVersion, turns selector moves into ADDED/DELETED, and answers 410 after compaction', async () => {
    const first = api.putEndpointSlice(slice('web-a', 'web', 8080, false));
    const from = (first.metadata as JsonObject).resourceVersion as string;
    const events: WatchEvent<JsonObject>[] = [];
    const abort = new AbortController();
    const watching = kube
      .watch<JsonObject>(
        SLICES,
        { labelSelector: 'kubernetes.io/service-name=web', resourceVersion: from },
        (e) => events.push(e),
        {
          signal: abort.signal,
        },
      )
      .catch((e: unknown) => e);
    await until(() => api.openWatches === 1, 10_000, 'the watch');
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    api.putEndpointSlice(slice('other', 'db', 1, true));
    // moving out of the selector reads as DELETED, moving in as ADDED
    api.putEndpointSlice(slice('web-a', 'db', 8080, true));
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    api.deleteEndpointSlice('shop', 'web-a');
    await until(() => events.length === 4, 10_000, '4 events');
    assert.deepEqual(
      events.map((e) => e.type),
      ['MODIFIED', 'DELETED', 'ADDED', 'DELETED'],
    );
    abort.abort();
    assert.equal(((await watching) as KubeApiError).reason, 'Aborted');
    // after compaction, resuming from an old resourceVersion is an ERROR event with 410 Expired
    api.compactHistory();
    const late: WatchEvent<JsonObject>[] = [];
    await kube.watch<JsonObject>(SLICES, { resourceVersion: from }, (e) => late.push(e));
    assert.equal(late[0]?.type, 'ERROR');
    assert.equal((late[0]?.object as JsonObject).code, 410);
  });

  it('fails a watch that stays silent past its idle timeout', async () => {
    const t0 = performance.now();
    const error = await failure(kube.watch(SLICES, {}, () => undefined, { idleTimeoutMs: 200 }));
    assert.equal(error.reason, 'Timeout');
    // (without the idle timeout it would wait forever; the bound leaves a loaded CI machine room)
    assert.ok(performance.now() - t0 < 3_000);
  });
});

describe('SliceInformer', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let informer: SliceInformer;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: TOKEN });
    kube = new KubeClient({ url: api.url, token: TOKEN });
    informer = new SliceInformer(kube, 'shop', ['web', 'api']);
  });
  afterEach(async () => {
    await informer.stop();
    kube.close();
    await api.close();
  });

  it('sees an endpoint turn ready within milliseconds, through the watch', async () => {
    api.putEndpointSlice(slice('web-a', 'web', 8080, false));
    await informer.start();
    assert.deepEqual(
      informer.endpoints('web', 'http').map((e) => [e.key, e.ready]),
      [['10.0.0.7:8080', false]],
    );
    let seenAt = 0;
    informer.on('change', (services: Set<string>) => {
      if (services.has('web') && informer.endpoints('web', 'http')[0]?.ready) seenAt = performance.now();
    });
    await until(() => api.openWatches === 1, 10_000, 'the watch');
    const t0 = performance.now();
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    await until(() => seenAt > 0, 10_000, 'the ready endpoint');
    // (a few ms here; the bound leaves a loaded CI machine room, and a list-based informer, one list,
    // would not see it at all)
    assert.ok(seenAt - t0 < 1_000, `seen after ${(seenAt - t0).toFixed(1)} ms`);
    // only one list: everything after came through the watch
    assert.equal(api.callsTo('GET', SLICES).filter((c) => c.query.watch === undefined).length, 1);
  });

  it('merges slices, keeps terminating endpoints apart, and ignores slices the resolver wrote', async () => {
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    api.putEndpointSlice(
      FakeCluster.slice('shop', 'web', 'web-b', 'http', 8080, [
        { address: '10.0.0.8', ready: false, terminating: true },
      ]),
    );
    api.putEndpointSlice({
      ...FakeCluster.slice('shop', 'web', 'web-elasticai-resolver', 'http', 8080, [
        { address: '10.9.9.9', ready: true },
      ]),
      metadata: {
        name: 'web-elasticai-resolver',
        namespace: 'shop',
        labels: {
          'kubernetes.io/service-name': 'web',
          'endpointslice.kubernetes.io/managed-by': 'resolver.elasticai.io',
        },
      },
    });
    await informer.start();
    const endpoints = informer.endpoints('web', 'http');
    assert.deepEqual(
      endpoints.map((e) => [e.host, e.ready, e.serving, e.terminating]),
      [
        ['10.0.0.7', true, true, false],
        ['10.0.0.8', false, true, true],
      ],
    );
    assert.deepEqual(informer.endpoints('web', 'grpc'), []);
  });

  it('resumes a watch the server ended without re-listing, and re-lists after 410 Expired', async () => {
    await informer.start();
    await until(() => api.openWatches === 1, 10_000, 'the watch');
    const lists = (): number => api.callsTo('GET', SLICES).filter((c) => c.query.watch === undefined).length;
    // the API server ends the watch (its timeout): the informer watches again from its resourceVersion
    api.closeWatches();
    await until(() => api.openWatches === 1, 10_000, 'a new watch');
    api.putEndpointSlice(slice('web-a', 'web', 8080, true));
    await until(() => informer.endpoints('web', 'http').length === 1, 10_000, 'the new endpoint');
    assert.equal(lists(), 1);
    // changes the informer does not watch move the history on; compaction then leaves its
    // resourceVersion behind: the resumed watch gets 410 Expired and the informer lists again at once
    api.putEndpointSlice(slice('db-a', 'db', 5432, true));
    api.compactHistory();
    api.closeWatches();
    await until(() => lists() === 2, 10_000, 'the re-list');
    api.putEndpointSlice(slice('api-a', 'api', 8080, true));
    await until(() => informer.endpoints('api', 'http').length === 1, 10_000, 'events after the re-list');
    await sleep(50);
  });
});
