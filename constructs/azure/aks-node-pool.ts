import * as pulumi from '@pulumi/pulumi';
import { AgentPool } from '@pulumi/azure-native/containerservice/agentPool.js';
import type { NodePoolInfo } from '../k8s/cluster-info.js';
import { type AksPoolOptions, type AksPoolSpec, aksPoolSpec } from './aks-pool-spec.js';

/** Props for an {@link AksNodePool}. */
export interface AksNodePoolProps extends AksPoolOptions {
  /** Resource group of the managed cluster. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Name of the managed cluster (its `resourceName`). */
  readonly clusterName: pulumi.Input<string>;
  /** The cloud-neutral pool: a `user` pool, `on-demand` or `spot`. */
  readonly pool: NodePoolInfo;
  /** Prop path used in error messages. @default 'pool' */
  readonly propPath?: string;
  /** Azure tags. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * One AKS user node pool (`containerservice.AgentPool`): regular or spot (`scaleSetPriority: Spot`,
 * `scaleSetEvictionPolicy: Delete`, `spotMaxPrice`), sized by the managed cluster autoscaler between
 * `minSize` and `maxSize`. Nodes carry `elasticai.io/capacity-type` and, on spot pools, the label and
 * taint `kubernetes.azure.com/scalesetpriority=spot` that AKS adds itself — declared here too so that
 * Pulumi never diffs against AKS and the in-cluster `Placement` options select these nodes.
 *
 * With autoscaling on, the pool ignores changes to `count`: the autoscaler owns the node count and
 * `pulumi up` never scales the pool back to its initial size.
 */
export class AksNodePool extends pulumi.ComponentResource {
  /** The validated agent-pool properties. */
  readonly spec: AksPoolSpec;
  readonly agentPool: AgentPool;

  constructor(name: string, props: AksNodePoolProps, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: a bad pool must not leave a half-registered component.
    const spec = aksPoolSpec(props.pool, props, props.propPath ?? 'pool');
    if (spec.mode === 'System') {
      throw new Error(
        `${props.propPath ?? 'pool'}.role: AksNodePool creates user pools; the system pool is part of AksCluster (got "system")`,
      );
    }
    super('elasticai:azure:AksNodePool', name, {}, opts);
    this.spec = spec;
    this.agentPool = new AgentPool(
      `${name}`,
      {
        resourceGroupName: props.resourceGroupName,
        resourceName: props.clusterName,
        agentPoolName: spec.name,
        mode: spec.mode,
        vmSize: spec.vmSize,
        osType: spec.osType,
        type: spec.type,
        orchestratorVersion: spec.orchestratorVersion,
        availabilityZones: spec.availabilityZones,
        enableAutoScaling: spec.enableAutoScaling,
        minCount: spec.minCount,
        maxCount: spec.maxCount,
        count: spec.count,
        nodeLabels: spec.nodeLabels,
        nodeTaints: spec.nodeTaints,
        scaleSetPriority: spec.scaleSetPriority,
        scaleSetEvictionPolicy: spec.scaleSetEvictionPolicy,
        spotMaxPrice: spec.spotMaxPrice,
        tags: { ...(props.tags ?? {}) },
      },
      { parent: this, ignoreChanges: spec.enableAutoScaling ? ['count'] : [] },
    );
    this.registerOutputs({ agentPoolId: this.agentPool.id });
  }
}
