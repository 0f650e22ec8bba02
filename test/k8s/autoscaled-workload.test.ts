import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  AutoscaledWorkload,
  type AutoscaledWorkloadProps,
} from '../../constructs/k8s/autoscaled-workload.js';
import { HealthCheck } from '../../constructs/k8s/health-check.js';
import { Metric, MetricTarget } from '../../constructs/k8s/metric.js';
import { Placement } from '../../constructs/k8s/placement.js';
import { ScalingPolicy } from '../../constructs/k8s/scaling-behavior.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { Pause } from '../../constructs/k8s/keda/scaled-object.js';
import { WorkloadIdentity } from '../../constructs/k8s/workload-identity.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const BASE: AutoscaledWorkloadProps = {
  namespace: 'shop',
  image: 'ghcr.io/example/web:1.4.2',
  port: 8080,
  resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256) } },
  replicas: { min: 2, max: 20 },
  scaling: WorkloadScaling.hpa({ metrics: [Metric.resourceCpu()] }),
};

function synthWorkload(overrides: Partial<AutoscaledWorkloadProps> = {}): KubeObject[] {
  const chart = testChart();
  new AutoscaledWorkload(chart, 'web', { ...BASE, ...overrides });
  return synth(chart);
}

const podSpec = (objects: KubeObject[]): Json => (only(objects, 'Deployment').spec as Json).template.spec;

describe('AutoscaledWorkload', () => {
  it('synthesizes a schema-valid Deployment, Service, PDB, ServiceAccount and HPA', async () => {
    // GIVEN / WHEN
    const objects = synthWorkload();
    // THEN
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    assert.ok(objects.every((o) => o.metadata?.name === 'web' && o.metadata?.namespace === 'shop'));
    assert.deepEqual(await validateAll(objects), []);
  });

  it('leaves HPA behaviour to Kubernetes defaults unless asked', () => {
    const hpa = only(synthWorkload(), 'HorizontalPodAutoscaler').spec as Json;
    assert.equal(hpa.behavior, undefined);
    assert.deepEqual(hpa.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
    assert.equal(hpa.minReplicas, 2);
    assert.equal(hpa.maxReplicas, 20);
    assert.deepEqual(hpa.metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
  });

  it('renders every HPA metric kind and an explicit behaviour', async () => {
    // GIVEN
    const scaling = WorkloadScaling.hpa({
      metrics: [
        Metric.resourceCpu(MetricTarget.utilization(60)),
        Metric.resourceMemory(MetricTarget.averageValue('1Gi')),
        Metric.pods({ name: 'http_requests_per_second', target: MetricTarget.averageValue(50) }),
        Metric.object({
          name: 'requests_per_second',
          describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' },
          target: MetricTarget.value('2k'),
        }),
        Metric.external({
          name: 'queue_depth',
          selector: { queue: 'orders' },
          target: MetricTarget.averageValue(30),
        }),
      ],
      behavior: {
        scaleUp: { policies: [ScalingPolicy.pods(8, Duration.seconds(15))], selectPolicy: 'Max' },
        scaleDown: {
          stabilizationWindow: Duration.minutes(10),
          policies: [ScalingPolicy.percent(20, Duration.minutes(1))],
        },
      },
    });
    // WHEN
    const objects = synthWorkload({ scaling });
    const hpa = only(objects, 'HorizontalPodAutoscaler').spec as Json;
    // THEN
    assert.deepEqual(
      hpa.metrics.map((m: Json) => m.type),
      ['Resource', 'Resource', 'Pods', 'Object', 'External'],
    );
    assert.deepEqual(
      hpa.metrics.map((m: Json) => m[m.type.charAt(0).toLowerCase() + m.type.slice(1)].target),
      [
        { type: 'Utilization', averageUtilization: 60 },
        { type: 'AverageValue', averageValue: '1Gi' },
        { type: 'AverageValue', averageValue: '50' },
        { type: 'Value', value: '2k' },
        { type: 'AverageValue', averageValue: '30' },
      ],
    );
    assert.deepEqual(hpa.metrics[4].external.metric, {
      name: 'queue_depth',
      selector: { matchLabels: { queue: 'orders' } },
    });
    assert.deepEqual(hpa.behavior, {
      scaleUp: { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 8, periodSeconds: 15 }] },
      scaleDown: {
        stabilizationWindowSeconds: 600,
        policies: [{ type: 'Percent', value: 20, periodSeconds: 60 }],
      },
    });
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('writes the number of every HPA metric target', () => {
    // Each case: a metric built with a target, the source field it renders under and the exact target.
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' };
    const cases: [string, Metric, string, Json][] = [
      [
        'resource, utilization',
        Metric.resourceMemory(MetricTarget.utilization(75)),
        'resource',
        { type: 'Utilization', averageUtilization: 75 },
      ],
      [
        'resource, averageValue',
        Metric.resourceMemory(MetricTarget.averageValue('1Gi')),
        'resource',
        { type: 'AverageValue', averageValue: '1Gi' },
      ],
      [
        'pods, averageValue',
        Metric.pods({ name: 'p', target: MetricTarget.averageValue(50) }),
        'pods',
        { type: 'AverageValue', averageValue: '50' },
      ],
      [
        'object, averageValue',
        Metric.object({ name: 'rps', describedObject: ingress, target: MetricTarget.averageValue('250m') }),
        'object',
        { type: 'AverageValue', averageValue: '250m' },
      ],
      [
        'object, value',
        Metric.object({ name: 'rps', describedObject: ingress, target: MetricTarget.value('2k') }),
        'object',
        { type: 'Value', value: '2k' },
      ],
      [
        'external, averageValue',
        Metric.external({ name: 'q', target: MetricTarget.averageValue(1.5) }),
        'external',
        { type: 'AverageValue', averageValue: '1.5' },
      ],
      [
        'external, value',
        Metric.external({ name: 'q', target: MetricTarget.value('5') }),
        'external',
        { type: 'Value', value: '5' },
      ],
    ];
    for (const [what, metric, source, target] of cases) {
      it(what, async () => {
        // GIVEN an HPA scaling on one metric
        const scaling = WorkloadScaling.hpa({ metrics: [metric] });
        // WHEN
        const objects = synthWorkload({ scaling });
        // THEN the target keeps its number
        const [rendered] = (only(objects, 'HorizontalPodAutoscaler').spec as Json).metrics;
        assert.deepEqual(rendered[source].target, target);
        assert.deepEqual(await validateAll(objects), []);
      });
    }
  });

  it('meets Pod Security "restricted" and sets requests, limits and probes', () => {
    const spec = podSpec(synthWorkload());
    const container = spec.containers[0];
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(spec.automountServiceAccountToken, false);
    assert.deepEqual(container.resources, {
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    assert.deepEqual(container.readinessProbe.tcpSocket, { port: 8080 });
    assert.equal(container.livenessProbe.initialDelaySeconds, 10);
  });

  it('omits Deployment replicas so the autoscaler and GitOps do not fight', () => {
    assert.equal((only(synthWorkload(), 'Deployment').spec as Json).replicas, undefined);
  });

  it('spreads across zones and nodes by default, best effort', () => {
    const spread = podSpec(synthWorkload()).topologySpreadConstraints;
    assert.deepEqual(
      spread.map((c: Json) => [c.topologyKey, c.whenUnsatisfiable]),
      [
        ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ['kubernetes.io/hostname', 'ScheduleAnyway'],
      ],
    );
    assert.equal(podSpec(synthWorkload({ zoneSpread: false })).topologySpreadConstraints, undefined);
  });

  describe('placement', () => {
    it('on-demand only (default) excludes spot on both clouds and tolerates nothing', () => {
      const spec = podSpec(synthWorkload());
      assert.deepEqual(spec.tolerations, undefined);
      const exprs =
        spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
          .matchExpressions;
      assert.deepEqual(
        exprs.map((e: Json) => [e.key, e.operator, e.values]),
        [
          ['eks.amazonaws.com/capacityType', 'NotIn', ['SPOT']],
          ['kubernetes.azure.com/scalesetpriority', 'NotIn', ['spot']],
          ['elasticai.io/capacity-type', 'NotIn', ['spot']],
        ],
      );
    });

    it('spot preferred tolerates the AKS spot taint and prefers spot labels of both clouds', () => {
      const spec = podSpec(synthWorkload({ placement: Placement.spotPreferred(80) }));
      assert.deepEqual(spec.tolerations, [
        {
          key: 'kubernetes.azure.com/scalesetpriority',
          operator: 'Equal',
          value: 'spot',
          effect: 'NoSchedule',
        },
      ]);
      const preferred = spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution;
      assert.deepEqual(
        preferred.map((p: Json) => [p.weight, p.preference.matchExpressions[0].key]),
        [
          [80, 'eks.amazonaws.com/capacityType'],
          [80, 'kubernetes.azure.com/scalesetpriority'],
          [80, 'elasticai.io/capacity-type'],
        ],
      );
      assert.equal(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
    });

    it('spot only requires a spot label of either cloud (ORed terms)', () => {
      const spec = podSpec(synthWorkload({ placement: Placement.spotOnly() }));
      const terms =
        spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      assert.equal(terms.length, 3);
      assert.deepEqual(terms[0].matchExpressions, [
        { key: 'eks.amazonaws.com/capacityType', operator: 'In', values: ['SPOT'] },
      ]);
    });

    it('refuses spot-only placement in a cluster without a spot pool, naming the pools', () => {
      // GIVEN a cluster with on-demand pools only
      const cluster = testCluster();
      const chart = testChart({
        ...cluster,
        nodePools: cluster.nodePools.filter((p) => p.capacityType === 'on-demand'),
      });
      new AutoscaledWorkload(chart, 'web', { ...BASE, placement: Placement.spotOnly() });
      // WHEN / THEN
      assert.throws(
        () => synth(chart),
        /placement: spot-only workload "shop\/web" cannot run in cluster "test".*general \(on-demand\)/,
      );
    });
  });

  it('reads credentials only from Secrets and refuses credential-like plain env', () => {
    const spec = podSpec(
      synthWorkload({
        env: { LOG_LEVEL: 'info' },
        secretEnv: { DB_PASSWORD: { secretName: 'db', key: 'password' } },
      }),
    );
    assert.deepEqual(spec.containers[0].env, [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ]);
    assert.throws(
      () => synthWorkload({ env: { DB_PASSWORD: 'hunter2' } }),
      (e: Error) => {
        assert.match(e.message, /^env\.DB_PASSWORD: looks like a credential/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      },
    );
  });

  describe('workload identity', () => {
    it('IRSA annotates the ServiceAccount with the role; no credential reaches the manifest', () => {
      const objects = synthWorkload({
        identity: WorkloadIdentity.awsIrsa('arn:aws:iam::123456789012:role/web'),
      });
      assert.deepEqual((only(objects, 'ServiceAccount').metadata as Json).annotations, {
        'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/web',
      });
      assert.equal(podSpec(objects).automountServiceAccountToken, false);
    });

    it('Azure workload identity annotates the ServiceAccount and labels the pods for the AKS webhook', () => {
      const clientId = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
      const objects = synthWorkload({ identity: WorkloadIdentity.azureWorkload(clientId) });
      assert.deepEqual((only(objects, 'ServiceAccount').metadata as Json).annotations, {
        'azure.workload.identity/client-id': clientId,
      });
      const template = (only(objects, 'Deployment').spec as Json).template;
      assert.equal(template.metadata.labels['azure.workload.identity/use'], 'true');
      assert.deepEqual((only(objects, 'Deployment').spec as Json).selector.matchLabels, {
        'app.kubernetes.io/name': 'web',
      });
    });

    it('refuses malformed role ARNs and client ids', () => {
      assert.throws(
        () => WorkloadIdentity.awsIrsa('web-role'),
        /identity\.roleArn: must be an IAM role ARN.*\(got "web-role"\)/,
      );
      assert.throws(
        () => WorkloadIdentity.azureWorkload('not-a-guid'),
        /identity\.clientId: must be a GUID \(got "not-a-guid"\)/,
      );
    });
  });

  describe('bad props fail with the prop and value named', () => {
    const cases: [string, Partial<AutoscaledWorkloadProps>, RegExp][] = [
      [
        'min > max',
        { replicas: { min: 5, max: 3 } },
        /replicas\.min: must not exceed replicas\.max \(3\) \(got 5\)/,
      ],
      [
        'non-integer replicas',
        { replicas: { min: 1.5, max: 3 } },
        /replicas\.min: must be an integer \(got 1\.5\)/,
      ],
      ['zero max', { replicas: { min: 0, max: 0 } }, /replicas\.max: must be >= 1 \(got 0\)/],
      [
        'HPA scale to zero',
        { replicas: { min: 0, max: 3 } },
        /replicas\.min: must be >= 1 with HPA scaling.*\(got 0\)/,
      ],
      [
        'latest tag',
        { image: 'nginx:latest' },
        /image: must not use the mutable "latest" tag \(got "nginx:latest"\)/,
      ],
      ['untagged image', { image: 'ghcr.io/example/web' }, /image: must be pinned to a tag or digest/],
      ['bad name', { name: 'Web_1' }, /name: must be a lowercase RFC 1123 label.*\(got "Web_1"\)/],
      ['bad port', { port: 70000 }, /port: must be between 1 and 65535 \(got 70000\)/],
      [
        'no port and no probe',
        { port: undefined },
        /readiness\.port: is required when the workload has no port/,
      ],
      [
        'limit below request',
        {
          resources: {
            cpu: { request: Cpu.millis(500), limit: Cpu.millis(100) },
            memory: { request: Size.mebibytes(64) },
          },
        },
        /resources\.cpu\.limit: must be >= cpu\.request \(500m\) \(got "100m"\)/,
      ],
      ['no scaling', { scaling: undefined as never }, /scaling: is required: WorkloadScaling\.hpa/],
      [
        'env name with a space',
        { env: { 'bad name': 'x' } },
        /^PropError: env: must be an environment variable name .*\(got "bad name"\)$/,
      ],
      [
        'empty env name',
        { env: { '': 'x' } },
        /^PropError: env: must be an environment variable name .*\(got ""\)$/,
      ],
      [
        'env name starting with a digit',
        { env: { '1X': 'x' } },
        /^PropError: env: must be an environment variable name .*\(got "1X"\)$/,
      ],
      [
        'secretEnv name with a space',
        { secretEnv: { 'bad name': { secretName: 's', key: 'k' } } },
        /^PropError: secretEnv: must be an environment variable name .*\(got "bad name"\)$/,
      ],
      [
        'secretEnv key that is not a Secret key',
        { secretEnv: { DB_URL: { secretName: 's', key: 'a/b c' } } },
        /^PropError: secretEnv\.DB_URL\.key: must be a Secret data key .*\(got "a\/b c"\)$/,
      ],
      [
        'empty secretEnv key',
        { secretEnv: { DB_URL: { secretName: 's', key: '' } } },
        /^PropError: secretEnv\.DB_URL\.key: must be a Secret data key .*\(got ""\)$/,
      ],
      [
        'fractional terminationGracePeriod',
        { terminationGracePeriod: Duration.millis(1500) },
        /^PropError: terminationGracePeriod: must be a whole number of seconds \(got "1 second 500 millis"\)$/,
      ],
      [
        'fractional probe initialDelay',
        { readiness: HealthCheck.tcp({ initialDelay: Duration.millis(1500) }) },
        /^PropError: readiness\.initialDelay: must be a whole number of seconds \(got "1 second 500 millis"\)$/,
      ],
      [
        'fractional probe timeout',
        { liveness: HealthCheck.tcp({ timeout: Duration.millis(1500) }) },
        /^PropError: liveness\.timeout: must be a whole number of seconds \(got "1 second 500 millis"\)$/,
      ],
      [
        'fractional scaling policy period',
        {
          scaling: WorkloadScaling.hpa({
            metrics: [Metric.resourceCpu()],
            behavior: { scaleUp: { policies: [ScalingPolicy.pods(2, Duration.millis(1500))] } },
          }),
        },
        /^PropError: scaling\.behavior\.scaleUp\.policies\[0\]\.period: must be a whole number of seconds \(got "1 second 500 millis"\)$/,
      ],
      [
        'fractional stabilizationWindow',
        {
          scaling: WorkloadScaling.hpa({
            metrics: [Metric.resourceCpu()],
            behavior: { scaleDown: { stabilizationWindow: Duration.millis(1500) } },
          }),
        },
        /^PropError: scaling\.behavior\.scaleDown\.stabilizationWindow: must be a whole number of seconds \(got "1 second 500 millis"\)$/,
      ],
      [
        'infinite memory request',
        { resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(Infinity) } } },
        /^PropError: resources\.memory\.request: must be a finite size \(got "InfinityMi"\)$/,
      ],
      [
        'NaN memory limit',
        {
          resources: {
            cpu: { request: Cpu.millis(250) },
            memory: { request: Size.mebibytes(64), limit: Size.mebibytes(NaN) },
          },
        },
        /^PropError: resources\.memory\.limit: must be a finite size \(got "NaNMi"\)$/,
      ],
      [
        'infinite cpu request',
        { resources: { cpu: { request: Cpu.units(Infinity) }, memory: { request: Size.mebibytes(64) } } },
        /^PropError: resources\.cpu\.request: must be a finite CPU amount \(got "Infinity"\)$/,
      ],
      [
        'infinite cpu limit',
        {
          resources: {
            cpu: { request: Cpu.millis(250), limit: Cpu.millis(Infinity) },
            memory: { request: Size.mebibytes(64) },
          },
        },
        /^PropError: resources\.cpu\.limit: must be a finite CPU amount \(got "Infinitym"\)$/,
      ],
      [
        'cpu below a millicore',
        { resources: { cpu: { request: Cpu.units(0.0001) }, memory: { request: Size.mebibytes(64) } } },
        /^PropError: resources\.cpu\.request: is below 1 millicore \(0\.001 CPU\).* \(got "0\.0001"\)$/,
      ],
    ];
    for (const [what, overrides, message] of cases) {
      it(what, () => assert.throws(() => synthWorkload(overrides), message));
    }

    it('no metrics', () =>
      assert.throws(() => WorkloadScaling.hpa({ metrics: [] }), /scaling\.metrics: must not be empty/));
    it('utilization on an external metric', () =>
      assert.throws(
        () => Metric.external({ name: 'q', target: MetricTarget.utilization(50) }),
        /metric\.external\.target: external metrics take a Value or AverageValue target \(got "Utilization"\)/,
      ));
    it('value on a resource metric', () =>
      assert.throws(
        () => Metric.resourceMemory(MetricTarget.value('1Gi')),
        /metric\.resourceMemory\.target: resource metrics take a Utilization or AverageValue target \(got "Value"\)/,
      ));
    it('bad quantity', () =>
      assert.throws(
        () => MetricTarget.averageValue('lots'),
        /target\.averageValue: must be a Kubernetes quantity.*\(got "lots"\)/,
      ));
    it('namespace missing outside a tenant', () =>
      assert.throws(
        () => synthWorkload({ namespace: undefined }),
        /namespace: is required for a workload outside a Tenant/,
      ));
  });

  it('workers without a port use an exec probe and get no Service', async () => {
    const objects = synthWorkload({
      port: undefined,
      readiness: HealthCheck.exec(['/bin/worker', 'ready']),
      liveness: HealthCheck.exec(['/bin/worker', 'alive']),
    });
    assert.equal(objects.filter((o) => o.kind === 'Service').length, 0);
    assert.deepEqual(podSpec(objects).containers[0].readinessProbe.exec, {
      command: ['/bin/worker', 'ready'],
    });
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('KEDA scaling', () => {
    const prometheus = Trigger.prometheus({
      name: 'rps',
      serverAddress: 'http://prometheus.monitoring.svc:9090',
      query: 'sum(rate(http_requests_total{service="web"}[2m]))',
      threshold: 50,
    });

    it('creates a ScaledObject targeting the Deployment instead of an HPA', async () => {
      // GIVEN a workload that may scale to zero
      const objects = synthWorkload({
        replicas: { min: 0, max: 30 },
        scaling: WorkloadScaling.keda({
          triggers: [prometheus],
          pollingInterval: Duration.seconds(15),
          cooldownPeriod: Duration.minutes(10),
        }),
      });
      // THEN
      assert.equal(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').length, 0);
      const spec = only(objects, 'ScaledObject').spec as Json;
      assert.deepEqual(spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
      assert.equal(spec.minReplicaCount, 0);
      assert.equal(spec.maxReplicaCount, 30);
      assert.equal(spec.pollingInterval, 15);
      assert.equal(spec.cooldownPeriod, 600);
      assert.equal(spec.triggers[0].type, 'prometheus');
      assert.equal(spec.triggers[0].metadata.threshold, '50');
      assert.equal(spec.advanced, undefined, 'KEDA/Kubernetes HPA defaults unless behaviour is asked for');
      assert.deepEqual(await validateAll(objects), []);
    });

    it('passes behaviour and scalingModifiers to the HPA KEDA manages', async () => {
      const objects = synthWorkload({
        scaling: WorkloadScaling.keda({
          triggers: [
            prometheus,
            Trigger.cron({
              name: 'office',
              timezone: 'Europe/Amsterdam',
              start: '0 8 * * 1-5',
              end: '0 18 * * 1-5',
              desiredReplicas: 6,
            }),
          ],
          scalingModifiers: { formula: 'max(rps, office)', target: 50 },
          behavior: { scaleDown: { stabilizationWindow: Duration.minutes(2) } },
        }),
      });
      const advanced = (only(objects, 'ScaledObject').spec as Json).advanced;
      assert.deepEqual(advanced.horizontalPodAutoscalerConfig.behavior, {
        scaleDown: { stabilizationWindowSeconds: 120 },
      });
      assert.equal(advanced.scalingModifiers.formula, 'max(rps, office)');
      assert.deepEqual(await validateAll(objects), []);
    });

    it('reports the resources its cpu/memory triggers scale on, for VPA conflict checks', () => {
      const chart = testChart();
      const workload = new AutoscaledWorkload(chart, 'web', {
        ...BASE,
        scaling: WorkloadScaling.keda({ triggers: [prometheus, Trigger.memory({ utilization: 75 })] }),
      });
      assert.deepEqual(workload.horizontallyScaledOn, ['memory']);
      const hpaWorkload = new AutoscaledWorkload(chart, 'api', BASE);
      assert.deepEqual(hpaWorkload.horizontallyScaledOn, ['cpu']);
    });

    it("pins replicas with KEDA's paused-replicas annotation when paused", () => {
      const objects = synthWorkload({
        scaling: WorkloadScaling.keda({ triggers: [prometheus], pause: Pause.at(3) }),
      });
      const annotations = (only(objects, 'ScaledObject').metadata as Json).annotations;
      assert.deepEqual(annotations, { 'autoscaling.keda.sh/paused-replicas': '3' });
    });

    it('refuses an empty trigger list', () =>
      assert.throws(() => WorkloadScaling.keda({ triggers: [] }), /scaling\.triggers: must not be empty/));
  });
});
