import { PropError } from './validation.js';

/**
 * cluster-autoscaler release for each Kubernetes minor this package supports. The autoscaler's minor
 * must equal the cluster's (upstream only tests that pairing), so an unknown minor is an error,
 * never a fallback to the nearest entry.
 *
 * Each tag is the newest patch of `registry.k8s.io/autoscaling/cluster-autoscaler` known for that
 * minor, taken from upstream's image promotions (kubernetes/k8s.io
 * `registry.k8s.io/images/k8s-staging-autoscaling/images.yaml` and its release PRs) and the
 * kubernetes/autoscaler `cluster-autoscaler-X.Y.Z` GitHub releases:
 *
 * - v1.29.5: images.yaml (no later 1.29 patch promoted)
 * - v1.30.7: k8s.io PR #8715 "Cluster Autoscaler v1.30.7 release" (2025-10-30)
 * - v1.31.5: k8s.io PR #8623 "Cluster Autoscaler v1.31.5 release" (2025-10-09)
 * - v1.32.7: k8s.io PR #9116 "Release Cluster Autoscaler v1.32.7" (2026-02-13)
 * - v1.33.6, v1.34.5, v1.35.2, v1.36.1: releases `cluster-autoscaler-1.33.6`, `-1.34.5`, `-1.35.2`,
 *   `-1.36.1` (2026-07-23)
 *
 * Bump a patch here when upstream promotes a newer one; never point a minor at another minor's tag.
 */
const CLUSTER_AUTOSCALER_TAGS: Readonly<Record<string, string>> = {
  '1.29': 'v1.29.5',
  '1.30': 'v1.30.7',
  '1.31': 'v1.31.5',
  '1.32': 'v1.32.7',
  '1.33': 'v1.33.6',
  '1.34': 'v1.34.5',
  '1.35': 'v1.35.2',
  '1.36': 'v1.36.1',
};

/** A Kubernetes minor version that ElasticAI knows how to deploy to. */
export class KubernetesVersion {
  static readonly V1_29 = KubernetesVersion.of('1.29');
  static readonly V1_30 = KubernetesVersion.of('1.30');
  static readonly V1_31 = KubernetesVersion.of('1.31');
  static readonly V1_32 = KubernetesVersion.of('1.32');
  static readonly V1_33 = KubernetesVersion.of('1.33');
  static readonly V1_34 = KubernetesVersion.of('1.34');
  static readonly V1_35 = KubernetesVersion.of('1.35');
  static readonly V1_36 = KubernetesVersion.of('1.36');

  /** Every supported minor, oldest first. */
  static supported(): string[] {
    return Object.keys(CLUSTER_AUTOSCALER_TAGS);
  }

  /**
   * A version from its `MAJOR.MINOR` string.
   * @throws PropError for a malformed or unsupported minor, naming the supported ones.
   */
  static of(version: string, prop = 'kubernetesVersion'): KubernetesVersion {
    if (!/^1\.\d+$/.test(version))
      throw new PropError(prop, version, 'must be a Kubernetes minor like "1.33"');
    if (!(version in CLUSTER_AUTOSCALER_TAGS)) {
      throw new PropError(
        prop,
        version,
        `is not a supported Kubernetes minor; supported: ${KubernetesVersion.supported().join(', ')}`,
      );
    }
    return new KubernetesVersion(version);
  }

  private constructor(readonly version: string) {}

  /** The minor number, e.g. 33 for "1.33". */
  get minor(): number {
    return Number(this.version.split('.')[1]);
  }

  /** Image tag of the cluster-autoscaler release matching this minor. */
  get clusterAutoscalerTag(): string {
    return CLUSTER_AUTOSCALER_TAGS[this.version] as string;
  }

  toString(): string {
    return this.version;
  }
}
