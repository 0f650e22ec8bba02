import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Authenticator, AuthenticatorOptions } from '../../../../runtime/service/auth/authenticator.js';
import { createAuthenticator } from '../../../../runtime/service/auth/authenticator.js';
import type { RuntimeConfig } from '../../../../runtime/service/config.js';
import { loadRuntimeConfig } from '../../../../runtime/service/config.js';
import { KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';

const SA_TOKEN = 'runtime-sa-token-0123456789';
const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const SARS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const ALICE = 'eyJhbGciOiJSUzI1NiJ9.alice';
const OPS_BOT = 'eyJhbGciOiJSUzI1NiJ9.ops-bot';

describe('TokenReview and SubjectAccessReview', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let now: number;
  let errors: unknown[];

  function config(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
    return { ...loadRuntimeConfig({}), tokenReview: true, ...overrides };
  }

  function authenticator(
    options: AuthenticatorOptions = {},
    overrides: Partial<RuntimeConfig> = {},
  ): Authenticator {
    return createAuthenticator(config(overrides), kube, {
      now: () => now,
      onError: (e) => errors.push(e),
      ...options,
    });
  }

  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.users.set(ALICE, {
      username: 'alice@example.com',
      uid: 'uid-alice',
      groups: ['shop-devs'],
      extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] },
    });
    api.users.set(OPS_BOT, { username: 'system:serviceaccount:ops:bot', groups: ['system:serviceaccounts'] });
    // alice may read and override ScaledObjects in shop; the ops group may list everywhere
    api.accessRules.push({
      users: ['alice@example.com'],
      verbs: ['get', 'list', 'patch'],
      namespaces: ['shop'],
    });
    api.accessRules.push({ groups: ['system:serviceaccounts'], verbs: ['list'] });
    kube = new KubeClient({ url: api.url, token: SA_TOKEN, timeoutMs: 1_000 });
    now = 1_000_000;
    errors = [];
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  it('authenticates a valid token with a TokenReview and allows what RBAC allows (SubjectAccessReview)', async () => {
    const auth = authenticator();
    // WHEN alice calls with her token
    const caller = await auth.authenticate(`Bearer ${ALICE}`);
    // THEN she is known by her username and groups
    assert.deepEqual(caller, {
      id: 'alice@example.com',
      via: 'token-review',
      groups: ['shop-devs', 'system:authenticated'],
    });
    assert.ok(caller !== undefined);
    // AND the TokenReview carried her token, sent with the runtime's own ServiceAccount token
    const tr = api.callsTo('POST', TOKEN_REVIEWS);
    assert.equal(tr.length, 1);
    assert.deepEqual(tr[0]?.body, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: ALICE },
    });
    assert.equal(tr[0]?.token, SA_TOKEN);
    // WHEN she overrides shop/checkout THEN it is allowed
    assert.equal(await auth.authorize(caller, { verb: 'patch', namespace: 'shop', name: 'checkout' }), true);
    // AND the SubjectAccessReview asked exactly about scaledobjects.keda.sh, with her full user info
    assert.deepEqual(api.callsTo('POST', SARS)[0]?.body, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'alice@example.com',
        uid: 'uid-alice',
        groups: ['shop-devs', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] },
        resourceAttributes: {
          group: 'keda.sh',
          resource: 'scaledobjects',
          verb: 'patch',
          namespace: 'shop',
          name: 'checkout',
        },
      },
    });
  });

  it('denies an authenticated caller what RBAC does not grant', async () => {
    const auth = authenticator();
    const alice = await auth.authenticate(`Bearer ${ALICE}`);
    assert.ok(alice !== undefined);
    assert.equal(await auth.authorize(alice, { verb: 'patch', namespace: 'ml', name: 'inference' }), false);
    // a cluster-wide list needs a cluster-wide grant; alice only has one in shop
    assert.equal(await auth.authorize(alice, { verb: 'list' }), false);
    const list = api.callsTo('POST', SARS).at(-1)?.body as {
      spec: { resourceAttributes: Record<string, string> };
    };
    assert.deepEqual(list.spec.resourceAttributes, {
      group: 'keda.sh',
      resource: 'scaledobjects',
      verb: 'list',
    });
    // the ops bot's group may list everywhere, but not patch
    const bot = await auth.authenticate(`Bearer ${OPS_BOT}`);
    assert.ok(bot !== undefined);
    assert.equal(await auth.authorize(bot, { verb: 'list' }), true);
    assert.equal(await auth.authorize(bot, { verb: 'patch', namespace: 'shop', name: 'checkout' }), false);
  });

  it('refuses an unknown token (TokenReview says not authenticated)', async () => {
    const auth = authenticator();
    assert.equal(await auth.authenticate('Bearer forged.token.value'), undefined);
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 1);
    assert.deepEqual(errors, []);
  });

  it('fails closed when the API server answers with errors, without throwing', async () => {
    const auth = authenticator();
    const alice = await auth.authenticate(`Bearer ${ALICE}`);
    assert.ok(alice !== undefined);
    api.unavailable = true;
    assert.equal(await auth.authenticate(`Bearer ${OPS_BOT}`), undefined);
    assert.equal(await auth.authorize(alice, { verb: 'get', namespace: 'shop', name: 'checkout' }), false);
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => (e as { status?: number }).status === 503));
  });

  it('fails closed when the API server is down or too slow', async () => {
    const auth = authenticator();
    const alice = await auth.authenticate(`Bearer ${ALICE}`);
    assert.ok(alice !== undefined);
    // too slow: the client's 1 s timeout
    api.delayMs = 3_000;
    assert.equal(await auth.authorize(alice, { verb: 'get', namespace: 'shop', name: 'a' }), false);
    // down: connection refused
    await api.close();
    assert.equal(await auth.authenticate(`Bearer ${OPS_BOT}`), undefined);
    assert.equal(await auth.authorize(alice, { verb: 'get', namespace: 'shop', name: 'b' }), false);
    assert.deepEqual(
      errors.map((e) => (e as { reason?: string }).reason),
      ['Timeout', 'Unreachable', 'Unreachable'],
    );
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
  });

  it('reuses positive and negative answers for 10 s, counting calls at the API server', async () => {
    const auth = authenticator();
    // WHEN the same tokens and the same action come again and again within 10 s
    for (let i = 0; i < 5; i++) {
      const alice = await auth.authenticate(`Bearer ${ALICE}`);
      assert.ok(alice !== undefined);
      assert.equal(await auth.authenticate('Bearer forged'), undefined);
      assert.equal(await auth.authorize(alice, { verb: 'patch', namespace: 'shop', name: 'checkout' }), true);
      assert.equal(await auth.authorize(alice, { verb: 'patch', namespace: 'ml', name: 'x' }), false);
      now += 1_900;
    }
    // THEN the API server was asked once per distinct question
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 2);
    assert.equal(api.callsTo('POST', SARS).length, 2);
    // WHEN 10 s have passed since the answers THEN it is asked again
    now = 1_000_000 + 10_000;
    const alice = await auth.authenticate(`Bearer ${ALICE}`);
    assert.ok(alice !== undefined);
    await auth.authenticate('Bearer forged');
    await auth.authorize(alice, { verb: 'patch', namespace: 'shop', name: 'checkout' });
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 4);
    assert.equal(api.callsTo('POST', SARS).length, 3);
  });

  it('a revoked token stops working once its cached answer expires', async () => {
    const auth = authenticator();
    assert.ok(await auth.authenticate(`Bearer ${ALICE}`));
    api.users.delete(ALICE);
    now += 9_999;
    assert.ok(await auth.authenticate(`Bearer ${ALICE}`));
    now += 1;
    assert.equal(await auth.authenticate(`Bearer ${ALICE}`), undefined);
  });

  it('does not cache failures: the first request after the API server recovers asks again', async () => {
    const auth = authenticator();
    api.unavailable = true;
    assert.equal(await auth.authenticate(`Bearer ${ALICE}`), undefined);
    api.unavailable = false;
    assert.ok(await auth.authenticate(`Bearer ${ALICE}`));
    assert.deepEqual(
      api.callsTo('POST', TOKEN_REVIEWS).map((c) => c.status),
      [503, 201],
    );
  });

  it('shares one call among concurrent identical requests', async () => {
    const auth = authenticator();
    const callers = await Promise.all(Array.from({ length: 8 }, () => auth.authenticate(`Bearer ${ALICE}`)));
    assert.ok(callers.every((c) => c?.id === 'alice@example.com'));
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 1);
  });

  it('keeps the cache bounded: the oldest answers are dropped first', async () => {
    const auth = authenticator({ reviewCacheSize: 2 });
    for (const t of ['t1', 't2', 't3']) await auth.authenticate(`Bearer ${t}`);
    await auth.authenticate('Bearer t3');
    await auth.authenticate('Bearer t2');
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 3);
    await auth.authenticate('Bearer t1');
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 4);
  });

  it('is not used when disabled, nor without a Kubernetes client', async () => {
    const disabled = authenticator({}, { tokenReview: false });
    assert.equal(await disabled.authenticate(`Bearer ${ALICE}`), undefined);
    const noClient = createAuthenticator(config(), undefined);
    assert.equal(await noClient.authenticate(`Bearer ${ALICE}`), undefined);
    assert.equal(api.calls.length, 0);
  });
});

describe('API keys and TokenReview together', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let dir: string;
  const KEY = 'ops-0123456789abcdef0123456789abcdef';
  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    api.users.set(ALICE, { username: 'alice@example.com' });
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
    dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    writeFileSync(join(dir, 'ops'), KEY);
  });
  afterEach(async () => {
    kube.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks API keys first and sends only other tokens to the API server', async () => {
    const auth = createAuthenticator({ ...loadRuntimeConfig({}), apiKeysDir: dir, tokenReview: true }, kube);
    const ops = await auth.authenticate(`Bearer ${KEY}`);
    assert.equal(ops?.via, 'api-key');
    assert.ok(ops !== undefined);
    assert.equal(await auth.authorize(ops, { verb: 'patch', namespace: 'shop', name: 'checkout' }), true);
    assert.equal(api.calls.length, 0);
    const alice = await auth.authenticate(`Bearer ${ALICE}`);
    assert.equal(alice?.via, 'token-review');
    assert.equal(api.callsTo('POST', TOKEN_REVIEWS).length, 1);
  });
});
