import { ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { HealthCheck } from '../health-check.js';
import { Placement } from '../placement.js';
import {
  DEFAULT_RUN_AS_USER,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../pod-security.js';
import { type ContainerResources, renderResources, resourceAmounts } from '../resources.js';
import { type IQuotaConsumer, type PeakDemand, peakDemandOf } from '../scalable-workload.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkLabelValue,
  checkImage,
  checkInteger,
  checkMinMax,
  checkOneOf,
  checkEnvName,
  checkDataKey,
} from '../validation.js';
import { type Trigger, renderTriggers } from './trigger.js';

/** How KEDA turns the queue length into the number of new Jobs (`spec.scalingStrategy`). */
export type JobScalingStrategyKind = 'default' | 'custom' | 'accurate' | 'eager';

/** Options every job scaling strategy accepts. */
export interface JobScalingStrategyOptions {
  /**
   * Pod conditions that must all be true for a Job's pod to count as running rather than pending,
   * e.g. `['Ready', 'PodScheduled']`. @default KEDA's (a pod counts as pending until it runs)
   */
  readonly pendingPodConditions?: readonly string[];
  /** How several triggers' values combine. @default 'max' */
  readonly multipleScalersCalculation?: 'max' | 'min' | 'avg' | 'sum';
}

/** Options of {@link JobScalingStrategy.custom}. */
export interface CustomJobScalingOptions extends JobScalingStrategyOptions {
  /** Subtracted from the queue length before dividing. */
  readonly queueLengthDeduction: number;
  /** Fraction (0-1] of running Jobs subtracted from the new-Job count. */
  readonly runningJobPercentage: number;
}

/** A ScaledJob scaling strategy. */
export class JobScalingStrategy {
  /** new Jobs = queue length − running Jobs. */
  static default(options: JobScalingStrategyOptions = {}): JobScalingStrategy {
    return new JobScalingStrategy('default', options);
  }

  /** new Jobs = queue length − deduction − running Jobs × percentage. */
  static custom(options: CustomJobScalingOptions): JobScalingStrategy {
    const p = 'scalingStrategy';
    checkInteger(`${p}.queueLengthDeduction`, options.queueLengthDeduction, 0);
    if (!(options.runningJobPercentage > 0 && options.runningJobPercentage <= 1)) {
      throw new PropError(
        `${p}.runningJobPercentage`,
        options.runningJobPercentage,
        'must be a fraction in (0, 1]',
      );
    }
    return new JobScalingStrategy('custom', options, {
      customScalingQueueLengthDeduction: options.queueLengthDeduction,
      customScalingRunningJobPercentage: String(options.runningJobPercentage),
    });
  }

  /** For queues that already exclude locked (in-progress) messages: new Jobs = queue length, capped. */
  static accurate(options: JobScalingStrategyOptions = {}): JobScalingStrategy {
    return new JobScalingStrategy('accurate', options);
  }

  /** Fill all free slots up to `maxReplicas` as soon as messages wait. */
  static eager(options: JobScalingStrategyOptions = {}): JobScalingStrategy {
    return new JobScalingStrategy('eager', options);
  }

  private constructor(
    readonly kind: JobScalingStrategyKind,
    private readonly options: JobScalingStrategyOptions,
    private readonly custom: Record<string, unknown> = {},
  ) {
    if (options.multipleScalersCalculation !== undefined) {
      checkOneOf('scalingStrategy.multipleScalersCalculation', options.multipleScalersCalculation, [
        'max',
        'min',
        'avg',
        'sum',
      ]);
    }
    options.pendingPodConditions?.forEach((c, i) => {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(c)) {
        throw new PropError(
          `scalingStrategy.pendingPodConditions[${i}]`,
          c,
          'must be a pod condition type like "Ready"',
        );
      }
    });
  }

  /** @internal */
  render(): Record<string, unknown> {
    return {
      strategy: this.kind,
      ...this.custom,
      ...(this.options.pendingPodConditions
        ? { pendingPodConditions: [...this.options.pendingPodConditions] }
        : {}),
      ...(this.options.multipleScalersCalculation
        ? { multipleScalersCalculation: this.options.multipleScalersCalculation }
        : {}),
    };
  }
}

/** Reference to one key of a Secret, for environment variables that carry credentials. */
export interface JobSecretKeyRef {
  /** Name of the Secret, in the job's namespace. */
  readonly secretName: string;
  /** Key inside the Secret. */
  readonly key: string;
}

/** The Job each scale-out creates. */
export interface JobTemplate {
  /** Container image, pinned to a tag or digest (`latest` is refused). */
  readonly image: string;
  /** Entrypoint override. @default the image's */
  readonly command?: readonly string[];
  /** Arguments. @default the image's */
  readonly args?: readonly string[];
  /** Plain environment variables; credential-like names are refused (use `secretEnv`). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment variables read from Secrets. @default {} */
  readonly secretEnv?: Readonly<Record<string, JobSecretKeyRef>>;
  /** CPU and memory requests (required) and limits. */
  readonly resources: ContainerResources;
  /** Pod restart policy. @default 'Never' */
  readonly restartPolicy?: 'Never' | 'OnFailure';
  /** Maximum run time of one Job. @default unlimited */
  readonly activeDeadline?: Duration;
  /** Retries before the Job is failed. @default 6 (Kubernetes' default) */
  readonly backoffLimit?: number;
  /** Delete finished Jobs after this long. @default kept (KEDA's history limits apply) */
  readonly ttlAfterFinished?: Duration;
  /** Liveness probe for long jobs that can hang. @default none (a Job ends by exiting) */
  readonly liveness?: HealthCheck;
  /** Which capacity the pods may use. @default Placement.onDemandOnly() */
  readonly placement?: Placement;
  /**
   * ServiceAccount of the pods, e.g. one bound to a cloud identity (IRSA, EKS Pod Identity, Azure
   * workload identity). Its API token is still not mounted. @default the namespace's `default`
   */
  readonly serviceAccountName?: string;
  /** Non-root UID the container runs as. @default 65532 */
  readonly runAsUser?: number;
}

/** `spec.rollout`: what happens to running Jobs when the ScaledJob changes. */
export interface JobRollout {
  /** `immediate` deletes running Jobs on update; `gradual` lets them finish. @default 'immediate' (KEDA's) */
  readonly strategy: 'immediate' | 'gradual';
  /** Deletion propagation for `immediate`. @default 'background' */
  readonly propagationPolicy?: 'foreground' | 'background';
}

/** Props for a {@link ScaledJob}. */
export interface ScaledJobProps {
  /** `metadata.name`. @default the construct id */
  readonly name?: string;
  /** Namespace. */
  readonly namespace: string;
  /** The Job created per unit of work. */
  readonly job: JobTemplate;
  /** Triggers (cpu/memory are not supported for ScaledJobs). */
  readonly triggers: readonly Trigger[];
  /** How often KEDA polls the triggers. @default 30 s (KEDA's default) */
  readonly pollingInterval?: Duration;
  /** Jobs kept running even with no work. @default 0 */
  readonly minReplicas?: number;
  /** Most Jobs running at once. */
  readonly maxReplicas: number;
  /** Finished Jobs kept. @default 100 (KEDA's default) */
  readonly successfulJobsHistoryLimit?: number;
  /** Failed Jobs kept. @default 100 (KEDA's default) */
  readonly failedJobsHistoryLimit?: number;
  /** How the queue length turns into new Jobs. @default KEDA's `default` strategy */
  readonly scalingStrategy?: JobScalingStrategy;
  /** Handling of running Jobs when the ScaledJob is updated. @default KEDA's (immediate) */
  readonly rollout?: JobRollout;
}

const CREDENTIAL_ENV =
  /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL|CONNECTION_STRING)/i;
const CONTAINER_NAME = 'job';

/**
 * A KEDA `ScaledJob` (keda.sh/v1alpha1): runs one Kubernetes Job per unit of queued work, up to
 * `maxReplicas` at once, with a restricted, resource-bounded pod template.
 */
export class ScaledJob extends Construct implements IQuotaConsumer {
  readonly kind = 'ScaledJob';
  readonly name: string;
  readonly namespace: string;
  readonly placement: Placement;
  /** `maxReplicas` Jobs of one pod each, for the tenant's quota check. */
  readonly peakDemand: PeakDemand;

  constructor(scope: Construct, id: string, props: ScaledJobProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace;
    checkDnsSubdomain('name', this.name);
    checkLabelValue('name', this.name, 'it is also the app.kubernetes.io/name label'); // pod template label
    checkDnsLabel('namespace', this.namespace);
    this.placement = props.job.placement ?? Placement.onDemandOnly();

    props.triggers.forEach((t, i) => {
      if (t.scaledResource !== undefined) {
        throw new PropError(
          `triggers[${i}]`,
          t.type,
          'is not supported by ScaledJob (cpu/memory triggers scale ScaledObjects only)',
        );
      }
    });
    const triggers = renderTriggers('triggers', props.triggers, this.namespace);

    const minReplicas = props.minReplicas ?? 0;
    checkInteger('minReplicas', minReplicas, 0);
    checkInteger('maxReplicas', props.maxReplicas, 1);
    checkMinMax('minReplicas', minReplicas, 'maxReplicas', props.maxReplicas);
    this.peakDemand = peakDemandOf(props.maxReplicas, [
      resourceAmounts('job.resources', props.job.resources),
    ]);

    const spec: Record<string, unknown> = { jobTargetRef: this.renderJob(props.job) };
    if (props.pollingInterval !== undefined) {
      const seconds = props.pollingInterval.toSeconds({ integral: false });
      checkInteger('pollingInterval', seconds, 1);
      spec.pollingInterval = seconds;
    }
    if (props.successfulJobsHistoryLimit !== undefined) {
      checkInteger('successfulJobsHistoryLimit', props.successfulJobsHistoryLimit, 0);
      spec.successfulJobsHistoryLimit = props.successfulJobsHistoryLimit;
    }
    if (props.failedJobsHistoryLimit !== undefined) {
      checkInteger('failedJobsHistoryLimit', props.failedJobsHistoryLimit, 0);
      spec.failedJobsHistoryLimit = props.failedJobsHistoryLimit;
    }
    if (props.rollout !== undefined) {
      checkOneOf('rollout.strategy', props.rollout.strategy, ['immediate', 'gradual']);
      if (props.rollout.propagationPolicy !== undefined) {
        checkOneOf('rollout.propagationPolicy', props.rollout.propagationPolicy, [
          'foreground',
          'background',
        ]);
      }
      if (props.rollout.propagationPolicy !== undefined && props.rollout.strategy === 'gradual') {
        throw new PropError(
          'rollout.propagationPolicy',
          props.rollout.propagationPolicy,
          'applies only to the "immediate" strategy (gradual rollouts delete no Jobs)',
        );
      }
      spec.rollout = {
        strategy: props.rollout.strategy,
        ...(props.rollout.propagationPolicy ? { propagationPolicy: props.rollout.propagationPolicy } : {}),
      };
    }
    spec.minReplicaCount = minReplicas;
    spec.maxReplicaCount = props.maxReplicas;
    if (props.scalingStrategy) spec.scalingStrategy = props.scalingStrategy.render();
    spec.triggers = triggers;

    new ApiObject(this, 'Resource', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledJob',
      metadata: { name: this.name, namespace: this.namespace },
      spec,
    });

    this.node.addValidation({
      validate: () =>
        this.placement.validateIn(this, 'job.placement', `ScaledJob "${this.namespace}/${this.name}"`),
    });
  }

  private renderJob(job: JobTemplate): Record<string, unknown> {
    checkImage('job.image', job.image);
    const runAsUser = job.runAsUser ?? DEFAULT_RUN_AS_USER;
    checkInteger('job.runAsUser', runAsUser, 1);
    const env: k8s.EnvVar[] = [];
    for (const [name, value] of Object.entries(job.env ?? {})) {
      checkEnvName('job.env', name);
      if (CREDENTIAL_ENV.test(name)) {
        throw new PropError(
          `job.env.${name}`,
          name,
          'looks like a credential; use job.secretEnv to read it from a Secret',
        );
      }
      env.push({ name, value });
    }
    for (const [name, ref] of Object.entries(job.secretEnv ?? {})) {
      checkEnvName('job.secretEnv', name);
      checkDnsSubdomain(`job.secretEnv.${name}.secretName`, ref.secretName);
      checkDataKey(`job.secretEnv.${name}.key`, ref.key);
      env.push({ name, valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } });
    }
    const container: k8s.Container = {
      name: CONTAINER_NAME,
      image: job.image,
      ...(job.command ? { command: [...job.command] } : {}),
      ...(job.args ? { args: [...job.args] } : {}),
      ...(env.length > 0 ? { env } : {}),
      resources: renderResources('job.resources', job.resources),
      securityContext: restrictedContainerSecurityContext(),
      ...(job.liveness
        ? { livenessProbe: job.liveness.render('job.liveness', undefined, Duration.seconds(10)) }
        : {}),
    };
    if (job.serviceAccountName !== undefined)
      checkDnsSubdomain('job.serviceAccountName', job.serviceAccountName);
    // A Job's pods may not use Always (the API server refuses such Jobs).
    if (job.restartPolicy !== undefined)
      checkOneOf('job.restartPolicy', job.restartPolicy, ['Never', 'OnFailure']);
    const template: k8s.PodTemplateSpec = {
      metadata: {
        labels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/component': 'job' },
      },
      spec: {
        restartPolicy: job.restartPolicy ?? 'Never',
        automountServiceAccountToken: false,
        ...(job.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
        securityContext: restrictedPodSecurityContext(runAsUser),
        containers: [container],
        ...this.placement.podSpecFields(),
      },
    };
    const out: Record<string, unknown> = {};
    if (job.activeDeadline !== undefined) {
      const seconds = job.activeDeadline.toSeconds({ integral: false });
      checkInteger('job.activeDeadline', seconds, 1);
      out.activeDeadlineSeconds = seconds;
    }
    if (job.backoffLimit !== undefined) {
      checkInteger('job.backoffLimit', job.backoffLimit, 0);
      out.backoffLimit = job.backoffLimit;
    }
    if (job.ttlAfterFinished !== undefined) {
      const seconds = job.ttlAfterFinished.toSeconds({ integral: false });
      checkInteger('job.ttlAfterFinished', seconds, 0);
      out.ttlSecondsAfterFinished = seconds;
    }
    out.template = k8s.toJson_PodTemplateSpec(template);
    return out;
  }
}
