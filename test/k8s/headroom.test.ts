import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  HEADROOM_COMPONENT_LABEL,
  Headroom,
  HeadroomMode,
  type HeadroomProps,
  HeadroomScaling,
} from '../../constructs/k8s/headroom.js';
import { CloudProvider, ClusterAutoscaler } from '../../constructs/k8s/cluster-autoscaler.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import { Placement } from '../../constructs/k8s/placement.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const BASE: HeadroomProps = {
  namespace: 'elasticai',
  podResources: { cpu: { request: Cpu.millis(1000) }, memory: { request: Size.gibibytes(2) } },
  scaling: HeadroomScaling.fixed(2),
};

function synthHeadroom(overrides: Partial<HeadroomProps> = {}, cluster = testCluster()): KubeObject[] {
  const chart = testChart(cluster);
  new Headroom(chart, 'headroom', { ...BASE, ...overrides });
  return synth(chart);
}

const podSpec = (objects: KubeObject[]): Json => (only(objects, 'Deployment').spec as Json).template.spec;

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message));
}

describe('Headroom', () => {
  it('runs a fixed number of pause pods below every workload priority', async () => {
    // GIVEN / WHEN
    const objects = synthHeadroom();
    // THEN
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'PriorityClass']);
    const pc = only(objects, 'PriorityClass') as Json;
    assert.equal(pc.apiVersion, 'scheduling.k8s.io/v1');
    assert.deepEqual(pc.metadata, { name: 'elasticai-headroom' });
    assert.equal(pc.value, -10);
    assert.equal(pc.preemptionPolicy, 'Never');
    assert.equal(pc.globalDefault, false);
    const deployment = only(objects, 'Deployment') as Json;
    assert.deepEqual(deployment.metadata.name, 'headroom');
    assert.deepEqual(deployment.metadata.namespace, 'elasticai');
    assert.equal(deployment.spec.replicas, 2);
    const pod = podSpec(objects);
    assert.equal(pod.priorityClassName, 'elasticai-headroom');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.terminationGracePeriodSeconds, 0);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const [container] = pod.containers;
    assert.equal(container.image, 'registry.k8s.io/pause:3.10');
    assert.deepEqual(container.resources, {
      requests: { cpu: '1000m', memory: '2048Mi' },
      limits: { cpu: '1000m', memory: '2048Mi' },
    });
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(container.readinessProbe, undefined);
    assert.equal(container.livenessProbe, undefined);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('labels pause pods with HEADROOM_COMPONENT_LABEL so policy checks can exempt them from probes', async () => {
    // GIVEN / WHEN
    const objects = synthHeadroom();
    const deployment = only(objects, 'Deployment') as Json;
    // THEN
    assert.deepEqual(HEADROOM_COMPONENT_LABEL, { 'app.kubernetes.io/component': 'headroom' });
    assert.equal(deployment.spec.template.metadata.labels['app.kubernetes.io/component'], 'headroom');
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('places pause pods where the workloads they are for run', async () => {
    const objects = synthHeadroom({
      placement: Placement.spotOnly(),
      nodeSelector: { 'elasticai.io/pool': 'spot' },
    });
    const pod = podSpec(objects);
    assert.deepEqual(pod.tolerations, [
      {
        key: 'kubernetes.azure.com/scalesetpriority',
        operator: 'Equal',
        value: 'spot',
        effect: 'NoSchedule',
      },
    ]);
    assert.equal(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.length,
      3,
    );
    assert.deepEqual(pod.nodeSelector, { 'elasticai.io/pool': 'spot' });
    assert.deepEqual(await validateAll(objects), []);
  });

  it('shares one PriorityClass between several headrooms in a chart', async () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    new Headroom(chart, 'general', BASE);
    new Headroom(chart, 'spot', { ...BASE, placement: Placement.spotOnly() });
    const objects = synth(chart);
    // THEN
    assert.equal(objects.filter((o) => o.kind === 'PriorityClass').length, 1);
    assert.equal(objects.filter((o) => o.kind === 'Deployment').length, 2);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('scales pause pods on a cron schedule with a ScaledObject', async () => {
    // GIVEN / WHEN
    const objects = synthHeadroom({
      scaling: HeadroomScaling.cron(
        [
          { timezone: 'Europe/Berlin', start: '30 7 * * MON-FRI', end: '0 10 * * MON-FRI', replicas: 4 },
          { timezone: 'Europe/Berlin', start: '0 17 * * *', end: '0 21 * * *', replicas: 2 },
        ],
        1,
      ),
    });
    // THEN
    assert.equal((only(objects, 'Deployment') as Json).spec.replicas, undefined);
    const so = only(objects, 'ScaledObject') as Json;
    assert.deepEqual(so.metadata, { name: 'headroom', namespace: 'elasticai' });
    assert.deepEqual(so.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'headroom' });
    assert.equal(so.spec.minReplicaCount, 1);
    assert.equal(so.spec.maxReplicaCount, 4);
    assert.deepEqual(so.spec.triggers, [
      {
        type: 'cron',
        metadata: {
          timezone: 'Europe/Berlin',
          start: '30 7 * * MON-FRI',
          end: '0 10 * * MON-FRI',
          desiredReplicas: '4',
        },
      },
      {
        type: 'cron',
        metadata: { timezone: 'Europe/Berlin', start: '0 17 * * *', end: '0 21 * * *', desiredReplicas: '2' },
      },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('scales pause pods from the decision runtime’s headroom metric', async () => {
    // GIVEN / WHEN
    const objects = synthHeadroom({
      scaling: HeadroomScaling.fromRuntime({
        scalerAddress: 'elasticai-runtime.elasticai:9090',
        nodePool: 'spot',
        maxReplicas: 8,
      }),
    });
    // THEN
    const so = only(objects, 'ScaledObject') as Json;
    assert.equal(so.spec.minReplicaCount, 0);
    assert.equal(so.spec.maxReplicaCount, 8);
    assert.deepEqual(so.spec.triggers, [
      {
        type: 'external',
        name: 'headroom',
        metadata: { scalerAddress: 'elasticai-runtime.elasticai:9090', metric: 'headroom', nodePool: 'spot' },
      },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('runtime headroom follows its pool’s capacity type', () => {
    const fromRuntime = (nodePool: string) =>
      HeadroomScaling.fromRuntime({
        scalerAddress: 'elasticai-runtime.elasticai:9090',
        nodePool,
        maxReplicas: 4,
      });
    const nodeAffinity = (objects: KubeObject[]): Json => podSpec(objects).affinity.nodeAffinity;

    it('defaults to spot-only placement for a spot pool, so the pause pods can land on it', async () => {
      // GIVEN / WHEN headroom for the spot pool, placement left to the default
      const objects = synthHeadroom({ scaling: fromRuntime('spot') });
      // THEN the pods require and tolerate spot nodes, with no NotIn SPOT term
      const terms = nodeAffinity(objects).requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      assert.deepEqual(terms[0].matchExpressions, [
        { key: 'eks.amazonaws.com/capacityType', operator: 'In', values: ['SPOT'] },
      ]);
      assert.ok(!JSON.stringify(terms).includes('NotIn'));
      assert.equal(podSpec(objects).tolerations[0].value, 'spot');
      assert.deepEqual(await validateAll(objects), []);
    });

    it('defaults to on-demand-only placement for an on-demand pool', () => {
      const terms = nodeAffinity(synthHeadroom({ scaling: fromRuntime('general') }))
        .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      assert.equal(terms[0].matchExpressions[0].operator, 'NotIn');
    });

    it('prefers spot for a mixed pool', () => {
      // GIVEN a cluster whose user pool is a mixed on-demand/spot group
      const cluster = testCluster({
        nodePools: [
          {
            name: 'mixed',
            role: 'user',
            capacityType: 'mixed',
            instanceTypes: ['m7i.xlarge'],
            minSize: 1,
            maxSize: 10,
            mixed: { onDemandBase: 1, onDemandPercentageAboveBase: 0 },
          },
        ],
      });
      // WHEN / THEN
      const affinity = nodeAffinity(synthHeadroom({ scaling: fromRuntime('mixed') }, cluster));
      assert.equal(affinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
      assert.equal(affinity.preferredDuringSchedulingIgnoredDuringExecution.length, 3);
    });

    it('refuses a placement that could never schedule on the pool', () => {
      throwsProp(
        () => synthHeadroom({ scaling: fromRuntime('spot'), placement: Placement.onDemandOnly() }),
        /^placement: keeps headroom off spot nodes, but scaling\.nodePool "spot" is a spot pool.*\(got "on-demand-only"\)$/,
      );
      throwsProp(
        () => synthHeadroom({ scaling: fromRuntime('general'), placement: Placement.spotOnly() }),
        /^placement: needs spot nodes, but scaling\.nodePool "general" is an on-demand pool.*\(got "spot-only"\)$/,
      );
    });
  });

  it('takes a memory request that is not whole mebibytes', () => {
    // GIVEN / WHEN 1.5 MiB written in KiB (cdk8s's toMebibytes() threw on it)
    const objects = synthHeadroom({
      podResources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.kibibytes(1536) } },
    });
    // THEN
    assert.deepEqual(podSpec(objects).containers[0].resources.requests, { cpu: '100m', memory: '1536Ki' });
    throwsProp(
      () =>
        synthHeadroom({
          podResources: {
            cpu: { request: Cpu.millis(100) },
            memory: { request: Size.kibibytes(1536), limit: Size.mebibytes(2) },
          },
        }),
      /^podResources\.memory\.limit: must equal memory\.request \(1536Ki\) for headroom pods \(got "2Mi"\)$/,
    );
  });

  it('refuses a nodeSelector value Kubernetes rejects', () => {
    throwsProp(
      () => synthHeadroom({ nodeSelector: { 'elasticai.io/pool': 'spot pool' } }),
      /^nodeSelector\.elasticai\.io\/pool: must be a label value .*\(got "spot pool"\)$/,
    );
  });

  it('refuses a name too long for the app.kubernetes.io/name label', () => {
    // GIVEN / WHEN / THEN: 64 characters is a valid Deployment name but not a label value
    throwsProp(
      () => synthHeadroom({ name: 'a'.repeat(64) }),
      /^name: must be a label value .*: it is also the app\.kubernetes\.io\/name label \(got "a{64}"\)$/,
    );
  });

  it('refuses a reserved system- PriorityClass name instead of creating that class', () => {
    // GIVEN / WHEN / THEN: the construct would otherwise emit PriorityClass system-cluster-critical at −10
    throwsProp(
      () => synthHeadroom({ priorityClassName: 'system-cluster-critical' }),
      /^priorityClassName: must not start with "system-".*\(got "system-cluster-critical"\)$/,
    );
  });

  describe('CapacityBuffer mode', () => {
    const v134 = testCluster({ kubernetesVersion: KubernetesVersion.V1_34 });

    it('emits a PodTemplate and a CapacityBuffer instead of pause pods on Kubernetes 1.34', async () => {
      // GIVEN / WHEN
      const objects = synthHeadroom(
        { mode: HeadroomMode.capacityBuffer(), scaling: HeadroomScaling.fixed(3) },
        v134,
      );
      // THEN
      assert.deepEqual(objects.map((o) => o.kind).sort(), ['CapacityBuffer', 'PodTemplate']);
      const buffer = only(objects, 'CapacityBuffer') as Json;
      assert.equal(buffer.apiVersion, 'autoscaling.x-k8s.io/v1alpha1');
      assert.equal(buffer.metadata.name, 'headroom');
      assert.equal(buffer.metadata.namespace, 'elasticai');
      assert.deepEqual(buffer.spec, {
        provisioningStrategy: 'buffer.x-k8s.io/active-capacity',
        podTemplateRef: { name: 'headroom' },
        replicas: 3,
      });
      const template = only(objects, 'PodTemplate') as Json;
      assert.equal(template.metadata.name, 'headroom');
      assert.equal(template.metadata.namespace, 'elasticai');
      const [container] = template.template.spec.containers;
      assert.deepEqual(container.resources.requests, { cpu: '1000m', memory: '2048Mi' });
      assert.equal(template.template.spec.priorityClassName, undefined);
      assert.deepEqual(await validateAll(objects), []);
    });

    describe('with a ClusterAutoscaler in the same chart', () => {
      function synthWithAutoscaler(capacityBuffers: boolean | undefined, mode: HeadroomMode): KubeObject[] {
        const chart = testChart(v134);
        new ClusterAutoscaler(chart, 'ca', {
          cloudProvider: CloudProvider.aws(),
          ...(capacityBuffers === undefined ? {} : { capacityBuffers }),
        });
        new Headroom(chart, 'headroom', { ...BASE, mode });
        return synth(chart);
      }

      it('fails at synth when the autoscaler runs without the CapacityBuffer controller', () => {
        // GIVEN / WHEN / THEN
        assert.throws(
          () => synthWithAutoscaler(undefined, HeadroomMode.capacityBuffer()),
          (e: Error) => {
            assert.match(
              e.message,
              /mode: capacity-buffer headroom "elasticai\/headroom" needs the CapacityBuffer controller, but ClusterAutoscaler "test\/ca" in the same chart runs without it; set capacityBuffers: true on it/,
            );
            return true;
          },
        );
      });

      it('fails the same way with capacityBuffers: false', () => {
        // GIVEN / WHEN / THEN
        assert.throws(
          () => synthWithAutoscaler(false, HeadroomMode.capacityBuffer()),
          /ClusterAutoscaler "test\/ca" .*set capacityBuffers: true/,
        );
      });

      it('passes when the autoscaler has capacityBuffers: true', async () => {
        // GIVEN / WHEN
        const objects = synthWithAutoscaler(true, HeadroomMode.capacityBuffer());
        // THEN
        assert.equal(only(objects, 'CapacityBuffer').metadata?.name, 'headroom');
        const ca = only(objects, 'Deployment', 'cluster-autoscaler') as Json;
        assert.ok(
          ca.spec.template.spec.containers[0].command.includes('--capacity-buffer-controller-enabled=true'),
        );
        assert.deepEqual(await validateAll(objects), []);
      });

      it('does not constrain pause-deployment headroom', async () => {
        // GIVEN / WHEN
        const objects = synthWithAutoscaler(undefined, HeadroomMode.pauseDeployment());
        // THEN
        assert.equal(only(objects, 'Deployment', 'headroom').metadata?.namespace, 'elasticai');
        assert.deepEqual(await validateAll(objects), []);
      });
    });

    it('passes without a ClusterAutoscaler in the chart (managed or installed elsewhere)', async () => {
      // GIVEN
      const aks = testCluster({ cloud: 'azure', kubernetesVersion: KubernetesVersion.V1_35 });
      // WHEN
      const objects = synthHeadroom({ mode: HeadroomMode.capacityBuffer() }, aks);
      // THEN
      assert.equal((only(objects, 'CapacityBuffer') as Json).apiVersion, 'autoscaling.x-k8s.io/v1beta1');
      assert.deepEqual(await validateAll(objects), []);
    });

    it('is refused on clusters older than 1.34', () => {
      throwsProp(
        () =>
          synthHeadroom(
            { mode: HeadroomMode.capacityBuffer() },
            testCluster({ kubernetesVersion: KubernetesVersion.V1_33 }),
          ),
        /^mode: needs Kubernetes >= 1\.34 \(cluster "test" runs 1\.33\); use HeadroomMode\.pauseDeployment\(\) \(got "capacityBuffer"\)$/,
      );
    });

    it('needs a fixed replica count (a CapacityBuffer has no scale subresource)', () => {
      throwsProp(
        () =>
          synthHeadroom(
            {
              mode: HeadroomMode.capacityBuffer(),
              scaling: HeadroomScaling.fromRuntime({
                scalerAddress: 'r:9090',
                nodePool: 'spot',
                maxReplicas: 3,
              }),
            },
            v134,
          ),
        /^scaling: must be HeadroomScaling\.fixed\(\) with HeadroomMode\.capacityBuffer\(\) .*\(got "runtime"\)$/,
      );
    });
  });

  describe('validation', () => {
    const cases: [string, () => unknown, RegExp][] = [
      [
        'a negative fixed count',
        () => HeadroomScaling.fixed(-1),
        /^scaling\.fixed: must be >= 0 \(got -1\)$/,
      ],
      [
        'an empty cron schedule',
        () => HeadroomScaling.cron([]),
        /^scaling\.cron: must not be empty \(got \[\]\)$/,
      ],
      [
        'a bad cron window',
        () => HeadroomScaling.cron([{ timezone: 'UTC', start: '0 25 * * *', end: '0 9 * * *', replicas: 1 }]),
        /^scaling\.cron\[0\]\.start: must be a 5-field cron expression .*\(got "0 25 \* \* \*"\)$/,
      ],
      [
        'a bad cron time zone',
        () =>
          HeadroomScaling.cron([{ timezone: 'Berlin', start: '0 8 * * *', end: '0 9 * * *', replicas: 1 }]),
        /^scaling\.cron\[0\]\.timezone: .*\(got "Berlin"\)$/,
      ],
      [
        'runtime min above max',
        () =>
          HeadroomScaling.fromRuntime({
            scalerAddress: 'r:9090',
            nodePool: 'spot',
            maxReplicas: 2,
            minReplicas: 3,
          }),
        /^scaling\.minReplicas: must not exceed scaling\.maxReplicas \(2\) \(got 3\)$/,
      ],
      [
        'a limit different from the request',
        () =>
          synthHeadroom({
            podResources: {
              cpu: { request: Cpu.millis(500), limit: Cpu.millis(1000) },
              memory: { request: Size.gibibytes(1) },
            },
          }),
        /^podResources\.cpu\.limit: must equal cpu\.request \(500m\) for headroom pods \(got "1000m"\)$/,
      ],
      [
        'a memory limit different from the request',
        () =>
          synthHeadroom({
            podResources: {
              cpu: { request: Cpu.millis(500) },
              memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
            },
          }),
        /^podResources\.memory\.limit: must equal memory\.request \(1024Mi\) .*\(got "2048Mi"\)$/,
      ],
      [
        'an unpinned image',
        () => synthHeadroom({ image: 'registry.k8s.io/pause' }),
        /^image: must be pinned to a tag or digest/,
      ],
      [
        'an unknown node pool',
        () =>
          synthHeadroom({
            scaling: HeadroomScaling.fromRuntime({
              scalerAddress: 'r:9090',
              nodePool: 'gpu',
              maxReplicas: 3,
            }),
          }),
        /^scaling\.nodePool: is not a node pool of cluster "test" \(pools: system, general, spot\) \(got "gpu"\)$/,
      ],
      [
        'a system node pool',
        () =>
          synthHeadroom({
            scaling: HeadroomScaling.fromRuntime({
              scalerAddress: 'r:9090',
              nodePool: 'system',
              maxReplicas: 3,
            }),
          }),
        /^scaling\.nodePool: is a system pool; headroom belongs on a user pool \(got "system"\)$/,
      ],
      [
        'a bad runtime scaler address',
        () => HeadroomScaling.fromRuntime({ scalerAddress: 'runtime', nodePool: 'spot', maxReplicas: 3 }),
        /^scaling\.scalerAddress: must be "host:port" \(got "runtime"\)$/,
      ],
      [
        'an empty cron window',
        () => HeadroomScaling.cron([{ timezone: 'UTC', start: '0 8 * * *', end: '0 8 * * *', replicas: 1 }]),
        /^scaling\.cron\[0\]\.end: must differ from start \(got "0 8 \* \* \*"\)$/,
      ],
    ];
    for (const [what, build, message] of cases) {
      it(`rejects ${what}`, () => throwsProp(build, message));
    }

    it('refuses spot-only headroom in a cluster without spot capacity at synth', () => {
      const onDemandOnly = testCluster({
        nodePools: [
          {
            name: 'general',
            role: 'user',
            capacityType: 'on-demand',
            instanceTypes: ['m7i.xlarge'],
            minSize: 1,
            maxSize: 5,
          },
        ],
      });
      assert.throws(
        () => synthHeadroom({ placement: Placement.spotOnly() }, onDemandOnly),
        /placement: spot-only headroom "elasticai\/headroom" cannot run in cluster "test", which has no spot pool/,
      );
    });
  });
});
