import { Duration } from 'cdk8s';
import type { Cloud } from './cluster-info.js';
import { checkInteger, checkNumber, formatValue, PropError } from './validation.js';

/**
 * The cluster-autoscaler profile: one cloud-neutral type for how eagerly the cluster adds and removes
 * nodes. On EKS it becomes cluster-autoscaler command-line flags ({@link clusterAutoscalerFlags}); on AKS
 * it becomes the managed cluster's `autoScalerProfile`.
 *
 * Field names are the upstream flag names in camelCase (`scan-interval` → `scanInterval`), and AKS's
 * `autoScalerProfile` keys are those same kebab-case flag names, so the AKS mapping is mechanical:
 * {@link AUTOSCALER_PROFILE_FLAGS} lists the flag (= AKS key) of every field. Fields AKS does not expose
 * are marked "not on AKS".
 */

/** Priority-expander tiers: integer priority → node-group name regexes. Higher priority wins. */
export type ExpanderPriorities = Readonly<Record<number, readonly string[]>>;

/** The node-group choosers cluster-autoscaler implements for every cloud provider used here. */
type ExpanderName = 'least-waste' | 'most-pods' | 'random' | 'priority';

/**
 * How cluster-autoscaler picks a node group to grow when several fit the pending pods (`--expander`).
 * Chain strategies with {@link Expander.then}: each one filters the candidates for the next, so
 * `Expander.priority(p).then(Expander.leastWaste())` renders `priority,least-waste`.
 */
export class Expander {
  /** The group that wastes the least CPU (then memory) after the scale-up. Upstream's default. */
  static leastWaste(): Expander {
    return new Expander(['least-waste']);
  }

  /** The group that can schedule the most pending pods. */
  static mostPods(): Expander {
    return new Expander(['most-pods']);
  }

  /** A random group. */
  static random(): Expander {
    return new Expander(['random']);
  }

  /**
   * The group whose name matches the highest-priority tier. cluster-autoscaler reads the tiers from
   * the ConfigMap `cluster-autoscaler-priority-expander` (key `priorities`), which the
   * `ClusterAutoscaler` construct writes from `priorities`. Regexes use Go RE2 syntax; they are
   * checked here with JavaScript's RegExp, which accepts a superset of the common RE2 syntax.
   * @param priorities integer priority → non-empty list of node-group name regexes
   */
  static priority(priorities: ExpanderPriorities): Expander {
    return new Expander(['priority'], priorities);
  }

  private constructor(
    /** Strategy names in the order they are applied. */
    readonly names: readonly ExpanderName[],
    /** Tiers of the priority expander, when the chain contains it. */
    readonly priorities?: ExpanderPriorities,
  ) {}

  /** This strategy, then `next` among the groups it left tied. */
  then(next: Expander): Expander {
    if (this.priorities && next.priorities) {
      throw new PropError('expander', `${this}, ${next}`, 'may contain the priority expander only once');
    }
    return new Expander([...this.names, ...next.names], this.priorities ?? next.priorities);
  }

  /** True when the chain contains the priority expander (so its ConfigMap is needed). */
  get usesPriority(): boolean {
    return this.names.includes('priority');
  }

  /** The `--expander` value, e.g. `priority,least-waste`. */
  toString(): string {
    return this.names.join(',');
  }
}

/** Every tunable of the cluster-autoscaler profile. See {@link DEFAULT_AUTOSCALER_PROFILE} for defaults. */
export interface AutoscalerProfile {
  /** How often the cluster is re-evaluated (`--scan-interval`). @default 10s */
  readonly scanInterval: Duration;
  /** How long a node must be unneeded before it is removed (`--scale-down-unneeded-time`). @default 10m */
  readonly scaleDownUnneededTime: Duration;
  /** Scale-down pause after a scale-up (`--scale-down-delay-after-add`). @default 10m */
  readonly scaleDownDelayAfterAdd: Duration;
  /**
   * Scale-down pause after a node deletion (`--scale-down-delay-after-delete`); 0 means one scan
   * interval. @default 0s
   */
  readonly scaleDownDelayAfterDelete: Duration;
  /** Scale-down pause after a failed scale-down (`--scale-down-delay-after-failure`). @default 3m */
  readonly scaleDownDelayAfterFailure: Duration;
  /** How long an unready node must be unneeded before removal (`--scale-down-unready-time`). @default 20m */
  readonly scaleDownUnreadyTime: Duration;
  /**
   * Requested-resources / allocatable ratio below which a node may be removed
   * (`--scale-down-utilization-threshold`), in (0, 1]. @default 0.5
   */
  readonly scaleDownUtilizationThreshold: number;
  /** How long to wait for a requested node to register (`--max-node-provision-time`). @default 15m */
  readonly maxNodeProvisionTime: Duration;
  /** Node-group chooser (`--expander`). @default Expander.leastWaste() */
  readonly expander: Expander;
  /**
   * Keep node groups with identical instance shape and labels (e.g. one per zone) at equal size
   * (`--balance-similar-node-groups`). @default false
   */
  readonly balanceSimilarNodeGroups: boolean;
  /** Never remove nodes running pods with local storage (`--skip-nodes-with-local-storage`). @default true */
  readonly skipNodesWithLocalStorage: boolean;
  /**
   * Never remove nodes running kube-system pods other than DaemonSets and mirror pods
   * (`--skip-nodes-with-system-pods`). @default true
   */
  readonly skipNodesWithSystemPods: boolean;
  /** Seconds to wait for pod termination during scale-down (`--max-graceful-termination-sec`). @default 600 */
  readonly maxGracefulTerminationSec: number;
  /**
   * Ignore pods younger than this when deciding a scale-up, to let bursts settle
   * (`--new-pod-scale-up-delay`). @default 0s
   */
  readonly newPodScaleUpDelay: Duration;
  /**
   * Nodes (empty or needing drain) deleted in parallel (`--max-scale-down-parallelism`, which replaced
   * the deprecated `--max-empty-bulk-delete`; on AKS this is `max-empty-bulk-delete`). @default 10
   */
  readonly maxScaleDownParallelism: number;
  /**
   * Pods below this priority never trigger a scale-up and never block a scale-down
   * (`--expendable-pods-priority-cutoff`); headroom pause pods sit below it. Not on AKS. @default -10
   */
  readonly expendablePodsPriorityCutoff: number;
  /** Unready nodes tolerated regardless of the percentage (`--ok-total-unready-count`). @default 3 */
  readonly okTotalUnreadyCount: number;
  /**
   * Percentage of unready nodes above which the autoscaler halts (`--max-total-unready-percentage`).
   * @default 45
   */
  readonly maxTotalUnreadyPercentage: number;
  /** Whether nodes are ever removed (`--scale-down-enabled`). Not on AKS. @default true */
  readonly scaleDownEnabled: boolean;
}

/** Upstream cluster-autoscaler's defaults (DESIGN.md "Typed options shared by both clouds"). */
export const DEFAULT_AUTOSCALER_PROFILE: AutoscalerProfile = Object.freeze({
  scanInterval: Duration.seconds(10),
  scaleDownUnneededTime: Duration.minutes(10),
  scaleDownDelayAfterAdd: Duration.minutes(10),
  scaleDownDelayAfterDelete: Duration.seconds(0),
  scaleDownDelayAfterFailure: Duration.minutes(3),
  scaleDownUnreadyTime: Duration.minutes(20),
  scaleDownUtilizationThreshold: 0.5,
  maxNodeProvisionTime: Duration.minutes(15),
  expander: Expander.leastWaste(),
  balanceSimilarNodeGroups: false,
  skipNodesWithLocalStorage: true,
  skipNodesWithSystemPods: true,
  maxGracefulTerminationSec: 600,
  newPodScaleUpDelay: Duration.seconds(0),
  maxScaleDownParallelism: 10,
  expendablePodsPriorityCutoff: -10,
  okTotalUnreadyCount: 3,
  maxTotalUnreadyPercentage: 45,
  scaleDownEnabled: true,
});

/**
 * The upstream cluster-autoscaler flag of every profile field. For the fields AKS exposes, the flag
 * name is also the AKS `autoScalerProfile` key (except `maxScaleDownParallelism`, see its doc).
 */
export const AUTOSCALER_PROFILE_FLAGS: Readonly<Record<keyof AutoscalerProfile, string>> = Object.freeze({
  scanInterval: 'scan-interval',
  scaleDownUnneededTime: 'scale-down-unneeded-time',
  scaleDownDelayAfterAdd: 'scale-down-delay-after-add',
  scaleDownDelayAfterDelete: 'scale-down-delay-after-delete',
  scaleDownDelayAfterFailure: 'scale-down-delay-after-failure',
  scaleDownUnreadyTime: 'scale-down-unready-time',
  scaleDownUtilizationThreshold: 'scale-down-utilization-threshold',
  maxNodeProvisionTime: 'max-node-provision-time',
  expander: 'expander',
  balanceSimilarNodeGroups: 'balance-similar-node-groups',
  skipNodesWithLocalStorage: 'skip-nodes-with-local-storage',
  skipNodesWithSystemPods: 'skip-nodes-with-system-pods',
  maxGracefulTerminationSec: 'max-graceful-termination-sec',
  newPodScaleUpDelay: 'new-pod-scale-up-delay',
  maxScaleDownParallelism: 'max-scale-down-parallelism',
  expendablePodsPriorityCutoff: 'expendable-pods-priority-cutoff',
  okTotalUnreadyCount: 'ok-total-unready-count',
  maxTotalUnreadyPercentage: 'max-total-unready-percentage',
  scaleDownEnabled: 'scale-down-enabled',
});

const DURATION_FIELDS = [
  'scanInterval',
  'scaleDownUnneededTime',
  'scaleDownDelayAfterAdd',
  'scaleDownDelayAfterDelete',
  'scaleDownDelayAfterFailure',
  'scaleDownUnreadyTime',
  'maxNodeProvisionTime',
  'newPodScaleUpDelay',
] as const;

/** Durations that must be strictly positive (a zero scan interval or provision time is meaningless). */
const POSITIVE_DURATIONS: ReadonlySet<string> = new Set(['scanInterval', 'maxNodeProvisionTime']);

const BOOLEAN_FIELDS = [
  'balanceSimilarNodeGroups',
  'skipNodesWithLocalStorage',
  'skipNodesWithSystemPods',
  'scaleDownEnabled',
] as const;

/** Whole milliseconds of a Duration, or a PropError naming `prop`. */
function durationMillis(prop: string, value: unknown): number {
  if (!(value instanceof Duration)) throw new PropError(prop, value, 'must be a cdk8s Duration');
  let ms: number;
  try {
    ms = value.toMilliseconds();
  } catch (e) {
    throw new PropError(
      prop,
      value.toHumanString(),
      `must be a whole number of milliseconds (${(e as Error).message})`,
    );
  }
  if (!Number.isFinite(ms) || ms < 0) throw new PropError(prop, `${ms}ms`, 'must not be negative');
  return ms;
}

/**
 * Renders a duration the way Go's `time.Duration.String()` does (`10s`, `10m0s`, `1h0m0s`, `1.5s`,
 * `500ms`, `0s`). cluster-autoscaler parses its duration flags with Go's `time.ParseDuration`, and
 * prints its own defaults in this form, so rendered flags read exactly like `cluster-autoscaler --help`.
 */
export function formatGoDuration(duration: Duration): string {
  const ms = durationMillis('duration', duration);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const secondsMs = ms % 60_000;
  const seconds = String(secondsMs / 1000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Throws unless the expander chain is well formed and its priority tiers are valid. */
function checkExpander(prop: string, expander: unknown): void {
  if (!(expander instanceof Expander)) {
    throw new PropError(
      prop,
      expander,
      'must be an Expander (Expander.leastWaste(), Expander.priority(...), ...)',
    );
  }
  const seen = new Set<string>();
  for (const name of expander.names) {
    if (seen.has(name)) throw new PropError(prop, String(expander), `lists "${name}" more than once`);
    seen.add(name);
  }
  if (!expander.usesPriority) return;
  const priorities = expander.priorities ?? {};
  const tiers = Object.entries(priorities);
  if (tiers.length === 0) throw new PropError(`${prop}.priorities`, priorities, 'must not be empty');
  for (const [key, regexes] of tiers) {
    const tierProp = `${prop}.priorities[${key}]`;
    if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(Number(key))) {
      throw new PropError(`${prop}.priorities`, key, 'keys must be integers');
    }
    if (!Array.isArray(regexes) || regexes.length === 0) {
      throw new PropError(tierProp, regexes, 'must be a non-empty list of node-group name regexes');
    }
    regexes.forEach((regex: unknown, i: number) => {
      const regexProp = `${tierProp}[${i}]`;
      if (typeof regex !== 'string' || regex.length === 0) {
        throw new PropError(regexProp, regex, 'must be a non-empty regex string');
      }
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(regex)) {
        throw new PropError(regexProp, regex, 'must not contain control characters');
      }
      try {
        new RegExp(regex);
      } catch (e) {
        throw new PropError(regexProp, regex, `is not a valid regex: ${(e as Error).message}`);
      }
    });
  }
}

/**
 * Fills upstream defaults into a partial profile and validates every field. Errors name the field as
 * `<prop>.<field>` (e.g. `profile.scaleDownUtilizationThreshold`) and the bad value.
 */
export function resolveAutoscalerProfile(
  partial: Partial<AutoscalerProfile> = {},
  prop = 'profile',
): AutoscalerProfile {
  for (const key of Object.keys(partial)) {
    if (!Object.hasOwn(AUTOSCALER_PROFILE_FLAGS, key)) {
      throw new PropError(
        `${prop}.${key}`,
        (partial as Record<string, unknown>)[key],
        'is not an autoscaler profile field',
      );
    }
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const profile: AutoscalerProfile = { ...DEFAULT_AUTOSCALER_PROFILE, ...defined };

  for (const field of DURATION_FIELDS) {
    const ms = durationMillis(`${prop}.${field}`, profile[field]);
    if (ms === 0 && POSITIVE_DURATIONS.has(field)) {
      throw new PropError(`${prop}.${field}`, formatGoDuration(profile[field]), 'must be greater than 0s');
    }
  }
  for (const field of BOOLEAN_FIELDS) {
    if (typeof profile[field] !== 'boolean') {
      throw new PropError(`${prop}.${field}`, profile[field], 'must be a boolean');
    }
  }
  const threshold = profile.scaleDownUtilizationThreshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
    throw new PropError(`${prop}.scaleDownUtilizationThreshold`, threshold, 'must be in (0, 1]');
  }
  checkInteger(`${prop}.maxGracefulTerminationSec`, profile.maxGracefulTerminationSec, 0);
  checkInteger(`${prop}.maxScaleDownParallelism`, profile.maxScaleDownParallelism, 1);
  checkInteger(
    `${prop}.expendablePodsPriorityCutoff`,
    profile.expendablePodsPriorityCutoff,
    -2_147_483_648,
    2_147_483_647,
  );
  checkInteger(`${prop}.okTotalUnreadyCount`, profile.okTotalUnreadyCount, 0);
  checkNumber(`${prop}.maxTotalUnreadyPercentage`, profile.maxTotalUnreadyPercentage, 0, 100);
  checkExpander(`${prop}.expander`, profile.expander);
  return Object.freeze(profile);
}

/** The profile's own flags, unsorted. */
function profileFlags(profile: AutoscalerProfile): string[] {
  return (Object.keys(AUTOSCALER_PROFILE_FLAGS) as (keyof AutoscalerProfile)[]).map((field) => {
    const value = profile[field];
    const rendered =
      value instanceof Duration
        ? formatGoDuration(value)
        : value instanceof Expander
          ? value.toString()
          : String(value);
    return `--${AUTOSCALER_PROFILE_FLAGS[field]}=${rendered}`;
  });
}

/** Flags that wire cluster-autoscaler to the cloud's node groups. */
function cloudFlags(cloud: Cloud, clusterName: string): string[] {
  if (typeof clusterName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(clusterName)) {
    throw new PropError('clusterName', clusterName, 'must be a cluster name (letters, digits, "-" and "_")');
  }
  switch (cloud) {
    case 'aws':
      return [
        '--cloud-provider=aws',
        `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${clusterName}`,
      ];
    case 'azure':
      throw new PropError(
        'cloud',
        cloud,
        'has no self-managed cluster-autoscaler here: AKS runs it and takes the profile as autoScalerProfile',
      );
    default:
      throw new PropError('cloud', formatValue(cloud), 'must be "aws" or "azure"');
  }
}

/**
 * The cluster-autoscaler command-line flags for a profile on a cloud, as `--flag=value` strings sorted
 * lexicographically (deterministic output). Every profile field is rendered explicitly, defaults
 * included, so the manifest states the behaviour rather than relying on the image's defaults.
 * Durations are in Go's `time.Duration` form (`10s`, `10m0s`). The profile is validated first.
 */
export function clusterAutoscalerFlags(
  profile: Partial<AutoscalerProfile>,
  cloud: Cloud,
  clusterName: string,
): string[] {
  const resolved = resolveAutoscalerProfile(profile);
  return [...profileFlags(resolved), ...cloudFlags(cloud, clusterName)].sort();
}

/**
 * The `priorities` value of the `cluster-autoscaler-priority-expander` ConfigMap: a YAML map from
 * integer priority to a list of node-group regexes, tiers in ascending order, regexes single-quoted.
 */
export function renderExpanderPriorities(priorities: ExpanderPriorities): string {
  const tiers = Object.entries(priorities)
    .map(([key, regexes]) => [Number(key), regexes] as const)
    .sort(([a], [b]) => a - b);
  return tiers
    .map(([priority, regexes]) =>
      [`${priority}:`, ...regexes.map((r) => `  - '${r.replace(/'/g, "''")}'`)].join('\n'),
    )
    .join('\n')
    .concat('\n');
}
