import { Duration } from 'cdk8s';
import {
  AUTOSCALER_PROFILE_FLAGS,
  type AutoscalerProfile,
  DEFAULT_AUTOSCALER_PROFILE,
  Expander,
  formatGoDuration,
  resolveAutoscalerProfile,
} from '../k8s/autoscaler-profile.js';
import { PropError } from '../k8s/validation.js';

/**
 * The managed cluster's `autoScalerProfile` as @pulumi/azure-native takes it: camelCase properties
 * (the SDK maps them to ARM's kebab-case keys, `scanInterval` → `scan-interval`), every value a string.
 */
export type AksAutoScalerProfile = Readonly<Record<string, string>>;

/**
 * The ARM key of each shared profile field on AKS. It is the upstream flag name
 * ({@link AUTOSCALER_PROFILE_FLAGS}) except where AKS kept an older name; `null` marks fields AKS does
 * not expose (setting them to anything but the upstream default is an error on AKS).
 */
const AKS_KEY_OVERRIDES: Partial<Record<keyof AutoscalerProfile, string | null>> = {
  // AKS still calls the parallelism knob by its deprecated upstream name.
  maxScaleDownParallelism: 'max-empty-bulk-delete',
  expendablePodsPriorityCutoff: null,
  scaleDownEnabled: null,
};

/** Fields AKS only takes in whole minutes (`10m`); its API rejects other units for them. */
const MINUTE_FIELDS: ReadonlySet<keyof AutoscalerProfile> = new Set([
  'scaleDownUnneededTime',
  'scaleDownDelayAfterAdd',
  'scaleDownDelayAfterDelete',
  'scaleDownDelayAfterFailure',
  'scaleDownUnreadyTime',
  'maxNodeProvisionTime',
]);

/** `scan-interval` → `scanInterval`: the SDK property of an ARM key. */
export function sdkPropertyName(armKey: string): string {
  return armKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The ARM key of a profile field on AKS, or undefined when AKS does not expose the field. */
export function aksProfileKey(field: keyof AutoscalerProfile): string | undefined {
  const override = AKS_KEY_OVERRIDES[field];
  if (override === null) return undefined;
  return override ?? AUTOSCALER_PROFILE_FLAGS[field];
}

function renderDuration(prop: string, field: keyof AutoscalerProfile, value: Duration): string | undefined {
  const ms = value.toMilliseconds();
  if (MINUTE_FIELDS.has(field)) {
    // Upstream's 0s for delay-after-delete means "one scan interval", which is also AKS's default
    // when the key is absent; AKS takes no zero here, so the key is left out.
    if (ms === 0 && field === 'scaleDownDelayAfterDelete') return undefined;
    if (ms % 60_000 !== 0) {
      throw new PropError(
        `${prop}.${field}`,
        formatGoDuration(value),
        'must be whole minutes on AKS (its API takes only "<n>m")',
      );
    }
    return `${ms / 60_000}m`;
  }
  if (ms % 1000 !== 0) {
    throw new PropError(`${prop}.${field}`, formatGoDuration(value), 'must be whole seconds on AKS');
  }
  return `${ms / 1000}s`;
}

function renderExpander(prop: string, expander: Expander): string {
  if (expander.names.length !== 1) {
    throw new PropError(
      `${prop}.expander`,
      expander.toString(),
      'must be a single expander on AKS (autoScalerProfile.expander takes one of least-waste, most-pods, priority, random)',
    );
  }
  if (expander.usesPriority) {
    throw new PropError(
      `${prop}.expander`,
      expander.toString(),
      'the priority expander is not supported on AKS by AksCluster yet: AKS reads its tiers from the ConfigMap cluster-autoscaler-priority-expander in kube-system, which is not managed here',
    );
  }
  return expander.toString();
}

/**
 * Maps the shared, cloud-neutral autoscaler profile to AKS's `autoScalerProfile`. Missing fields get
 * upstream's defaults (DESIGN.md), and every field AKS exposes is written explicitly, so the cluster
 * behaves like the EKS side rather than like AKS's own defaults (which differ, e.g. AKS defaults
 * `skip-nodes-with-local-storage` to false and `expander` to random).
 *
 * Rendering follows the AKS API: durations in whole minutes (`10m`) or whole seconds (`10s`) as each
 * key requires, numbers and booleans as strings. Errors name the field (`autoscalerProfile.<field>`)
 * and the value: durations AKS cannot express, an expander chain, the priority expander, and the
 * fields AKS does not expose (`expendablePodsPriorityCutoff`, `scaleDownEnabled`) when they differ from
 * the upstream default.
 */
export function aksAutoScalerProfile(
  partial: Partial<AutoscalerProfile> = {},
  prop = 'autoscalerProfile',
): AksAutoScalerProfile {
  const profile = resolveAutoscalerProfile(partial, prop);
  const out: Record<string, string> = {};
  for (const field of Object.keys(AUTOSCALER_PROFILE_FLAGS) as (keyof AutoscalerProfile)[]) {
    const value = profile[field];
    const key = aksProfileKey(field);
    if (key === undefined) {
      if (value !== DEFAULT_AUTOSCALER_PROFILE[field]) {
        throw new PropError(
          `${prop}.${field}`,
          value,
          `is not exposed by AKS's managed cluster autoscaler; only the upstream default (${String(DEFAULT_AUTOSCALER_PROFILE[field])}) can be used`,
        );
      }
      continue;
    }
    let rendered: string | undefined;
    if (value instanceof Duration) rendered = renderDuration(prop, field, value);
    else if (value instanceof Expander) rendered = renderExpander(prop, value);
    else rendered = String(value);
    if (rendered !== undefined) out[sdkPropertyName(key)] = rendered;
  }
  return Object.freeze(out);
}
