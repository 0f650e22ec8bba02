import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../../../runtime/resolver/config.js';
import { Waker } from '../../../../runtime/resolver/waker.js';
import { createApiServer, startApiServer } from '../../../../runtime/service/http/api-server.js';
import { TOKENS, bearer, deps, logSink, world } from './support.js';

const URL = '/api/v1/workloads/team-a/checkout/override';
const json = { 'content-type': 'application/json' };

interface ErrorBody {
  error: { code: string; message: string };
}

describe('POST /api/v1/workloads/:namespace/:name/override', () => {
  it('sets the override (201), records who did it and when it expires, and logs it', async () => {
    // GIVEN an admin and a log sink
    const w = await world();
    const sink = logSink();
    const d = await deps({ logger: { level: 'info', stream: sink.stream } });
    const app = createApiServer(d);
    // WHEN setting 12 replicas for an hour
    const res = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 12, durationSeconds: 3600 },
    });
    // THEN 201 with what was set, and the store holds it
    assert.equal(res.statusCode, 201);
    const expiresAt = new Date(w.now + 3600_000).toISOString();
    assert.deepEqual(res.json(), {
      namespace: 'team-a',
      name: 'checkout',
      replicas: 12,
      expiresAt,
      by: 'ops-admin',
      previous: null,
    });
    assert.equal(res.headers.location, URL);
    assert.deepEqual(d.overrides.data.get('team-a/checkout'), { replicas: 12, by: 'ops-admin', expiresAt });
    // and the authorization asked was patch on exactly that ScaledObject
    assert.deepEqual(d.authenticator.asked.at(-1), {
      caller: 'ops-admin',
      action: { verb: 'patch', namespace: 'team-a', name: 'checkout' },
    });
    // and the audit line names the caller
    const audit = sink.lines.find((l) => l.audit === 'override-set');
    assert.ok(audit, 'an audit line');
    assert.equal(audit.caller, 'ops-admin');
    assert.equal(audit.replicas, 12);
    assert.equal(audit.namespace, 'team-a');
    assert.match(String(audit.msg), /set to 12 replicas by ops-admin/);

    // WHEN setting it again without a duration THEN 200, replacing the previous one
    const again = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.tenantA) },
      payload: { replicas: 0 },
    });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json<{ previous: unknown; expiresAt: unknown }>().previous, {
      replicas: 12,
      by: 'ops-admin',
      expiresAt,
    });
    assert.equal(again.json<{ expiresAt: unknown }>().expiresAt, null);
    assert.deepEqual(d.overrides.data.get('team-a/checkout'), { replicas: 0, by: 'team-a-deployer' });

    // AND the override is shown by GET .../override and in the list
    const shown = await app.inject({ method: 'GET', url: URL, headers: bearer(TOKENS.viewer) });
    assert.deepEqual(shown.json(), {
      namespace: 'team-a',
      name: 'checkout',
      replicas: 0,
      by: 'team-a-deployer',
    });
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads',
      headers: bearer(TOKENS.viewer),
    });
    const item = list
      .json<{ workloads: { name: string; override?: unknown }[] }>()
      .workloads.find((x) => x.name === 'checkout');
    assert.deepEqual(item?.override, { replicas: 0, by: 'team-a-deployer' });
  });

  it('always needs credentials, even with anonymous reads: 401 with WWW-Authenticate: Bearer', async () => {
    const d = await deps({ config: { readAccess: 'anonymous' } });
    const app = createApiServer(d);
    const none = await app.inject({ method: 'POST', url: URL, headers: json, payload: { replicas: 3 } });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="elasticai"');
    assert.equal(none.json<ErrorBody>().error.code, 'unauthorized');
    const bad = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, authorization: 'Bearer stolen' },
      payload: { replicas: 3 },
    });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['www-authenticate'], 'Bearer realm="elasticai", error="invalid_token"');
    const basic = await app.inject({
      method: 'DELETE',
      url: URL,
      headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    });
    assert.equal(basic.statusCode, 401);
    assert.equal(d.overrides.data.size, 0);
  });

  it('authenticates before reading the body: an anonymous oversized or non-JSON body is a 401', async () => {
    const app = createApiServer(await deps());
    const big = await app.inject({ method: 'POST', url: URL, headers: json, payload: 'x'.repeat(10_000) });
    assert.equal(big.statusCode, 401);
    const text = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });
    assert.equal(text.statusCode, 401);
  });

  it('refuses callers without patch on the ScaledObject (403), tenant keys outside their namespaces too', async () => {
    const d = await deps();
    const app = createApiServer(d);
    const viewer = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.viewer) },
      payload: { replicas: 3 },
    });
    assert.equal(viewer.statusCode, 403);
    assert.deepEqual(viewer.json(), {
      error: {
        code: 'forbidden',
        message:
          'system:serviceaccount:monitoring:viewer may not patch scaledobject checkout in namespace team-a',
      },
    });
    const tenant = await app.inject({
      method: 'DELETE',
      url: '/api/v1/workloads/team-b/search/override',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(tenant.statusCode, 403);
    assert.equal(d.overrides.data.size, 0);
  });

  it('refuses an override above the tenant cap with 422 naming the cap; the cap itself is allowed', async () => {
    const d = await deps();
    const app = createApiServer(d);
    const over = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 41 },
    });
    assert.equal(over.statusCode, 422);
    assert.deepEqual(over.json(), {
      error: { code: 'over-tenant-cap', message: "replicas: 41 exceeds tenant team-a's cap of 40 replicas" },
    });
    assert.equal(d.overrides.data.size, 0);
    const at = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 40 },
    });
    assert.equal(at.statusCode, 201);
    // a namespace without a tenant has no cap
    const free = await app.inject({
      method: 'POST',
      url: '/api/v1/workloads/ops/headroom-general/override',
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 500 },
    });
    assert.equal(free.statusCode, 201);
  });

  it('names the bad field of a bad body (400)', async () => {
    const d = await deps();
    const app = createApiServer(d);
    const cases: [unknown, string][] = [
      [{ replicas: -1 }, 'replicas: must be an integer ≥ 0 (at most 2147483647)'],
      [{ replicas: 2.5 }, 'replicas: must be an integer ≥ 0 (at most 2147483647)'],
      [{ replicas: '3' }, 'replicas: must be an integer ≥ 0 (at most 2147483647)'],
      [{}, 'replicas: is required'],
      [{ replicas: 3, paused: true }, 'paused: unknown field'],
      [
        { replicas: 3, durationSeconds: 0 },
        'durationSeconds: must be an integer number of seconds > 0 and ≤ 604800 (7 days)',
      ],
      [
        { replicas: 3, durationSeconds: 604801 },
        'durationSeconds: must be an integer number of seconds > 0 and ≤ 604800 (7 days)',
      ],
      [[3], 'body: must be a JSON object such as {"replicas": 3, "durationSeconds": 3600}'],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: URL,
        headers: { ...json, ...bearer(TOKENS.admin) },
        payload: JSON.stringify(payload),
      });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.deepEqual(res.json(), { error: { code: 'invalid-body', message } }, JSON.stringify(payload));
    }
    const broken = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: '{"replicas": ',
    });
    assert.deepEqual(broken.json(), { error: { code: 'invalid-json', message: 'body: not valid JSON' } });
    const poisoned = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: '{"replicas": 1, "__proto__": {"admin": true}}',
    });
    assert.equal(poisoned.statusCode, 400);
    assert.equal(d.overrides.data.size, 0);
  });

  it('answers 413 over the body limit and 415 for anything but JSON', async () => {
    const app = createApiServer(await deps());
    const big = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: JSON.stringify({ replicas: 1, pad: 'x'.repeat(5000) }),
    });
    assert.equal(big.statusCode, 413);
    assert.deepEqual(big.json(), {
      error: { code: 'body-too-large', message: 'body: larger than the limit of 4096 bytes' },
    });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': type, ...bearer(TOKENS.admin) },
        payload: 'replicas=3',
      });
      assert.equal(res.statusCode, 415, type);
      assert.deepEqual(res.json(), {
        error: { code: 'unsupported-media-type', message: 'Content-Type: must be application/json' },
      });
    }
    const charset = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json; charset=utf-8', ...bearer(TOKENS.admin) },
      payload: '{"replicas": 2}',
    });
    assert.equal(charset.statusCode, 201);
  });

  it('404s a workload the runtime does not know, and a ScaledObject the API no longer has', async () => {
    const d = await deps();
    const app = createApiServer(d);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/workloads/team-a/ghost/override',
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 1 },
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<ErrorBody>().error.code, 'workload-not-found');
    d.overrides.gone.add('team-a/checkout');
    const gone = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 1 },
    });
    assert.equal(gone.statusCode, 404);
    assert.deepEqual(gone.json(), {
      error: { code: 'scaledobject-not-found', message: 'ScaledObject team-a/checkout was not found' },
    });
  });

  it('answers a failing Kubernetes API with what failed, logging its detail but never returning it', async () => {
    // GIVEN a store whose Kubernetes API is down, then one that refuses the call
    const sink = logSink();
    const d = await deps({ logger: { level: 'warn', stream: sink.stream } });
    const app = createApiServer(d);
    const failWith = (error: Error): void => {
      d.overrides.get = async () => {
        throw error;
      };
    };
    const post = () =>
      app.inject({
        method: 'POST',
        url: URL,
        headers: { ...json, ...bearer(TOKENS.admin) },
        payload: { replicas: 2 },
      });
    failWith(
      Object.assign(
        new Error(
          'GET /apis/keda.sh/v1alpha1/namespaces/team-a/scaledobjects/checkout: connect ECONNREFUSED 127.0.0.1:35543',
        ),
        { status: 0, reason: 'Unreachable' },
      ),
    );
    // WHEN an override is set THEN 503 naming what failed, without the API's address
    const down = await post();
    assert.equal(down.statusCode, 503);
    assert.deepEqual(down.json(), {
      error: { code: 'kubernetes-api-unavailable', message: 'the Kubernetes API is unreachable' },
    });
    // AND the detail is in the log
    assert.ok(
      sink.lines.some((l) => JSON.stringify(l).includes('connect ECONNREFUSED 127.0.0.1:35543')),
      JSON.stringify(sink.lines),
    );
    // WHEN the API refuses THEN 502 with its status and reason, not its message (accounts, addresses)
    failWith(
      Object.assign(
        new Error(
          'scaledobjects.keda.sh "checkout" is forbidden: User "system:serviceaccount:elasticai-system:elasticai-runtime" cannot get resource',
        ),
        { status: 403, reason: 'Forbidden' },
      ),
    );
    const refused = await post();
    assert.equal(refused.statusCode, 502);
    assert.deepEqual(refused.json(), {
      error: {
        code: 'kubernetes-api-error',
        message:
          'the Kubernetes API refused the request on ScaledObject team-a/checkout with HTTP 403 (Forbidden)',
      },
    });
    assert.ok(sink.lines.some((l) => JSON.stringify(l).includes('system:serviceaccount:elasticai-system')));
    // AND a timeout says so
    failWith(Object.assign(new Error('GET ...: no answer within 5000 ms'), { status: 0, reason: 'Timeout' }));
    assert.equal((await post()).json<ErrorBody>().error.message, 'the Kubernetes API did not answer in time');
  });

  it('answers 503 when the runtime has no override store (no Kubernetes API)', async () => {
    const app = createApiServer({ ...(await deps()), overrides: undefined });
    const res = await app.inject({
      method: 'POST',
      url: URL,
      headers: { ...json, ...bearer(TOKENS.admin) },
      payload: { replicas: 1 },
    });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<ErrorBody>().error.code, 'overrides-unavailable');
  });
});

describe('DELETE /api/v1/workloads/:namespace/:name/override', () => {
  it('clears the override (204) and logs who did it', async () => {
    const sink = logSink();
    const d = await deps({ logger: { level: 'info', stream: sink.stream } });
    await d.overrides.set('team-a', 'checkout', 9, { by: 'ops-admin' });
    const app = createApiServer(d);
    const res = await app.inject({ method: 'DELETE', url: URL, headers: bearer(TOKENS.tenantA) });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal(d.overrides.data.has('team-a/checkout'), false);
    const audit = sink.lines.find((l) => l.audit === 'override-cleared');
    assert.equal(audit?.caller, 'team-a-deployer');
    // and GET .../override now says there is none
    const after = await app.inject({ method: 'GET', url: URL, headers: bearer(TOKENS.admin) });
    assert.equal(after.statusCode, 404);
    assert.equal(after.json<ErrorBody>().error.code, 'no-override');
  });

  it('takes no body: an unexpected field is a 400 naming it, and the override stays', async () => {
    // GIVEN an override
    const d = await deps();
    await d.overrides.set('team-a', 'checkout', 9, { by: 'ops-admin' });
    const app = createApiServer(d);
    const del = (payload?: string) =>
      app.inject({
        method: 'DELETE',
        url: URL,
        headers: { ...bearer(TOKENS.admin), ...(payload === undefined ? {} : json) },
        ...(payload === undefined ? {} : { payload }),
      });
    // WHEN DELETE carries a field THEN 400 naming it, and nothing is cleared
    const field = await del('{"replicas":0}');
    assert.equal(field.statusCode, 400);
    assert.deepEqual(field.json(), { error: { code: 'invalid-body', message: 'replicas: unknown field' } });
    const array = await del('[]');
    assert.equal(array.statusCode, 400);
    assert.deepEqual(array.json(), {
      error: { code: 'invalid-body', message: 'body: must be empty: this request takes no body (or {})' },
    });
    assert.equal(d.overrides.data.get('team-a/checkout')?.replicas, 9);
    // WHEN it carries an empty body labelled JSON THEN it clears
    assert.equal((await del('')).statusCode, 204);
    assert.equal(d.overrides.data.has('team-a/checkout'), false);
  });

  it('needs credentials (401) and patch permission (403)', async () => {
    const d = await deps();
    await d.overrides.set('team-a', 'checkout', 9, { by: 'ops-admin' });
    const app = createApiServer(d);
    const none = await app.inject({ method: 'DELETE', url: URL });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="elasticai"');
    const viewer = await app.inject({ method: 'DELETE', url: URL, headers: bearer(TOKENS.viewer) });
    assert.equal(viewer.statusCode, 403);
    assert.equal(d.overrides.data.get('team-a/checkout')?.replicas, 9);
  });
});

describe('POST /api/v1/workloads/:namespace/:name/wake', () => {
  it("takes no body, as the resolver's waker sends it: 202; an unexpected field is a 400 naming it", async () => {
    // GIVEN a listening server whose registry records wake-ups
    const w = await world();
    const woken: string[] = [];
    const registry = Object.create(w.registry, {
      wake: {
        value: (ref: { namespace: string; name: string }) => woken.push(`${ref.namespace}/${ref.name}`),
      },
    }) as typeof w.registry;
    const server = await startApiServer(await deps({ registry }), { host: '127.0.0.1', port: 0 });
    const waker = new Waker({
      runtimeBases: () => undefined,
      token: async () => TOKENS.admin,
      staticBase: server.url,
    });
    try {
      // WHEN the resolver wakes the workload THEN it is accepted
      const route = { namespace: 'team-a', scaledObject: 'checkout', runtime: { url: server.url } };
      assert.deepEqual(await waker.wake(route as unknown as Route), { accepted: 1, errors: [] });
      assert.deepEqual(woken, ['team-a/checkout']);
      // WHEN a call carries a field or a body that is not an object THEN 400 naming it, and no wake-up
      const post = (body: string, type = 'application/json') =>
        fetch(`${server.url}/api/v1/workloads/team-a/checkout/wake`, {
          method: 'POST',
          headers: { ...bearer(TOKENS.admin), 'content-type': type },
          body,
        });
      const field = await post('{"x":1}');
      assert.equal(field.status, 400);
      assert.deepEqual(await field.json(), { error: { code: 'invalid-body', message: 'x: unknown field' } });
      const scalar = await post('3');
      assert.equal(scalar.status, 400);
      assert.deepEqual(await scalar.json(), {
        error: { code: 'invalid-body', message: 'body: must be empty: this request takes no body (or {})' },
      });
      assert.deepEqual(woken, ['team-a/checkout']);
      // AND an empty JSON object or an empty body labelled JSON is no body
      assert.equal((await post('{}')).status, 202);
      assert.equal((await post('')).status, 202);
      assert.deepEqual(woken, ['team-a/checkout', 'team-a/checkout', 'team-a/checkout']);
      // AND a refused wake-up reaches the resolver with the runtime's message
      const refusedWaker = new Waker({
        runtimeBases: () => undefined,
        token: async () => TOKENS.viewer,
        staticBase: server.url,
      });
      assert.deepEqual(await refusedWaker.wake(route as unknown as Route), {
        accepted: 0,
        errors: [
          `${new globalThis.URL(server.url).host}: HTTP 403: system:serviceaccount:monitoring:viewer may not patch scaledobject checkout in namespace team-a`,
        ],
      });
      refusedWaker.close();
    } finally {
      waker.close();
      await server.close();
    }
  });
});
