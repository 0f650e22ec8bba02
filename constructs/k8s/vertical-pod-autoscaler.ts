import { ApiObject, type Size } from 'cdk8s';
import type { Cpu } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ClusterChart } from './cluster-info.js';
import { memoryKiB, positiveCpuMillis } from './resources.js';
import type { IScalableWorkload, ScaledResource } from './scalable-workload.js';
import {
  PropError,
  checkDnsSubdomain,
  checkInteger,
  checkNonEmpty,
  checkOneOf,
  formatValue,
} from './validation.js';

/** How the VPA applies its recommendations (`spec.updatePolicy.updateMode`). */
export enum VpaUpdateMode {
  /** Recommendations only, in the VPA's status; pods are never changed. */
  OFF = 'Off',
  /** Set resources when a pod is created; never change running pods. */
  INITIAL = 'Initial',
  /** Evict pods whose requests are far from the recommendation, and set them on re-creation. */
  RECREATE = 'Recreate',
  /** Resize running pods in place where the node allows it, evict otherwise (in-place resize, VPA ≥ 1.4). */
  IN_PLACE_OR_RECREATE = 'InPlaceOrRecreate',
  /** Resize running pods in place only, never evict. */
  IN_PLACE = 'InPlace',
  /** Deprecated alias of `Recreate`. */
  AUTO = 'Auto',
}

/** Whether the VPA acts on one container (`containerPolicies[].mode`). */
export enum VpaContainerMode {
  AUTO = 'Auto',
  /** Exclude the container: no recommendations, no changes. */
  OFF = 'Off',
}

/** Which resource values the VPA sets (`containerPolicies[].controlledValues`). */
export enum VpaControlledValues {
  /** Scale requests and limits, keeping their ratio. */
  REQUESTS_AND_LIMITS = 'RequestsAndLimits',
  /** Scale requests only; limits stay as written. */
  REQUESTS_ONLY = 'RequestsOnly',
}

/** CPU and memory bounds for a container's recommendation. */
export interface VpaResourceBounds {
  readonly cpu?: Cpu;
  readonly memory?: Size;
}

/** Per-container policy. */
export interface VpaContainerPolicy {
  /** Container name, or `*` for every container without its own policy. @default '*' */
  readonly containerName?: string;
  /** Whether the VPA acts on the container. @default VpaContainerMode.AUTO */
  readonly mode?: VpaContainerMode;
  /** Resources the VPA computes (and possibly applies). @default ['cpu', 'memory'] */
  readonly controlledResources?: readonly ScaledResource[];
  /** Whether limits follow requests. @default VpaControlledValues.REQUESTS_AND_LIMITS */
  readonly controlledValues?: VpaControlledValues;
  /** Lowest recommendation. @default no minimum */
  readonly minAllowed?: VpaResourceBounds;
  /** Highest recommendation. @default no maximum */
  readonly maxAllowed?: VpaResourceBounds;
}

/** Props for a {@link VerticalPodAutoscaler}. */
export interface VerticalPodAutoscalerProps {
  /** The workload whose pods the VPA sizes. */
  readonly target: IScalableWorkload;
  /**
   * How recommendations are applied. Anything but `Off` is refused (at synth) while the VPA controls
   * cpu or memory that the workload's HPA or KEDA scales on: the two would fight over the same signal.
   * @default VpaUpdateMode.OFF (recommendations only)
   */
  readonly updateMode?: VpaUpdateMode;
  /** Per-container policies. @default none (every container, cpu and memory, no bounds) */
  readonly containerPolicies?: readonly VpaContainerPolicy[];
  /** Recommender to use: at most one name. @default the default recommender */
  readonly recommenders?: readonly string[];
  /** Fewest live replicas for the updater to evict a pod. @default the updater's `--min-replicas` flag */
  readonly minReplicas?: number;
  /** Object name. @default `<target name>-vpa` */
  readonly name?: string;
}

const ALL_RESOURCES: readonly ScaledResource[] = ['cpu', 'memory'];

/**
 * An `autoscaling.k8s.io/v1` VerticalPodAutoscaler for one workload. By default it only recommends
 * (`updateMode: Off`), which is safe next to any horizontal autoscaler and feeds right-sizing.
 */
export class VerticalPodAutoscaler extends Construct {
  /** The object's name. */
  readonly name: string;
  /** The namespace, the target's. */
  readonly namespace: string;
  /** How recommendations are applied. */
  readonly updateMode: VpaUpdateMode;
  /** The synthesized VerticalPodAutoscaler object. */
  readonly apiObject: ApiObject;

  private readonly target: IScalableWorkload;
  private readonly policies: readonly VpaContainerPolicy[];

  constructor(scope: Construct, id: string, props: VerticalPodAutoscalerProps) {
    super(scope, id);
    this.target = props.target;
    this.name = props.name ?? `${props.target.name}-vpa`;
    checkDnsSubdomain('name', this.name);
    this.namespace = props.target.namespace;
    this.updateMode = props.updateMode ?? VpaUpdateMode.OFF;
    if (!Object.values(VpaUpdateMode).includes(this.updateMode)) {
      throw new PropError(
        'updateMode',
        this.updateMode,
        `must be one of ${Object.values(VpaUpdateMode).join(', ')}`,
      );
    }
    this.policies = props.containerPolicies ?? [];

    const containerPolicies = this.policies.map((p, i) => renderPolicy(`containerPolicies[${i}]`, p));
    const names = this.policies.map((p) => p.containerName ?? '*');
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
      throw new PropError('containerPolicies', dup, 'must name each container (or "*") at most once');
    }

    const recommenders = props.recommenders ?? [];
    if (recommenders.length > 1) {
      throw new PropError('recommenders', recommenders, 'must name at most one recommender');
    }
    recommenders.forEach((r, i) => checkDnsSubdomain(`recommenders[${i}]`, r));
    if (props.minReplicas !== undefined) checkInteger('minReplicas', props.minReplicas, 1);

    this.apiObject = new ApiObject(this, 'resource', {
      apiVersion: 'autoscaling.k8s.io/v1',
      kind: 'VerticalPodAutoscaler',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        targetRef: { apiVersion: props.target.apiVersion, kind: props.target.kind, name: props.target.name },
        updatePolicy: {
          updateMode: this.updateMode,
          ...(props.minReplicas !== undefined ? { minReplicas: props.minReplicas } : {}),
        },
        ...(containerPolicies.length > 0 ? { resourcePolicy: { containerPolicies } } : {}),
        ...(recommenders.length > 0 ? { recommenders: recommenders.map((name) => ({ name })) } : {}),
      },
    });

    // The workload's horizontal scaling may be configured after this VPA is created: check at synth.
    this.node.addValidation({ validate: () => this.validateAgainstHorizontalScaling() });
    this.node.addValidation({ validate: () => this.validateClusterRunsVpa() });
  }

  /**
   * Resources the VPA may change on some container. Containers without a policy of their own (when
   * there is no `*` policy) get the VPA's defaults, cpu and memory.
   */
  get controlledResources(): ScaledResource[] {
    const controlled = new Set<ScaledResource>();
    for (const p of this.policies) {
      if ((p.mode ?? VpaContainerMode.AUTO) === VpaContainerMode.OFF) continue;
      for (const r of p.controlledResources ?? ALL_RESOURCES) controlled.add(r);
    }
    if (!this.policies.some((p) => (p.containerName ?? '*') === '*')) {
      for (const r of ALL_RESOURCES) controlled.add(r);
    }
    return ALL_RESOURCES.filter((r) => controlled.has(r));
  }

  private validateClusterRunsVpa(): string[] {
    const cluster = ClusterChart.find(this)?.cluster;
    if (!cluster || cluster.verticalPodAutoscaler) return [];
    return [
      `VerticalPodAutoscaler ${this.namespace}/${this.name}: cluster "${cluster.name}" does not run the VPA (its CRDs and recommender); enable AKS's managed VPA or GitOpsAddons' verticalPodAutoscaler and set the cluster's verticalPodAutoscaler: true`,
    ];
  }

  private validateAgainstHorizontalScaling(): string[] {
    if (this.updateMode === VpaUpdateMode.OFF) return [];
    const scaledOn = new Set(this.target.horizontallyScaledOn);
    const conflicts = this.controlledResources.filter((r) => scaledOn.has(r));
    if (conflicts.length === 0) return [];
    const workload = `${this.target.kind} ${this.target.namespace}/${this.target.name}`;
    const reason =
      `must be "Off" while the VPA controls ${conflicts.join(' and ')}, which ${workload} also scales on ` +
      'horizontally (HPA/KEDA); exclude the resource with containerPolicies (a "*" policy with ' +
      `controlledResources, or mode Off) or keep recommendations only`;
    return [new PropError('updateMode', this.updateMode, reason).message];
  }
}

function renderPolicy(prop: string, policy: VpaContainerPolicy): Record<string, unknown> {
  const containerName = policy.containerName ?? '*';
  if (containerName !== '*') checkDnsSubdomain(`${prop}.containerName`, containerName);
  if (policy.mode !== undefined) checkOneOf(`${prop}.mode`, policy.mode, Object.values(VpaContainerMode));
  if (policy.controlledValues !== undefined) {
    checkOneOf(`${prop}.controlledValues`, policy.controlledValues, Object.values(VpaControlledValues));
  }
  const controlled = policy.controlledResources;
  if (controlled !== undefined) {
    checkNonEmpty(`${prop}.controlledResources`, controlled);
    controlled.forEach((r, i) => {
      if (!ALL_RESOURCES.includes(r)) {
        throw new PropError(`${prop}.controlledResources[${i}]`, r, 'must be "cpu" or "memory"');
      }
    });
  }
  const min = renderBounds(`${prop}.minAllowed`, policy.minAllowed);
  const max = renderBounds(`${prop}.maxAllowed`, policy.maxAllowed);
  for (const r of ALL_RESOURCES) {
    const lo = min?.[r];
    const hi = max?.[r];
    if (lo && hi && lo.amount > hi.amount) {
      throw new PropError(
        `${prop}.minAllowed.${r}`,
        lo.quantity,
        `must not exceed ${prop}.maxAllowed.${r} (${formatValue(hi.quantity)})`,
      );
    }
  }
  const quantities = (b: Partial<Record<ScaledResource, { quantity: string }>> | undefined) =>
    b === undefined ? undefined : Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.quantity]));
  return {
    containerName,
    ...(policy.mode !== undefined ? { mode: policy.mode } : {}),
    ...(controlled !== undefined ? { controlledResources: [...controlled] } : {}),
    ...(policy.controlledValues !== undefined ? { controlledValues: policy.controlledValues } : {}),
    ...(min !== undefined ? { minAllowed: quantities(min) } : {}),
    ...(max !== undefined ? { maxAllowed: quantities(max) } : {}),
  };
}

/** Bounds as comparable amounts (millicores, KiB) and rendered quantities. */
function renderBounds(
  prop: string,
  bounds: VpaResourceBounds | undefined,
): Partial<Record<ScaledResource, { amount: number; quantity: string }>> | undefined {
  if (bounds === undefined || (bounds.cpu === undefined && bounds.memory === undefined)) return undefined;
  const out: Partial<Record<ScaledResource, { amount: number; quantity: string }>> = {};
  if (bounds.cpu !== undefined) {
    const millis = positiveCpuMillis(`${prop}.cpu`, bounds.cpu);
    out.cpu = { amount: millis, quantity: millis % 1000 === 0 ? String(millis / 1000) : `${millis}m` };
  }
  if (bounds.memory !== undefined) {
    const kib = memoryKiB(`${prop}.memory`, bounds.memory);
    const quantity =
      kib % (1024 * 1024) === 0
        ? `${kib / (1024 * 1024)}Gi`
        : kib % 1024 === 0
          ? `${kib / 1024}Mi`
          : `${Math.ceil(kib)}Ki`;
    out.memory = { amount: kib, quantity };
  }
  return out;
}
