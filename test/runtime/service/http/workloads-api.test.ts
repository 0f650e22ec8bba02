import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createApiServer } from '../../../../runtime/service/http/api-server.js';
import { MemoryGuard } from '../../../../runtime/service/memory-guard.js';
import { WorkloadRegistry } from '../../../../runtime/service/workload-registry.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import type { WorkloadDetail, WorkloadSummary } from '../../../../runtime/service/http/workload-view.js';
import type { World } from './support.js';
import { BROKEN, CHECKOUT, HEADROOM, SEARCH, TOKENS, bearer, deps, world } from './support.js';

interface List {
  workloads: WorkloadSummary[];
  refused: { namespace: string; name: string; reason: string; at: number }[];
}

describe('GET /api/v1/workloads', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it('lists every workload with the decision the registry serves to KEDA (anonymous reads)', async () => {
    // GIVEN anonymous reads and an override set on checkout
    const d = await deps({ config: { readAccess: 'anonymous' } });
    await d.overrides.set('team-a', 'checkout', 7, { by: 'ops-admin' });
    const app = createApiServer(d);
    // WHEN listing without credentials
    const res = await app.inject({ method: 'GET', url: '/api/v1/workloads' });
    // THEN all four are there, sorted, each matching the registry's own status
    assert.equal(res.statusCode, 200);
    const body = res.json<List>();
    assert.deepEqual(
      body.workloads.map((x) => `${x.namespace}/${x.name}`),
      ['ops/headroom-general', 'team-a/checkout', 'team-b/reports', 'team-b/search'],
    );
    for (const ref of [CHECKOUT, SEARCH]) {
      const item = body.workloads.find((x) => x.name === ref.name) as WorkloadSummary;
      const status = w.registry.status(ref);
      const decision = status?.decision;
      assert.ok(decision, `${ref.name} has a decision`);
      assert.equal(item.kind, 'demand');
      assert.equal(item.state, 'fresh');
      assert.equal(item.desiredReplicas, w.registry.value(ref).value);
      assert.equal(item.desiredReplicas, decision.desiredReplicas);
      assert.equal(item.predicted, decision.forecast.upper);
      assert.equal(item.demand, decision.inputs.demand);
      assert.equal(item.rule, decision.rule);
      assert.equal(item.summary, decision.summary);
      assert.match(item.summary as string, /^\d+ replicas: /);
      assert.deepEqual(item.anomaly, { state: decision.anomaly.state, score: decision.anomaly.score });
      assert.equal(item.decidedAt, decision.timestamp);
      assert.equal(item.lastError, null);
    }
    const checkout = body.workloads.find((x) => x.name === 'checkout') as WorkloadSummary;
    assert.equal(checkout.tenant, 'team-a');
    assert.deepEqual(checkout.override, { replicas: 7, by: 'ops-admin' });
    assert.equal((body.workloads.find((x) => x.name === 'search') as WorkloadSummary).override, null);
    // the workload whose source is down shows why, and asks for nothing yet
    const broken = body.workloads.find((x) => x.name === BROKEN.name) as WorkloadSummary;
    assert.equal(broken.state, 'failed');
    assert.equal(broken.desiredReplicas, null);
    assert.equal(broken.lastError?.kind, 'unreachable');
    assert.match(broken.lastError?.message ?? '', /ECONNREFUSED/);
    // the headroom workload serves its node pool's predicted extra pods
    const headroom = body.workloads.find((x) => x.name === HEADROOM.name) as WorkloadSummary;
    assert.equal(headroom.kind, 'headroom');
    assert.equal(headroom.desiredReplicas, w.registry.headroomFor('general'));
  });

  it('lists the workloads refused for memory apart, in the namespaces the caller may list', async () => {
    // GIVEN a runtime whose memory is full, and KEDA asking about a new workload in team-a
    const memory = new MemoryGuard({ limitBytes: 1e9, marginBytes: 0, usedBytes: () => 1e9 });
    const registry = new WorkloadRegistry({
      sources: { prometheus: w.source },
      clock: () => w.now,
      historySeconds: 86_400,
      settleSeconds: 0,
      refitEpochSeconds: 86_400,
      staleAfterSeconds: 300,
      memory,
    });
    const cart = { namespace: 'team-a', name: 'cart' };
    assert.throws(() =>
      registry.register(cart, parseWorkloadSpec(cart, { query: 'x', capacityPerReplica: '5' })),
    );
    const app = createApiServer(await deps({ registry, config: { readAccess: 'anonymous' } }));
    // WHEN listing THEN it is under `refused` with the reason, not under `workloads`
    const all = (await app.inject({ method: 'GET', url: '/api/v1/workloads' })).json<List>();
    assert.deepEqual(all.workloads, []);
    assert.deepEqual(
      all.refused.map((r) => [r.namespace, r.name, r.at]),
      [['team-a', 'cart', Math.floor(w.now / 1000)]],
    );
    assert.match(all.refused[0]?.reason ?? '', /refused: not enough memory/);
    // AND a namespace filter applies to it too
    const teamB = await app.inject({ method: 'GET', url: '/api/v1/workloads?namespace=team-b' });
    assert.deepEqual(teamB.json<List>().refused, []);
  });

  it('leaves the override out when the store cannot say, instead of failing the list', async () => {
    // GIVEN a store whose lookups fail for checkout
    const d = await deps({ config: { readAccess: 'anonymous' } });
    d.overrides.gone.add('team-a/checkout');
    // WHEN listing THEN checkout has no override field, search has override null
    const res = await createApiServer(d).inject({ method: 'GET', url: '/api/v1/workloads' });
    const items = res.json<List>().workloads;
    assert.ok(!('override' in (items.find((x) => x.name === 'checkout') as object)));
    assert.equal((items.find((x) => x.name === 'search') as WorkloadSummary).override, null);
  });

  it('needs credentials when reads are authenticated: 401 with a Bearer challenge', async () => {
    const app = createApiServer(await deps());
    const res = await app.inject({ method: 'GET', url: '/api/v1/workloads' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="elasticai"');
    assert.deepEqual(res.json(), {
      error: {
        code: 'unauthorized',
        message: 'Authorization: required, "Bearer <API key or Kubernetes token>"',
      },
    });
    const bad = await app.inject({ method: 'GET', url: '/api/v1/workloads', headers: bearer('nope') });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['www-authenticate'], 'Bearer realm="elasticai", error="invalid_token"');
  });

  it('shows a tenant-scoped caller only its namespaces, and a cluster-wide reader everything', async () => {
    const d = await deps();
    const app = createApiServer(d);
    const tenant = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(tenant.statusCode, 200);
    assert.deepEqual(
      tenant.json<List>().workloads.map((x) => `${x.namespace}/${x.name}`),
      ['team-a/checkout'],
    );
    const viewer = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads',
      headers: bearer(TOKENS.viewer),
    });
    assert.equal(viewer.json<List>().workloads.length, 4);
    // the viewer was authorized once, cluster-wide
    assert.deepEqual(
      d.authenticator.asked
        .filter((a) => a.caller === 'system:serviceaccount:monitoring:viewer')
        .map((a) => a.action),
      [{ verb: 'list' }],
    );
  });

  it('keeps a tenant-scoped caller inside its namespaces even when authorize would allow more', async () => {
    // GIVEN an authenticator whose authorize says yes to everything
    const d = await deps();
    const lenient = {
      authenticate: d.authenticator.authenticate.bind(d.authenticator),
      authorize: async () => true,
    };
    const app = createApiServer({ ...d, authenticator: lenient });
    // THEN the tenant key still sees only team-a, and cannot read or change team-b
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads',
      headers: bearer(TOKENS.tenantA),
    });
    assert.deepEqual(
      list.json<List>().workloads.map((x) => x.namespace),
      ['team-a'],
    );
    const get = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-b/search',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(get.statusCode, 403);
    const del = await app.inject({
      method: 'DELETE',
      url: '/api/v1/workloads/team-b/search/override',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(del.statusCode, 403);
  });

  it('filters by ?namespace= and refuses a namespace the caller may not list (403)', async () => {
    const app = createApiServer(await deps());
    const own = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads?namespace=team-b',
      headers: bearer(TOKENS.viewer),
    });
    assert.deepEqual(
      own.json<List>().workloads.map((x) => x.name),
      ['reports', 'search'],
    );
    const other = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads?namespace=team-b',
      headers: bearer(TOKENS.tenantA),
    });
    assert.equal(other.statusCode, 403);
    assert.deepEqual(other.json(), {
      error: { code: 'forbidden', message: 'team-a-deployer may not list scaledobjects in namespace team-b' },
    });
  });

  it('rejects unknown query parameters and bad namespaces, naming them (400)', async () => {
    const app = createApiServer(await deps());
    const unknown = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads?limit=5',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(unknown.json(), {
      error: { code: 'invalid-query', message: 'limit: unknown query parameter' },
    });
    const bad = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads?namespace=Team_A',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(bad.statusCode, 400);
    assert.match(
      bad.json<{ error: { message: string } }>().error.message,
      /^namespace: must be a namespace name/,
    );
  });
});

describe('GET /api/v1/workloads/:namespace/:name', () => {
  it('returns status, chart arrays, decision log and the full explanation of the served decision', async () => {
    // GIVEN the shared registry
    const w = await world();
    const app = createApiServer(await deps());
    // WHEN the admin asks for checkout
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-a/checkout',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(res.statusCode, 200);
    const body = res.json<WorkloadDetail>();
    // THEN the chart is the registry's, point for point (NaN demand would be null)
    const history = w.registry.history(CHECKOUT);
    assert.ok(history && history.timestamps.length >= 300, 'the chart holds the newest points');
    const h = body.history as NonNullable<WorkloadDetail['history']>;
    assert.deepEqual(h.timestamps, history.timestamps);
    assert.deepEqual(h.demand, history.demand);
    assert.deepEqual(h.forecast, history.forecast);
    assert.deepEqual(h.upper, history.upper);
    assert.deepEqual(h.replicas, history.replicas);
    assert.deepEqual(h.anomalies, history.anomalies);
    assert.equal(h.replicas.at(-1), body.desiredReplicas);
    assert.equal(h.timestamps.at(-1), body.decidedAt);
    assert.deepEqual(body.decisions, history.decisions);
    assert.equal(body.decisions.at(-1)?.desiredReplicas, body.desiredReplicas);
    // and the explanation is the decision the registry serves, with every part present
    const decision = w.registry.status(CHECKOUT)?.decision;
    assert.deepEqual(body.explanation, JSON.parse(JSON.stringify(decision)));
    const e = body.explanation as NonNullable<WorkloadDetail['explanation']>;
    assert.equal(e.desiredReplicas, body.desiredReplicas);
    assert.equal(e.inputs.capacityPerReplica, 20);
    assert.equal(e.inputs.maxReplicas, 40);
    assert.ok(e.forecast.model.length > 0);
    assert.ok(e.forecast.scores.length > 0);
    assert.ok(typeof e.anomaly.score === 'number' && typeof e.anomaly.state === 'string');
    assert.deepEqual(Object.keys(e.replicasFor).sort(), ['currentDemand', 'forecast', 'stabilized', 'surge']);
    assert.equal(typeof e.headroomPods, 'number');
    assert.equal(body.spec.kind, 'demand');
    assert.equal(body.failingForSeconds, 0);
  });

  it('answers a workload whose source is down with its error and no explanation', async () => {
    const app = createApiServer(await deps());
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-b/reports',
      headers: bearer(TOKENS.viewer),
    });
    assert.equal(res.statusCode, 200);
    const body = res.json<WorkloadDetail>();
    assert.equal(body.state, 'failed');
    assert.equal(body.explanation, null);
    assert.equal(body.lastError?.kind, 'unreachable');
    assert.deepEqual(body.history?.timestamps, []);
  });

  it('404s an unknown workload, and 403s before looking when the caller may not get it', async () => {
    const app = createApiServer(await deps());
    const unknown = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-a/nope',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), {
      error: { code: 'workload-not-found', message: 'no workload team-a/nope is known to the runtime' },
    });
    // a tenant cannot even learn whether team-b/nope exists
    for (const name of ['search', 'nope']) {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/workloads/team-b/${name}`,
        headers: bearer(TOKENS.tenantA),
      });
      assert.equal(res.statusCode, 403);
    }
  });

  it('checks path parameters as DNS names (400 naming the parameter)', async () => {
    const app = createApiServer(await deps());
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-a/Check_Out',
      headers: bearer(TOKENS.admin),
    });
    assert.equal(res.statusCode, 400);
    assert.match(
      res.json<{ error: { code: string; message: string } }>().error.message,
      /^name: must be a ScaledObject name/,
    );
    const ns = await app.inject({
      method: 'GET',
      url: `/api/v1/workloads/${'a'.repeat(64)}/x`,
      headers: bearer(TOKENS.admin),
    });
    assert.match(
      ns.json<{ error: { message: string } }>().error.message,
      /^namespace: must be a namespace name/,
    );
  });

  it('answers unknown routes with the same error shape', async () => {
    const app = createApiServer(await deps());
    const res = await app.inject({ method: 'PUT', url: '/api/v1/workloads/team-a/checkout?x=1' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), {
      error: { code: 'not-found', message: 'no route PUT /api/v1/workloads/team-a/checkout' },
    });
  });
});

describe('path parameters up to the longest valid name', () => {
  // A ScaledObject name may be a DNS subdomain of 253 characters (what gRPC accepts too).
  const LONG = {
    namespace: 'team-a',
    name: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  };

  it('serves a workload whose name has 253 characters on every route, plain or percent-encoded', async () => {
    // GIVEN a registered workload with a 253-character name
    assert.equal(LONG.name.length, 253);
    const w = await world();
    const registry = new WorkloadRegistry({
      sources: { prometheus: w.source },
      clock: () => w.now,
      historySeconds: 86_400,
      settleSeconds: 0,
      refitEpochSeconds: 86_400,
      staleAfterSeconds: 300,
    });
    await registry.register(
      LONG,
      parseWorkloadSpec(LONG, {
        query: 'sum(rate(http_requests_total{service="checkout"}[1m]))*60',
        capacityPerReplica: '20',
      }),
    );
    const app = createApiServer(await deps({ registry }));
    const path = `/api/v1/workloads/${LONG.namespace}/${LONG.name}`;
    const admin = bearer(TOKENS.admin);
    // WHEN each route is called THEN it answers as for any other name
    const detailRes = await app.inject({ method: 'GET', url: path, headers: admin });
    assert.equal(detailRes.statusCode, 200, detailRes.body);
    assert.equal(detailRes.json<WorkloadDetail>().name, LONG.name);
    const none = await app.inject({ method: 'GET', url: `${path}/override`, headers: admin });
    assert.equal(none.statusCode, 404);
    assert.equal(none.json<{ error: { code: string } }>().error.code, 'no-override');
    const set = await app.inject({
      method: 'POST',
      url: `${path}/override`,
      headers: admin,
      payload: { replicas: 3 },
    });
    assert.equal(set.statusCode, 201, set.body);
    assert.equal((await app.inject({ method: 'POST', url: `${path}/wake`, headers: admin })).statusCode, 202);
    assert.equal(
      (await app.inject({ method: 'DELETE', url: `${path}/override`, headers: admin })).statusCode,
      204,
    );
    // AND a percent-encoded name (759 characters in the URL) is the same name
    const encoded = [...LONG.name].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const viaEncoded = await app.inject({
      method: 'GET',
      url: `/api/v1/workloads/${LONG.namespace}/${encoded}`,
      headers: admin,
    });
    assert.equal(viaEncoded.statusCode, 200, viaEncoded.body);
    // AND an unknown name of the same length is a 404 of the API, not the router's
    const unknown = await app.inject({
      method: 'GET',
      url: `/api/v1/workloads/${LONG.namespace}/${'x'.repeat(253)}`,
      headers: admin,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'workload-not-found');
  });
});
