import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { HealthCheck } from '../../constructs/k8s/health-check.js';
import { JobScalingStrategy, ScaledJob, type ScaledJobProps } from '../../constructs/k8s/keda/scaled-job.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { PodIdentity, TriggerAuthentication } from '../../constructs/k8s/keda/trigger-authentication.js';
import { Placement } from '../../constructs/k8s/placement.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const sqs = (): Trigger =>
  Trigger.awsSqsQueue({
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/render-jobs',
    awsRegion: 'eu-west-1',
    queueLength: 1,
    authentication: { name: 'sqs', kind: 'ClusterTriggerAuthentication', podIdentityProvider: 'aws' },
  });

const BASE: ScaledJobProps = {
  namespace: 'batch',
  job: {
    image: 'ghcr.io/example/render:2.0.1',
    resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.gibibytes(1) } },
  },
  maxReplicas: 20,
  triggers: [sqs()],
};

function synthJob(overrides: Partial<ScaledJobProps> = {}, cluster = testCluster()): KubeObject[] {
  const chart = testChart(cluster);
  new ScaledJob(chart, 'render', { ...BASE, ...overrides });
  return synth(chart);
}

const spec = (objects: KubeObject[]): Json => only(objects, 'ScaledJob').spec;
const podSpec = (objects: KubeObject[]): Json => spec(objects).jobTargetRef.template.spec;

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message));
}

describe('ScaledJob', () => {
  it('synthesizes a schema-valid ScaledJob with a restricted, resource-bounded job template', async () => {
    // GIVEN / WHEN
    const objects = synthJob();
    // THEN
    const obj = only(objects, 'ScaledJob');
    assert.equal(obj.apiVersion, 'keda.sh/v1alpha1');
    assert.deepEqual(obj.metadata, { name: 'render', namespace: 'batch' });
    const s = spec(objects);
    assert.equal(s.minReplicaCount, 0);
    assert.equal(s.maxReplicaCount, 20);
    assert.equal(s.triggers[0].type, 'aws-sqs-queue');
    const pod = podSpec(objects);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, undefined);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = pod.containers;
    assert.equal(container.image, 'ghcr.io/example/render:2.0.1');
    assert.deepEqual(container.resources, {
      requests: { cpu: '500m', memory: '1024Mi' },
      limits: { cpu: '1000m', memory: '1024Mi' },
    });
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
    // on-demand only by default
    assert.equal(pod.tolerations, undefined);
    assert.ok(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('renders the job settings, env from Secrets, placement and a pod-identity service account', async () => {
    // GIVEN
    const chart = testChart();
    const auth = new TriggerAuthentication(chart, 'sqs-auth', {
      namespace: 'batch',
      podIdentity: PodIdentity.aws({ identityOwner: 'workload' }),
    });
    // WHEN
    new ScaledJob(chart, 'render', {
      ...BASE,
      name: 'render-worker',
      job: {
        ...BASE.job,
        command: ['/bin/render'],
        args: ['--once'],
        env: { LOG_LEVEL: 'info' },
        secretEnv: { API_TOKEN: { secretName: 'render-api', key: 'token' } },
        restartPolicy: 'OnFailure',
        activeDeadline: Duration.hours(1),
        backoffLimit: 2,
        ttlAfterFinished: Duration.minutes(10),
        liveness: HealthCheck.exec(['/bin/render', '--health']),
        placement: Placement.spotOnly(),
        serviceAccountName: 'render-worker',
        runAsUser: 1000,
      },
      triggers: [
        Trigger.awsSqsQueue({
          queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/render-jobs',
          awsRegion: 'eu-west-1',
          queueLength: 1,
          authentication: auth,
        }),
      ],
      pollingInterval: Duration.seconds(10),
      minReplicas: 1,
      successfulJobsHistoryLimit: 5,
      failedJobsHistoryLimit: 10,
      rollout: { strategy: 'immediate', propagationPolicy: 'foreground' },
    });
    const objects = synth(chart);
    // THEN
    const s = spec(objects);
    assert.equal(only(objects, 'ScaledJob').metadata?.name, 'render-worker');
    assert.equal(s.pollingInterval, 10);
    assert.equal(s.minReplicaCount, 1);
    assert.equal(s.successfulJobsHistoryLimit, 5);
    assert.equal(s.failedJobsHistoryLimit, 10);
    assert.deepEqual(s.rollout, { strategy: 'immediate', propagationPolicy: 'foreground' });
    assert.deepEqual(s.triggers[0].authenticationRef, { name: 'sqs-auth', kind: 'TriggerAuthentication' });
    assert.equal(s.jobTargetRef.activeDeadlineSeconds, 3600);
    assert.equal(s.jobTargetRef.backoffLimit, 2);
    assert.equal(s.jobTargetRef.ttlSecondsAfterFinished, 600);
    const pod = podSpec(objects);
    assert.equal(pod.restartPolicy, 'OnFailure');
    assert.equal(pod.serviceAccountName, 'render-worker');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsUser, 1000);
    assert.deepEqual(pod.tolerations, [
      {
        key: 'kubernetes.azure.com/scalesetpriority',
        operator: 'Equal',
        value: 'spot',
        effect: 'NoSchedule',
      },
    ]);
    const [container] = pod.containers;
    assert.deepEqual(container.command, ['/bin/render']);
    assert.deepEqual(container.args, ['--once']);
    assert.deepEqual(container.env, [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'render-api', key: 'token' } } },
    ]);
    assert.deepEqual(container.livenessProbe.exec.command, ['/bin/render', '--health']);
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('scaling strategies', () => {
    const cases: [string, JobScalingStrategy, Json][] = [
      ['default', JobScalingStrategy.default(), { strategy: 'default' }],
      [
        'custom',
        JobScalingStrategy.custom({
          queueLengthDeduction: 1,
          runningJobPercentage: 0.5,
          multipleScalersCalculation: 'sum',
        }),
        {
          strategy: 'custom',
          customScalingQueueLengthDeduction: 1,
          customScalingRunningJobPercentage: '0.5',
          multipleScalersCalculation: 'sum',
        },
      ],
      [
        'accurate',
        JobScalingStrategy.accurate({ pendingPodConditions: ['Ready', 'PodScheduled'] }),
        { strategy: 'accurate', pendingPodConditions: ['Ready', 'PodScheduled'] },
      ],
      [
        'eager',
        JobScalingStrategy.eager({ multipleScalersCalculation: 'max' }),
        { strategy: 'eager', multipleScalersCalculation: 'max' },
      ],
    ];
    for (const [what, strategy, json] of cases) {
      it(`renders the ${what} strategy`, async () => {
        // GIVEN / WHEN
        const objects = synthJob({ scalingStrategy: strategy });
        // THEN
        assert.deepEqual(spec(objects).scalingStrategy, json);
        assert.equal(strategy.kind, what);
        assert.deepEqual(await validateAll(objects), []);
      });
    }

    it('leaves the strategy and rollout to KEDA when unset', async () => {
      // GIVEN / WHEN
      const objects = synthJob();
      // THEN
      assert.equal(spec(objects).scalingStrategy, undefined);
      assert.equal(spec(objects).rollout, undefined);
      assert.deepEqual(await validateAll(objects), []);
    });

    it('validates custom strategy parameters and pod conditions', () => {
      throwsProp(
        () => JobScalingStrategy.custom({ queueLengthDeduction: 0, runningJobPercentage: 1.5 }),
        /^scalingStrategy\.runningJobPercentage: must be a fraction in \(0, 1\] \(got 1\.5\)$/,
      );
      throwsProp(
        () => JobScalingStrategy.custom({ queueLengthDeduction: -1, runningJobPercentage: 0.5 }),
        /^scalingStrategy\.queueLengthDeduction: must be >= 0 \(got -1\)$/,
      );
      throwsProp(
        () => JobScalingStrategy.default({ pendingPodConditions: ['ready'] }),
        /^scalingStrategy\.pendingPodConditions\[0\]: .*\(got "ready"\)$/,
      );
    });
  });

  describe('validation', () => {
    const cases: [string, Partial<ScaledJobProps>, RegExp][] = [
      [
        'a cpu trigger',
        { triggers: [Trigger.cpu({ utilization: 50 })] },
        /^triggers\[0\]: is not supported by ScaledJob .*\(got "cpu"\)$/,
      ],
      ['no triggers', { triggers: [] }, /^triggers: must not be empty \(got \[\]\)$/],
      ['min above max', { minReplicas: 30 }, /^minReplicas: must not exceed maxReplicas \(20\) \(got 30\)$/],
      ['zero maxReplicas', { maxReplicas: 0 }, /^maxReplicas: must be >= 1 \(got 0\)$/],
      [
        'an unpinned image',
        { job: { ...BASE.job, image: 'ghcr.io/example/render' } },
        /^job\.image: must be pinned to a tag or digest/,
      ],
      [
        'a latest image',
        { job: { ...BASE.job, image: 'ghcr.io/example/render:latest' } },
        /^job\.image: must not use the mutable "latest" tag/,
      ],
      [
        'a credential in plain env',
        { job: { ...BASE.job, env: { DB_PASSWORD: 'x' } } },
        /^job\.env\.DB_PASSWORD: looks like a credential; use job\.secretEnv .*\(got "DB_PASSWORD"\)$/,
      ],
      [
        'a negative backoffLimit',
        { job: { ...BASE.job, backoffLimit: -1 } },
        /^job\.backoffLimit: must be >= 0 \(got -1\)$/,
      ],
      [
        'a sub-second deadline',
        { job: { ...BASE.job, activeDeadline: Duration.millis(500) } },
        /^job\.activeDeadline: must be an integer \(got 0\.5\)$/,
      ],
      [
        'zero memory',
        {
          job: {
            ...BASE.job,
            resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(0) } },
          },
        },
        /^job\.resources\.memory\.request: must be > 0/,
      ],
      [
        'gradual rollout with a propagation policy',
        { rollout: { strategy: 'gradual', propagationPolicy: 'background' } },
        /^rollout\.propagationPolicy: applies only to the "immediate" strategy .*\(got "background"\)$/,
      ],
      [
        'a negative history limit',
        { failedJobsHistoryLimit: -1 },
        /^failedJobsHistoryLimit: must be >= 0 \(got -1\)$/,
      ],
      [
        'a secretEnv key that is not a Secret key',
        { job: { ...BASE.job, secretEnv: { TOKEN: { secretName: 's', key: 'a b' } } } },
        /^job\.secretEnv\.TOKEN\.key: must be a Secret data key .*\(got "a b"\)$/,
      ],
      [
        "a name too long for the pod template's app.kubernetes.io/name label",
        { name: 'a'.repeat(64) },
        /^name: must be a label value .*: it is also the app\.kubernetes\.io\/name label \(got "a{64}"\)$/,
      ],
    ];
    for (const [what, overrides, message] of cases) {
      it(`rejects ${what}`, () => throwsProp(() => synthJob(overrides), message));
    }

    it('refuses spot-only jobs in a cluster without spot capacity at synth', () => {
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
        () => synthJob({ job: { ...BASE.job, placement: Placement.spotOnly() } }, onDemandOnly),
        /job\.placement: spot-only ScaledJob "batch\/render" cannot run in cluster "test", which has no spot pool/,
      );
    });
  });
});
