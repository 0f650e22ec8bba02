/**
 * Turns the environment table into cdk8s charts: one `platform` chart per cluster (autoscaler,
 * add-ons, headroom) and one chart per tenant. The CDK app, the Pulumi program and the GitOps synth
 * all build their in-cluster objects through {@link buildClusterCharts}: one model, three paths.
 */
import { App } from 'cdk8s';
import { AutoscaledWorkload } from '../constructs/k8s/autoscaled-workload.js';
import { ClusterAutoscaler, CloudProvider } from '../constructs/k8s/cluster-autoscaler.js';
import { ClusterChart } from '../constructs/k8s/cluster-info.js';
import type { GitOpsAddonsProps } from '../constructs/k8s/gitops-addons.js';
import { GitOpsAddons, KedaPodIdentity } from '../constructs/k8s/gitops-addons.js';
import { awsWorkloadRoleArn, IRSA_ROLE_ANNOTATION } from '../constructs/aws/workload-role-names.js';
import { Headroom } from '../constructs/k8s/headroom.js';
import { TriggerAuthentication } from '../constructs/k8s/keda/trigger-authentication.js';
import { SystemNamespace } from '../constructs/k8s/system-namespace.js';
import { Tenant } from '../constructs/k8s/tenant.js';
import { VerticalPodAutoscaler } from '../constructs/k8s/vertical-pod-autoscaler.js';
import { PropError } from '../constructs/k8s/validation.js';
import type { ClusterConfig, EnvironmentConfig, TenantConfig } from './environment-types.js';
import { type ManifestFile, synthChart } from './manifests.js';

/** Namespace of the platform pieces ElasticAI adds (headroom). */
export const PLATFORM_NAMESPACE = 'elasticai-system';

/** Builds every chart of one cluster inside `app`. */
export function buildClusterCharts(app: App, cluster: ClusterConfig): ClusterChart[] {
  const charts: ClusterChart[] = [];
  const platform = new ClusterChart(app, 'platform', { cluster });
  // AKS runs its own managed cluster autoscaler (tuned through autoScalerProfile by the Pulumi stack).
  const gitopsRoles = gitopsAwsRoles(cluster);
  if (cluster.cloud === 'aws') {
    new ClusterAutoscaler(platform, 'cluster-autoscaler', {
      clusterName: cluster.name,
      cloudProvider: CloudProvider.aws({ region: cluster.region }),
      profile: cluster.autoscalerProfile,
      ...(gitopsRoles
        ? { serviceAccountAnnotations: { [IRSA_ROLE_ANNOTATION]: gitopsRoles.clusterAutoscaler } }
        : {}),
    });
  }
  if (cluster.gitopsAddons)
    new GitOpsAddons(platform, 'addons', withKedaRole(cluster.gitopsAddons, gitopsRoles));
  if (cluster.headroom) {
    const ns = new SystemNamespace(platform, 'system-namespace', { name: PLATFORM_NAMESPACE });
    new Headroom(platform, 'headroom', { ...cluster.headroom, namespace: ns.name });
  }
  if (platform.node.children.length > 0) charts.push(platform);
  for (const tenant of cluster.tenants) charts.push(buildTenantChart(app, cluster, tenant));
  return charts;
}

/**
 * On an EKS cluster whose add-ons GitOps delivers, the roles the CDK stack creates under fixed names
 * (constructs/aws/workload-role-names.ts): their ARNs go into the manifests, since no CDK step
 * annotates them there. Needs the cluster's account in the table.
 */
function gitopsAwsRoles(cluster: ClusterConfig): { clusterAutoscaler: string; keda: string } | undefined {
  if (cluster.cloud !== 'aws' || !cluster.gitopsAddons) return undefined;
  const account = cluster.aws?.account;
  if (account === undefined) {
    throw new PropError(
      `${cluster.name}.aws.account`,
      account,
      'is required on an EKS cluster with gitopsAddons: its manifests reference the IAM roles of cluster-autoscaler and KEDA by ARN',
    );
  }
  return {
    clusterAutoscaler: awsWorkloadRoleArn(account, cluster.name, 'cluster-autoscaler'),
    keda: awsWorkloadRoleArn(account, cluster.name, 'keda-operator'),
  };
}

/** The KEDA add-on with the cluster's KEDA role, unless the table already names an identity. */
function withKedaRole(addons: GitOpsAddonsProps, roles: { keda: string } | undefined): GitOpsAddonsProps {
  if (!roles || addons.keda?.podIdentity || addons.keda?.enabled === false) return addons;
  return { ...addons, keda: { ...addons.keda, podIdentity: KedaPodIdentity.awsIrsa(roles.keda) } };
}

function buildTenantChart(app: App, cluster: ClusterConfig, config: TenantConfig): ClusterChart {
  const chart = new ClusterChart(app, `tenant-${config.name}`, { cluster });
  const { workloads, triggerAuthentications, ...tenantProps } = config;
  const tenant = new Tenant(chart, config.name, tenantProps);
  for (const auth of triggerAuthentications ?? []) {
    new TriggerAuthentication(tenant, `auth-${auth.name}`, { ...auth, namespace: tenant.namespace });
  }
  for (const { vpa, ...workloadProps } of workloads) {
    const workload = new AutoscaledWorkload(tenant, workloadProps.name, workloadProps);
    if (vpa) new VerticalPodAutoscaler(tenant, `${workloadProps.name}-vpa`, { ...vpa, target: workload });
  }
  return chart;
}

/** Synthesizes every cluster of an environment to files `<cluster>/<chart>.yaml`. */
export function synthEnvironment(env: EnvironmentConfig): ManifestFile[] {
  return env.clusters.flatMap((cluster) => {
    const app = new App();
    return buildClusterCharts(app, cluster).map((chart) => ({
      path: `${cluster.name}/${chart.node.id}.yaml`,
      objects: synthChart(chart),
    }));
  });
}
