import { App, Testing } from 'cdk8s';
import { ClusterChart, type ClusterInfo, type NodePoolInfo } from '../../constructs/k8s/cluster-info.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import type { KubeObject } from './validate.js';

const SYSTEM_POOL: NodePoolInfo = {
  name: 'system',
  role: 'system',
  capacityType: 'on-demand',
  instanceTypes: ['m7i.large'],
  minSize: 2,
  maxSize: 3,
  taints: [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' }],
};

/** A small EKS-like cluster with an on-demand and a spot pool, for unit tests. */
export function testCluster(overrides: Partial<ClusterInfo> = {}): ClusterInfo {
  return {
    name: 'test',
    cloud: 'aws',
    kubernetesVersion: KubernetesVersion.V1_33,
    verticalPodAutoscaler: true,
    nodePools: [
      SYSTEM_POOL,
      {
        name: 'general',
        role: 'user',
        capacityType: 'on-demand',
        instanceTypes: ['m7i.xlarge'],
        minSize: 1,
        maxSize: 10,
      },
      {
        name: 'spot',
        role: 'user',
        capacityType: 'spot',
        instanceTypes: ['m7i.xlarge', 'm6i.xlarge'],
        minSize: 0,
        maxSize: 20,
      },
    ],
    ...overrides,
  };
}

/** A ClusterChart in a fresh app (GIVEN step of most construct tests). */
export function testChart(cluster: ClusterInfo = testCluster()): ClusterChart {
  return new ClusterChart(Testing.app(), 'test', { cluster });
}

/** Synthesizes a chart (running every construct's validations) to plain objects. */
export function synth(chart: ClusterChart | ReturnType<typeof Testing.chart>): KubeObject[] {
  return Testing.synth(chart) as KubeObject[];
}

/** The one object of a kind (and optional name); fails the test when there is not exactly one. */
export function only(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as KubeObject;
}

export { App };

/** Synthesized JSON, navigated freely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
