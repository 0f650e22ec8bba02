import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Pause,
  ScaledObject,
  type ScaledObjectProps,
  formulaVariables,
} from '../../constructs/k8s/keda/scaled-object.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { TriggerAuthentication } from '../../constructs/k8s/keda/trigger-authentication.js';
import type { IScalableWorkload, ScaledResource } from '../../constructs/k8s/scalable-workload.js';
import { ScalingPolicy } from '../../constructs/k8s/scaling-behavior.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

/** A minimal workload construct, standing in for AutoscaledWorkload. */
class FakeWorkload extends Construct implements IScalableWorkload {
  readonly apiVersion = 'apps/v1';
  readonly kind = 'StatefulSet';
  readonly horizontallyScaledOn: readonly ScaledResource[] = [];
  constructor(
    scope: Construct,
    readonly name: string,
    readonly namespace: string,
  ) {
    super(scope, `fake-${name}`);
  }
}

const runtime = (name = 'predicted'): Trigger =>
  Trigger.external({
    name,
    scalerAddress: 'elasticai-runtime.elasticai:9090',
    metadata: { workload: 'api' },
  });
const queue = (): Trigger =>
  Trigger.prometheus({
    name: 'queue',
    serverAddress: 'http://prometheus:9090',
    query: 'sum(queue_depth)',
    threshold: 10,
  });

const BASE: ScaledObjectProps = {
  namespace: 'shop',
  target: { name: 'api' },
  minReplicas: 1,
  maxReplicas: 10,
  triggers: [runtime()],
};

function synthSo(overrides: Partial<ScaledObjectProps> = {}): { objects: KubeObject[]; so: ScaledObject } {
  const chart = testChart();
  const so = new ScaledObject(chart, 'so', { ...BASE, ...overrides });
  return { objects: synth(chart), so };
}

const spec = (objects: KubeObject[]): Json => only(objects, 'ScaledObject').spec;

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message));
}

describe('ScaledObject', () => {
  it('targets a workload construct, taking its name and namespace', async () => {
    // GIVEN
    const chart = testChart();
    const workload = new FakeWorkload(chart, 'api', 'shop');
    // WHEN
    const so = new ScaledObject(chart, 'so', {
      target: workload,
      minReplicas: 2,
      maxReplicas: 30,
      pollingInterval: Duration.seconds(15),
      cooldownPeriod: Duration.minutes(10),
      initialCooldownPeriod: Duration.seconds(120),
      triggers: [Trigger.memory({ utilization: 80 }), runtime(), Trigger.cpu({ utilization: 60 })],
    });
    const objects = synth(chart);
    // THEN
    const obj = only(objects, 'ScaledObject');
    assert.deepEqual(obj.metadata, { name: 'api', namespace: 'shop' });
    assert.equal(obj.apiVersion, 'keda.sh/v1alpha1');
    const s = obj.spec as Json;
    assert.deepEqual(s.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'api' });
    assert.equal(s.pollingInterval, 15);
    assert.equal(s.cooldownPeriod, 600);
    assert.equal(s.initialCooldownPeriod, 120);
    assert.equal(s.minReplicaCount, 2);
    assert.equal(s.maxReplicaCount, 30);
    assert.deepEqual(
      s.triggers.map((t: Json) => t.type),
      ['memory', 'external', 'cpu'],
    );
    assert.equal(s.fallback, undefined);
    assert.equal(s.advanced, undefined);
    assert.equal(so.name, 'api');
    assert.equal(so.namespace, 'shop');
    assert.deepEqual(so.horizontallyScaledOn, ['cpu', 'memory']);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('targets a plain reference, with an explicit name, apiVersion and kind', async () => {
    // GIVEN / WHEN
    const { objects, so } = synthSo({
      name: 'api-scaler',
      target: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'api' },
    });
    // THEN
    assert.equal(only(objects, 'ScaledObject').metadata?.name, 'api-scaler');
    assert.deepEqual(spec(objects).scaleTargetRef, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      name: 'api',
    });
    assert.deepEqual(so.horizontallyScaledOn, []);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('scales to zero with an idle count of 0 below minReplicas', async () => {
    // GIVEN / WHEN
    const { objects } = synthSo({ minReplicas: 2, idleReplicas: 0 });
    // THEN
    assert.equal(spec(objects).idleReplicaCount, 0);
    assert.equal(spec(objects).minReplicaCount, 2);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('allows minReplicas 0 when a trigger is not cpu/memory', async () => {
    const { objects } = synthSo({ minReplicas: 0, triggers: [Trigger.cpu({ utilization: 50 }), runtime()] });
    assert.equal(spec(objects).minReplicaCount, 0);
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('pause annotations', () => {
    const cases: [string, Pause, Record<string, string>][] = [
      ['Pause.at(3)', Pause.at(3), { 'autoscaling.keda.sh/paused-replicas': '3' }],
      ['Pause.at(0)', Pause.at(0), { 'autoscaling.keda.sh/paused-replicas': '0' }],
      ['Pause.scaling()', Pause.scaling(), { 'autoscaling.keda.sh/paused': 'true' }],
      ['Pause.scaleIn()', Pause.scaleIn(), { 'autoscaling.keda.sh/paused-scale-in': 'true' }],
      ['Pause.scaleOut()', Pause.scaleOut(), { 'autoscaling.keda.sh/paused-scale-out': 'true' }],
    ];
    for (const [what, pause, annotations] of cases) {
      it(`${what} sets ${Object.keys(annotations)[0]}`, async () => {
        // GIVEN / WHEN
        const { objects } = synthSo({ pause });
        // THEN
        assert.deepEqual(only(objects, 'ScaledObject').metadata?.annotations, annotations);
        assert.deepEqual(await validateAll(objects), []);
      });
    }

    it('has no annotations when not paused', async () => {
      // GIVEN / WHEN
      const { objects } = synthSo();
      // THEN
      assert.equal(only(objects, 'ScaledObject').metadata?.annotations, undefined);
      assert.deepEqual(await validateAll(objects), []);
    });

    it('rejects a negative paused replica count', () => {
      throwsProp(() => Pause.at(-1), /^pause\.at: must be >= 0 \(got -1\)$/);
    });
  });

  describe('advanced', () => {
    it('composes named triggers with scalingModifiers', async () => {
      // GIVEN / WHEN
      const { objects } = synthSo({
        minReplicas: 0,
        triggers: [runtime(), queue(), Trigger.cpu({ utilization: 70, name: 'cpu' })],
        advanced: {
          scalingModifiers: {
            formula: 'max(predicted, queue * 1.5)',
            target: 10,
            activationTarget: 0.5,
            metricType: 'AverageValue',
          },
        },
      });
      // THEN
      assert.deepEqual(spec(objects).advanced, {
        scalingModifiers: {
          formula: 'max(predicted, queue * 1.5)',
          target: '10',
          activationTarget: '0.5',
          metricType: 'AverageValue',
        },
      });
      assert.deepEqual(await validateAll(objects), []);
    });

    it('rejects a formula naming a trigger that does not exist', () => {
      throwsProp(
        () =>
          synthSo({
            triggers: [runtime(), queue()],
            advanced: { scalingModifiers: { formula: 'max(predicted, queues)', target: 1 } },
          }),
        /^advanced\.scalingModifiers\.formula: refers to "queues", which is not the name of a trigger \(named triggers: predicted, queue\) \(got "max\(predicted, queues\)"\)$/,
      );
    });

    it('rejects a formula over an unnamed trigger', () => {
      throwsProp(
        () =>
          synthSo({
            triggers: [Trigger.external({ scalerAddress: 'r:9090' })],
            advanced: { scalingModifiers: { formula: 'predicted * 2', target: 1 } },
          }),
        /formula: refers to "predicted".*\(named triggers: none\)/,
      );
    });

    it('rejects a formula over a cpu trigger', () => {
      throwsProp(
        () =>
          synthSo({
            triggers: [runtime(), Trigger.cpu({ utilization: 50, name: 'load' })],
            advanced: { scalingModifiers: { formula: 'predicted + load', target: 1 } },
          }),
        /formula: refers to the cpu trigger "load"; KEDA keeps cpu\/memory metrics out of formulas/,
      );
    });

    it('rejects an empty formula and a non-positive target', () => {
      throwsProp(
        () => synthSo({ advanced: { scalingModifiers: { formula: ' ', target: 1 } } }),
        /scalingModifiers\.formula: must not be empty \(got " "\)/,
      );
      throwsProp(
        () => synthSo({ advanced: { scalingModifiers: { formula: 'predicted', target: 0 } } }),
        /scalingModifiers\.target: must be > 0 \(got 0\)/,
      );
    });

    it('renders the HPA name and behaviour, and restoreToOriginalReplicaCount', async () => {
      // GIVEN / WHEN
      const { objects } = synthSo({
        advanced: {
          horizontalPodAutoscalerConfig: {
            name: 'api-hpa',
            behavior: {
              scaleUp: {
                stabilizationWindow: Duration.seconds(0),
                policies: [ScalingPolicy.pods(4, Duration.seconds(15))],
              },
              scaleDown: {
                stabilizationWindow: Duration.minutes(5),
                selectPolicy: 'Min',
                policies: [ScalingPolicy.percent(10, Duration.minutes(1))],
              },
            },
          },
          restoreToOriginalReplicaCount: true,
        },
      });
      // THEN
      assert.deepEqual(spec(objects).advanced, {
        horizontalPodAutoscalerConfig: {
          name: 'api-hpa',
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: 0,
              policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }],
            },
            scaleDown: {
              stabilizationWindowSeconds: 300,
              selectPolicy: 'Min',
              policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
            },
          },
        },
        restoreToOriginalReplicaCount: true,
      });
      assert.deepEqual(await validateAll(objects), []);
    });

    it('names the behaviour prop in HPA behaviour errors', () => {
      throwsProp(
        () =>
          synthSo({
            advanced: {
              horizontalPodAutoscalerConfig: {
                behavior: { scaleUp: { policies: [ScalingPolicy.pods(0, Duration.seconds(15))] } },
              },
            },
          }),
        /^advanced\.horizontalPodAutoscalerConfig\.behavior\.scaleUp\.policies\[0\]\.value: must be >= 1 \(got 0\)$/,
      );
    });
  });

  describe('fallback', () => {
    it('renders fallback with a behaviour', async () => {
      // GIVEN / WHEN
      const { objects } = synthSo({
        triggers: [runtime(), Trigger.cpu({ utilization: 60 })],
        fallback: { failureThreshold: 3, replicas: 6, behavior: 'currentReplicasIfHigher' },
      });
      // THEN
      assert.deepEqual(spec(objects).fallback, {
        failureThreshold: 3,
        replicas: 6,
        behavior: 'currentReplicasIfHigher',
      });
      assert.deepEqual(await validateAll(objects), []);
    });

    it('renders per-trigger fallback through scalingModifiers', async () => {
      const { objects } = synthSo({
        triggers: [runtime(), queue()],
        fallback: { failureThreshold: 2, replicas: 4, behavior: 'scalingModifiers' },
        advanced: { scalingModifiers: { formula: 'predicted ?? queue ?? 4', target: 5 } },
      });
      assert.equal(spec(objects).fallback.behavior, 'scalingModifiers');
      assert.deepEqual(await validateAll(objects), []);
    });

    it('rejects fallback when every trigger is cpu or memory', () => {
      throwsProp(
        () =>
          synthSo({
            triggers: [Trigger.cpu({ utilization: 60 }), Trigger.memory({ utilization: 70 })],
            fallback: { failureThreshold: 3, replicas: 2 },
          }),
        /^fallback: needs at least one trigger that is not cpu or memory .*\(got \["cpu","memory"\]\)$/,
      );
    });

    it('rejects fallback KEDA refuses: every metric trigger of type Value', () => {
      // GIVEN triggers whose metrics are all Value (cpu does not count)
      const valueQueue = Trigger.prometheus({
        name: 'queue',
        serverAddress: 'http://prometheus:9090',
        query: 'sum(queue_depth)',
        threshold: 10,
        metricType: 'Value',
      });
      // WHEN / THEN
      throwsProp(
        () =>
          synthSo({
            triggers: [valueQueue, Trigger.cpu({ utilization: 60 })],
            fallback: { failureThreshold: 3, replicas: 2 },
          }),
        /^fallback: needs a trigger with metricType "AverageValue": .*\(triggers: queue\) \(got \{"failureThreshold":3,"replicas":2\}\)$/,
      );
      // AND one AverageValue trigger is enough; the runtime's trigger sets no metricType, which KEDA
      // counts as AverageValue
      const { objects } = synthSo({
        triggers: [valueQueue, runtime()],
        fallback: { failureThreshold: 3, replicas: 2 },
      });
      assert.deepEqual(spec(objects).fallback, { failureThreshold: 3, replicas: 2 });
    });

    it('rejects fallback with a Value scalingModifiers metric', () => {
      throwsProp(
        () =>
          synthSo({
            triggers: [runtime(), queue()],
            fallback: { failureThreshold: 2, replicas: 4 },
            advanced: {
              scalingModifiers: { formula: 'max(predicted, queue)', target: 5, metricType: 'Value' },
            },
          }),
        /^fallback: cannot be used with advanced\.scalingModifiers\.metricType "Value"/,
      );
    });

    it('rejects fallback replicas above maxReplicas and a bad threshold', () => {
      throwsProp(
        () => synthSo({ fallback: { failureThreshold: 3, replicas: 11 } }),
        /^fallback\.replicas: must not exceed maxReplicas \(10\) \(got 11\)$/,
      );
      throwsProp(
        () => synthSo({ fallback: { failureThreshold: -1, replicas: 1 } }),
        /^fallback\.failureThreshold: must be >= 0 \(got -1\)$/,
      );
    });

    it('rejects the scalingModifiers behaviour without scalingModifiers', () => {
      throwsProp(
        () => synthSo({ fallback: { failureThreshold: 3, replicas: 2, behavior: 'scalingModifiers' } }),
        /^fallback\.behavior: requires advanced\.scalingModifiers \(got "scalingModifiers"\)$/,
      );
    });
  });

  describe('validation', () => {
    const cases: [string, Partial<ScaledObjectProps>, RegExp][] = [
      ['fractional minReplicas', { minReplicas: 1.5 }, /^minReplicas: must be an integer \(got 1\.5\)$/],
      ['zero maxReplicas', { minReplicas: 0, maxReplicas: 0 }, /^maxReplicas: must be >= 1 \(got 0\)$/],
      ['min above max', { minReplicas: 11 }, /^minReplicas: must not exceed maxReplicas \(10\) \(got 11\)$/],
      [
        'idle equal to min',
        { minReplicas: 0, idleReplicas: 0 },
        /^idleReplicas: must be less than minReplicas \(0\) \(got 0\)$/,
      ],
      ['idle other than 0', { minReplicas: 3, idleReplicas: 1 }, /^idleReplicas: must be 0 .*\(got 1\)$/],
      [
        'scale to zero on cpu only',
        { minReplicas: 0, triggers: [Trigger.cpu({ utilization: 50 })] },
        /^minReplicas: must be >= 1 when every trigger is cpu or memory .*\(got 0\)$/,
      ],
      ['empty triggers', { triggers: [] }, /^triggers: must not be empty \(got \[\]\)$/],
      [
        'duplicate trigger names',
        { triggers: [runtime('a'), runtime('a')] },
        /^triggers\[1\]\.name: must be unique among the triggers \(got "a"\)$/,
      ],
      [
        'sub-second polling',
        { pollingInterval: Duration.millis(1500) },
        /^pollingInterval: must be an integer \(got 1\.5\)$/,
      ],
      [
        'zero polling',
        { pollingInterval: Duration.seconds(0) },
        /^pollingInterval: must be between 1 and 2147483647 \(got 0\)$/,
      ],
      ['bad name', { name: 'API' }, /^name: .*\(got "API"\)$/],
      [
        'missing namespace',
        { namespace: undefined },
        /^namespace: is required when target is not a workload construct \(got undefined\)$/,
      ],
      [
        'bad target kind',
        { target: { name: 'api', kind: 'deployment' } },
        /^target\.kind: .*\(got "deployment"\)$/,
      ],
    ];
    for (const [what, overrides, message] of cases) {
      it(`rejects ${what}`, () => throwsProp(() => synthSo(overrides), message));
    }

    it('rejects a namespace other than the workload target’s', () => {
      const chart = testChart();
      const workload = new FakeWorkload(chart, 'api', 'shop');
      throwsProp(
        () =>
          new ScaledObject(chart, 'so', {
            target: workload,
            namespace: 'other',
            minReplicas: 1,
            maxReplicas: 2,
            triggers: [runtime()],
          }),
        /^namespace: must be the target's namespace \("shop"\).*\(got "other"\)$/,
      );
    });

    it('rejects a TriggerAuthentication from another namespace', () => {
      const chart = testChart();
      const auth = new TriggerAuthentication(chart, 'prom-auth', {
        namespace: 'monitoring',
        secretTargetRef: [{ parameter: 'bearerToken', secretName: 'prom', key: 'token' }],
      });
      const trigger = Trigger.prometheus({
        serverAddress: 'http://p:9090',
        query: 'up',
        threshold: 1,
        authModes: ['bearer'],
        authentication: auth,
      });
      throwsProp(
        () => new ScaledObject(chart, 'so', { ...BASE, triggers: [runtime(), trigger] }),
        /^triggers\[1\]\.authentication: is in namespace "monitoring"; a TriggerAuthentication must be in the same namespace \("shop"\) \(got "prom-auth"\)$/,
      );
    });
  });

  describe('formulaVariables', () => {
    it('finds trigger names but not functions, keywords, strings, numbers or let bindings', () => {
      assert.deepEqual(formulaVariables('max(predicted, queue * 1e3)'), ['predicted', 'queue']);
      assert.deepEqual(formulaVariables('queue > 10 && "x" == "y" ? predicted : nil'), [
        'queue',
        'predicted',
      ]);
      assert.deepEqual(formulaVariables('let q = queue / 2; max(q, predicted ?? 0)'), ['queue', 'predicted']);
      assert.deepEqual(formulaVariables('float(queue) + a.b'), ['queue', 'a']);
    });
  });
});
