import { PropError } from './validation.js';

/**
 * cluster-autoscaler release for each Kubernetes minor this package supports. The autoscaler's minor
 * must equal the cluster's (upstream only tests that pairing), so an unknown minor is an error,
 * never a fallback to the nearest entry.
 */
const CLUSTER_AUTOSCALER_TAGS: Readonly<Record<string, string>> = {
  '1.30': 'v1.30.5',
  '1.31': 'v1.31.3',
  '1.32': 'v1.32.2',
  '1.33': 'v1.33.1',
  '1.34': 'v1.34.1',
};

/** A Kubernetes minor version that ElasticAI knows how to deploy to. */
export class KubernetesVersion {
  static readonly V1_30 = KubernetesVersion.of('1.30');
  static readonly V1_31 = KubernetesVersion.of('1.31');
  static readonly V1_32 = KubernetesVersion.of('1.32');
  static readonly V1_33 = KubernetesVersion.of('1.33');
  static readonly V1_34 = KubernetesVersion.of('1.34');

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
