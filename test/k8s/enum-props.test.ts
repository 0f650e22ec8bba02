/**
 * Enum-like props typed as string unions arrive unchecked from JavaScript or through `as any`. Each
 * must be refused with the prop and the allowed values named, instead of being written into a
 * manifest the API server or KEDA would reject (or, worse, silently misread).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AutoscaledWorkload } from '../../constructs/k8s/autoscaled-workload.js';
import { Metric } from '../../constructs/k8s/metric.js';
import { JobScalingStrategy, ScaledJob, type ScaledJobProps } from '../../constructs/k8s/keda/scaled-job.js';
import { ScaledObject, type ScaledObjectProps } from '../../constructs/k8s/keda/scaled-object.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { PodIdentity } from '../../constructs/k8s/keda/trigger-authentication.js';
import type { IScalableWorkload } from '../../constructs/k8s/scalable-workload.js';
import {
  VerticalPodAutoscaler,
  type VpaContainerPolicy,
} from '../../constructs/k8s/vertical-pod-autoscaler.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { synth, testChart } from '../support/chart.js';

// Values a caller could pass with `as any`; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const external = (): Trigger =>
  Trigger.external({ name: 'predicted', scalerAddress: 'rt.elasticai:9090', metadata: { workload: 'api' } });

function scaledObject(overrides: Partial<ScaledObjectProps>): void {
  const chart = testChart();
  new ScaledObject(chart, 'so', {
    namespace: 'shop',
    target: { name: 'api' },
    minReplicas: 1,
    maxReplicas: 10,
    triggers: [external()],
    ...overrides,
  });
  synth(chart);
}

function scaledJob(overrides: Partial<ScaledJobProps>, job: Partial<ScaledJobProps['job']> = {}): void {
  const chart = testChart();
  new ScaledJob(chart, 'render', {
    namespace: 'batch',
    job: {
      image: 'ghcr.io/example/render:2.0.1',
      resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.gibibytes(1) } },
      ...job,
    },
    maxReplicas: 20,
    triggers: [external()],
    ...overrides,
  });
  synth(chart);
}

class FakeWorkload extends Construct implements IScalableWorkload {
  readonly apiVersion = 'apps/v1';
  readonly kind = 'Deployment';
  readonly name = 'api';
  readonly namespace = 'shop';
  readonly horizontallyScaledOn = [];
}

function vpa(policy: VpaContainerPolicy): void {
  const chart = testChart();
  new VerticalPodAutoscaler(chart, 'vpa', {
    target: new FakeWorkload(chart, 'api'),
    containerPolicies: [policy],
  });
  synth(chart);
}

function hpaSelectPolicy(selectPolicy: Any): void {
  const chart = testChart();
  new AutoscaledWorkload(chart, 'web', {
    namespace: 'shop',
    image: 'ghcr.io/example/web:1.4.2',
    port: 8080,
    resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256) } },
    replicas: { min: 2, max: 20 },
    scaling: WorkloadScaling.hpa({
      metrics: [Metric.resourceCpu()],
      behavior: { scaleUp: { selectPolicy } },
    }),
  });
  synth(chart);
}

const rabbit = (mode: Any, protocol?: Any) => () =>
  Trigger.rabbitmq({ queueName: 'jobs', mode, protocol, value: 10, hostFromEnv: 'RABBIT_HOST' });
const kafka = (extra: Any) => () =>
  Trigger.kafka({
    bootstrapServers: ['kafka:9092'],
    consumerGroup: 'g',
    topic: 't',
    lagThreshold: 10,
    ...extra,
  });

describe('unknown enum values are refused, naming the prop and the allowed values', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'fallback.behavior',
      () => scaledObject({ fallback: { failureThreshold: 3, replicas: 2, behavior: 'always' as Any } }),
      /^fallback\.behavior: must be one of "static", "currentReplicas", .* \(got "always"\)$/,
    ],
    [
      'advanced.scalingModifiers.metricType',
      () =>
        scaledObject({
          advanced: {
            scalingModifiers: { formula: 'predicted', target: 1, metricType: 'Utilization' as Any },
          },
        }),
      /^advanced\.scalingModifiers\.metricType: must be one of "AverageValue", "Value" \(got "Utilization"\)$/,
    ],
    [
      'ScaledJob rollout.strategy',
      () => scaledJob({ rollout: { strategy: 'rolling' as Any } }),
      /^rollout\.strategy: must be one of "immediate", "gradual" \(got "rolling"\)$/,
    ],
    [
      'ScaledJob rollout.propagationPolicy',
      () => scaledJob({ rollout: { strategy: 'immediate', propagationPolicy: 'orphan' as Any } }),
      /^rollout\.propagationPolicy: must be one of "foreground", "background" \(got "orphan"\)$/,
    ],
    [
      'ScaledJob job.restartPolicy Always',
      () => scaledJob({}, { restartPolicy: 'Always' as Any }),
      /^job\.restartPolicy: must be one of "Never", "OnFailure" \(got "Always"\)$/,
    ],
    [
      'JobScalingStrategy multipleScalersCalculation',
      () => JobScalingStrategy.default({ multipleScalersCalculation: 'median' as Any }),
      /^scalingStrategy\.multipleScalersCalculation: must be one of "max", "min", "avg", "sum" \(got "median"\)$/,
    ],
    [
      'PodIdentity identityOwner',
      () => PodIdentity.aws({ identityOwner: 'operator' as Any }),
      /^podIdentity\.identityOwner: must be one of "keda", "workload" \(got "operator"\)$/,
    ],
    [
      'VPA container mode',
      () => vpa({ mode: 'On' as Any }),
      /^containerPolicies\[0\]\.mode: must be one of "Auto", "Off" \(got "On"\)$/,
    ],
    [
      'VPA controlledValues',
      () => vpa({ controlledValues: 'LimitsOnly' as Any }),
      /^containerPolicies\[0\]\.controlledValues: must be one of "RequestsAndLimits", "RequestsOnly" \(got "LimitsOnly"\)$/,
    ],
    [
      'HPA selectPolicy',
      () => hpaSelectPolicy('Maximum'),
      /^scaling\.behavior\.scaleUp\.selectPolicy: must be one of "Max", "Min", "Disabled" \(got "Maximum"\)$/,
    ],
    [
      'trigger authentication kind',
      () =>
        scaledObject({
          triggers: [
            Trigger.prometheus({
              serverAddress: 'http://prometheus:9090',
              query: 'sum(up)',
              threshold: 1,
              authModes: ['bearer'],
              authentication: { name: 'prom', kind: 'SecretAuthentication' as Any },
            }),
          ],
        }),
      /^authentication\.kind: must be one of "TriggerAuthentication", "ClusterTriggerAuthentication" \(got "SecretAuthentication"\)$/,
    ],
    [
      'rabbitmq mode',
      rabbit('Length'),
      /^rabbitmq\.mode: must be one of "QueueLength", "MessageRate" \(got "Length"\)$/,
    ],
    [
      'rabbitmq protocol',
      rabbit('QueueLength', 'amqps'),
      /^rabbitmq\.protocol: must be one of "auto", "amqp", "http" \(got "amqps"\)$/,
    ],
    [
      'kafka offsetResetPolicy',
      kafka({ offsetResetPolicy: 'newest' }),
      /^kafka\.offsetResetPolicy: must be one of "latest", "earliest" \(got "newest"\)$/,
    ],
    [
      'kafka sasl',
      kafka({ sasl: 'scram' }),
      /^kafka\.sasl: must be one of "none", "plaintext", .* \(got "scram"\)$/,
    ],
    [
      'prometheus authModes',
      () =>
        Trigger.prometheus({
          serverAddress: 'http://prometheus:9090',
          query: 'sum(up)',
          threshold: 1,
          authModes: ['bearer', 'oauth' as Any],
          authentication: { name: 'prom', kind: 'TriggerAuthentication', namespace: 'shop' } as Any,
        }),
      /^prometheus\.authModes\[1\]: must be one of "basic", "bearer", "tls", "custom" \(got "oauth"\)$/,
    ],
  ];
  for (const [what, build, message] of cases) {
    it(what, () => assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message)));
  }
});
