import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HealthCheck } from './health-check.js';
import { ScaledObject } from './keda/scaled-object.js';
import { Placement } from './placement.js';
import {
  DEFAULT_RUN_AS_USER,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.js';
import { type ContainerResources, renderResources, resourceAmounts } from './resources.js';
import {
  type IQuotaConsumer,
  type IScalableWorkload,
  type PeakDemand,
  type ScaledResource,
  peakDemandOf,
} from './scalable-workload.js';
import type { ScaleToZero, ScaleToZeroRoute, ScaleToZeroTarget } from './scale-to-zero.js';
import { renderScalingBehavior } from './scaling-behavior.js';
import { Tenant } from './tenant.js';
import {
  PropError,
  checkDnsLabel,
  checkImage,
  checkInteger,
  checkMinMax,
  checkEnvName,
  checkDataKey,
  wholeSeconds,
} from './validation.js';
import type { WorkloadIdentity } from './workload-identity.js';
import type { WorkloadScaling } from './workload-scaling.js';

/** Reference to one key of a Secret, for environment variables that carry credentials. */
export interface SecretKeyRef {
  readonly secretName: string;
  readonly key: string;
}

/** Props for an {@link AutoscaledWorkload}. */
export interface AutoscaledWorkloadProps {
  /** Name of the Deployment, Service, PDB and autoscaler. @default the construct id */
  readonly name?: string;
  /** Namespace. @default the enclosing Tenant's namespace (required outside a Tenant) */
  readonly namespace?: string;
  /** Container image, pinned to a tag or digest (`latest` is refused). */
  readonly image: string;
  /** Entrypoint override. @default the image's */
  readonly command?: readonly string[];
  /** Arguments. @default the image's */
  readonly args?: readonly string[];
  /** Plain environment variables. Names that look like credentials are refused: use `secretEnv`. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment variables read from Secrets (never inlined in the manifest). @default {} */
  readonly secretEnv?: Readonly<Record<string, SecretKeyRef>>;
  /** HTTP port the container listens on; a ClusterIP Service is created for it. @default no port, no Service */
  readonly port?: number;
  /** Port the Service exposes. @default 80 */
  readonly servicePort?: number;
  /** CPU and memory requests (required) and limits. */
  readonly resources: ContainerResources;
  /** Replica bounds for the autoscaler. `min` may be 0 only with KEDA scaling. */
  readonly replicas: { readonly min: number; readonly max: number };
  /** The horizontal autoscaler: `WorkloadScaling.hpa(...)` or `WorkloadScaling.keda(...)`. */
  readonly scaling: WorkloadScaling;
  /** Which capacity the pods may use. @default Placement.onDemandOnly() */
  readonly placement?: Placement;
  /** Readiness probe. @default TCP connect on `port` (required when there is no port) */
  readonly readiness?: HealthCheck;
  /** Liveness probe. @default TCP connect on `port`, 10 s initial delay (required when there is no port) */
  readonly liveness?: HealthCheck;
  /** Pods that may be voluntarily disrupted at once (PodDisruptionBudget). @default 1 */
  readonly maxUnavailable?: number;
  /** Spread pods across zones (and nodes), best effort. @default true */
  readonly zoneSpread?: boolean;
  /**
   * Cloud identity of the pods: `WorkloadIdentity.awsIrsa(roleArn)` or `WorkloadIdentity.azureWorkload(clientId)`.
   * @default none: the pods get no cloud credentials
   */
  readonly identity?: WorkloadIdentity;
  /** Time between SIGTERM and SIGKILL. @default 30 s */
  readonly terminationGracePeriod?: Duration;
  /** Non-root UID the container runs as. @default 65532 */
  readonly runAsUser?: number;
  /**
   * Scale to zero behind the scale-to-zero resolver: `ScaleToZero.http({ resolver, hosts })`. Needs a
   * `port`, KEDA scaling with `replicas.min: 0` and the resolver's runtime's push trigger
   * (`runtime.trigger({ ..., push: true, minReplicas: 0 })`). @default none
   */
  readonly scaleToZero?: ScaleToZero;
}

/** Rolling-update surge, as a fraction of replicas (`maxSurge: 25%`). */
const ROLLOUT_SURGE = 0.25;

const CREDENTIAL_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL|CONNECTION_STRING)/i;

/**
 * A Deployment with its Service, PodDisruptionBudget, ServiceAccount and horizontal autoscaler (an
 * autoscaling/v2 HPA or a KEDA ScaledObject), with Pod Security "restricted", zone spread and
 * spot/on-demand placement that works on EKS and AKS.
 */
export class AutoscaledWorkload extends Construct implements IScalableWorkload, IQuotaConsumer {
  readonly apiVersion = 'apps/v1';
  readonly kind = 'Deployment';
  readonly name: string;
  readonly namespace: string;
  /** Labels selecting this workload's pods. */
  readonly selector: Readonly<Record<string, string>>;
  readonly placement: Placement;
  /** The ScaledObject when scaled by KEDA. */
  readonly scaledObject?: ScaledObject;
  /** The resolver route when the workload scales to zero behind the resolver. */
  readonly scaleToZeroRoute?: ScaleToZeroRoute;
  /**
   * Max replicas plus the rolling update's 25% surge (`maxUnavailable: 0`), for quota checks: a
   * rollout at max scale needs room for the surge pods too.
   */
  readonly peakDemand: PeakDemand;
  private readonly scaling: WorkloadScaling;

  constructor(scope: Construct, id: string, props: AutoscaledWorkloadProps) {
    super(scope, id);
    this.name = props.name ?? id;
    checkDnsLabel('name', this.name);
    const namespace = props.namespace ?? Tenant.of(this)?.namespace;
    if (namespace === undefined) {
      throw new PropError('namespace', namespace, 'is required for a workload outside a Tenant');
    }
    checkDnsLabel('namespace', namespace);
    this.namespace = namespace;
    checkImage('image', props.image);
    if (!props.scaling) {
      throw new PropError(
        'scaling',
        props.scaling,
        'is required: WorkloadScaling.hpa(...) or WorkloadScaling.keda(...)',
      );
    }
    checkInteger('replicas.min', props.replicas.min, 0);
    checkInteger('replicas.max', props.replicas.max, 1);
    checkMinMax('replicas.min', props.replicas.min, 'replicas.max', props.replicas.max);
    props.scaling.checkReplicas(props.replicas.min);
    if (props.port !== undefined) checkInteger('port', props.port, 1, 65535);
    this.scaling = props.scaling;
    this.placement = props.placement ?? Placement.onDemandOnly();
    this.selector = { 'app.kubernetes.io/name': this.name };
    const scaleToZeroTarget = props.scaleToZero ? this.scaleToZeroTarget(props) : undefined;
    // Checked first: "no HTTP port" says more about scale to zero than a probe's missing port.
    if (props.scaleToZero && scaleToZeroTarget) props.scaleToZero.check(scaleToZeroTarget);

    const peakPods = props.replicas.max + Math.ceil(props.replicas.max * ROLLOUT_SURGE);
    this.peakDemand = peakDemandOf(peakPods, [resourceAmounts('resources', props.resources)]);

    this.createServiceAccount(props);
    this.createDeployment(props);
    if (props.port !== undefined) this.createService(props.servicePort ?? 80);
    this.createDisruptionBudget(props.maxUnavailable ?? 1);
    if (props.scaleToZero && scaleToZeroTarget) {
      this.scaleToZeroRoute = props.scaleToZero.bind(this, scaleToZeroTarget);
    }
    this.scaledObject = this.createAutoscaler(props);
    this.node.addValidation({
      validate: () =>
        this.placement.validateIn(this, 'placement', `workload "${this.namespace}/${this.name}"`),
    });
  }

  private scaleToZeroTarget(props: AutoscaledWorkloadProps): ScaleToZeroTarget {
    const spec = this.scaling.spec;
    return {
      name: this.name,
      namespace: this.namespace,
      selector: this.selector,
      port: props.port,
      replicasMin: props.replicas.min,
      kedaTriggers: spec.kind === 'keda' ? spec.options.triggers : undefined,
      tenantNamespace: Tenant.of(this)?.namespace === this.namespace,
    };
  }

  get horizontallyScaledOn(): readonly ScaledResource[] {
    return this.scaling.scaledResources;
  }

  private get labels(): Record<string, string> {
    return { ...this.selector, 'app.kubernetes.io/managed-by': 'elasticai' };
  }

  private metadata(): k8s.ObjectMeta {
    return { name: this.name, namespace: this.namespace, labels: this.labels };
  }

  private createServiceAccount(props: AutoscaledWorkloadProps): void {
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        ...this.metadata(),
        annotations: props.identity ? { ...props.identity.serviceAccountAnnotations } : undefined,
      },
      automountServiceAccountToken: false,
    });
  }

  private createDeployment(props: AutoscaledWorkloadProps): void {
    const readiness = props.readiness ?? HealthCheck.tcp();
    const liveness = props.liveness ?? HealthCheck.tcp();
    const runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
    checkInteger('runAsUser', runAsUser, 1);
    const container: k8s.Container = {
      name: this.name,
      image: props.image,
      command: props.command ? [...props.command] : undefined,
      args: props.args ? [...props.args] : undefined,
      env: this.renderEnv(props),
      ports:
        props.port !== undefined ? [{ name: 'http', containerPort: props.port, protocol: 'TCP' }] : undefined,
      resources: renderResources('resources', props.resources),
      readinessProbe: readiness.render('readiness', props.port, Duration.seconds(0)),
      livenessProbe: liveness.render('liveness', props.port, Duration.seconds(10)),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    };
    new k8s.KubeDeployment(this, 'Deployment', {
      metadata: this.metadata(),
      spec: {
        // No `replicas`: the autoscaler owns the count, and GitOps must not reset it on every sync.
        selector: { matchLabels: { ...this.selector } },
        revisionHistoryLimit: 5,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: {
            maxSurge: k8s.IntOrString.fromString(`${ROLLOUT_SURGE * 100}%`),
            maxUnavailable: k8s.IntOrString.fromNumber(0),
          },
        },
        template: {
          metadata: { labels: { ...this.labels, ...props.identity?.podLabels } },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(runAsUser),
            terminationGracePeriodSeconds: wholeSeconds(
              'terminationGracePeriod',
              props.terminationGracePeriod ?? Duration.seconds(30),
              0,
            ),
            containers: [container],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
            ...this.placement.podSpecFields(),
            topologySpreadConstraints: props.zoneSpread === false ? undefined : this.spreadConstraints(),
          },
        },
      },
    });
  }

  private renderEnv(props: AutoscaledWorkloadProps): k8s.EnvVar[] | undefined {
    const env: k8s.EnvVar[] = [];
    for (const [name, value] of Object.entries(props.env ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      checkEnvName('env', name);
      if (CREDENTIAL_NAME.test(name)) {
        throw new PropError(
          `env.${name}`,
          '<redacted>',
          'looks like a credential; pass it with secretEnv so it is never inlined',
        );
      }
      env.push({ name, value });
    }
    for (const [name, ref] of Object.entries(props.secretEnv ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      checkEnvName('secretEnv', name);
      checkDnsLabel(`secretEnv.${name}.secretName`, ref.secretName);
      checkDataKey(`secretEnv.${name}.key`, ref.key);
      env.push({ name, valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } });
    }
    return env.length > 0 ? env : undefined;
  }

  private spreadConstraints(): k8s.TopologySpreadConstraint[] {
    // ScheduleAnyway: a zone outage or a single-zone spot shortage must not block scale-up.
    return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
      topologyKey,
      maxSkew: 1,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { ...this.selector } },
      matchLabelKeys: ['pod-template-hash'],
    }));
  }

  private createService(servicePort: number): void {
    checkInteger('servicePort', servicePort, 1, 65535);
    new k8s.KubeService(this, 'Service', {
      metadata: this.metadata(),
      spec: {
        type: 'ClusterIP',
        selector: { ...this.selector },
        ports: [
          {
            name: 'http',
            port: servicePort,
            targetPort: k8s.IntOrString.fromString('http'),
            protocol: 'TCP',
          },
        ],
      },
    });
  }

  private createDisruptionBudget(maxUnavailable: number): void {
    checkInteger('maxUnavailable', maxUnavailable, 1);
    new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: this.metadata(),
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(maxUnavailable),
        selector: { matchLabels: { ...this.selector } },
        // Crash-looping pods must not block node drains (spot reclaim, scale-down).
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  private createAutoscaler(props: AutoscaledWorkloadProps): ScaledObject | undefined {
    const spec = this.scaling.spec;
    if (spec.kind === 'keda') {
      const o = spec.options;
      return new ScaledObject(this, 'ScaledObject', {
        name: this.name,
        namespace: this.namespace,
        target: this,
        minReplicas: props.replicas.min,
        maxReplicas: props.replicas.max,
        idleReplicas: o.idleReplicas,
        pollingInterval: o.pollingInterval,
        // Scale to zero: KEDA's default made explicit, so the idle time before zero is visible.
        cooldownPeriod: o.cooldownPeriod ?? (props.scaleToZero ? Duration.seconds(300) : undefined),
        triggers: o.triggers,
        fallback: o.fallback,
        pause: o.pause,
        advanced:
          o.behavior || o.scalingModifiers
            ? {
                horizontalPodAutoscalerConfig: o.behavior ? { behavior: o.behavior } : undefined,
                scalingModifiers: o.scalingModifiers,
              }
            : undefined,
      });
    }
    const behavior = spec.options.behavior
      ? renderScalingBehavior('scaling.behavior', spec.options.behavior)
      : undefined;
    new k8s.KubeHorizontalPodAutoscalerV2(this, 'HorizontalPodAutoscaler', {
      metadata: this.metadata(),
      spec: {
        scaleTargetRef: { apiVersion: this.apiVersion, kind: this.kind, name: this.name },
        minReplicas: props.replicas.min,
        maxReplicas: props.replicas.max,
        metrics: spec.options.metrics.map((m) => m.spec),
        behavior: behavior as k8s.HorizontalPodAutoscalerBehaviorV2 | undefined,
      },
    });
    return undefined;
  }
}
