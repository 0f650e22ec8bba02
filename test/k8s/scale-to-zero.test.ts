// Scale to zero: the ScaleToZeroResolver construct, the ScaleToZero option of AutoscaledWorkload, the
// contract with the resolver process (runtime/resolver/config.ts) and the synth-time checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  AutoscaledWorkload,
  type AutoscaledWorkloadProps,
} from '../../constructs/k8s/autoscaled-workload.js';
import { type ClusterChart } from '../../constructs/k8s/cluster-info.js';
import { DecisionRuntime, RuntimeServiceMonitor } from '../../constructs/k8s/decision-runtime.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { Metric, MetricTarget } from '../../constructs/k8s/metric.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import { ScaleToZero, type ScaleToZeroOptions } from '../../constructs/k8s/scale-to-zero.js';
import {
  ScaleToZeroResolver,
  type ScaleToZeroResolverProps,
} from '../../constructs/k8s/scale-to-zero-resolver.js';
import { Tenant } from '../../constructs/k8s/tenant.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { loadResolverConfig, resolverSliceName } from '../../runtime/resolver/config.js';
import { parseWorkloadSpec } from '../../runtime/service/workload-spec.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const IMAGE = 'ghcr.io/elasticai/elasticai-runtime:0.1.0';
const RESOURCES = { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } };

interface Setup {
  chart: ClusterChart;
  runtime: DecisionRuntime;
  resolver: ScaleToZeroResolver;
}

function setup(
  resolverProps: Partial<ScaleToZeroResolverProps> = {},
  runtimeProps: Record<string, unknown> = {},
): Setup {
  const chart = testChart();
  const runtime = new DecisionRuntime(chart, 'runtime', {
    image: IMAGE,
    history: RuntimeHistory.prometheus('http://prometheus-operated.monitoring.svc:9090'),
    serviceMonitor: RuntimeServiceMonitor.none(),
    ...runtimeProps,
  });
  const resolver = new ScaleToZeroResolver(chart, 'resolver', {
    image: IMAGE,
    runtime,
    serviceMonitor: RuntimeServiceMonitor.none(),
    ...resolverProps,
  });
  return { chart, runtime, resolver };
}

function workloadProps(
  s: Pick<Setup, 'runtime' | 'resolver'>,
  options: Partial<ScaleToZeroOptions> = {},
  overrides: Partial<AutoscaledWorkloadProps> = {},
): AutoscaledWorkloadProps {
  return {
    namespace: 'shop',
    image: 'ghcr.io/acme/web:2.3.1',
    port: 8080,
    resources: RESOURCES,
    replicas: { min: 0, max: 10 },
    scaling: WorkloadScaling.keda({
      triggers: [
        s.runtime.trigger({
          query: 'sum(rate(http_requests_total{service="web"}[2m])) * 60',
          capacityPerReplica: 600,
          minReplicas: 0,
          push: true,
        }),
      ],
    }),
    scaleToZero: ScaleToZero.http({ resolver: s.resolver, hosts: ['shop.example.com'], ...options }),
    ...overrides,
  };
}

/** The process environment the kubelet gives the resolver container (downward API resolved). */
function resolverEnv(objects: KubeObject[], name = 'elasticai-resolver'): Record<string, string> {
  const d = only(objects, 'Deployment', name) as Json;
  const fields: Record<string, string> = {
    'metadata.name': `${name}-abc12`,
    'metadata.namespace': d.metadata.namespace,
  };
  return Object.fromEntries(
    (d.spec.template.spec.containers[0].env as Json[]).map((e) => [
      e.name,
      e.value ?? fields[e.valueFrom.fieldRef.fieldPath as string],
    ]),
  );
}

const of = (objects: KubeObject[], kind: string, namespace: string, name: string): Json =>
  objects.find(
    (o) => o.kind === kind && o.metadata?.namespace === namespace && o.metadata?.name === name,
  ) as Json;

describe('ScaleToZeroResolver and the ScaleToZero workload option', () => {
  it('synthesizes schema-valid objects for the resolver, the workload and their wiring', async () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const objects = synth(s.chart);
    assert.deepEqual(await validateAll(objects), []);
    const kinds = objects
      .filter((o) => o.metadata?.name?.includes('resolver') || o.metadata?.name?.startsWith('web'))
      .map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`)
      .sort();
    assert.deepEqual(kinds, [
      'Deployment/elasticai-system/elasticai-resolver',
      'Deployment/shop/web',
      'NetworkPolicy/elasticai-system/elasticai-resolver',
      'PodDisruptionBudget/elasticai-system/elasticai-resolver',
      'PodDisruptionBudget/shop/web',
      'Role/elasticai-system/elasticai-resolver',
      'Role/shop/elasticai-resolver-web',
      'RoleBinding/elasticai-system/elasticai-resolver',
      'RoleBinding/shop/elasticai-resolver-web',
      'ScaledObject/shop/web',
      'Service/elasticai-system/elasticai-resolver',
      'Service/shop/web',
      'ServiceAccount/elasticai-system/elasticai-resolver',
      'ServiceAccount/shop/web',
    ]);
  });

  it('runs the runtime image with the resolver entry point: 2 replicas, restricted, probes, resources, PDB', () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const objects = synth(s.chart);
    const d = of(objects, 'Deployment', 'elasticai-system', 'elasticai-resolver');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(d.spec.replicas, 2);
    assert.equal(c.image, IMAGE);
    assert.deepEqual(c.command, ['node', '/app/build/resolver/main.js']);
    assert.deepEqual(
      c.ports.map((p: Json) => [p.name, p.containerPort]),
      [
        ['http', 8080],
        ['admin', 9091],
      ],
    );
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.readinessProbe.httpGet.port, 'admin');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.startupProbe.httpGet.path, '/healthz');
    assert.deepEqual(c.resources, {
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { cpu: '1000m', memory: '256Mi' },
    });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal(pod.serviceAccountName, 'elasticai-resolver');
    assert.equal(pod.terminationGracePeriodSeconds, 5 + 30 + 5);
    assert.deepEqual(
      pod.topologySpreadConstraints.map((t: Json) => [t.topologyKey, t.whenUnsatisfiable]),
      [
        ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ['kubernetes.io/hostname', 'DoNotSchedule'],
      ],
    );
    assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.equal(
      of(objects, 'PodDisruptionBudget', 'elasticai-system', 'elasticai-resolver').spec.maxUnavailable,
      1,
    );
    const svc = of(objects, 'Service', 'elasticai-system', 'elasticai-resolver');
    assert.deepEqual(
      svc.spec.ports.map((p: Json) => [p.name, p.port, p.targetPort]),
      [
        ['http', 8080, 'http'],
        ['admin', 9091, 'admin'],
      ],
    );
  });

  it('writes a routing table the resolver process accepts: the Service names, the runtime, the hold settings', () => {
    const s = setup({ maxHeld: 500 });
    new AutoscaledWorkload(
      s.chart,
      'web',
      workloadProps(s, {
        pathPrefix: '/shop/',
        holdTimeout: Duration.seconds(45),
        maxHeld: 200,
        releaseConcurrency: 4,
        retryAfter: Duration.seconds(10),
        clientNamespaces: ['ingress', 'shop'],
      }),
    );
    const config = loadResolverConfig(resolverEnv(synth(s.chart)));
    assert.equal(config.namespace, 'elasticai-system');
    assert.equal(config.service, 'elasticai-resolver');
    assert.equal(config.maxHeldTotal, 500);
    assert.equal(config.drainDelayMs, 5_000);
    assert.equal(config.shutdownGraceMs, 30_000);
    assert.deepEqual(config.routes, [
      {
        id: 'shop/web',
        namespace: 'shop',
        service: 'web',
        port: 'http',
        scaledObject: 'web',
        hosts: ['shop.example.com', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local', 'web'],
        pathPrefix: '/shop',
        protocol: 'http',
        runtime: {
          namespace: 'elasticai-system',
          service: 'elasticai-runtime',
          port: 'http',
          url: 'http://elasticai-runtime.elasticai-system.svc.cluster.local:8080',
        },
        holdTimeoutSeconds: 45,
        holdTimeoutMs: 45_000,
        maxHeld: 200,
        releaseConcurrency: 4,
        retryAfterSeconds: 10,
        switchService: true,
      },
    ]);
  });

  it('routes the bare Service name only while it is unambiguous, and gRPC workloads as HTTP/2 cleartext', () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    new AutoscaledWorkload(
      s.chart,
      'web-b',
      workloadProps(s, { hosts: [], protocol: 'grpc' }, { name: 'web', namespace: 'blue' }),
    );
    new AutoscaledWorkload(s.chart, 'api', workloadProps(s, { hosts: [] }, { name: 'api' }));
    const routes = loadResolverConfig(resolverEnv(synth(s.chart))).routes;
    const hosts = Object.fromEntries(routes.map((r) => [r.id, r.hosts]));
    assert.deepEqual(hosts['shop/web'], [
      'shop.example.com',
      'web.shop',
      'web.shop.svc',
      'web.shop.svc.cluster.local',
    ]);
    assert.deepEqual(hosts['blue/web'], ['web.blue', 'web.blue.svc', 'web.blue.svc.cluster.local']);
    assert.deepEqual(hosts['shop/api'], ['api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local', 'api']);
    assert.equal(routes.find((r) => r.id === 'blue/web')?.protocol, 'h2c');
  });

  it('gives the workload a ScaledObject at zero with the runtime push trigger and a cooldown', () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const so = of(synth(s.chart), 'ScaledObject', 'shop', 'web');
    assert.equal(so.spec.minReplicaCount, 0);
    assert.equal(so.spec.cooldownPeriod, 300);
    const trigger = so.spec.triggers[0];
    assert.equal(trigger.type, 'external-push');
    assert.equal(trigger.metadata.scalerAddress, s.runtime.scalerAddress);
    // the runtime parses the trigger and may decide zero replicas
    const spec = parseWorkloadSpec({ namespace: 'shop', name: 'web' }, trigger.metadata);
    assert.equal(spec.kind === 'demand' ? spec.engine.minReplicas : -1, 0);
  });

  it('grants the resolver least privilege in the workload namespace', () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const objects = synth(s.chart);
    const role = of(objects, 'Role', 'shop', 'elasticai-resolver-web');
    assert.deepEqual(role.rules, [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['create'] },
      {
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        resourceNames: [resolverSliceName('web')],
        verbs: ['update', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['services'], resourceNames: ['web'], verbs: ['get'] },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], resourceNames: ['web'], verbs: ['patch'] },
    ]);
    const binding = of(objects, 'RoleBinding', 'shop', 'elasticai-resolver-web');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'elasticai-resolver', namespace: 'elasticai-system' },
    ]);
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'elasticai-resolver-web',
    });
    // in its own namespace: read EndpointSlices only (its own pods, the runtime's pods)
    assert.deepEqual(of(objects, 'Role', 'elasticai-system', 'elasticai-resolver').rules, [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    // no wildcard anywhere, no cluster-wide grant
    for (const o of objects.filter((x) => /Role/.test(x.kind) && x.metadata?.name?.includes('resolver'))) {
      assert.ok(!JSON.stringify(o).includes('"*"'), `${o.kind}/${o.metadata?.name} has a wildcard`);
      assert.ok(!o.kind.startsWith('Cluster'));
    }
  });

  it('opens the network resolver ↔ workload and clients → resolver, nothing else', () => {
    const s = setup();
    const chart = s.chart;
    const tenant = new Tenant(chart, 'shop', { name: 'shop', groups: ['shop-developers'] });
    new AutoscaledWorkload(
      tenant,
      'web',
      workloadProps(s, { clientNamespaces: ['shop', 'ingress'] }, { namespace: undefined }),
    );
    const objects = synth(chart);
    const ns = (name: string): Json => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
    });
    const resolverPods = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elasticai-system' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'elasticai-resolver' } },
    };
    // the workload's pods: from the resolver and the client namespaces, on the container port
    const toWorkload = of(objects, 'NetworkPolicy', 'shop', 'web-scale-to-zero');
    assert.deepEqual(toWorkload.spec.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'web' } });
    assert.deepEqual(toWorkload.spec.ingress, [
      { from: [resolverPods, ns('shop'), ns('ingress')], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
    // in a Tenant (default-deny egress) its pods may reach the resolver
    const egress = of(objects, 'NetworkPolicy', 'shop', 'web-clients-to-resolver');
    assert.deepEqual(egress.spec.podSelector, {});
    assert.deepEqual(egress.spec.egress, [{ to: [resolverPods], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    // and the tenant's other policies stay as they were, the default-deny included
    assert.ok(
      objects.some(
        (o) =>
          o.kind === 'NetworkPolicy' &&
          o.metadata?.namespace === 'shop' &&
          o.metadata.name === 'default-deny-all',
      ),
    );
    // the resolver: clients in on the proxy port, monitoring on the admin port
    const resolverPolicy = of(objects, 'NetworkPolicy', 'elasticai-system', 'elasticai-resolver');
    assert.deepEqual(resolverPolicy.spec.ingress, [
      { from: [ns('ingress'), ns('shop')], ports: [{ protocol: 'TCP', port: 8080 }] },
      { from: [ns('monitoring')], ports: [{ protocol: 'TCP', port: 9091 }] },
    ]);
    // and out: DNS, the API server, the runtime's API and the workload's pods
    const out = resolverPolicy.spec.egress as Json[];
    assert.equal(out.length, 4);
    assert.deepEqual(out[2], {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elasticai-system' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'elasticai-runtime' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
    assert.deepEqual(out[3], {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
  });

  it('isolates nothing outside a Tenant: no policy selects the workload pods there', () => {
    const s = setup();
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const policies = synth(s.chart).filter(
      (o) => o.kind === 'NetworkPolicy' && o.metadata?.namespace === 'shop',
    );
    assert.deepEqual(policies, []);
  });

  it('adds a ServiceMonitor on the admin port unless told not to', () => {
    const s = setup({
      serviceMonitor: RuntimeServiceMonitor.prometheusOperator({ labels: { release: 'kps' } }),
    });
    new AutoscaledWorkload(s.chart, 'web', workloadProps(s));
    const monitor = only(synth(s.chart), 'ServiceMonitor', 'elasticai-resolver') as Json;
    assert.equal(monitor.metadata.labels.release, 'kps');
    assert.deepEqual(monitor.spec.endpoints, [
      { port: 'admin', path: '/metrics', interval: '30s', scheme: 'http' },
    ]);
  });
});

describe('scale-to-zero checks', () => {
  const error = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('expected an error');
  };

  it('refuses a workload with no HTTP port, HPA scaling, a minimum above zero, or no runtime push trigger', () => {
    const s = setup();
    assert.match(
      error(
        () =>
          new AutoscaledWorkload(
            s.chart,
            'a',
            workloadProps(s, {}, { port: undefined, readiness: undefined }),
          ),
      ),
      /^scaleToZero: needs an HTTP port: workload "shop\/a" has no port/,
    );
    assert.match(
      error(
        () =>
          new AutoscaledWorkload(
            s.chart,
            'b',
            workloadProps(
              s,
              {},
              {
                replicas: { min: 1, max: 3 },
                scaling: WorkloadScaling.hpa({ metrics: [Metric.resourceCpu(MetricTarget.utilization(60))] }),
              },
            ),
          ),
      ),
      /^scaleToZero: needs WorkloadScaling\.keda/,
    );
    assert.match(
      error(
        () => new AutoscaledWorkload(s.chart, 'c', workloadProps(s, {}, { replicas: { min: 1, max: 3 } })),
      ),
      /^replicas\.min: must be 0 with scaleToZero \(got 1\)/,
    );
    const polled = WorkloadScaling.keda({
      triggers: [s.runtime.trigger({ query: 'x', capacityPerReplica: 10, minReplicas: 0 })],
    });
    assert.match(
      error(() => new AutoscaledWorkload(s.chart, 'd', workloadProps(s, {}, { scaling: polled }))),
      /^scaling\.triggers: scaleToZero needs exactly one external-push trigger of the resolver's decision runtime/,
    );
    const atOne = WorkloadScaling.keda({
      triggers: [s.runtime.trigger({ query: 'x', capacityPerReplica: 10, push: true })],
    });
    assert.match(
      error(() => new AutoscaledWorkload(s.chart, 'e', workloadProps(s, {}, { scaling: atOne }))),
      /push trigger must set minReplicas: 0/,
    );
    const elsewhere = WorkloadScaling.keda({
      triggers: [
        Trigger.externalPush({
          name: 'other',
          scalerAddress: 'other.scaler:9090',
          metadata: { minReplicas: '0' },
        }),
      ],
    });
    assert.match(
      error(() => new AutoscaledWorkload(s.chart, 'f', workloadProps(s, {}, { scaling: elsewhere }))),
      /exactly one external-push trigger of the resolver's decision runtime \(elasticai-runtime\.elasticai-system\.svc\.cluster\.local:9090\)/,
    );
  });

  it('refuses bad options with the prop named', () => {
    const s = setup();
    const options = (o: Partial<ScaleToZeroOptions>) => () =>
      ScaleToZero.http({ resolver: s.resolver, ...o });
    assert.match(
      error(options({ hosts: ['Shop.example.com'] })),
      /^scaleToZero\.hosts\[0\]: must be a lowercase host name/,
    );
    assert.match(error(options({ hosts: ['a.example.com:443'] })), /^scaleToZero\.hosts\[0\]/);
    assert.match(error(options({ pathPrefix: 'api' })), /^scaleToZero\.pathPrefix: must start with "\/"/);
    assert.match(
      error(options({ holdTimeout: Duration.hours(2) })),
      /^scaleToZero\.holdTimeout: must be between 1 and 3600/,
    );
    assert.match(
      error(options({ maxHeld: 0 })),
      /^scaleToZero\.maxHeld: must be between 1 and 1000000 \(got 0\)/,
    );
    assert.match(error(options({ clientNamespaces: ['Ingress'] })), /^scaleToZero\.clientNamespaces\[0\]/);
    assert.match(
      error(options({ protocol: 'tcp' as never })),
      /^scaleToZero\.protocol: must be "http" or "grpc"/,
    );
    assert.match(
      error(
        () =>
          new ScaleToZeroResolver(s.chart, 'one', {
            image: IMAGE,
            runtime: s.runtime,
            name: 'one',
            replicas: 1,
          }),
      ),
      /^replicas: must be at least 2/,
    );
    assert.match(
      error(
        () =>
          new ScaleToZeroResolver(s.chart, 'latest', {
            image: 'ghcr.io/x/y:latest',
            runtime: s.runtime,
            name: 'x',
          }),
      ),
      /^image: must not use the mutable "latest" tag/,
    );
    // The same rules as the decision runtime's for the same props.
    const resolver = (props: Partial<ScaleToZeroResolverProps>) => () => setup(props);
    assert.match(
      error(resolver({ kubernetesApi: { cidrs: ['10.0.0.0/33'] } })),
      /^kubernetesApi\.cidrs\[0\]: must be an IPv4 CIDR like "10\.0\.0\.0\/16" \(got "10\.0\.0\.0\/33"\)/,
    );
    assert.match(
      error(resolver({ kubernetesApi: { cidrs: ['10.0.0.0/8', '300.0.0.0/8'] } })),
      /^kubernetesApi\.cidrs\[1\]: must be an IPv4 CIDR .*\(got "300\.0\.0\.0\/8"\)/,
    );
    assert.match(
      error(
        resolver({
          serviceMonitor: RuntimeServiceMonitor.prometheusOperator({ labels: { 'bad key': 'x' } }),
        }),
      ),
      /^serviceMonitor\.labels: must be a label key .*\(got "bad key"\)/,
    );
  });

  it('fails synth for conflicting hosts, a resolver not deployed, a resolver without workloads, or a runtime that cannot serve it', () => {
    // two workloads claiming the same host and prefix
    const a = setup();
    new AutoscaledWorkload(a.chart, 'web', workloadProps(a));
    new AutoscaledWorkload(a.chart, 'api', workloadProps(a, {}, { name: 'api' }));
    assert.match(
      error(() => synth(a.chart)),
      /host shop\.example\.com with path prefix \/ is routed to both workload "shop\/web" and workload "shop\/api"/,
    );
    // a reference to a resolver the app does not deploy
    const b = setup();
    new AutoscaledWorkload(b.chart, 'web', workloadProps(b));
    const ghost = ScaleToZeroResolver.reference({ runtime: b.runtime, name: 'ghost' });
    new AutoscaledWorkload(
      b.chart,
      'api',
      workloadProps({ runtime: b.runtime, resolver: ghost as ScaleToZeroResolver }, {}, { name: 'api' }),
    );
    assert.match(
      error(() => synth(b.chart)),
      /uses resolver elasticai-system\/ghost, which this app does not deploy/,
    );
    // a resolver nobody uses would start with an empty routing table
    const c = setup();
    assert.match(
      error(() => synth(c.chart)),
      /resolver elasticai-system\/elasticai-resolver: no workload uses it/,
    );
    // a runtime that keeps the resolver's namespace out of its API, or cannot authenticate it
    const d = setup({ namespace: 'edge' }, { httpIngressNamespaces: ['monitoring'] });
    new AutoscaledWorkload(d.chart, 'web', workloadProps(d));
    assert.match(
      error(() => synth(d.chart)),
      /does not let namespace edge call its HTTP API \(add it to httpIngressNamespaces\)/,
    );
    const e = setup({}, { tokenReview: false, apiKeysSecret: 'keys' });
    new AutoscaledWorkload(e.chart, 'web', workloadProps(e));
    assert.match(
      error(() => synth(e.chart)),
      /has tokenReview: false, so it cannot authenticate the resolver/,
    );
  });
});
