// The DecisionRuntime construct: what it deploys, the contract with the runtime process
// (runtime/service/config.ts, workload-spec.ts), and the trigger that hands workloads to it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  DecisionRuntime,
  type DecisionRuntimeProps,
  RuntimeServiceMonitor,
} from '../../constructs/k8s/decision-runtime.js';
import { Headroom, HeadroomScaling } from '../../constructs/k8s/headroom.js';
import { ScaledObject } from '../../constructs/k8s/keda/scaled-object.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { PodIdentity, TriggerAuthentication } from '../../constructs/k8s/keda/trigger-authentication.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import {
  RUNTIME_METADATA,
  RUNTIME_METADATA_DEFAULTS,
  RUNTIME_MODEL_FAMILIES,
} from '../../constructs/k8s/runtime-trigger.js';
import { WorkloadIdentity } from '../../constructs/k8s/workload-identity.js';
import { MODEL_FAMILIES } from '../../runtime/engine/forecaster.js';
import { DEFAULTS, ENV, loadRuntimeConfig, parseTenants } from '../../runtime/service/config.js';
import {
  METADATA,
  METADATA_DEFAULTS,
  parseWorkloadSpec,
  type DemandSpec,
} from '../../runtime/service/workload-spec.js';
import { ClusterChart } from '../../constructs/k8s/cluster-info.js';
import { App, only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const IMAGE = 'ghcr.io/elasticai/elasticai-runtime:0.1.0';
const AMP_ARN = 'arn:aws:aps:us-east-1:123456789012:workspace/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789';
const BASE: DecisionRuntimeProps = {
  image: IMAGE,
  history: RuntimeHistory.prometheus('http://prometheus-operated.monitoring.svc:9090'),
};

function synthRuntime(overrides: Partial<DecisionRuntimeProps> = {}): {
  runtime: DecisionRuntime;
  objects: KubeObject[];
} {
  const chart = testChart();
  const runtime = new DecisionRuntime(chart, 'runtime', { ...BASE, ...overrides });
  return { runtime, objects: synth(chart) };
}

const deployment = (objects: KubeObject[]): Json => only(objects, 'Deployment') as Json;
const container = (objects: KubeObject[]): Json => deployment(objects).spec.template.spec.containers[0];

/**
 * The process environment the kubelet would give the container: plain values as written, downward-API
 * fields resolved the way the kubelet resolves them for a pod `elasticai-runtime-abc12` in `ns`.
 */
function processEnv(objects: KubeObject[]): Record<string, string> {
  const ns = deployment(objects).metadata.namespace as string;
  const fields: Record<string, string> = {
    'metadata.name': 'elasticai-runtime-abc12',
    'metadata.namespace': ns,
  };
  return Object.fromEntries(
    (container(objects).env as Json[]).map((e) => {
      if (e.value !== undefined) return [e.name, e.value];
      const path = e.valueFrom?.fieldRef?.fieldPath as string;
      assert.ok(path in fields, `env ${e.name} reads an unexpected source ${JSON.stringify(e.valueFrom)}`);
      return [e.name, fields[path] as string];
    }),
  );
}

/** Mounted path of each volume of the container, by volume name. */
function mounts(objects: KubeObject[]): Record<string, { path: string; readOnly: boolean }> {
  return Object.fromEntries(
    (container(objects).volumeMounts as Json[]).map((m) => [
      m.name,
      { path: m.mountPath, readOnly: m.readOnly === true },
    ]),
  );
}

/**
 * No CRD for ServiceMonitor in ../shared/crds: its shape is checked here by hand, closed like the API
 * server's pruning, with the field types of prometheus-operator's CRD (monitoring.coreos.com/v1).
 */
const SERVICE_MONITOR = new Ajv({ allErrors: true, strict: false }).compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { enum: ['monitoring.coreos.com/v1', 'azmonitoring.coreos.com/v1'] },
    kind: { const: 'ServiceMonitor' },
    metadata: {
      type: 'object',
      required: ['name', 'namespace'],
      properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } },
    },
    spec: {
      type: 'object',
      required: ['selector', 'endpoints'],
      additionalProperties: false,
      properties: {
        selector: {
          type: 'object',
          additionalProperties: false,
          properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
        },
        namespaceSelector: {
          type: 'object',
          additionalProperties: false,
          properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
        },
        endpoints: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              port: { type: 'string' },
              path: { type: 'string', pattern: '^/' },
              interval: {
                type: 'string',
                pattern:
                  '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
              },
              scheme: { enum: ['http', 'https'] },
              tlsConfig: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  serverName: { type: 'string' },
                  ca: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      secret: {
                        type: 'object',
                        required: ['key'],
                        additionalProperties: false,
                        properties: { name: { type: 'string' }, key: { type: 'string' } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

/** Every object schema-checked: built-ins and CRDs by the shared harness, ServiceMonitors by hand. */
async function validateRuntime(objects: KubeObject[]): Promise<string[]> {
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  const errors = await validateAll(objects.filter((o) => o.kind !== 'ServiceMonitor'));
  for (const m of monitors) {
    if (!SERVICE_MONITOR(m))
      errors.push(`ServiceMonitor ${m.metadata?.name}: ${JSON.stringify(SERVICE_MONITOR.errors)}`);
  }
  return errors;
}

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => {
    assert.equal(e.name, 'PropError', e.message);
    assert.match(e.message, message);
    return true;
  });
}

describe('DecisionRuntime', () => {
  it('deploys a Deployment, Service, ServiceAccount, RBAC, PDB, NetworkPolicy and ServiceMonitor, all schema-valid', async () => {
    // GIVEN / WHEN the defaults
    const { objects } = synthRuntime();
    // THEN exactly these objects, with stable names
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort(),
      [
        'ClusterRole//elasticai-runtime',
        'ClusterRoleBinding//elasticai-runtime',
        'Deployment/elasticai-system/elasticai-runtime',
        'NetworkPolicy/elasticai-system/elasticai-runtime',
        'PodDisruptionBudget/elasticai-system/elasticai-runtime',
        'Role/elasticai-system/elasticai-runtime',
        'RoleBinding/elasticai-system/elasticai-runtime',
        'Service/elasticai-system/elasticai-runtime',
        'ServiceAccount/elasticai-system/elasticai-runtime',
        'ServiceMonitor/elasticai-system/elasticai-runtime',
      ],
    );
    assert.deepEqual(await validateRuntime(objects), []);
  });

  it('the hand-written ServiceMonitor check rejects what the operator would prune or refuse', () => {
    // GIVEN a valid ServiceMonitor WHEN breaking it THEN the check fails (it is not vacuous)
    const monitor = only(synthRuntime().objects, 'ServiceMonitor') as Json;
    assert.equal(SERVICE_MONITOR(monitor), true);
    const typo = structuredClone(monitor);
    typo.spec.endpoints[0].intervall = '30s';
    assert.equal(SERVICE_MONITOR(typo), false);
    const badInterval = structuredClone(monitor);
    badInterval.spec.endpoints[0].interval = '30 seconds';
    assert.equal(SERVICE_MONITOR(badInterval), false);
  });

  it('runs 2 replicas that never drop below 2 during a rollout, spread over zones and nodes, with a PDB', () => {
    // GIVEN / WHEN
    const { objects } = synthRuntime();
    const d = deployment(objects);
    // THEN
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.spec.strategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const spread = d.spec.template.spec.topologySpreadConstraints as Json[];
    assert.deepEqual(
      spread.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.maxSkew]),
      [
        ['topology.kubernetes.io/zone', 'ScheduleAnyway', 1],
        ['kubernetes.io/hostname', 'DoNotSchedule', 1],
      ],
    );
    for (const c of spread) assert.deepEqual(c.labelSelector.matchLabels, d.spec.selector.matchLabels);
    const pdb = only(objects, 'PodDisruptionBudget') as Json;
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
    assert.deepEqual(d.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'elasticai-runtime' });
    assert.deepEqual(
      Object.entries(d.spec.selector.matchLabels).filter(
        ([k, v]) => d.spec.template.metadata.labels[k] !== v,
      ),
      [],
    );
  });

  it('refuses fewer than 2 replicas, explaining that KEDA fallback does not cover an unreachable scaler', () => {
    throwsProp(
      () => synthRuntime({ replicas: 1 }),
      /^replicas: must be at least 2: KEDA's fallback does not fire .*KEDA issue 8056.*\(got 1\)$/,
    );
    throwsProp(() => synthRuntime({ replicas: 2.5 }), /^replicas: must be an integer \(got 2.5\)$/);
    assert.equal(deployment(synthRuntime({ replicas: 3 }).objects).spec.replicas, 3);
  });

  it('is Pod Security restricted with a read-only root, /tmp as an emptyDir, requests, limits and HTTP probes', () => {
    // GIVEN / WHEN
    const { objects } = synthRuntime();
    const pod = deployment(objects).spec.template.spec;
    const c = container(objects);
    // THEN
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.deepEqual(mounts(objects), { tmp: { path: '/tmp', readOnly: false } });
    assert.deepEqual(pod.volumes, [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
    assert.deepEqual(c.resources, {
      requests: { cpu: '250m', memory: '768Mi' },
      limits: { cpu: '1000m', memory: '768Mi' },
    });
    assert.deepEqual(c.ports, [
      { name: 'grpc', containerPort: 9090, protocol: 'TCP' },
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
    ]);
    const probe = (p: Json) => [p.httpGet.path, p.httpGet.port, p.httpGet.scheme];
    assert.deepEqual(probe(c.startupProbe), ['/healthz', 'http', 'HTTP']);
    assert.deepEqual(probe(c.readinessProbe), ['/readyz', 'http', 'HTTP']);
    assert.deepEqual(probe(c.livenessProbe), ['/healthz', 'http', 'HTTP']);
    // The startup probe allows a slow start without the liveness probe killing it.
    assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 60);
    assert.equal(c.image, IMAGE);
    assert.equal(c.command, undefined, "the image's default command");
    assert.equal(c.args, undefined);
    // It calls the API server: the token is mounted, on the pod and the ServiceAccount.
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal((only(objects, 'ServiceAccount') as Json).automountServiceAccountToken, true);
    assert.equal(pod.serviceAccountName, 'elasticai-runtime');
    assert.equal(pod.enableServiceLinks, false);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > DEFAULTS.shutdownGraceMs);
  });

  it('runs on on-demand capacity like the other platform pieces: system-cluster-critical, tolerating the system pool', () => {
    // GIVEN / WHEN
    const pod = deployment(synthRuntime().objects).spec.template.spec;
    // THEN
    assert.equal(pod.priorityClassName, 'system-cluster-critical');
    assert.deepEqual(pod.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Exists' }]);
    const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.deepEqual(
      terms[0].matchExpressions.map((e: Json) => `${e.key} ${e.operator} ${e.values}`),
      [
        'eks.amazonaws.com/capacityType NotIn SPOT',
        'kubernetes.azure.com/scalesetpriority NotIn spot',
        'elasticai.io/capacity-type NotIn spot',
      ],
    );
  });

  it('configures the process through the runtime own variables, which its config loader accepts as meant', () => {
    // GIVEN an AMP history, tenants, 28 days and a 10-minute staleness window
    const { objects } = synthRuntime({
      namespace: 'platform',
      history: RuntimeHistory.amazonManagedPrometheus({ workspaceArn: AMP_ARN }),
      historyDays: 28,
      staleAfter: Duration.minutes(10),
      prometheusTimeout: Duration.seconds(2),
      readAccess: 'anonymous',
      tenants: [
        { name: 'shop', namespaces: ['shop', 'shop-batch'], maxReplicas: 80 },
        { name: 'ads', namespaces: ['ads'], maxReplicas: 20 },
      ],
    });
    // WHEN the runtime reads the environment the kubelet gives it
    const env = processEnv(objects);
    const config = loadRuntimeConfig(env);
    // THEN every setting arrives as the props said
    assert.deepEqual(config.prometheus, {
      url: 'https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789',
      auth: 'aws-sigv4',
      awsRegion: 'us-east-1',
      timeoutMs: 2000,
    });
    assert.equal(config.historySeconds, 28 * 86_400);
    assert.equal(config.staleAfterSeconds, 600);
    assert.equal(config.readAccess, 'anonymous');
    assert.equal(config.tokenReview, true);
    assert.deepEqual(config.tenants, [
      { name: 'shop', namespaces: ['shop', 'shop-batch'], maxReplicas: 80 },
      { name: 'ads', namespaces: ['ads'], maxReplicas: 20 },
    ]);
    assert.equal(config.grpcPort, 9090);
    assert.equal(config.httpPort, 8080);
    // Pod name and namespace come from the downward API, not literals.
    assert.equal(config.podName, 'elasticai-runtime-abc12');
    assert.equal(config.namespace, 'platform');
    const downward = (container(objects).env as Json[]).filter((e) => e.valueFrom);
    assert.deepEqual(
      downward.map((e) => [e.name, e.valueFrom.fieldRef.fieldPath]),
      [
        [ENV.podName, 'metadata.name'],
        [ENV.namespace, 'metadata.namespace'],
      ],
    );
    // Only variables the runtime reads.
    const known = new Set<string>(Object.values(ENV));
    assert.deepEqual(
      Object.keys(env).filter((k) => !known.has(k)),
      [],
    );
  });

  it('mounts API keys, the webhook secret, a bearer token and TLS material read-only and points the runtime at them', () => {
    // GIVEN Secrets for everything
    const { objects } = synthRuntime({
      history: RuntimeHistory.prometheusWithBearerToken('https://thanos.example.com', {
        secretName: 'thanos-reader',
        key: 'token',
      }),
      apiKeysSecret: 'runtime-api-keys',
      webhookSecret: { secretName: 'runtime-webhook', key: 'hmac' },
      grpcTlsSecret: 'runtime-grpc-tls',
      httpTlsSecret: 'runtime-http-tls',
      serviceMonitor: RuntimeServiceMonitor.prometheusOperator({
        tlsCa: { secretName: 'runtime-ca', key: 'ca.crt' },
      }),
    });
    // WHEN the runtime reads its environment
    const config = loadRuntimeConfig(processEnv(objects));
    const m = mounts(objects);
    const volumes = Object.fromEntries(
      (deployment(objects).spec.template.spec.volumes as Json[]).map((v) => [v.name, v]),
    );
    // THEN each file or folder it is told about is a read-only mount of the named Secret
    const under = (file: string, volume: string) => {
      assert.ok(m[volume]?.readOnly, `${volume} is mounted read-only`);
      assert.ok(
        file.startsWith(`${m[volume]?.path}/`) || file === m[volume]?.path,
        `${file} lies in ${volume}`,
      );
    };
    assert.equal(config.prometheus?.auth, 'bearer');
    under(config.prometheus?.tokenFile as string, 'prometheus-token');
    assert.deepEqual(volumes['prometheus-token'].secret, {
      secretName: 'thanos-reader',
      defaultMode: 0o440,
      items: [{ key: 'token', path: 'token' }],
    });
    under(config.apiKeysDir as string, 'api-keys');
    assert.equal(volumes['api-keys'].secret.secretName, 'runtime-api-keys');
    under(config.webhookSecretFile as string, 'webhook');
    assert.deepEqual(volumes.webhook.secret.items, [{ key: 'hmac', path: 'secret' }]);
    assert.equal(config.webhookSecretFile, '/var/run/elasticai/webhook/secret');
    under(config.grpcTlsDir as string, 'grpc-tls');
    under(config.httpTlsDir as string, 'http-tls');
    assert.equal(volumes['grpc-tls'].secret.secretName, 'runtime-grpc-tls');
    // AND with HTTP TLS the probes and the scrape use HTTPS
    assert.equal(container(objects).readinessProbe.httpGet.scheme, 'HTTPS');
    const endpoint = (only(objects, 'ServiceMonitor') as Json).spec.endpoints[0];
    assert.equal(endpoint.scheme, 'https');
    assert.deepEqual(endpoint.tlsConfig, {
      serverName: 'elasticai-runtime.elasticai-system.svc',
      ca: { secret: { name: 'runtime-ca', key: 'ca.crt' } },
    });
    // AND no value of any Secret is in the output, only names
    assert.ok(!JSON.stringify(objects).includes('"data"'));
  });

  it('exposes gRPC (appProtocol grpc) and HTTP on a ClusterIP Service named like the ServiceAccount of the Azure identity', async () => {
    // GIVEN / WHEN
    const { runtime, objects } = synthRuntime();
    const svc = only(objects, 'Service') as Json;
    // THEN
    assert.equal(svc.metadata.name, 'elasticai-runtime');
    assert.equal(svc.spec.type, 'ClusterIP');
    assert.deepEqual(svc.spec.ports, [
      { name: 'grpc', port: 9090, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
    ]);
    assert.deepEqual(svc.spec.selector, deployment(objects).spec.selector.matchLabels);
    assert.equal(runtime.scalerAddress, 'elasticai-runtime.elasticai-system.svc.cluster.local:9090');
    const { RUNTIME_SERVICE_ACCOUNT, RUNTIME_NAMESPACE } = await import('../../stacks/azure-identities.js');
    assert.equal(only(objects, 'ServiceAccount').metadata?.name, RUNTIME_SERVICE_ACCOUNT);
    assert.equal(only(objects, 'ServiceAccount').metadata?.namespace, RUNTIME_NAMESPACE);
  });

  it('binds a cloud identity through the ServiceAccount (IRSA) or ServiceAccount and pod label (Azure)', () => {
    // GIVEN IRSA
    const aws = synthRuntime({
      identity: WorkloadIdentity.awsIrsa('arn:aws:iam::123456789012:role/runtime'),
    }).objects;
    // THEN the ServiceAccount names the role and the pods carry no Azure label
    assert.deepEqual((only(aws, 'ServiceAccount') as Json).metadata.annotations, {
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/runtime',
    });
    assert.equal(deployment(aws).spec.template.metadata.labels['azure.workload.identity/use'], undefined);
    // GIVEN Azure workload identity
    const clientId = '11111111-2222-3333-4444-555555555555';
    const azure = synthRuntime({ identity: WorkloadIdentity.azureWorkload(clientId) }).objects;
    // THEN the client id annotation and the webhook's pod label, but the selector is unchanged
    assert.deepEqual((only(azure, 'ServiceAccount') as Json).metadata.annotations, {
      'azure.workload.identity/client-id': clientId,
    });
    assert.equal(deployment(azure).spec.template.metadata.labels['azure.workload.identity/use'], 'true');
    assert.deepEqual(deployment(azure).spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'elasticai-runtime',
    });
    // AND without an identity there are no annotations at all
    assert.equal((only(synthRuntime().objects, 'ServiceAccount') as Json).metadata.annotations, undefined);
  });

  it('grants exactly: ScaledObject read and patch, TokenReview and SubjectAccessReview create, its own Leases', () => {
    // GIVEN / WHEN
    const { objects } = synthRuntime();
    const clusterRole = only(objects, 'ClusterRole') as Json;
    const role = only(objects, 'Role') as Json;
    // THEN
    assert.deepEqual(clusterRole.rules, [
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['patch'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    assert.equal(role.metadata.namespace, 'elasticai-system');
    assert.deepEqual(role.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    const subject = [{ kind: 'ServiceAccount', name: 'elasticai-runtime', namespace: 'elasticai-system' }];
    const crb = only(objects, 'ClusterRoleBinding') as Json;
    assert.deepEqual(crb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'elasticai-runtime',
    });
    assert.deepEqual(crb.subjects, subject);
    const rb = only(objects, 'RoleBinding') as Json;
    assert.deepEqual(rb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'elasticai-runtime',
    });
    assert.deepEqual(rb.subjects, subject);
    // No Secrets, no workloads, no scale subresource anywhere.
    const resources = [...clusterRole.rules, ...role.rules].flatMap((r: Json) => r.resources);
    for (const r of ['secrets', 'deployments', 'deployments/scale', 'scaledobjects/status', '*']) {
      assert.ok(!resources.includes(r), r);
    }
  });

  it('drops the TokenReview and SubjectAccessReview grants when token review is off (API keys only)', () => {
    const { objects } = synthRuntime({ tokenReview: false, apiKeysSecret: 'keys' });
    const groups = (only(objects, 'ClusterRole') as Json).rules.map((r: Json) => r.apiGroups[0]);
    assert.deepEqual(groups, ['keda.sh', 'keda.sh']);
    assert.equal(loadRuntimeConfig(processEnv(objects)).tokenReview, false);
    throwsProp(() => synthRuntime({ tokenReview: false }), /^tokenReview: needs apiKeysSecret/);
  });

  it('lets in only KEDA on gRPC and the listed namespaces on HTTP; lets out DNS, the API server and the history source', () => {
    // GIVEN an in-cluster Prometheus and AKS's KEDA add-on namespace
    const { objects } = synthRuntime({ kedaNamespace: 'kube-system' });
    const policy = only(objects, 'NetworkPolicy') as Json;
    const ns = (peer: Json) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
    // THEN
    assert.deepEqual(policy.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'elasticai-runtime' });
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(
      policy.spec.ingress.map((r: Json) => [
        r.from.map(ns),
        r.ports.map((p: Json) => `${p.protocol}/${p.port}`),
      ]),
      [
        [['kube-system'], ['TCP/9090']],
        [['monitoring', 'elasticai-system'], ['TCP/8080']],
      ],
    );
    const egress = policy.spec.egress as Json[];
    assert.equal(egress.length, 3);
    assert.deepEqual(egress[0].to, [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);
    assert.deepEqual(
      egress[0].ports.map((p: Json) => `${p.protocol}/${p.port}`),
      ['UDP/53', 'TCP/53'],
    );
    assert.deepEqual(egress[1].to, [{ ipBlock: { cidr: '0.0.0.0/0' } }]);
    assert.deepEqual(
      egress[1].ports.map((p: Json) => `${p.protocol}/${p.port}`),
      ['TCP/443', 'TCP/6443'],
    );
    // prometheus-operated.monitoring.svc:9090 → the monitoring namespace on 9090, nothing outside.
    assert.deepEqual(egress[2].to.map(ns), ['monitoring']);
    assert.deepEqual(
      egress[2].ports.map((p: Json) => `${p.protocol}/${p.port}`),
      ['TCP/9090'],
    );
  });

  it('opens HTTPS to the outside only for a managed Prometheus, and narrows the API server when given its endpoints', () => {
    // GIVEN Amazon Managed Prometheus and the API server's endpoint CIDRs
    const { objects } = synthRuntime({
      history: RuntimeHistory.amazonManagedPrometheus({ workspaceArn: AMP_ARN }),
      kubernetesApi: { cidrs: ['10.0.0.0/16'], ports: [443] },
      httpIngressNamespaces: ['observability'],
    });
    const spec = (only(objects, 'NetworkPolicy') as Json).spec;
    // THEN
    assert.deepEqual(spec.egress[1], {
      to: [{ ipBlock: { cidr: '10.0.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    assert.deepEqual(spec.egress[2], {
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    assert.deepEqual(spec.ingress[1].from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } },
    ]);
    // AND a webhook-only runtime has no history egress at all
    const webhook = synthRuntime({
      history: RuntimeHistory.webhookOnly(),
      webhookSecret: { secretName: 'hook', key: 'secret' },
    }).objects;
    assert.equal((only(webhook, 'NetworkPolicy') as Json).spec.egress.length, 2);
    assert.equal(loadRuntimeConfig(processEnv(webhook)).prometheus, undefined);
    throwsProp(
      () => synthRuntime({ kubernetesApi: { cidrs: ['10.0.0.0/33'] } }),
      /^kubernetesApi\.cidrs\[0\]: must be an IPv4 CIDR/,
    );
  });

  it('scrapes /metrics on the http port with a ServiceMonitor, in the Azure flavour or not at all when asked', async () => {
    // GIVEN / WHEN the default
    const { objects } = synthRuntime();
    const monitor = only(objects, 'ServiceMonitor') as Json;
    // THEN
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.deepEqual(monitor.spec, {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'elasticai-runtime' } },
      namespaceSelector: { matchNames: ['elasticai-system'] },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scheme: 'http' }],
    });
    // The Service it selects carries its selector labels and names the port.
    const svc = only(objects, 'Service') as Json;
    assert.equal(svc.metadata.labels['app.kubernetes.io/name'], 'elasticai-runtime');
    assert.ok(svc.spec.ports.some((p: Json) => p.name === monitor.spec.endpoints[0].port));
    // Azure managed Prometheus reads its own group; `none()` emits nothing.
    const azure = synthRuntime({
      serviceMonitor: RuntimeServiceMonitor.azureManagedPrometheus({
        interval: Duration.minutes(1),
        labels: { team: 'platform' },
      }),
    }).objects;
    const azureMonitor = only(azure, 'ServiceMonitor') as Json;
    assert.equal(azureMonitor.apiVersion, 'azmonitoring.coreos.com/v1');
    assert.equal(azureMonitor.spec.endpoints[0].interval, '60s');
    assert.equal(azureMonitor.metadata.labels.team, 'platform');
    assert.deepEqual(await validateRuntime(azure), []);
    throwsProp(
      () =>
        synthRuntime({
          serviceMonitor: RuntimeServiceMonitor.prometheusOperator({
            labels: { release: 'kube prometheus' },
          }),
        }),
      /^serviceMonitor\.labels\.release: must be a label value .*\(got "kube prometheus"\)$/,
    );
    const none = synthRuntime({ serviceMonitor: RuntimeServiceMonitor.none() }).objects;
    assert.equal(none.filter((o) => o.kind === 'ServiceMonitor').length, 0);
    throwsProp(
      () => synthRuntime({ httpTlsSecret: 'tls' }),
      /^serviceMonitor\.tlsCa: is required when the runtime serves HTTP over TLS/,
    );
  });

  it('refuses bad props, naming the prop and the value', () => {
    throwsProp(
      () => synthRuntime({ image: 'ghcr.io/elasticai/elasticai-runtime' }),
      /^image: must be pinned to a tag or digest \(got "ghcr.io\/elasticai\/elasticai-runtime"\)$/,
    );
    throwsProp(
      () => synthRuntime({ image: 'ghcr.io/elasticai/elasticai-runtime:latest' }),
      /^image: must not use the mutable "latest" tag/,
    );
    throwsProp(
      () => synthRuntime({ image: 'ghcr.io/ElasticAI/Runtime:1.0.0' }),
      /^image: must be an image reference .*\(got "ghcr.io\/ElasticAI\/Runtime:1.0.0"\)$/,
    );
    throwsProp(
      () => synthRuntime({ namespace: 'Elastic_System' }),
      /^namespace: must be a lowercase RFC 1123 label .*\(got "Elastic_System"\)$/,
    );
    throwsProp(() => synthRuntime({ historyDays: 0 }), /^historyDays: must be between 1 and 90 \(got 0\)$/);
    throwsProp(() => synthRuntime({ historyDays: 91 }), /^historyDays: must be between 1 and 90 \(got 91\)$/);
    throwsProp(
      () => synthRuntime({ staleAfter: Duration.millis(1500) }),
      /^staleAfter: must be an integer \(got 1.5\)$/,
    );
    throwsProp(
      () => synthRuntime({ staleAfter: Duration.days(2) }),
      /^staleAfter: must be between 0 and 86400 \(got 172800\)$/,
    );
    throwsProp(
      () => synthRuntime({ httpIngressNamespaces: [] }),
      /^httpIngressNamespaces: must not be empty/,
    );
    throwsProp(
      () => synthRuntime({ kedaNamespace: 'KEDA' }),
      /^kedaNamespace: must be a lowercase RFC 1123 label/,
    );
    throwsProp(
      () => synthRuntime({ history: RuntimeHistory.webhookOnly() }),
      /^webhookSecret: is required with RuntimeHistory\.webhookOnly\(\)/,
    );
    throwsProp(
      () =>
        synthRuntime({
          history: RuntimeHistory.webhookOnly(),
          webhookSecret: { secretName: 'h', key: 'k' },
          prometheusTimeout: Duration.seconds(1),
        }),
      /^prometheusTimeout: applies only with a Prometheus history \(got 1000\)$/,
    );
    throwsProp(
      () => synthRuntime({ apiKeysSecret: 'Keys!' }),
      /^apiKeysSecret: must be a lowercase RFC 1123 subdomain .*\(got "Keys!"\)$/,
    );
  });

  it('refuses tenants the runtime itself would refuse: caps, duplicate names, a namespace in two tenants', () => {
    throwsProp(
      () => synthRuntime({ tenants: [{ name: 'shop', namespaces: ['shop'], maxReplicas: 0 }] }),
      /^tenants\[0\]\.maxReplicas: must be >= 1 \(got 0\)$/,
    );
    throwsProp(
      () => synthRuntime({ tenants: [{ name: 'shop', namespaces: [], maxReplicas: 5 }] }),
      /^tenants\[0\]\.namespaces: must not be empty/,
    );
    throwsProp(
      () =>
        synthRuntime({
          tenants: [
            { name: 'shop', namespaces: ['shop'], maxReplicas: 5 },
            { name: 'ads', namespaces: ['ads', 'shop'], maxReplicas: 5 },
          ],
        }),
      /^tenants\[1\]\.namespaces: already belongs to tenant shop \(got "shop"\)$/,
    );
    throwsProp(
      () =>
        synthRuntime({
          tenants: [
            { name: 'shop', namespaces: ['a'], maxReplicas: 5 },
            { name: 'shop', namespaces: ['b'], maxReplicas: 5 },
          ],
        }),
      /^tenants\[1\]\.name: must be unique among the tenants/,
    );
    // What passes here, the runtime's parser accepts.
    const env = processEnv(
      synthRuntime({ tenants: [{ name: 'shop', namespaces: ['shop'], maxReplicas: 9 }] }).objects,
    );
    assert.deepEqual(parseTenants(env[ENV.tenants]), [
      { name: 'shop', namespaces: ['shop'], maxReplicas: 9 },
    ]);
  });
});

describe('RuntimeHistory', () => {
  it('builds the runtime URL and auth of each managed Prometheus', () => {
    const fromUrl = RuntimeHistory.amazonManagedPrometheus({
      workspaceUrl: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-abc123/',
    });
    assert.deepEqual(
      [fromUrl.url, fromUrl.auth, fromUrl.awsRegion, fromUrl.workspaceId],
      [
        'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-abc123',
        'aws-sigv4',
        'eu-west-1',
        'ws-abc123',
      ],
    );
    const fromId = RuntimeHistory.amazonManagedPrometheus({ workspaceId: 'ws-abc123', region: 'eu-west-1' });
    assert.equal(fromId.url, fromUrl.url);
    const azure = RuntimeHistory.azureMonitorWorkspace(
      'https://amw-prod-a1b2.westeurope.prometheus.monitor.azure.com/',
    );
    assert.deepEqual(
      [azure.url, azure.auth],
      ['https://amw-prod-a1b2.westeurope.prometheus.monitor.azure.com', 'azure'],
    );
    assert.deepEqual(
      [RuntimeHistory.webhookOnly().url, RuntimeHistory.webhookOnly().auth],
      [undefined, 'none'],
    );
  });

  it('refuses URLs the runtime could not use or that would leak a credential', () => {
    throwsProp(
      () => RuntimeHistory.prometheus('prometheus:9090'),
      /^history\.url: must be an absolute http\(s\) URL \(got "prometheus:9090"\)$/,
    );
    throwsProp(
      () => RuntimeHistory.prometheus('http://p.monitoring.svc:9090/api/v1'),
      /^history\.url: must be the base URL: the runtime appends \/api\/v1 itself/,
    );
    throwsProp(
      () => RuntimeHistory.prometheus('https://user:pw@prom.example.com'),
      /^history\.url: must not carry credentials.*\(got "<redacted>"\)$/,
    );
    throwsProp(
      () =>
        RuntimeHistory.prometheusWithBearerToken('http://prom.example.com', {
          secretName: 's',
          key: 'token',
        }),
      /^history\.url: must be https when a bearer token is sent to a host outside the cluster/,
    );
    throwsProp(
      () => RuntimeHistory.amazonManagedPrometheus({ workspaceArn: AMP_ARN, workspaceId: 'ws-1' }),
      /^history\.amazonManagedPrometheus: needs exactly one of workspaceUrl, workspaceArn or workspaceId \(got \["workspaceArn","workspaceId"\]\)$/,
    );
    throwsProp(
      () => RuntimeHistory.amazonManagedPrometheus({ workspaceArn: AMP_ARN, region: 'eu-west-1' }),
      /^history\.amazonManagedPrometheus\.region: must match the workspace's region \(us-east-1\) \(got "eu-west-1"\)$/,
    );
    throwsProp(
      () => RuntimeHistory.amazonManagedPrometheus({ workspaceId: 'ws-1' }),
      /^history\.amazonManagedPrometheus\.region: is required with workspaceId/,
    );
    throwsProp(
      () => RuntimeHistory.azureMonitorWorkspace('https://prom.example.com'),
      /^history\.queryEndpoint: must be an Azure Monitor workspace query endpoint/,
    );
  });

  it('builds the Amazon Managed Prometheus endpoint only in a partition where it is confirmed', () => {
    const amp = 'history.amazonManagedPrometheus';
    const ws = 'ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    // GIVEN a region of each other partition (China, GovCloud, ISO, ISO-B/E/F, European Sovereign Cloud)
    for (const [region, partition] of [
      ['cn-north-1', 'aws-cn'],
      ['us-gov-west-1', 'aws-us-gov'],
      ['us-iso-east-1', 'aws-iso'],
      ['us-isob-east-1', 'aws-iso-b'],
      ['eu-isoe-west-1', 'aws-iso-e'],
      ['us-isof-south-1', 'aws-iso-f'],
      ['eusc-de-east-1', 'aws-eusc'],
    ] as const) {
      const reason =
        'must be in a partition where Amazon Managed Service for Prometheus has a confirmed query ' +
        `endpoint \\(aws\\): region "${region}" is in ${partition}; if the service is there, give its ` +
        `workspaceUrl \\(https://aps-workspaces\\.${region}\\.[a-z0-9.-]+/workspaces/<ws-id>\\)`;
      // WHEN given with a workspace id  THEN refused, naming region and its value (no host is made up)
      throwsProp(
        () => RuntimeHistory.amazonManagedPrometheus({ workspaceId: ws, region }),
        new RegExp(`^${amp}\\.region: ${reason} \\(got "${region}"\\)$`),
      );
      // WHEN given by the workspace's ARN, in the region's own partition  THEN refused, naming the ARN
      const arn = `arn:${partition}:aps:${region}:123456789012:workspace/${ws}`;
      throwsProp(
        () => RuntimeHistory.amazonManagedPrometheus({ workspaceArn: arn }),
        new RegExp(`^${amp}\\.workspaceArn: ${reason} \\(got "${arn}"\\)$`),
      );
    }
    // GIVEN a workspace id in a commercial region with a two-digit number  WHEN built
    const commercial = RuntimeHistory.amazonManagedPrometheus({ workspaceId: ws, region: 'ap-southeast-10' });
    // THEN the region is taken (shared region names) and the host is on amazonaws.com
    assert.equal(commercial.url, `https://aps-workspaces.ap-southeast-10.amazonaws.com/workspaces/${ws}`);
    // GIVEN a workspace URL of a China region, on China's domain  WHEN built
    const cnUrl = `https://aps-workspaces.cn-north-1.amazonaws.com.cn/workspaces/${ws}`;
    const china = RuntimeHistory.amazonManagedPrometheus({ workspaceUrl: cnUrl, region: 'cn-north-1' });
    // THEN it is taken as given (the user's word that the endpoint exists), signed for its region
    assert.equal(china.url, cnUrl);
    assert.equal(china.awsRegion, 'cn-north-1');
    // GIVEN a GovCloud URL on China's domain  THEN refused, naming the host its partition uses
    const govOnCn = `https://aps-workspaces.us-gov-west-1.amazonaws.com.cn/workspaces/${ws}`;
    throwsProp(
      () => RuntimeHistory.amazonManagedPrometheus({ workspaceUrl: govOnCn }),
      /^history\.amazonManagedPrometheus\.workspaceUrl: must use the endpoint of region "us-gov-west-1" \(aps-workspaces\.us-gov-west-1\.amazonaws\.com\)/,
    );
    // GIVEN a commercial region's URL on another partition's domain  THEN refused, naming the right host
    const wrongDomain = `https://aps-workspaces.us-east-1.amazonaws.com.cn/workspaces/${ws}`;
    throwsProp(
      () => RuntimeHistory.amazonManagedPrometheus({ workspaceUrl: wrongDomain }),
      new RegExp(
        `^${amp}\\.workspaceUrl: must use the endpoint of region "us-east-1" ` +
          `\\(aps-workspaces\\.us-east-1\\.amazonaws\\.com\\) \\(got "${wrongDomain.replace(/\./g, '\\.')}"\\)$`,
      ),
    );
  });

  it("refuses a workspace ARN whose partition is not one of AWS's, or not its region's", () => {
    const ws = 'ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    // GIVEN ARNs with an unknown partition, or a partition other than the region's
    for (const arn of [
      `arn:aws-moon:aps:us-east-1:123456789012:workspace/${ws}`,
      `arn:aws-cn:aps:us-east-1:123456789012:workspace/${ws}`,
      `arn:aws:aps:cn-north-1:123456789012:workspace/${ws}`,
      `arn:aws:aps:Ireland:123456789012:workspace/${ws}`,
    ]) {
      // THEN refused as an ARN, naming workspaceArn and the value
      assert.throws(
        () => RuntimeHistory.amazonManagedPrometheus({ workspaceArn: arn }),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            'history.amazonManagedPrometheus.workspaceArn: must be ' +
              "arn:<partition>:aps:<region>:<account>:workspace/<ws-id>, with the region's partition " +
              `(got "${arn}")`,
      );
    }
  });
});

describe('DecisionRuntime.trigger', () => {
  const tenants = [{ name: 'shop', namespaces: ['shop'], maxReplicas: 50 }];

  it("hands a workload to the runtime: an external trigger at the runtime's address, metadata the runtime parses as meant", () => {
    // GIVEN a runtime and a trigger with every setting
    const runtime = new DecisionRuntime(testChart(), 'runtime', { ...BASE, tenants });
    const trigger = runtime.trigger({
      query: 'sum(rate(http_requests_total{service="api"}[2m])) * 60',
      capacityPerReplica: 1200,
      leadTime: Duration.minutes(3),
      interval: Duration.seconds(30),
      targetUtilization: 0.7,
      minReplicas: 2,
      maxReplicas: 40,
      upperQuantile: 0.9,
      minPrescaleUse: 0,
      scaleDownStabilization: Duration.minutes(5),
      nodeProvisioning: Duration.minutes(4),
      models: ['holt-winters', 'seasonal-naive'],
      nodePool: 'general',
      tenant: 'shop',
    });
    // THEN
    assert.equal(trigger.type, 'external');
    assert.equal(trigger.name, 'predicted');
    const { scalerAddress, ...metadata } = trigger.metadata;
    assert.equal(scalerAddress, 'elasticai-runtime.elasticai-system.svc.cluster.local:9090');
    const known = new Set<string>(Object.values(METADATA));
    assert.deepEqual(
      Object.keys(metadata).filter((k) => !known.has(k)),
      [],
    );
    // WHEN the runtime parses the metadata KEDA sends it
    const spec = parseWorkloadSpec(
      { namespace: 'shop', name: 'api' },
      trigger.metadata,
      tenants,
    ) as DemandSpec;
    // THEN it is the workload the options describe
    assert.equal(spec.kind, 'demand');
    assert.equal(spec.source, 'prometheus');
    assert.equal(spec.query, 'sum(rate(http_requests_total{service="api"}[2m])) * 60');
    assert.equal(spec.tenant, 'shop');
    assert.equal(spec.nodePool, 'general');
    assert.deepEqual(spec.engine, {
      intervalSeconds: 30,
      capacityPerReplica: 1200,
      leadSeconds: 180,
      targetUtilization: 0.7,
      minReplicas: 2,
      maxReplicas: 40,
      upperQuantile: 0.9,
      minPrescaleUse: 0,
      scaleDownStabilizationSeconds: 300,
      nodeProvisioningSeconds: 240,
      modelFamilies: ['holt-winters', 'seasonal-naive'],
    });
  });

  it('uses the runtime defaults for what is omitted, and external-push when asked', () => {
    const trigger = DecisionRuntime.reference().trigger({
      webhook: {},
      capacityPerReplica: 10,
      push: true,
      name: 'demand',
    });
    assert.equal(trigger.type, 'external-push');
    assert.equal(trigger.name, 'demand');
    assert.deepEqual(trigger.metadata, {
      scalerAddress: 'elasticai-runtime.elasticai-system.svc.cluster.local:9090',
      source: 'webhook',
      capacityPerReplica: '10',
    });
    const spec = parseWorkloadSpec({ namespace: 'shop', name: 'worker' }, trigger.metadata) as DemandSpec;
    assert.equal(spec.query, 'shop/worker');
    assert.equal(spec.engine.intervalSeconds, METADATA_DEFAULTS.intervalSeconds);
    assert.equal(spec.engine.leadSeconds, METADATA_DEFAULTS.leadSeconds);
    assert.equal(
      DecisionRuntime.reference({ name: 'rt', namespace: 'ops' }).scalerAddress,
      'rt.ops.svc.cluster.local:9090',
    );
  });

  it('mirrors the runtime metadata keys, defaults and model families exactly', () => {
    assert.deepEqual(RUNTIME_METADATA, METADATA);
    assert.deepEqual(RUNTIME_METADATA_DEFAULTS, METADATA_DEFAULTS);
    assert.deepEqual([...RUNTIME_MODEL_FAMILIES], [...MODEL_FAMILIES]);
  });

  it('refuses what the runtime would refuse, naming the option', () => {
    const runtime = new DecisionRuntime(testChart(), 'runtime', { ...BASE, tenants });
    const t = (o: Partial<Parameters<typeof runtime.trigger>[0]>) => () =>
      runtime.trigger({ query: 'sum(up)', capacityPerReplica: 10, ...o });
    throwsProp(t({ capacityPerReplica: 0 }), /^trigger\.capacityPerReplica: must be > 0 \(got 0\)$/);
    throwsProp(t({ name: '1x' }), /^trigger\.name: must start with a letter or "_" .*\(got "1x"\)$/);
    throwsProp(
      t({ nodePool: 'gpu' }),
      /^trigger\.nodePool: is not a node pool of cluster "test" \(pools: system, general, spot\) \(got "gpu"\)$/,
    );
    throwsProp(t({ query: undefined }), /^trigger\.query: exactly one of query \(Prometheus\) and webhook/);
    throwsProp(t({ webhook: {} }), /^trigger\.query: exactly one of query/);
    throwsProp(
      t({ targetUtilization: 1.2 }),
      /^trigger\.targetUtilization: must be in \(0, 1\] \(got 1.2\)$/,
    );
    throwsProp(t({ upperQuantile: 1 }), /^trigger\.upperQuantile: must be in \(0, 1\) \(got 1\)$/);
    throwsProp(t({ minPrescaleUse: 1.5 }), /^trigger\.minPrescaleUse: must be in \[0, 1\] \(got 1.5\)$/);
    throwsProp(
      t({ maxReplicas: 2_147_483_648 }),
      /^trigger\.maxReplicas: must be between 1 and 2147483647 \(got 2147483648\)$/,
    );
    throwsProp(
      t({ minReplicas: 5, maxReplicas: 4 }),
      /^trigger\.minReplicas: must not exceed maxReplicas \(4\) \(got 5\)$/,
    );
    throwsProp(
      t({ leadTime: Duration.seconds(1.5) }),
      /^trigger\.leadTime: must be whole seconds \(got "1.5s"\)$/,
    );
    throwsProp(
      t({ leadTime: Duration.days(1) }),
      /^trigger\.leadTime: must be at most 1439 intervals of 60 s \(got "86400s"\)$/,
    );
    throwsProp(
      t({ models: ['prophet' as never] }),
      /^trigger\.models: must be one of damped-trend, .* \(got "prophet"\)$/,
    );
    throwsProp(t({ nodePool: 'General_Pool' }), /^trigger\.nodePool: must be a node pool name/);
    throwsProp(
      t({ tenant: 'ads' }),
      /^trigger\.tenant: is not a tenant of the runtime \(tenants: shop\) \(got "ads"\)$/,
    );
    throwsProp(
      t({ tenant: 'shop', maxReplicas: 51 }),
      /^trigger\.maxReplicas: exceeds tenant shop's cap of 50 \(got 51\)$/,
    );
    // Each of these the runtime's own parser rejects too.
    assert.throws(
      () =>
        parseWorkloadSpec({ namespace: 'shop', name: 'x' }, { query: 'sum(up)', capacityPerReplica: '0' }),
      /capacityPerReplica/,
    );
    // A webhook-only runtime cannot answer a Prometheus query; a TLS runtime needs KEDA's CA.
    const webhookOnly = new DecisionRuntime(testChart(), 'rt', {
      image: IMAGE,
      history: RuntimeHistory.webhookOnly(),
      webhookSecret: { secretName: 'hook', key: 'secret' },
    });
    throwsProp(
      () => webhookOnly.trigger({ query: 'sum(up)', capacityPerReplica: 1 }),
      /^trigger\.query: cannot be answered: the runtime has no Prometheus/,
    );
    const tls = new DecisionRuntime(testChart(), 'rt', { ...BASE, grpcTlsSecret: 'grpc-tls' });
    throwsProp(
      () => tls.trigger({ query: 'sum(up)', capacityPerReplica: 1 }),
      /^trigger\.authentication: is required: the runtime serves gRPC over TLS/,
    );
  });

  it("composes with KEDA's own scalers through scalingModifiers: max(predicted, queue backlog per replica)", async () => {
    // GIVEN a runtime and a queue worker scaled by the SQS backlog or the runtime's forecast
    const chart = testChart();
    const runtime = new DecisionRuntime(chart, 'runtime', { ...BASE, tenants });
    const auth = new TriggerAuthentication(chart, 'sqs', {
      namespace: 'shop',
      podIdentity: PodIdentity.aws({ identityOwner: 'keda' }),
    });
    new ScaledObject(chart, 'worker', {
      namespace: 'shop',
      target: { name: 'order-worker' },
      minReplicas: 0,
      maxReplicas: 30,
      triggers: [
        Trigger.awsSqsQueue({
          name: 'queue',
          queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders',
          awsRegion: 'us-east-1',
          queueLength: 20,
          authentication: auth,
        }),
        runtime.trigger({
          query: 'sum(rate(orders_total[2m])) * 60',
          capacityPerReplica: 120,
          minReplicas: 0,
          push: true,
        }),
      ],
      advanced: { scalingModifiers: { formula: 'max(predicted, queue / 20)', target: 1 } },
    });
    // WHEN synthesized
    const objects = synth(chart);
    const so = only(objects, 'ScaledObject') as Json;
    // THEN one composed metric: the formula names both triggers, the runtime's is external-push
    assert.deepEqual(so.spec.advanced.scalingModifiers, {
      formula: 'max(predicted, queue / 20)',
      target: '1',
    });
    assert.deepEqual(
      so.spec.triggers.map((t: Json) => [t.name, t.type]),
      [
        ['queue', 'aws-sqs-queue'],
        ['predicted', 'external-push'],
      ],
    );
    assert.equal(so.spec.triggers[1].metadata.scalerAddress, runtime.scalerAddress);
    assert.deepEqual(await validateRuntime(objects), []);
  });

  it('gives HeadroomScaling.fromRuntime its scaler address', () => {
    // GIVEN a runtime and runtime-driven headroom in the same chart
    const chart = testChart();
    const runtime = new DecisionRuntime(chart, 'runtime', BASE);
    new Headroom(chart, 'headroom', {
      namespace: runtime.namespace,
      podResources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.mebibytes(512) } },
      scaling: HeadroomScaling.fromRuntime({
        scalerAddress: runtime.scalerAddress,
        nodePool: 'general',
        maxReplicas: 4,
      }),
    });
    // WHEN / THEN the headroom ScaledObject asks this runtime for the pool's headroom
    const so = only(synth(chart), 'ScaledObject') as Json;
    assert.deepEqual(so.spec.triggers[0].metadata, {
      scalerAddress: 'elasticai-runtime.elasticai-system.svc.cluster.local:9090',
      metric: 'headroom',
      nodePool: 'general',
    });
    assert.deepEqual(
      parseWorkloadSpec({ namespace: runtime.namespace, name: 'headroom' }, so.spec.triggers[0].metadata),
      {
        kind: 'headroom',
        nodePool: 'general',
      },
    );
  });

  it('checks at synth the triggers built from a reference against the runtime in the app', () => {
    // GIVEN a runtime in one chart and, in another chart of the same app, triggers built by reference
    const build = (
      runtimeProps: Partial<DecisionRuntimeProps>,
      trigger: Trigger,
      namespace = 'shop',
      minReplicas = 1,
    ) => {
      const app = new App();
      const platform = new ClusterChart(app, 'platform', { cluster: testCluster() });
      new DecisionRuntime(platform, 'runtime', { ...BASE, tenants, ...runtimeProps });
      const tenant = new ClusterChart(app, 'tenant', { cluster: testCluster() });
      new ScaledObject(tenant, 'so', {
        namespace,
        target: { name: 'api' },
        minReplicas,
        maxReplicas: 10,
        triggers: [trigger],
      });
      return () => synth(platform);
    };
    const ref = DecisionRuntime.reference();
    // THEN a tenant that does not own the namespace fails, as the runtime would fail it
    assert.throws(
      build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, tenant: 'shop' }), 'ads'),
      /ScaledObject ads\/api triggers\[0\]: metadata\.tenant "shop" does not own namespace ads/,
    );
    assert.throws(
      build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, maxReplicas: 60 })),
      /ScaledObject shop\/api triggers\[0\]: metadata\.maxReplicas 60 exceeds tenant shop's cap of 50/,
    );
    assert.throws(
      build(
        { history: RuntimeHistory.webhookOnly(), webhookSecret: { secretName: 'h', key: 'k' } },
        ref.trigger({ query: 'sum(up)', capacityPerReplica: 1 }),
      ),
      /ScaledObject shop\/api triggers\[0\]: queries Prometheus, but runtime elasticai-system\/elasticai-runtime has none/,
    );
    assert.throws(
      build({ grpcTlsSecret: 'tls' }, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1 })),
      /serves gRPC over TLS; the trigger needs authentication with caCert/,
    );
    // AND runtime bounds the HPA's own bounds would always override fail, naming both
    assert.throws(
      build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, minReplicas: 12 })),
      /ScaledObject shop\/api triggers\[0\]: minReplicas 12 is above the ScaledObject's maxReplicas 10/,
    );
    assert.throws(
      build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, maxReplicas: 3 }), 'shop', 4),
      /ScaledObject shop\/api triggers\[0\]: maxReplicas 3 is below the ScaledObject's minReplicas 4/,
    );
    // AND a fitting trigger synthesizes, bounds equal to the HPA's included
    assert.doesNotThrow(build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, maxReplicas: 50 })));
    assert.doesNotThrow(build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, minReplicas: 10 })));
    assert.doesNotThrow(
      build({}, ref.trigger({ query: 'sum(up)', capacityPerReplica: 1, maxReplicas: 4 }), 'shop', 4),
    );
  });
});
