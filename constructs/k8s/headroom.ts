import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CAPACITY_BUFFER_MIN_MINOR, ClusterAutoscaler } from './cluster-autoscaler.js';
import { ClusterChart, type NodePoolInfo } from './cluster-info.js';
import { ScaledObject } from './keda/scaled-object.js';
import { Trigger, checkCron, checkTimezone } from './keda/trigger.js';
import { Placement } from './placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security.js';
import { type ContainerResources, cpuMillis, formatMemory, memoryKiB, renderResources } from './resources.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkLabelValue,
  checkImage,
  checkInteger,
  checkNonEmpty,
  checkLabels,
} from './validation.js';

/**
 * Label on every headroom (pause) pod. Pause pods have no shell and serve nothing, so they carry no
 * probes; policy checks that require probes exempt pods with this label.
 */
export const HEADROOM_COMPONENT_LABEL: Readonly<Record<string, string>> = Object.freeze({
  'app.kubernetes.io/component': 'headroom',
});

/** Default image of headroom pods: the Kubernetes pause container. */
export const HEADROOM_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

/**
 * Priority of headroom pods. The cluster-autoscaler's default `expendable-pods-priority-cutoff` is −10,
 * so these pods are still worth a scale-up, while every real workload (priority ≥ 0) preempts them.
 */
export const HEADROOM_PRIORITY = -10;

/** One recurring window of a {@link HeadroomScaling.cron} schedule. */
export interface HeadroomWindow {
  /** IANA time zone of `start`/`end`. */
  readonly timezone: string;
  /** 5-field cron expression opening the window. */
  readonly start: string;
  /** 5-field cron expression closing the window. */
  readonly end: string;
  /** Headroom pods during the window (≥ 1). */
  readonly replicas: number;
}

/** Options of {@link HeadroomScaling.fromRuntime}. */
export interface RuntimeHeadroomOptions {
  /** gRPC address (`host:port`) of the decision runtime's KEDA external scaler. */
  readonly scalerAddress: string;
  /** Node pool whose headroom the runtime forecasts (sent as metadata `nodePool`). */
  readonly nodePool: string;
  /** Upper bound on headroom pods. */
  readonly maxReplicas: number;
  /** Headroom pods kept even when the runtime asks for none. @default 0 */
  readonly minReplicas?: number;
}

type HeadroomScalingSpec =
  | { kind: 'fixed'; replicas: number }
  | { kind: 'cron'; windows: readonly HeadroomWindow[]; baseReplicas: number }
  | { kind: 'runtime'; options: RuntimeHeadroomOptions };

/** How many headroom pods run, and when. */
export class HeadroomScaling {
  /** A constant number of headroom pods. */
  static fixed(replicas: number): HeadroomScaling {
    checkInteger('scaling.fixed', replicas, 0);
    return new HeadroomScaling({ kind: 'fixed', replicas });
  }

  /**
   * Headroom in recurring windows (a KEDA ScaledObject with cron triggers), e.g. ahead of a daily peak.
   * @param baseReplicas headroom pods outside every window. @default 0
   */
  static cron(windows: readonly HeadroomWindow[], baseReplicas = 0): HeadroomScaling {
    checkNonEmpty('scaling.cron', windows);
    checkInteger('scaling.cron.baseReplicas', baseReplicas, 0);
    windows.forEach((w, i) => {
      checkTimezone(`scaling.cron[${i}].timezone`, w.timezone);
      checkCron(`scaling.cron[${i}].start`, w.start);
      checkCron(`scaling.cron[${i}].end`, w.end);
      if (w.start.trim() === w.end.trim()) {
        throw new PropError(`scaling.cron[${i}].end`, w.end, 'must differ from start');
      }
      checkInteger(`scaling.cron[${i}].replicas`, w.replicas, 1);
    });
    return new HeadroomScaling({ kind: 'cron', windows: [...windows], baseReplicas });
  }

  /**
   * Headroom forecast by the decision runtime: a ScaledObject with an `external` trigger whose metadata
   * is `metric: headroom` and `nodePool: <name>`.
   */
  static fromRuntime(options: RuntimeHeadroomOptions): HeadroomScaling {
    checkInteger('scaling.maxReplicas', options.maxReplicas, 1);
    checkInteger('scaling.minReplicas', options.minReplicas ?? 0, 0);
    if ((options.minReplicas ?? 0) > options.maxReplicas) {
      throw new PropError(
        'scaling.minReplicas',
        options.minReplicas,
        `must not exceed scaling.maxReplicas (${options.maxReplicas})`,
      );
    }
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$/.test(options.scalerAddress)) {
      throw new PropError('scaling.scalerAddress', options.scalerAddress, 'must be "host:port"');
    }
    if (options.nodePool.trim() === '')
      throw new PropError('scaling.nodePool', options.nodePool, 'must not be empty');
    return new HeadroomScaling({ kind: 'runtime', options: { ...options } });
  }

  private constructor(
    /** @internal */
    readonly spec: HeadroomScalingSpec,
  ) {}

  /** `fixed`, `cron` or `runtime`. */
  get kind(): HeadroomScalingSpec['kind'] {
    return this.spec.kind;
  }
}

/** Which object reserves the headroom. */
export class HeadroomMode {
  /** Low-priority pause pods in a Deployment (works with every cluster-autoscaler version). */
  static pauseDeployment(): HeadroomMode {
    return new HeadroomMode('pause-deployment');
  }

  /**
   * A cluster-autoscaler `CapacityBuffer` referencing a PodTemplate: the autoscaler keeps room for the
   * pods without running any. Needs Kubernetes (and cluster-autoscaler) ≥ 1.34 with the autoscaler's
   * capacity-buffer controller enabled (`ClusterAutoscaler` prop `capacityBuffers: true`; checked at
   * synth when the autoscaler is in the same ClusterChart), and a fixed replica count.
   */
  static capacityBuffer(): HeadroomMode {
    return new HeadroomMode('capacity-buffer');
  }

  private constructor(readonly kind: 'pause-deployment' | 'capacity-buffer') {}
}

/** Props for a {@link Headroom}. */
export interface HeadroomProps {
  /** Name of the Deployment (or PodTemplate and CapacityBuffer) and of the ScaledObject. @default the construct id */
  readonly name?: string;
  /** Namespace of the headroom objects. */
  readonly namespace: string;
  /** Requests of one headroom pod; size it like a typical replica. Limits are set equal to the requests. */
  readonly podResources: ContainerResources;
  /** How many headroom pods, and when. */
  readonly scaling: HeadroomScaling;
  /** Pause Deployment or CapacityBuffer. @default HeadroomMode.pauseDeployment() */
  readonly mode?: HeadroomMode;
  /**
   * Capacity the headroom should be reserved on: the same as the workloads it is for. With
   * `HeadroomScaling.fromRuntime` it must fit the pool's capacity type (on-demand-only headroom for a
   * spot pool, or spot-only headroom for an on-demand pool, is refused).
   * @default with `HeadroomScaling.fromRuntime` in a ClusterChart, the pool's capacity type
   * (`spotOnly()` for a spot pool, `spotPreferred()` for a mixed pool); otherwise `Placement.onDemandOnly()`
   */
  readonly placement?: Placement;
  /** Extra node selector, e.g. to pin the headroom to one node pool. @default none */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Name of the shared, cluster-scoped PriorityClass (value −10) the construct creates; names starting
   * with `system-` are Kubernetes' own and refused. @default 'elasticai-headroom'
   */
  readonly priorityClassName?: string;
  /** Pause image, pinned. @default 'registry.k8s.io/pause:3.10' */
  readonly image?: string;
}

/**
 * Node headroom ahead of demand (cluster-autoscaler overprovisioning): placeholder pods, sized like a
 * replica, at a priority below every workload. When real pods need room they preempt the placeholders,
 * whose eviction makes the autoscaler add a node before the next real pod has to wait for one.
 */
export class Headroom extends Construct {
  readonly name: string;
  readonly namespace: string;
  /** Labels of the headroom pods (they include {@link HEADROOM_COMPONENT_LABEL}). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The ScaledObject for cron or runtime scaling. */
  readonly scaledObject?: ScaledObject;
  /** The PriorityClass of the pause pods (pause-deployment mode only). */
  readonly priorityClassName?: string;

  private readonly placement: Placement;

  constructor(scope: Construct, id: string, props: HeadroomProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace;
    checkDnsSubdomain('name', this.name);
    checkLabelValue('name', this.name, 'it is also the app.kubernetes.io/name label');
    checkDnsLabel('namespace', this.namespace);
    const image = props.image ?? HEADROOM_PAUSE_IMAGE;
    checkImage('image', image);
    this.podLabels = { 'app.kubernetes.io/name': this.name, ...HEADROOM_COMPONENT_LABEL };
    checkLabels('nodeSelector', props.nodeSelector ?? {});

    const scaling = props.scaling.spec;
    const cluster = ClusterChart.find(this)?.cluster;
    let pool: NodePoolInfo | undefined;
    if (scaling.kind === 'runtime' && cluster) {
      pool = cluster.nodePools.find((p) => p.name === scaling.options.nodePool);
      if (!pool) {
        throw new PropError(
          'scaling.nodePool',
          scaling.options.nodePool,
          `is not a node pool of cluster "${cluster.name}" (pools: ${cluster.nodePools.map((p) => p.name).join(', ')})`,
        );
      }
      if (pool.role === 'system') {
        throw new PropError(
          'scaling.nodePool',
          pool.name,
          'is a system pool; headroom belongs on a user pool',
        );
      }
    }
    this.placement = props.placement ?? placementFor(pool);
    if (pool) checkPlacementFits('placement', this.placement, pool);

    if ((props.mode ?? HeadroomMode.pauseDeployment()).kind === 'capacity-buffer') {
      this.createCapacityBuffer(props, this.podTemplate(props, image, undefined));
      this.node.addValidation({ validate: () => this.validateBufferController() });
    } else {
      this.priorityClassName = props.priorityClassName ?? 'elasticai-headroom';
      checkDnsSubdomain('priorityClassName', this.priorityClassName);
      if (this.priorityClassName.startsWith('system-')) {
        // The construct creates the class; "system-" names are Kubernetes' own (and the API
        // server refuses new ones), and a system class's priority would preempt real workloads.
        throw new PropError(
          'priorityClassName',
          this.priorityClassName,
          'must not start with "system-" (reserved for Kubernetes\' built-in PriorityClasses)',
        );
      }
      this.ensurePriorityClass(this.priorityClassName);
      const template = this.podTemplate(props, image, this.priorityClassName);
      new k8s.KubeDeployment(this, 'Deployment', {
        metadata: { name: this.name, namespace: this.namespace, labels: { ...this.podLabels } },
        spec: {
          ...(scaling.kind === 'fixed' ? { replicas: scaling.replicas } : {}),
          selector: { matchLabels: { ...this.podLabels } },
          template,
        },
      });
      this.scaledObject = this.createScaledObject(props.scaling);
    }
    this.node.addValidation({
      validate: () =>
        this.placement.validateIn(this, 'placement', `headroom "${this.namespace}/${this.name}"`),
    });
  }

  private podTemplate(
    props: HeadroomProps,
    image: string,
    priorityClassName: string | undefined,
  ): k8s.PodTemplateSpec {
    const r = props.podResources;
    const cpuRequest = cpuMillis(r.cpu.request);
    if (r.cpu.limit !== undefined && cpuMillis(r.cpu.limit) !== cpuRequest) {
      throw new PropError(
        'podResources.cpu.limit',
        r.cpu.limit.amount,
        `must equal cpu.request (${r.cpu.request.amount}) for headroom pods`,
      );
    }
    const memRequest = memoryKiB('podResources.memory.request', r.memory.request);
    if (
      r.memory.limit !== undefined &&
      memoryKiB('podResources.memory.limit', r.memory.limit) !== memRequest
    ) {
      throw new PropError(
        'podResources.memory.limit',
        formatMemory(memoryKiB('podResources.memory.limit', r.memory.limit)),
        `must equal memory.request (${formatMemory(memRequest)}) for headroom pods`,
      );
    }
    const resources = renderResources('podResources', {
      cpu: { request: r.cpu.request, limit: r.cpu.request },
      memory: { request: r.memory.request, limit: r.memory.request },
    });
    return {
      metadata: { labels: { ...this.podLabels } },
      spec: {
        ...(priorityClassName !== undefined ? { priorityClassName } : {}),
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 0,
        securityContext: restrictedPodSecurityContext(),
        containers: [
          { name: 'pause', image, resources, securityContext: restrictedContainerSecurityContext() },
        ],
        ...this.placement.podSpecFields(),
        ...(props.nodeSelector && Object.keys(props.nodeSelector).length > 0
          ? { nodeSelector: { ...props.nodeSelector } }
          : {}),
      },
    };
  }

  /** One PriorityClass per name and chart, shared by every Headroom in it. */
  private ensurePriorityClass(name: string): void {
    const chart = Chart.of(this);
    const id = `HeadroomPriorityClass-${name}`;
    if (chart.node.tryFindChild(id)) return;
    new k8s.KubePriorityClass(chart, id, {
      metadata: { name },
      value: HEADROOM_PRIORITY,
      globalDefault: false,
      preemptionPolicy: 'Never',
      description:
        'ElasticAI headroom placeholders: preempted by every workload, still worth a node scale-up.',
    });
  }

  private createScaledObject(scaling: HeadroomScaling): ScaledObject | undefined {
    const spec = scaling.spec;
    const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name };
    if (spec.kind === 'cron') {
      return new ScaledObject(this, 'ScaledObject', {
        name: this.name,
        namespace: this.namespace,
        target,
        minReplicas: spec.baseReplicas,
        maxReplicas: Math.max(spec.baseReplicas, ...spec.windows.map((w) => w.replicas)),
        triggers: spec.windows.map((w) =>
          Trigger.cron({ timezone: w.timezone, start: w.start, end: w.end, desiredReplicas: w.replicas }),
        ),
      });
    }
    if (spec.kind === 'runtime') {
      const o = spec.options;
      return new ScaledObject(this, 'ScaledObject', {
        name: this.name,
        namespace: this.namespace,
        target,
        minReplicas: o.minReplicas ?? 0,
        maxReplicas: o.maxReplicas,
        triggers: [
          Trigger.external({
            name: 'headroom',
            scalerAddress: o.scalerAddress,
            metadata: { metric: 'headroom', nodePool: o.nodePool },
          }),
        ],
      });
    }
    return undefined;
  }

  private createCapacityBuffer(props: HeadroomProps, template: k8s.PodTemplateSpec): void {
    const cluster = ClusterChart.find(this)?.cluster;
    const minor = cluster?.kubernetesVersion.minor;
    if (minor === undefined || minor < CAPACITY_BUFFER_MIN_MINOR) {
      throw new PropError(
        'mode',
        'capacityBuffer',
        cluster
          ? `needs Kubernetes >= 1.${CAPACITY_BUFFER_MIN_MINOR} (cluster "${cluster.name}" runs ${cluster.kubernetesVersion.version}); use HeadroomMode.pauseDeployment()`
          : `needs a ClusterChart to check the cluster runs Kubernetes >= 1.${CAPACITY_BUFFER_MIN_MINOR}`,
      );
    }
    const scaling = props.scaling.spec;
    if (scaling.kind !== 'fixed') {
      throw new PropError(
        'scaling',
        scaling.kind,
        'must be HeadroomScaling.fixed() with HeadroomMode.capacityBuffer() (a CapacityBuffer has no scale subresource)',
      );
    }
    if (props.priorityClassName !== undefined) {
      throw new PropError(
        'priorityClassName',
        props.priorityClassName,
        'applies only to HeadroomMode.pauseDeployment()',
      );
    }
    new k8s.KubePodTemplate(this, 'PodTemplate', {
      metadata: { name: this.name, namespace: this.namespace, labels: { ...this.podLabels } },
      template,
    });
    // cluster-autoscaler 1.34 serves v1alpha1; 1.35 moved the API to v1beta1.
    const version = minor >= 35 ? 'v1beta1' : 'v1alpha1';
    new ApiObject(this, 'CapacityBuffer', {
      apiVersion: `autoscaling.x-k8s.io/${version}`,
      kind: 'CapacityBuffer',
      metadata: { name: this.name, namespace: this.namespace, labels: { ...this.podLabels } },
      spec: {
        provisioningStrategy: 'buffer.x-k8s.io/active-capacity',
        podTemplateRef: { name: this.name },
        replicas: scaling.replicas,
      },
    });
  }

  /**
   * A CapacityBuffer does nothing unless the autoscaler runs its buffer controller. When the chart
   * holds the ClusterAutoscaler, it must have `capacityBuffers: true`; with none in the chart (AKS's
   * managed autoscaler, or one installed elsewhere) there is nothing to check here.
   */
  private validateBufferController(): string[] {
    const chart = ClusterChart.find(this);
    if (!chart) return [];
    return chart.node
      .findAll()
      .filter((c): c is ClusterAutoscaler => c instanceof ClusterAutoscaler && !c.capacityBuffers)
      .map(
        (ca) =>
          `mode: capacity-buffer headroom "${this.namespace}/${this.name}" needs the CapacityBuffer controller, but ClusterAutoscaler "${ca.node.path}" in the same chart runs without it; set capacityBuffers: true on it`,
      );
  }
}

/** Placement of headroom held for `pool`: its capacity type (on-demand when the pool is unknown). */
function placementFor(pool: NodePoolInfo | undefined): Placement {
  switch (pool?.capacityType) {
    case 'spot':
      return Placement.spotOnly();
    case 'mixed':
      return Placement.spotPreferred();
    default:
      return Placement.onDemandOnly();
  }
}

/** Throws when headroom with `placement` could never schedule on `pool`, the pool it holds room for. */
function checkPlacementFits(prop: string, placement: Placement, pool: NodePoolInfo): void {
  if (pool.capacityType === 'spot' && placement.kind === 'on-demand-only') {
    throw new PropError(
      prop,
      placement.kind,
      `keeps headroom off spot nodes, but scaling.nodePool "${pool.name}" is a spot pool; use Placement.spotOnly() (the default for a spot pool)`,
    );
  }
  if (pool.capacityType === 'on-demand' && placement.kind === 'spot-only') {
    throw new PropError(
      prop,
      placement.kind,
      `needs spot nodes, but scaling.nodePool "${pool.name}" is an on-demand pool; use Placement.onDemandOnly() (the default for an on-demand pool)`,
    );
  }
}
