import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { RuntimeConfig } from '../../../../runtime/service/config.js';
import { loadRuntimeConfig } from '../../../../runtime/service/config.js';
import { KubeApiError, KubeClient, kubePath } from '../../../../runtime/service/kube/kube-client.js';
import { FakeKubeApi, selfSignedCertificate } from '../../../support/fake-kube-api.js';

const SA_TOKEN = 'runtime-sa-token-0123456789';
const SO_PATH = '/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/checkout';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/elasticai-system/leases';

function scaledObject(namespace: string, name: string): Record<string, unknown> {
  return {
    metadata: { namespace, name, annotations: { team: 'payments' } },
    spec: { scaleTargetRef: { name }, triggers: [{ type: 'cpu', metadata: { value: '60' } }] },
  };
}

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KubeApiError, `expected a KubeApiError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

function config(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return { ...loadRuntimeConfig({}), ...overrides };
}

describe('KubeClient against the fake API server', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.putScaledObject(scaledObject('shop', 'checkout'));
    api.putScaledObject(scaledObject('shop', 'cart'));
    api.putScaledObject(scaledObject('ml', 'inference'));
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('gets an object as parsed JSON, sending the bearer token and asking for JSON', async () => {
    // WHEN getting one ScaledObject
    const so = await kube.get<{
      kind: string;
      metadata: { name: string; annotations: Record<string, string> };
    }>(SO_PATH);
    // THEN the object comes back parsed, and the call carried the ServiceAccount token
    assert.equal(so.kind, 'ScaledObject');
    assert.equal(so.metadata.name, 'checkout');
    assert.equal(so.metadata.annotations.team, 'payments');
    const call = api.calls.at(-1);
    assert.equal(call?.method, 'GET');
    assert.equal(call?.path, SO_PATH);
    assert.equal(call?.token, SA_TOKEN);
  });

  it('lists with query parameters, leaving out undefined ones', async () => {
    // WHEN listing one namespace with a page size
    const list = await kube.list<{ kind: string; items: { metadata: { name: string } }[] }>(
      '/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects',
      { limit: 1, continue: undefined },
    );
    // THEN the page holds the first object (by name) and the query only has the limit
    assert.equal(list.kind, 'ScaledObjectList');
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ['cart'],
    );
    assert.deepEqual(api.calls.at(-1)?.query, { limit: '1' });
  });

  it('merge-patches with application/merge-patch+json and returns the patched object', async () => {
    // WHEN adding one annotation and removing another with null
    const patched = await kube.mergePatch<{ metadata: { annotations: Record<string, string> } }>(SO_PATH, {
      metadata: { annotations: { added: 'yes', team: null } },
    });
    // THEN the server applied RFC 7386 and the client sent the merge-patch media type
    assert.deepEqual(patched.metadata.annotations, { added: 'yes' });
    assert.equal(api.calls.at(-1)?.contentType, 'application/merge-patch+json');
    assert.equal(api.calls.at(-1)?.method, 'PATCH');
  });

  it('creates with POST and replaces with PUT', async () => {
    // GIVEN a Lease created through the collection path
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const created = await kube.create<{ metadata: { resourceVersion: string } }>(LEASES, lease);
    // WHEN replacing it with the resourceVersion just read
    const replaced = await kube.replace<{
      spec: { holderIdentity: string };
      metadata: { resourceVersion: string };
    }>(`${LEASES}/l`, {
      ...lease,
      metadata: { name: 'l', resourceVersion: created.metadata.resourceVersion },
      spec: { holderIdentity: 'b' },
    });
    // THEN the update is stored with a new resourceVersion
    assert.equal(replaced.spec.holderIdentity, 'b');
    assert.notEqual(replaced.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(
      api.calls.slice(-2).map((c) => [c.method, c.path, c.status]),
      [
        ['POST', LEASES, 201],
        ['PUT', `${LEASES}/l`, 200],
      ],
    );
  });

  it('turns an API Status into KubeApiError {status, reason, message}', async () => {
    // WHEN getting a ScaledObject that does not exist
    const e = await rejection(kube.get('/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects/nope'));
    // THEN the error carries the Status' code, reason and message
    assert.equal(e.status, 404);
    assert.equal(e.reason, 'NotFound');
    assert.equal(e.message, 'scaledobjects.keda.sh "nope" not found');
    assert.ok(KubeApiError.isNotFound(e));
    assert.ok(!KubeApiError.isConflict(e));
  });

  it('reports a wrong token as 401 Unauthorized', async () => {
    const other = new KubeClient({ url: api.url, token: 'not-the-service-account' });
    try {
      const e = await rejection(other.get(SO_PATH));
      assert.equal(e.status, 401);
      assert.equal(e.reason, 'Unauthorized');
    } finally {
      other.close();
    }
  });

  it('gives up after the per-request timeout with reason Timeout', async () => {
    // GIVEN a server that answers after 2 s and a client that waits 100 ms
    api.delayMs = 2_000;
    const quick = new KubeClient({ url: api.url, token: SA_TOKEN, timeoutMs: 100 });
    try {
      const started = Date.now();
      const e = await rejection(quick.get(SO_PATH));
      // THEN the call fails on time, without an HTTP status
      assert.equal(e.status, 0);
      assert.equal(e.reason, 'Timeout');
      assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    } finally {
      quick.close();
    }
  });

  it('honours a per-call timeout and an abort signal', async () => {
    api.delayMs = 2_000;
    assert.equal((await rejection(kube.get(SO_PATH, { timeoutMs: 50 }))).reason, 'Timeout');
    const controller = new AbortController();
    const pending = kube.get(SO_PATH, { signal: controller.signal });
    controller.abort();
    assert.equal((await rejection(pending)).reason, 'Aborted');
  });

  it('reports a server that is down as reason Unreachable', async () => {
    // GIVEN the server stopped
    await api.close();
    const e = await rejection(kube.get(SO_PATH));
    assert.equal(e.status, 0);
    assert.equal(e.reason, 'Unreachable');
    // (restart one so afterEach can close it)
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
  });

  it('escapes path segments', () => {
    assert.equal(
      kubePath('apis', 'keda.sh', 'v1alpha1', 'namespaces', 'a b', 'x/y'),
      '/apis/keda.sh/v1alpha1/namespaces/a%20b/x%2Fy',
    );
  });
});

describe('KubeClient ServiceAccount token rotation', () => {
  let api: FakeKubeApi;
  let dir: string;
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: 'token-one' });
    api.putScaledObject(scaledObject('shop', 'checkout'));
    dir = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    writeFileSync(join(dir, 'token'), 'token-one\n');
  });
  afterEach(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the token file again once the refresh period has passed', async () => {
    // GIVEN a client that re-reads the token file on every call
    const kube = new KubeClient({ url: api.url, tokenFile: join(dir, 'token'), tokenRefreshMs: 0 });
    try {
      await kube.get(SO_PATH);
      // WHEN the kubelet rotates the projected token
      writeFileSync(join(dir, 'token'), 'token-two\n');
      api.serviceAccountTokens.add('token-two');
      await kube.get(SO_PATH);
      // THEN the next call uses the new token (trimmed of its newline)
      assert.deepEqual(
        api.calls.map((c) => c.token),
        ['token-one', 'token-two'],
      );
    } finally {
      kube.close();
    }
  });

  it('re-reads the token file at once when the cached token is refused with 401, and retries', async () => {
    // GIVEN a client that caches the token for an hour and has used token-one
    const kube = new KubeClient({ url: api.url, tokenFile: join(dir, 'token'), tokenRefreshMs: 3_600_000 });
    try {
      await kube.get(SO_PATH);
      // WHEN the token rotates and the old one stops being accepted
      writeFileSync(join(dir, 'token'), 'token-two');
      api.serviceAccountTokens.clear();
      api.serviceAccountTokens.add('token-two');
      const so = await kube.get<{ metadata: { name: string } }>(SO_PATH);
      // THEN the call succeeds after one 401 with the old token
      assert.equal(so.metadata.name, 'checkout');
      assert.deepEqual(
        api.calls.map((c) => [c.token, c.status]),
        [
          ['token-one', 200],
          ['token-one', 401],
          ['token-two', 200],
        ],
      );
    } finally {
      kube.close();
    }
  });

  it('does not retry a 401 when the token file did not change', async () => {
    const kube = new KubeClient({ url: api.url, tokenFile: join(dir, 'token'), tokenRefreshMs: 3_600_000 });
    try {
      api.serviceAccountTokens.clear();
      const e = await rejection(kube.get(SO_PATH));
      assert.equal(e.status, 401);
      assert.equal(api.calls.length, 1);
    } finally {
      kube.close();
    }
  });
});

describe('KubeClient configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is absent outside a cluster without a URL, so the runtime still runs locally', () => {
    assert.equal(KubeClient.fromConfig(config(), { env: {}, serviceAccountDir: dir }), undefined);
    // AND also absent when the service variables exist but no token is mounted
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.equal(
      KubeClient.fromConfig(config(), { env, serviceAccountDir: join(dir, 'missing') }),
      undefined,
    );
  });

  it('uses https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT in a pod (IPv6 in brackets)', () => {
    const v4 = KubeClient.fromConfig(config(), {
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: dir,
    });
    assert.equal(v4?.url, 'https://10.96.0.1:443');
    const v6 = KubeClient.inCluster({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
      serviceAccountDir: dir,
    });
    assert.equal(v6?.url, 'https://[fd00::1]:6443');
    v4?.close();
    v6?.close();
  });

  it('prefers ELASTICAI_KUBE_API_URL when set', () => {
    const c = loadRuntimeConfig({ ELASTICAI_KUBE_API_URL: 'http://127.0.0.1:8001/' });
    const kube = KubeClient.fromConfig(c, {
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: dir,
    });
    assert.equal(kube?.url, 'http://127.0.0.1:8001');
    kube?.close();
  });

  it('refuses a non-http URL', () => {
    assert.throws(() => new KubeClient({ url: 'ftp://x' }), /must be http\(s\)/);
  });
});

describe('KubeClient over https with the ServiceAccount CA', () => {
  const tls = selfSignedCertificate();
  let api: FakeKubeApi;
  let dir: string;
  before(async () => {
    if (tls === undefined) return;
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN, tls });
    api.putScaledObject(scaledObject('shop', 'checkout'));
    dir = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    writeFileSync(join(dir, 'token'), SA_TOKEN);
    writeFileSync(join(dir, 'ca.crt'), tls.cert);
  });
  after(async () => {
    await api?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'connects in-cluster with the mounted token and CA',
    { skip: tls === undefined && 'openssl missing' },
    async () => {
      // GIVEN the pod's environment pointing at the https server and the mounted ServiceAccount
      const port = new URL(api.url).port;
      const kube = KubeClient.inCluster({
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
        serviceAccountDir: dir,
      });
      assert.ok(kube !== undefined);
      try {
        // WHEN getting an object THEN the certificate chains to ca.crt and the token is accepted
        const so = await kube.get<{ metadata: { name: string } }>(SO_PATH);
        assert.equal(so.metadata.name, 'checkout');
        assert.equal(api.calls.at(-1)?.token, SA_TOKEN);
      } finally {
        kube.close();
      }
    },
  );

  it(
    'refuses a server whose certificate does not chain to the CA',
    { skip: tls === undefined && 'openssl missing' },
    async () => {
      const kube = new KubeClient({ url: api.url, token: SA_TOKEN });
      try {
        const e = await rejection(kube.get(SO_PATH));
        assert.equal(e.reason, 'Unreachable');
        assert.match(e.message, /self[- ]signed|certificate/i);
      } finally {
        kube.close();
      }
    },
  );
});
