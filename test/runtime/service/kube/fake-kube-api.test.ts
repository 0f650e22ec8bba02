// The fake API server stands in for a real one in the runtime's tests: these check that it keeps the API
// server's semantics the runtime relies on, so a test passing against it means something.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KubeApiError, KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import { applyMergePatch, FakeKubeApi } from '../../../support/fake-kube-api.js';

const SA_TOKEN = 'runtime-sa-token-0123456789';
const SO = '/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/checkout';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/elasticai-system/leases';

async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

function lease(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...extra },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-01-05T12:00:00.000000Z' },
  };
}

describe('applyMergePatch (RFC 7386)', () => {
  it('merges objects recursively, replaces arrays and scalars, and removes keys set to null', () => {
    const target = { a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2], keep: true };
    const patch = { a: 'z', c: { f: null, h: 'i' }, list: [3], n: { deep: null } };
    assert.deepEqual(applyMergePatch(target, patch), {
      a: 'z',
      c: { d: 'e', h: 'i' },
      list: [3],
      keep: true,
      n: {},
    });
    // the RFC's own examples: a non-object patch replaces the target
    assert.deepEqual(applyMergePatch({ a: 'foo' }, ['c']), ['c']);
    assert.equal(applyMergePatch({ a: 'foo' }, null), null);
  });
});

describe('FakeKubeApi', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.putScaledObject({
      metadata: { namespace: 'shop', name: 'checkout', annotations: { a: '1' } },
      spec: {},
    });
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('refuses calls without the ServiceAccount token with a 401 Status, and records them', async () => {
    const res = await fetch(`${api.url}${SO}`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    assert.equal(api.calls[0]?.status, 401);
    assert.equal(api.calls[0]?.token, undefined);
  });

  it('merge-patches a ScaledObject, bumping resourceVersion and keeping generation when spec is unchanged', async () => {
    const before = api.scaledObject('shop', 'checkout') as {
      metadata: { resourceVersion: string; generation: number };
    };
    const after = await kube.mergePatch<{
      metadata: { resourceVersion: string; generation: number; annotations: object };
    }>(SO, { metadata: { annotations: { a: null, b: '2' } } });
    assert.deepEqual(after.metadata.annotations, { b: '2' });
    assert.ok(Number(after.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
    assert.equal(after.metadata.generation, before.metadata.generation);
  });

  it('treats metadata.resourceVersion in a patch as a precondition (409 Conflict)', async () => {
    const e = await failure(
      kube.mergePatch(SO, { metadata: { resourceVersion: '1', annotations: { b: '2' } } }),
    );
    assert.equal(e.status, 409);
    assert.equal(e.reason, 'Conflict');
    assert.match(e.message, /the object has been modified/);
  });

  it('accepts only application/merge-patch+json for PATCH (415 otherwise)', async () => {
    const res = await fetch(`${api.url}${SO}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${SA_TOKEN}`,
        'content-type': 'application/strategic-merge-patch+json',
      },
      body: '{}',
    });
    assert.equal(res.status, 415);
    assert.equal(((await res.json()) as { reason: string }).reason, 'UnsupportedMediaType');
  });

  it('refuses non-string annotation values (400) and invalid annotation keys (422)', async () => {
    assert.equal((await failure(kube.mergePatch(SO, { metadata: { annotations: { n: 3 } } }))).status, 400);
    assert.equal(
      (await failure(kube.mergePatch(SO, { metadata: { annotations: { 'bad key': 'x' } } }))).status,
      422,
    );
    assert.deepEqual(
      (api.scaledObject('shop', 'checkout') as { metadata: { annotations: object } }).metadata.annotations,
      { a: '1' },
    );
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    assert.equal((await failure(kube.get('/api/v1/namespaces/shop/pods'))).status, 404);
    assert.equal(
      (await failure(kube.post('/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects', {}))).status,
      405,
    );
    assert.equal((await failure(kube.replace(SO, {}))).status, 405);
  });

  it('Leases: 409 AlreadyExists on a second create, 404 on updating a missing one, 409 Conflict on a stale update', async () => {
    const created = await kube.create<{ metadata: { resourceVersion: string } }>(LEASES, lease('l'));
    const dup = await failure(kube.create(LEASES, lease('l')));
    assert.deepEqual(
      [dup.status, dup.reason, dup.message],
      [409, 'AlreadyExists', 'leases.coordination.k8s.io "l" already exists'],
    );
    const missing = await failure(kube.replace(`${LEASES}/nope`, lease('nope')));
    assert.deepEqual([missing.status, missing.reason], [404, 'NotFound']);
    await kube.replace(`${LEASES}/l`, lease('l', { resourceVersion: created.metadata.resourceVersion }));
    const stale = await failure(
      kube.replace(`${LEASES}/l`, lease('l', { resourceVersion: created.metadata.resourceVersion })),
    );
    assert.deepEqual([stale.status, stale.reason], [409, 'Conflict']);
  });

  it('Leases: refuses times that are not MicroTime and a name that differs from the URL', async () => {
    const bad = lease('l');
    (bad.spec as Record<string, unknown>).renewTime = '2026-01-05T12:00:00.000Z';
    assert.equal((await failure(kube.create(LEASES, bad))).status, 400);
    await kube.create(LEASES, lease('l'));
    assert.equal((await failure(kube.replace(`${LEASES}/l`, lease('other')))).status, 400);
  });

  it('TokenReview and SubjectAccessReview are answered with 201 and a status', async () => {
    api.users.set('user-token', { username: 'alice', groups: ['dev'] });
    api.accessRules.push({ users: ['alice'], verbs: ['get'], namespaces: ['shop'] });
    const tr = await kube.post<{ status: { authenticated: boolean; user: { groups: string[] } } }>(
      '/apis/authentication.k8s.io/v1/tokenreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'user-token' } },
    );
    assert.equal(tr.status.authenticated, true);
    assert.deepEqual(tr.status.user.groups, ['dev', 'system:authenticated']);
    const sar = (namespace: string) =>
      kube.post<{ status: { allowed: boolean } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'alice',
          resourceAttributes: { group: 'keda.sh', resource: 'scaledobjects', verb: 'get', namespace },
        },
      });
    assert.equal((await sar('shop')).status.allowed, true);
    assert.equal((await sar('ml')).status.allowed, false);
    assert.deepEqual(
      api.calls.map((c) => c.status),
      [201, 201, 201],
    );
  });
});
