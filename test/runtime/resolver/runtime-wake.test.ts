/**
 * The whole wake-up chain with the real decision runtime: the resolver holds a request, calls the
 * runtime's wake endpoint with its ServiceAccount token (found through the runtime Service's
 * EndpointSlice), the runtime authenticates it (TokenReview) and authorizes `patch` on the ScaledObject
 * (SubjectAccessReview), and streams IsActive=true to KEDA — played by a gRPC client on StreamIsActive,
 * which "scales the Deployment" by starting the backend process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadRuntimeConfig } from '../../../runtime/service/config.js';
import { KubeClient } from '../../../runtime/service/kube/kube-client.js';
import type { Runtime } from '../../../runtime/service/runtime.js';
import { startRuntime } from '../../../runtime/service/runtime.js';
import type { AccessRule } from '../../support/fake-kube-api.js';
import type { FakePrometheus } from '../../support/fake-prometheus.js';
import { startFakePrometheus } from '../../support/fake-prometheus.js';
import { KedaClient } from '../../support/keda-client.js';
import { FakeCluster, freePort, RESOLVER_TOKEN, send, sleep, SYSTEM, until } from './support/cluster.js';

const RUNTIME_TOKEN = 'runtime-service-account-token-0123456789';
const RESOLVER_USER = 'system:serviceaccount:elasticai-system:elasticai-resolver';

describe('waking through the real decision runtime', () => {
  let cluster: FakeCluster;
  let prometheus: FakePrometheus;
  let runtime: Runtime;
  let keda: KedaClient;
  let address: string;
  const metadata = {
    query: 'sum(rate(http_requests_total{service="web"}[2m]))',
    capacityPerReplica: '40',
    minReplicas: '0',
  };

  before(async () => {
    cluster = await FakeCluster.start({ runtimes: 0, autoStart: false, appStartMs: 300 });
    const api = cluster.api;
    api.serviceAccountTokens.add(RUNTIME_TOKEN);
    api.users.set(RESOLVER_TOKEN, { username: RESOLVER_USER, groups: ['system:serviceaccounts'] });
    // No demand: the runtime's own decision keeps the workload at zero, so only a wake-up activates it.
    prometheus = await startFakePrometheus(() => 0);
    const grpcPort = await freePort();
    address = `elasticai-runtime.elasticai-system.svc.cluster.local:${grpcPort}`;
    api.putScaledObject({
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        scaleTargetRef: { name: 'web' },
        minReplicaCount: 0,
        triggers: [{ type: 'external-push', metadata: { scalerAddress: address, ...metadata } }],
      },
    });
    runtime = await startRuntime(
      loadRuntimeConfig({
        ELASTICAI_PROMETHEUS_URL: prometheus.url,
        ELASTICAI_LISTEN_HOST: '127.0.0.1',
        ELASTICAI_GRPC_PORT: String(grpcPort),
        ELASTICAI_HTTP_PORT: '0',
        ELASTICAI_POD_NAME: 'elasticai-runtime-abc12',
      }),
      {
        kube: new KubeClient({ url: api.url, token: RUNTIME_TOKEN }),
        tickSeconds: 0.2,
        log: () => undefined,
      },
    );
    await until(() => runtime.registry.refs().length === 1, 10_000, 'ScaledObject discovery');
    // The runtime's Service endpoints: where the resolver sends wake-ups.
    api.putEndpointSlice(
      FakeCluster.slice(
        SYSTEM,
        'elasticai-runtime',
        'elasticai-runtime-x1',
        'http',
        Number(new URL(runtime.httpUrl).port),
        [{ address: '127.0.0.1', ready: true }],
      ),
    );
    keda = new KedaClient(`127.0.0.1:${grpcPort}`);
  });
  after(async () => {
    keda?.close();
    await runtime?.shutdown();
    await prometheus?.close();
    await cluster?.close();
  });

  it('streams IsActive=true to KEDA on a held request, and the request completes once the pod is up', async () => {
    // GIVEN KEDA's StreamIsActive for shop/web, which starts the pod when it reads true
    const stream = keda.stream({
      namespace: 'shop',
      name: 'web',
      scalerMetadata: { scalerAddress: address, ...metadata },
    });
    const started: Promise<unknown>[] = [];
    stream.call.on('data', (m: { result: boolean }) => {
      if (m.result && cluster.starts === 0) started.push(cluster.startBackend());
    });
    await sleep(200);
    const before = stream.received.length;
    assert.equal(stream.received.filter(Boolean).length, 0, 'no demand: the runtime itself keeps it at zero');
    // AND the resolver may patch exactly this ScaledObject (what the construct's RBAC grants it)
    const rule: AccessRule = {
      users: [RESOLVER_USER],
      verbs: ['patch'],
      namespaces: ['shop'],
      names: ['web'],
    };
    cluster.api.accessRules.push(rule);
    // WHEN a request arrives for the workload at zero
    const pending = send(cluster.resolver.proxyPort, {
      method: 'POST',
      body: 'order',
      headers: { 'x-request-id': 'rt-1' },
    });
    // THEN KEDA reads IsActive=true, the pod starts and the held request completes
    const reply = await pending;
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).id, 'rt-1');
    assert.ok(stream.received.slice(before).includes(true));
    await Promise.all(started);
    assert.equal(cluster.starts, 1);
    // AND the runtime saw the resolver's token in its TokenReview and a SAR for patch on shop/web
    const reviews = cluster.api.callsTo('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews');
    const attributes = reviews.map(
      (c) => (c.body as { spec: { resourceAttributes: Record<string, string> } }).spec.resourceAttributes,
    );
    assert.ok(
      attributes.some(
        (a) =>
          a.verb === 'patch' && a.namespace === 'shop' && a.name === 'web' && a.resource === 'scaledobjects',
      ),
    );
    stream.call.cancel();
  });
});
