// Scale to zero in the environment table: the shop's back-office `reports` UI sits at zero behind the
// resolver on every cluster. Its ScaledObject, the resolver the platform chart deploys for it, the RBAC
// and NetworkPolicies that connect them, and on prod's EKS stack the resolver's image.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DecisionRuntime } from '../../constructs/k8s/decision-runtime.js';
import { loadResolverConfig, resolverSliceName } from '../../runtime/resolver/config.js';
import { ENV, parseTenants } from '../../runtime/service/config.js';
import { parseWorkloadSpec, type DemandSpec } from '../../runtime/service/workload-spec.js';
import { AwsClusterStack } from '../../stacks/aws-environment-stack.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig, EnvironmentConfig } from '../../stacks/environment-types.js';
import { synthEnvironment } from '../../stacks/synth-environment.js';
import { testApp } from '../aws/support.js';
import type { Json } from '../support/chart.js';

const RESOLVER = 'elasticai-resolver';
const SYSTEM = 'elasticai-system';
const CLUSTERS = ENVIRONMENTS.flatMap((env) => env.clusters.map((cluster) => ({ env, cluster })));

/** Synthesized objects of one cluster's chart. */
function objectsOf(env: EnvironmentConfig, cluster: string, chart: string): Json[] {
  return synthEnvironment(env)
    .filter((f) => f.path === `${cluster}/${chart}.yaml`)
    .flatMap((f) => [...f.objects]) as Json[];
}

/** The one object of `kind` named `namespace/name` (fails naming it when missing). */
function one(objects: Json[], kind: string, namespace: string, name: string): Json {
  const found = objects.filter(
    (o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name,
  );
  assert.equal(found.length, 1, `${kind} ${namespace}/${name}`);
  return found[0];
}

/** Namespaces a NetworkPolicy rule's peers select by name. */
const peerNamespaces = (rule: Json): string[] =>
  (rule.from ?? rule.to).map((p: Json) => p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']);

describe('scale to zero in the environment table: the shop reports UI', () => {
  for (const { env, cluster } of CLUSTERS) {
    const platform = objectsOf(env, cluster.name, 'platform');
    const shop = objectsOf(env, cluster.name, 'tenant-shop');

    it(`${cluster.name}: a ScaledObject from 0 with the runtime's external-push trigger, as the runtime reads it`, () => {
      // GIVEN the reports ScaledObject and the runtime's tenants
      const so = one(shop, 'ScaledObject', 'shop', 'reports');
      // THEN KEDA may take it to zero, and the only trigger is the runtime's push trigger
      assert.equal(so.spec.minReplicaCount, 0);
      assert.ok(so.spec.maxReplicaCount >= 2);
      assert.equal(so.spec.cooldownPeriod, 900);
      assert.deepEqual(
        so.spec.triggers.map((t: Json) => [t.type, t.metadata.scalerAddress]),
        [['external-push', DecisionRuntime.reference().scalerAddress]],
      );
      // AND the runtime accepts it as a workload it may hold at zero, within the tenant's cap
      const runtime = one(platform, 'Deployment', SYSTEM, 'elasticai-runtime');
      const tenants = runtime.spec.template.spec.containers[0].env.find((e: Json) => e.name === ENV.tenants);
      const spec = parseWorkloadSpec(
        { namespace: 'shop', name: 'reports' },
        so.spec.triggers[0].metadata,
        parseTenants(tenants.value),
      ) as DemandSpec;
      assert.equal(spec.engine.minReplicas, 0);
      assert.equal(spec.engine.maxReplicas, so.spec.maxReplicaCount);
      assert.equal(spec.tenant, 'shop');
      // AND the Deployment leaves the replica count to KEDA
      assert.equal(one(shop, 'Deployment', 'shop', 'reports').spec.replicas, undefined);
    });

    it(`${cluster.name}: the platform chart runs the resolver highly available, routing the reports host`, () => {
      const d = one(platform, 'Deployment', SYSTEM, RESOLVER);
      assert.ok(d.spec.replicas >= 2, `replicas ${d.spec.replicas}`);
      assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0);
      const pod = d.spec.template.spec;
      // The runtime image's second entry point, at the table's runtime image.
      assert.deepEqual(pod.containers[0].command, ['node', '/app/build/resolver/main.js']);
      assert.equal(pod.containers[0].image, cluster.runtime?.image);
      const pdb = one(platform, 'PodDisruptionBudget', SYSTEM, RESOLVER);
      assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
      assert.equal(pdb.spec.maxUnavailable, 1);
      one(platform, 'Service', SYSTEM, RESOLVER);
      // The resolver process accepts its configuration and routes the reports Service and host.
      const env = Object.fromEntries(
        (pod.containers[0].env as Json[]).map((e) => [
          e.name,
          e.value ?? (e.valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? SYSTEM : `${RESOLVER}-0`),
        ]),
      );
      const routes = loadResolverConfig(env).routes;
      assert.deepEqual(
        routes.map((r) => r.id),
        ['shop/reports'],
      );
      assert.ok(routes[0]?.hosts.includes(`reports.${cluster.name.split('-')[0]}.shop.example.com`));
      assert.ok(routes[0]?.hosts.includes('reports.shop.svc.cluster.local'));
    });

    it(`${cluster.name}: EndpointSlice RBAC for the resolver, least privilege in the shop namespace`, () => {
      const subject = [{ kind: 'ServiceAccount', name: RESOLVER, namespace: SYSTEM }];
      // Its own namespace: read the EndpointSlices of its pods (and the runtime's, same namespace).
      const own = one(platform, 'Role', SYSTEM, RESOLVER);
      assert.deepEqual(own.rules, [
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ]);
      const ownBinding = one(platform, 'RoleBinding', SYSTEM, RESOLVER);
      assert.deepEqual(ownBinding.subjects, subject);
      assert.equal(ownBinding.roleRef.name, RESOLVER);
      // The shop: watch slices, create one, and update only its own slice of the reports Service.
      const role = one(shop, 'Role', 'shop', `${RESOLVER}-reports`);
      const slices = role.rules.filter((r: Json) => r.resources.includes('endpointslices'));
      assert.deepEqual(
        slices
          .map((r: Json) => r.verbs)
          .flat()
          .sort(),
        ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      );
      const writes = slices.find((r: Json) => r.verbs.includes('update'));
      assert.deepEqual(writes.resourceNames, [resolverSliceName('reports')]);
      assert.ok(role.rules.every((r: Json) => !r.verbs.includes('*') && !r.resources.includes('*')));
      const binding = one(shop, 'RoleBinding', 'shop', `${RESOLVER}-reports`);
      assert.deepEqual(binding.subjects, subject);
      assert.equal(binding.roleRef.name, role.metadata.name);
    });

    it(`${cluster.name}: the network lets ingress and the shop reach the resolver and it the pods, nothing more`, () => {
      // The resolver: clients of the reports UI in on its proxy port.
      const policy = one(platform, 'NetworkPolicy', SYSTEM, RESOLVER);
      const proxyIn = policy.spec.ingress.find((r: Json) => r.ports.some((p: Json) => p.port === 8080));
      assert.deepEqual(peerNamespaces(proxyIn).sort(), ['ingress', 'shop']);
      // Out to the reports pods only on their port (besides DNS, the API server and the runtime).
      const toShop = policy.spec.egress.filter((r: Json) => peerNamespaces(r).includes('shop'));
      assert.deepEqual(toShop, [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'reports' } },
            },
          ],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ]);
      // The shop (default-deny): the reports pods from the resolver and the ingress controller...
      const pods = one(shop, 'NetworkPolicy', 'shop', 'reports-scale-to-zero');
      assert.deepEqual(pods.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'reports' });
      const from = pods.spec.ingress[0].from as Json[];
      assert.ok(from.some((p) => p.podSelector?.matchLabels['app.kubernetes.io/name'] === RESOLVER));
      assert.ok(peerNamespaces(pods.spec.ingress[0]).includes('ingress'));
      // ...and the shop's own pods out to the resolver while the reports UI is at zero.
      const egress = one(shop, 'NetworkPolicy', 'shop', 'reports-clients-to-resolver');
      assert.deepEqual(peerNamespaces(egress.spec.egress[0]), [SYSTEM]);
      // The runtime lets the resolver's namespace call its API (wake-ups).
      const runtime = one(platform, 'NetworkPolicy', SYSTEM, 'elasticai-runtime');
      const http = runtime.spec.ingress.find((r: Json) => r.ports.some((p: Json) => p.port === 8080));
      assert.ok(peerNamespaces(http).includes(SYSTEM));
    });

    it(`${cluster.name}: the resolver is scraped like the runtime, and fits the shop's pod quota`, () => {
      const monitors = platform
        .filter((o) => o.kind === 'ServiceMonitor')
        .map((o) => [o.metadata.name, o.apiVersion]);
      const runtimeFlavour = monitors.find(([name]) => name === 'elasticai-runtime')?.[1];
      assert.equal(monitors.find(([name]) => name === RESOLVER)?.[1], runtimeFlavour);
      // Every shop workload at max, plus the rollout surge, fits the quota the tenant writes.
      const quota = Number(one(shop, 'ResourceQuota', 'shop', 'tenant-quota').spec.hard.pods);
      const max = shop
        .filter((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler')
        .reduce((n, o) => n + (o.spec.maxReplicaCount ?? o.spec.maxReplicas), 0);
      assert.ok(quota >= Math.ceil(max * 1.25), `${quota} pods for ${max} at most`);
    });
  }
});

describe('scale to zero on the EKS stack that applies its charts (prod)', () => {
  it('runs the resolver on the runtime image the stack builds, like the runtime itself', () => {
    // GIVEN prod's EKS stack, whose charts the kubectl handler applies
    const prod = ENVIRONMENTS.find((e) => e.name === 'prod') as EnvironmentConfig;
    const cluster = prod.clusters.find((c) => c.cloud === 'aws') as ClusterConfig;
    const stack = new AwsClusterStack(testApp(), 'elasticai-prod-use1', { environment: prod, cluster });
    // WHEN reading the applied platform manifest
    const applied = Object.values(
      Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource'),
    )
      .map((r: Json) => JSON.stringify(r.Properties.Manifest))
      .filter((m) => m.includes('/app/build/resolver/main.js'));
    // THEN the resolver is there once, and no container runs the registry image any more
    assert.equal(applied.length, 1);
    assert.ok(!(applied[0] as string).includes(cluster.runtime?.image as string));
    assert.ok((applied[0] as string).includes('container-assets'));
  });
});
