import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { IScalableWorkload, ScaledResource } from '../../constructs/k8s/scalable-workload.js';
import {
  VerticalPodAutoscaler,
  VpaContainerMode,
  VpaControlledValues,
  VpaUpdateMode,
  type VerticalPodAutoscalerProps,
} from '../../constructs/k8s/vertical-pod-autoscaler.js';
import { only, synth, testChart, testCluster } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

/** Stand-in for a workload: its horizontal scaling can be set after the VPA exists. */
class FakeWorkload extends Construct implements IScalableWorkload {
  readonly apiVersion = 'apps/v1';
  readonly kind = 'Deployment';
  readonly name = 'api';
  readonly namespace = 'shop';
  horizontallyScaledOn: ScaledResource[] = [];
}

interface VpaSpec {
  targetRef: unknown;
  updatePolicy: { updateMode: string; minReplicas?: number };
  resourcePolicy?: { containerPolicies: Record<string, unknown>[] };
  recommenders?: unknown;
}

function setup(props: Partial<VerticalPodAutoscalerProps> = {}, scaledOn: ScaledResource[] = []) {
  const chart = testChart();
  const target = new FakeWorkload(chart, 'api');
  target.horizontallyScaledOn = scaledOn;
  const vpa = new VerticalPodAutoscaler(chart, 'vpa', { target, ...props });
  return { chart, target, vpa };
}

function vpaSpec(objects: KubeObject[]): VpaSpec {
  return only(objects, 'VerticalPodAutoscaler').spec as VpaSpec;
}

describe('VerticalPodAutoscaler', () => {
  it('defaults to recommendations only (updateMode Off) and targets the workload', async () => {
    // GIVEN / WHEN
    const objects = synth(setup().chart);
    const vpa = only(objects, 'VerticalPodAutoscaler', 'api-vpa');
    // THEN
    assert.deepEqual(await validateAll(objects), []);
    assert.equal(vpa.apiVersion, 'autoscaling.k8s.io/v1');
    assert.equal(vpa.metadata?.namespace, 'shop');
    const spec = vpa.spec as VpaSpec;
    assert.deepEqual(spec.targetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    assert.deepEqual(spec.updatePolicy, { updateMode: 'Off' });
    assert.equal(spec.resourcePolicy, undefined);
    assert.equal(spec.recommenders, undefined);
  });

  it('renders typed container policies and a recommender', async () => {
    // GIVEN
    const { chart } = setup({
      updateMode: VpaUpdateMode.INITIAL,
      minReplicas: 2,
      recommenders: ['predictive'],
      containerPolicies: [
        {
          controlledResources: ['memory'],
          controlledValues: VpaControlledValues.REQUESTS_ONLY,
          minAllowed: { cpu: Cpu.millis(100), memory: Size.mebibytes(128) },
          maxAllowed: { cpu: Cpu.units(2), memory: Size.gibibytes(4) },
        },
        { containerName: 'istio-proxy', mode: VpaContainerMode.OFF },
      ],
    });
    // WHEN
    const objects = synth(chart);
    const spec = vpaSpec(objects);
    // THEN
    assert.deepEqual(await validateAll(objects), []);
    assert.deepEqual(spec.updatePolicy, { updateMode: 'Initial', minReplicas: 2 });
    assert.deepEqual(spec.recommenders, [{ name: 'predictive' }]);
    assert.deepEqual(spec.resourcePolicy?.containerPolicies, [
      {
        containerName: '*',
        controlledResources: ['memory'],
        controlledValues: 'RequestsOnly',
        minAllowed: { cpu: '100m', memory: '128Mi' },
        maxAllowed: { cpu: '2', memory: '4Gi' },
      },
      { containerName: 'istio-proxy', mode: 'Off' },
    ]);
  });

  it('offers exactly the update modes the CRD declares', () => {
    assert.deepEqual(Object.values(VpaUpdateMode).sort(), [
      'Auto',
      'InPlace',
      'InPlaceOrRecreate',
      'Initial',
      'Off',
      'Recreate',
    ]);
  });

  it('refuses minAllowed above maxAllowed, naming the prop and the value', () => {
    assert.throws(
      () =>
        setup({
          containerPolicies: [{ minAllowed: { cpu: Cpu.units(2) }, maxAllowed: { cpu: Cpu.millis(500) } }],
        }),
      /containerPolicies\[0\]\.minAllowed\.cpu: must not exceed containerPolicies\[0\]\.maxAllowed\.cpu \("500m"\) \(got "2"\)/,
    );
    assert.throws(
      () =>
        setup({
          containerPolicies: [
            { minAllowed: { memory: Size.gibibytes(2) }, maxAllowed: { memory: Size.mebibytes(512) } },
          ],
        }),
      /containerPolicies\[0\]\.minAllowed\.memory: must not exceed .*\("512Mi"\) \(got "2Gi"\)/,
    );
  });

  it('refuses non-finite bounds, naming the prop and the value', () => {
    // GIVEN / WHEN / THEN: "InfinityKi" or "Infinitym" would be written as maxAllowed otherwise
    assert.throws(
      () => setup({ containerPolicies: [{ maxAllowed: { memory: Size.gibibytes(Infinity) } }] }),
      /^PropError: containerPolicies\[0\]\.maxAllowed\.memory: must be a finite size \(got "InfinityGi"\)$/,
    );
    assert.throws(
      () => setup({ containerPolicies: [{ maxAllowed: { cpu: Cpu.units(Infinity) } }] }),
      /^PropError: containerPolicies\[0\]\.maxAllowed\.cpu: must be a finite CPU amount \(got "Infinity"\)$/,
    );
    assert.throws(
      () => setup({ containerPolicies: [{ minAllowed: { cpu: Cpu.units(0.0001) } }] }),
      /^PropError: containerPolicies\[0\]\.minAllowed\.cpu: is below 1 millicore/,
    );
  });

  it('refuses more than one recommender', () => {
    assert.throws(
      () => setup({ recommenders: ['a', 'b'] }),
      /recommenders: must name at most one recommender/,
    );
  });

  it('refuses a non-Off mode on a resource the HPA scales on, even when scaling is set after the VPA', () => {
    // GIVEN a VPA in Recreate mode, then the workload's HPA configured on cpu
    const { chart, target } = setup({ updateMode: VpaUpdateMode.RECREATE });
    target.horizontallyScaledOn = ['cpu'];
    // WHEN / THEN synth fails naming updateMode, the resource and the workload
    assert.throws(
      () => synth(chart),
      (e: Error) =>
        /updateMode: must be "Off" while the VPA controls cpu, which Deployment shop\/api also scales on/.test(
          e.message,
        ) && e.message.includes('(got "Recreate")'),
    );
  });

  it('refuses Initial and InPlaceOrRecreate too when memory overlaps', () => {
    for (const updateMode of [VpaUpdateMode.INITIAL, VpaUpdateMode.IN_PLACE_OR_RECREATE]) {
      const { chart } = setup({ updateMode }, ['memory']);
      assert.throws(() => synth(chart), /updateMode: .*controls memory.*Deployment shop\/api/);
    }
  });

  it('allows Off alongside an HPA on cpu and memory', () => {
    const { chart } = setup({ updateMode: VpaUpdateMode.OFF }, ['cpu', 'memory']);
    assert.doesNotThrow(() => synth(chart));
  });

  it('allows a non-Off mode when the VPA controls only resources the HPA does not scale on', () => {
    // GIVEN an HPA on cpu and a VPA controlling memory only for every container
    const { chart } = setup(
      {
        updateMode: VpaUpdateMode.IN_PLACE_OR_RECREATE,
        containerPolicies: [{ controlledResources: ['memory'] }],
      },
      ['cpu'],
    );
    // THEN
    assert.doesNotThrow(() => synth(chart));
  });

  it('treats containers without their own policy as controlling cpu and memory', () => {
    // GIVEN a policy for one named container only: other containers keep the VPA's defaults
    const { chart, vpa } = setup(
      {
        updateMode: VpaUpdateMode.RECREATE,
        containerPolicies: [{ containerName: 'app', controlledResources: ['memory'] }],
      },
      ['cpu'],
    );
    // THEN
    assert.deepEqual(vpa.controlledResources, ['cpu', 'memory']);
    assert.throws(() => synth(chart), /controls cpu/);
  });

  it('ignores containers switched off when computing what it controls', () => {
    const { vpa } = setup({ containerPolicies: [{ mode: VpaContainerMode.OFF }] });
    assert.deepEqual(vpa.controlledResources, []);
  });

  it('is refused in a cluster that does not run the VPA (the object could not be applied)', () => {
    // GIVEN a cluster without VPA CRDs and recommender
    const chart = testChart({ ...testCluster(), verticalPodAutoscaler: false });
    new VerticalPodAutoscaler(chart, 'vpa', { target: new FakeWorkload(chart, 'api') });
    // WHEN / THEN
    assert.throws(
      () => synth(chart),
      /VerticalPodAutoscaler shop\/api-vpa: cluster "test" does not run the VPA .* set the cluster's verticalPodAutoscaler: true/,
    );
  });
});
