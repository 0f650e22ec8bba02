import * as pulumi from '@pulumi/pulumi';
import { Provider } from '@pulumi/kubernetes/provider.js';
import { ConfigGroup } from '@pulumi/kubernetes/yaml/v2/configGroup.js';
import { checkDnsLabel, PropError } from '../k8s/validation.js';

/** A plain Kubernetes object; values may be Pulumi inputs (e.g. an identity's client id). */
export type KubernetesObjectInput = pulumi.Input<Record<string, unknown>>;

/** One chart's objects, applied as one group. */
export interface AksManifestSet {
  /** Name of the group (the chart id, e.g. `platform`, `tenant-shop`). */
  readonly name: string;
  /** The objects, as a cdk8s chart synthesizes them (`synthChart`). */
  readonly objects: readonly KubernetesObjectInput[];
}

/** Props for {@link AksManifests}. */
export interface AksManifestsProps {
  /** Kubeconfig of the cluster (see `AksCluster.kubeconfig()`). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Object groups in apply order: each group waits for the previous one. */
  readonly manifests: readonly AksManifestSet[];
}

/**
 * Applies the in-cluster objects of ElasticAI's cdk8s charts to an AKS cluster: a Kubernetes provider
 * built from the cluster's credentials, and one `yaml/v2.ConfigGroup` per chart holding exactly the
 * objects the GitOps synth writes (the provider orders namespaces and CRDs first within a group and
 * applies with server-side apply). Nothing is fetched: no chart, no remote manifest.
 */
export class AksManifests extends pulumi.ComponentResource {
  readonly provider: Provider;
  readonly groups: readonly ConfigGroup[];

  constructor(name: string, props: AksManifestsProps, opts?: pulumi.ComponentResourceOptions) {
    const seen = new Set<string>();
    props.manifests.forEach((set, i) => {
      checkDnsLabel(`manifests[${i}].name`, set.name);
      if (seen.has(set.name)) throw new PropError(`manifests[${i}].name`, set.name, 'must be unique');
      seen.add(set.name);
      if (set.objects.length === 0) throw new PropError(`manifests[${i}].objects`, [], 'must not be empty');
    });
    super('elasticai:azure:AksManifests', name, {}, opts);
    this.provider = new Provider(
      `${name}-provider`,
      { kubeconfig: props.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );
    const groups: ConfigGroup[] = [];
    for (const set of props.manifests) {
      const previous = groups[groups.length - 1];
      groups.push(
        new ConfigGroup(
          `${name}-${set.name}`,
          { objs: [...set.objects] },
          { parent: this, providers: { kubernetes: this.provider }, dependsOn: previous ? [previous] : [] },
        ),
      );
    }
    this.groups = groups;
    this.registerOutputs({});
  }
}
