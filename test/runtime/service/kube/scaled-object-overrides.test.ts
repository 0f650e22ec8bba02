import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KubeApiError, KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import {
  OVERRIDE_ANNOTATIONS,
  ScaledObjectNotFoundError,
  ScaledObjectOverrides,
} from '../../../../runtime/service/kube/scaled-object-overrides.js';
import type { JsonObject } from '../../../support/fake-kube-api.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';

const SA_TOKEN = 'runtime-sa-token-0123456789';
const OURS = 'elasticai-runtime.elasticai-system.svc.cluster.local:9090';
const PAUSED = OVERRIDE_ANNOTATIONS.pausedReplicas;
const EXPIRES = OVERRIDE_ANNOTATIONS.expiresAt;
const BY = OVERRIDE_ANNOTATIONS.by;

function so(
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
  triggers: unknown[] = [{ type: 'external', metadata: { scalerAddress: OURS, metric: 'rps' } }],
): JsonObject {
  return { metadata: { namespace, name, annotations }, spec: { scaleTargetRef: { name }, triggers } };
}

function annotations(api: FakeKubeApi, namespace: string, name: string): Record<string, string> {
  const o = api.scaledObject(namespace, name) as { metadata: { annotations?: Record<string, string> } };
  return o.metadata.annotations ?? {};
}

function resourceVersion(api: FakeKubeApi, namespace: string, name: string): string {
  return (api.scaledObject(namespace, name) as { metadata: { resourceVersion: string } }).metadata
    .resourceVersion;
}

describe('ScaledObjectOverrides: manual override through KEDA annotations', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let overrides: ScaledObjectOverrides;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.putScaledObject(so('shop', 'checkout', { team: 'payments' }));
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
    overrides = new ScaledObjectOverrides(kube);
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('set stores exactly paused-replicas, the RFC 3339 expiry and the author, and keeps other annotations', async () => {
    // WHEN an operator holds checkout at 3 replicas until noon
    const expiresAt = new Date('2026-01-05T12:00:00Z');
    const before = resourceVersion(api, 'shop', 'checkout');
    await overrides.set('shop', 'checkout', 3, { expiresAt, by: 'api-key:ops' });
    // THEN the stored annotations are KEDA's paused-replicas (a string) plus ours, nothing else changed
    assert.deepEqual(annotations(api, 'shop', 'checkout'), {
      team: 'payments',
      'autoscaling.keda.sh/paused-replicas': '3',
      'elasticai.io/override-expires-at': '2026-01-05T12:00:00Z',
      'elasticai.io/override-by': 'api-key:ops',
    });
    assert.notEqual(resourceVersion(api, 'shop', 'checkout'), before);
    // AND it was one merge patch on the ScaledObject's path
    const call = api.calls.at(-1);
    assert.equal(call?.method, 'PATCH');
    assert.equal(call?.path, '/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/checkout');
    assert.equal(call?.contentType, 'application/merge-patch+json');
    // AND get reads back what was stored
    assert.deepEqual(await overrides.get('shop', 'checkout'), {
      namespace: 'shop',
      name: 'checkout',
      replicas: 3,
      expiresAt: '2026-01-05T12:00:00Z',
      by: 'api-key:ops',
    });
  });

  it('get round-trips set with a fractional-second expiry and a ServiceAccount author', async () => {
    const expiresAt = new Date('2026-01-05T12:30:15.250Z');
    await overrides.set('shop', 'checkout', 0, { expiresAt, by: 'system:serviceaccount:ops:deployer' });
    assert.equal(annotations(api, 'shop', 'checkout')[EXPIRES], '2026-01-05T12:30:15.250Z');
    assert.deepEqual(await overrides.get('shop', 'checkout'), {
      namespace: 'shop',
      name: 'checkout',
      replicas: 0,
      expiresAt: '2026-01-05T12:30:15.250Z',
      by: 'system:serviceaccount:ops:deployer',
    });
  });

  it('a new override without expiry or author removes the previous ones', async () => {
    // GIVEN an override with an expiry by alice
    await overrides.set('shop', 'checkout', 3, { expiresAt: new Date('2026-01-05T12:00:00Z'), by: 'alice' });
    // WHEN a permanent override is set without an author
    await overrides.set('shop', 'checkout', 5);
    // THEN the old expiry is gone (it would otherwise clear the new override) and so is the author
    assert.deepEqual(annotations(api, 'shop', 'checkout'), { team: 'payments', [PAUSED]: '5' });
    assert.deepEqual(await overrides.get('shop', 'checkout'), {
      namespace: 'shop',
      name: 'checkout',
      replicas: 5,
    });
  });

  it('clear removes the three annotations (merge patch with null) and keeps the rest', async () => {
    await overrides.set('shop', 'checkout', 3, { expiresAt: new Date('2026-01-05T12:00:00Z'), by: 'alice' });
    await overrides.clear('shop', 'checkout');
    assert.deepEqual(annotations(api, 'shop', 'checkout'), { team: 'payments' });
    assert.deepEqual(api.calls.at(-1)?.body, {
      metadata: { annotations: { [PAUSED]: null, [EXPIRES]: null, [BY]: null } },
    });
    assert.equal(await overrides.get('shop', 'checkout'), undefined);
  });

  it('get is undefined without an override or with a replica count KEDA would refuse', async () => {
    assert.equal(await overrides.get('shop', 'checkout'), undefined);
    api.putScaledObject(so('shop', 'bad', { [PAUSED]: 'three' }));
    assert.equal(await overrides.get('shop', 'bad'), undefined);
    api.putScaledObject(so('shop', 'huge', { [PAUSED]: '2147483648' }));
    assert.equal(await overrides.get('shop', 'huge'), undefined);
    // an unreadable expiry is left out (and never expires the override)
    api.putScaledObject(so('shop', 'odd', { [PAUSED]: '2', [EXPIRES]: 'tomorrow' }));
    assert.deepEqual(await overrides.get('shop', 'odd'), { namespace: 'shop', name: 'odd', replicas: 2 });
    assert.deepEqual(await overrides.expireOverrides(new Date('2100-01-01T00:00:00Z')), []);
    assert.equal(annotations(api, 'shop', 'odd')[PAUSED], '2');
  });

  it('a missing ScaledObject is a ScaledObjectNotFoundError naming it, for set, clear and get', async () => {
    for (const call of [
      () => overrides.set('shop', 'ghost', 1),
      () => overrides.clear('shop', 'ghost'),
      () => overrides.get('shop', 'ghost'),
    ]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof ScaledObjectNotFoundError);
        assert.ok(KubeApiError.isNotFound(e));
        assert.equal(e.reason, 'NotFound');
        assert.equal(e.message, 'ScaledObject shop/ghost not found');
        assert.equal(e.namespace, 'shop');
        assert.equal(e.scaledObject, 'ghost');
        return true;
      });
    }
  });

  it('refuses a negative, fractional or int32-overflowing replica count before calling the API', async () => {
    for (const bad of [-1, 1.5, 2 ** 31, Number.NaN]) {
      await assert.rejects(overrides.set('shop', 'checkout', bad), /replicas: must be an integer/);
    }
    await assert.rejects(overrides.set('shop', 'checkout', 1, { expiresAt: new Date('nope') }), /expiresAt/);
    assert.equal(api.calls.length, 0);
  });
});

describe('ScaledObjectOverrides.expireOverrides', () => {
  const NOW = new Date('2026-01-05T12:00:00Z');
  let api: FakeKubeApi;
  let kube: KubeClient;
  let overrides: ScaledObjectOverrides;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.putScaledObject(
      so('shop', 'expired', { [PAUSED]: '2', [EXPIRES]: '2026-01-05T11:59:59Z', [BY]: 'a', keep: 'x' }),
    );
    api.putScaledObject(so('shop', 'due-now', { [PAUSED]: '2', [EXPIRES]: '2026-01-05T12:00:00Z' }));
    api.putScaledObject(so('shop', 'future', { [PAUSED]: '4', [EXPIRES]: '2026-01-05T12:00:01Z' }));
    api.putScaledObject(so('shop', 'permanent', { [PAUSED]: '1' }));
    api.putScaledObject(so('ml', 'offset', { [PAUSED]: '7', [EXPIRES]: '2026-01-05T13:30:00+02:00' }));
    api.putScaledObject(so('ml', 'plain'));
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
    overrides = new ScaledObjectOverrides(kube, { pageSize: 2 });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('clears exactly the overrides whose expiry has passed, in every namespace', async () => {
    // WHEN the leader sweeps at noon
    const cleared = await overrides.expireOverrides(NOW);
    // THEN the expired ones (including one written with an offset, 11:30Z) lose all three annotations
    assert.deepEqual(cleared.map((r) => `${r.namespace}/${r.name}`).sort(), [
      'ml/offset',
      'shop/due-now',
      'shop/expired',
    ]);
    assert.deepEqual(annotations(api, 'shop', 'expired'), { keep: 'x' });
    assert.deepEqual(annotations(api, 'shop', 'due-now'), {});
    assert.deepEqual(annotations(api, 'ml', 'offset'), {});
    // AND the future and permanent overrides are untouched
    assert.deepEqual(annotations(api, 'shop', 'future'), {
      [PAUSED]: '4',
      [EXPIRES]: '2026-01-05T12:00:01Z',
    });
    assert.deepEqual(annotations(api, 'shop', 'permanent'), { [PAUSED]: '1' });
    // AND it listed all namespaces page by page (6 objects, 2 per page)
    const lists = api.callsTo('GET', '/apis/keda.sh/v1alpha1/scaledobjects');
    assert.equal(lists.length, 3);
    assert.deepEqual(lists[0]?.query, { limit: '2' });
    assert.ok(lists[1]?.query.continue);
    // AND a second sweep finds nothing
    assert.deepEqual(await overrides.expireOverrides(NOW), []);
  });

  it('each removal is conditional on the resourceVersion read', async () => {
    await overrides.expireOverrides(NOW);
    const patches = api.callsTo('PATCH', '/apis/keda.sh/v1alpha1/namespaces/');
    assert.equal(patches.length, 3);
    for (const p of patches) {
      const body = p.body as { metadata: { resourceVersion?: string } };
      assert.match(body.metadata.resourceVersion ?? '', /^\d+$/);
    }
  });

  it('keeps an override re-set between the list and the removal', async () => {
    // GIVEN an operator extends shop/expired just before the leader's patch reaches the API server
    let raced = false;
    api.onRequest = ({ method, path }) => {
      if (!raced && method === 'PATCH' && path.endsWith('/shop/scaledobjects/expired')) {
        raced = true;
        api.putScaledObject(
          so('shop', 'expired', { [PAUSED]: '9', [EXPIRES]: '2026-01-05T18:00:00Z', [BY]: 'b' }),
        );
      }
    };
    // WHEN sweeping
    const cleared = await overrides.expireOverrides(NOW);
    // THEN the stale removal got 409 Conflict, the re-read showed a live override, and it was kept
    assert.ok(raced);
    assert.ok(!cleared.some((r) => r.name === 'expired'));
    assert.deepEqual(annotations(api, 'shop', 'expired'), {
      [PAUSED]: '9',
      [EXPIRES]: '2026-01-05T18:00:00Z',
      [BY]: 'b',
    });
    assert.ok(api.calls.some((c) => c.method === 'PATCH' && c.status === 409));
  });

  it('still clears an expired override when something else (KEDA status) changed the object meanwhile', async () => {
    let raced = false;
    api.onRequest = ({ method, path }) => {
      if (!raced && method === 'PATCH' && path.endsWith('/shop/scaledobjects/expired')) {
        raced = true;
        const current = api.scaledObject('shop', 'expired') as JsonObject;
        api.putScaledObject({ ...current, status: { lastActiveTime: '2026-01-05T11:59:50Z' } });
      }
    };
    const cleared = await overrides.expireOverrides(NOW);
    assert.ok(raced);
    assert.ok(cleared.some((r) => r.name === 'expired'));
    assert.deepEqual(annotations(api, 'shop', 'expired'), { keep: 'x' });
  });

  it('throws an API failure after sweeping the rest', async () => {
    // GIVEN the API server fails (500) the removal on shop/expired only
    api.onRequest = ({ method, path }) => {
      if (method === 'PATCH' && path.endsWith('/shop/scaledobjects/expired')) throw new Error('etcd timeout');
    };
    // WHEN sweeping THEN the failure is reported, not swallowed
    await assert.rejects(overrides.expireOverrides(NOW), (e: unknown) => {
      assert.equal((e as { status?: number }).status, 500);
      assert.equal((e as { reason?: string }).reason, 'InternalError');
      return true;
    });
    // AND the other expired overrides were still cleared
    assert.deepEqual(annotations(api, 'shop', 'due-now'), {});
    assert.deepEqual(annotations(api, 'ml', 'offset'), {});
    assert.equal(annotations(api, 'shop', 'expired')[PAUSED], '2');
  });
});

describe('ScaledObjectOverrides.listRuntimeScaledObjects: workload discovery', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('returns each external/external-push trigger whose scalerAddress is ours, with its index and metadata', async () => {
    // GIVEN ScaledObjects in several namespaces with a mix of triggers
    api.putScaledObject(
      so('shop', 'checkout', {}, [{ type: 'external', metadata: { scalerAddress: OURS, metric: 'rps' } }]),
    );
    api.putScaledObject(
      so('shop', 'worker', {}, [
        { type: 'rabbitmq', metadata: { queueName: 'jobs', scalerAddress: OURS } },
        {
          type: 'external-push',
          name: 'predicted',
          metadata: { scalerAddress: ` ${OURS.toUpperCase()} `, source: 'webhook' },
        },
      ]),
    );
    api.putScaledObject(
      so('ml', 'other-scaler', {}, [{ type: 'external', metadata: { scalerAddress: 'someone-else:9090' } }]),
    );
    api.putScaledObject(so('ml', 'cpu', {}, [{ type: 'cpu', metadata: { value: '50' } }]));
    api.putScaledObject(so('ml', 'no-address', {}, [{ type: 'external', metadata: { metric: 'x' } }]));
    api.putScaledObject(
      so('batch', 'short', {}, [
        { type: 'external', metadata: { scalerAddress: 'elasticai-runtime.elasticai-system:9090' } },
      ]),
    );
    // WHEN discovering with both spellings of our Service address
    const found = await new ScaledObjectOverrides(kube).listRuntimeScaledObjects([
      OURS,
      'elasticai-runtime.elasticai-system:9090',
    ]);
    // THEN exactly our triggers come back
    const sorted = [...found].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
    assert.deepEqual(sorted, [
      {
        namespace: 'batch',
        name: 'short',
        triggerIndex: 0,
        type: 'external',
        metadata: { scalerAddress: 'elasticai-runtime.elasticai-system:9090' },
      },
      {
        namespace: 'shop',
        name: 'checkout',
        triggerIndex: 0,
        type: 'external',
        metadata: { scalerAddress: OURS, metric: 'rps' },
      },
      {
        namespace: 'shop',
        name: 'worker',
        triggerIndex: 1,
        type: 'external-push',
        metadata: { scalerAddress: ` ${OURS.toUpperCase()} `, source: 'webhook' },
      },
    ]);
    // AND one cluster-wide list call was made
    assert.deepEqual(
      api.calls.map((c) => [c.method, c.path]),
      [['GET', '/apis/keda.sh/v1alpha1/scaledobjects']],
    );
  });

  it('follows continue tokens across pages', async () => {
    for (let i = 0; i < 7; i++) api.putScaledObject(so(`ns-${i % 3}`, `w${i}`));
    const found = await new ScaledObjectOverrides(kube, { pageSize: 3 }).listRuntimeScaledObjects([OURS]);
    assert.equal(found.length, 7);
    assert.equal(new Set(found.map((f) => `${f.namespace}/${f.name}`)).size, 7);
    assert.equal(api.calls.length, 3);
  });

  it('finds nothing when no address matches', async () => {
    api.putScaledObject(so('shop', 'checkout'));
    assert.deepEqual(await new ScaledObjectOverrides(kube).listRuntimeScaledObjects(['other:9090']), []);
  });
});
