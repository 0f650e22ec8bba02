/**
 * One CDK stack per EKS cluster of the environment table: the cluster, its capacity, interruption
 * handling, workload identities, add-ons and the in-cluster objects built by `buildClusterCharts`.
 */
import { CfnOutput, IgnoreMode, Stack, type StackProps } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { App as Cdk8sApp, ApiObject, Chart, JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import { ClusterAutoscalerRole } from '../constructs/aws/cluster-autoscaler-role.js';
import { DecisionRuntimeRole } from '../constructs/aws/decision-runtime-role.js';
import { EksHelmAddons } from '../constructs/aws/eks-helm-addons.js';
import { EksManagedNodeGroup } from '../constructs/aws/eks-managed-node-group.js';
import { ApiEndpoint, ElasticEksCluster } from '../constructs/aws/elastic-eks-cluster.js';
import { KedaOperatorRole } from '../constructs/aws/keda-operator-role.js';
import { MixedInstancesNodeGroup } from '../constructs/aws/mixed-instances-node-group.js';
import { NodeTerminationHandler } from '../constructs/aws/node-termination-handler.js';
import { NodeTerminationHandlerRole } from '../constructs/aws/node-termination-handler-role.js';
import { SpotInterruptionQueue } from '../constructs/aws/spot-interruption-queue.js';
import { awsWorkloadRoleName } from '../constructs/aws/workload-role-names.js';
import { ClusterAutoscaler } from '../constructs/k8s/cluster-autoscaler.js';
import { parseAmpWorkspaceArn } from '../constructs/k8s/aws-amp.js';
import { DecisionRuntime } from '../constructs/k8s/decision-runtime.js';
import { ScaleToZeroResolver } from '../constructs/k8s/scale-to-zero-resolver.js';
import { PropError } from '../constructs/k8s/validation.js';
import { applyAwsNagSuppressions } from './aws-nag-suppressions.js';
import { kedaAwsAccess } from './aws-keda-access.js';
import type { ClusterConfig, EnvironmentConfig } from './environment-types.js';
import { buildClusterCharts, clusterScraping, runtimeAlertsOf } from './synth-environment.js';

/** Props for an {@link AwsClusterStack}. */
export interface AwsClusterStackProps extends Omit<StackProps, 'env'> {
  readonly environment: EnvironmentConfig;
  readonly cluster: ClusterConfig;
  /** Account when the table has none. @default process.env.CDK_DEFAULT_ACCOUNT */
  readonly defaultAccount?: string;
}

/** Stack name of a cluster's stack. */
export function awsStackName(cluster: ClusterConfig): string {
  return `elasticai-${cluster.name}`;
}

/**
 * The EKS cluster of one table entry.
 *
 * In-cluster delivery: a cluster without `gitopsAddons` gets KEDA and metrics-server from Helm and every
 * chart of `buildClusterCharts` applied by the kubectl handler (cluster-autoscaler's ServiceAccount
 * annotated with its IRSA role). A cluster with `gitopsAddons` is delivered by its GitOps engine from
 * `dist/`; the stack then applies only the AWS-specific objects (the termination handler) and outputs
 * the role ARNs the GitOps configuration needs. Both get the termination handler, and where the decision
 * runtime reads an Amazon Managed Prometheus workspace, its alert rules as a rule groups namespace of
 * that workspace.
 */
export class AwsClusterStack extends Stack {
  readonly eks: ElasticEksCluster;
  readonly interruption: SpotInterruptionQueue;
  readonly clusterAutoscalerRole: ClusterAutoscalerRole;
  readonly kedaRole: KedaOperatorRole;
  readonly nodeTerminationHandlerRole: NodeTerminationHandlerRole;
  readonly runtimeRole?: DecisionRuntimeRole;
  readonly addons?: EksHelmAddons;
  /**
   * The runtime's alerts in its Amazon Managed Prometheus workspace (where the runtime reads an AMP
   * workspace, so the runtime's metrics are there).
   */
  readonly alertRules?: aps.CfnRuleGroupsNamespace;
  /** Manifests applied by the kubectl handler, by chart id. */
  readonly manifests: ReadonlyMap<string, eks.KubernetesManifest>;

  constructor(scope: Construct, id: string, props: AwsClusterStackProps) {
    const { cluster, environment } = props;
    if (cluster.cloud !== 'aws') {
      throw new PropError(
        'cluster.cloud',
        cluster.cloud,
        `must be "aws" for an EKS stack (cluster ${cluster.name})`,
      );
    }
    const settings = cluster.aws ?? {};
    const account = settings.account ?? props.defaultAccount ?? process.env.CDK_DEFAULT_ACCOUNT;
    super(scope, id, {
      ...props,
      env: { region: cluster.region, ...(account ? { account } : {}) },
      stackName: awsStackName(cluster),
      description: `ElasticAI EKS cluster ${cluster.name} (${environment.name})`,
      terminationProtection: environment.name === 'prod',
    });
    const zones = settings.availabilityZones ?? ['a', 'b', 'c'].map((z) => `${cluster.region}${z}`);
    if (account !== undefined) {
      // The VPC checks its zones against the stack's, which for a stack with an account is a context
      // lookup (an AWS call from the CLI). The table already fixes the zones: answer it from there.
      this.node.setContext(`availability-zones:account=${account}:region=${cluster.region}`, [...zones]);
    }

    this.eks = new ElasticEksCluster(this, 'Eks', {
      clusterName: cluster.name,
      kubernetesVersion: cluster.kubernetesVersion,
      logRetentionDays: environment.logRetentionDays,
      region: cluster.region,
      availabilityZones: zones,
      endpoint: settings.publicEndpointCidrs
        ? ApiEndpoint.publicAndPrivate(settings.publicEndpointCidrs)
        : ApiEndpoint.private(),
      adminRoleArn: settings.adminRoleArn,
    });
    const oidc = this.eks.openIdConnectProvider;

    this.interruption = new SpotInterruptionQueue(this, 'Interruption', { namePrefix: cluster.name });

    // One role for all managed groups: EKS creates its EC2_LINUX access entry with the first group.
    const managedNodeRole = new iam.Role(this, 'ManagedNodeRole', {
      description: `Nodes of the EKS managed node groups of ${cluster.name}`,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSWorkerNodePolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKS_CNI_Policy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly'),
      ],
    });
    const systemGroups: Construct[] = [];
    for (const pool of cluster.nodePools) {
      const id = `Pool-${pool.name}`;
      if (pool.capacityType === 'mixed') {
        if (!pool.mixed) {
          throw new PropError(`nodePools.${pool.name}.mixed`, pool.mixed, 'is required for a mixed pool');
        }
        new MixedInstancesNodeGroup(this, id, {
          cluster: this.eks,
          name: pool.name,
          instanceTypes: pool.instanceTypes,
          minSize: pool.minSize,
          maxSize: pool.maxSize,
          onDemandBaseCapacity: pool.mixed.onDemandBase,
          onDemandPercentageAboveBaseCapacity: pool.mixed.onDemandPercentageAboveBase,
          labels: pool.labels,
          taints: pool.taints,
          zones: pool.zones,
          interruptionQueue: this.interruption,
        });
      } else {
        const group = new EksManagedNodeGroup(this, id, {
          cluster: this.eks,
          pool,
          nodeRole: managedNodeRole,
        });
        if (pool.role === 'system') systemGroups.push(group);
      }
    }

    // Fixed names: GitOps-delivered manifests reference these roles by ARN (workload-role-names.ts).
    this.clusterAutoscalerRole = new ClusterAutoscalerRole(this, 'ClusterAutoscalerRole', {
      openIdConnectProvider: oidc,
      clusterName: cluster.name,
      roleName: awsWorkloadRoleName(cluster.name, 'cluster-autoscaler'),
    });
    this.nodeTerminationHandlerRole = new NodeTerminationHandlerRole(this, 'NodeTerminationHandlerRole', {
      openIdConnectProvider: oidc,
      queue: this.interruption.queue,
    });
    const access = kedaAwsAccess(cluster);
    this.kedaRole = new KedaOperatorRole(this, 'KedaOperatorRole', {
      openIdConnectProvider: oidc,
      roleName: awsWorkloadRoleName(cluster.name, 'keda-operator'),
      sqsQueueArns: access.sqsQueueArns,
      assumableRoleArns: access.assumableRoleArns,
    });

    // The decision runtime's read-only role, under a fixed name (GitOps manifests name it), and its image.
    let runtimeImageUri: string | undefined;
    if (cluster.runtime || settings.runtime) {
      checkRuntimeWorkspace(cluster);
      this.runtimeRole = new DecisionRuntimeRole(this, 'DecisionRuntimeRole', {
        openIdConnectProvider: oidc,
        prometheusWorkspaceArn: settings.runtime?.prometheusWorkspaceArn,
        roleName: awsWorkloadRoleName(cluster.name, 'decision-runtime'),
      });
      new CfnOutput(this, 'DecisionRuntimeRoleArn', { value: this.runtimeRole.role.roleArn });
      if (settings.runtime?.imageAssetDirectory !== undefined) {
        const image = new ecrAssets.DockerImageAsset(
          this,
          'DecisionRuntimeImage',
          runtimeImageAssetProps(settings.runtime.imageAssetDirectory),
        );
        runtimeImageUri = image.imageUri;
        new CfnOutput(this, 'DecisionRuntimeImageUri', { value: image.imageUri });
      }
    }

    // In-cluster objects, built once by the shared chart builder (one model, three delivery paths).
    const k8sApp = new Cdk8sApp();
    const charts: Chart[] = [];
    let runtimeAlertsApp: Cdk8sApp = k8sApp;
    if (!cluster.gitopsAddons) {
      this.addons = new EksHelmAddons(this, 'Addons', {
        cluster: this.eks.cluster,
        kedaRoleArn: this.kedaRole.role.roleArn,
      });
      for (const group of systemGroups) this.addons.node.addDependency(group);
      const built = buildClusterCharts(k8sApp, cluster, environment);
      annotateClusterAutoscaler(built, this.clusterAutoscalerRole.serviceAccountAnnotations);
      if (cluster.runtime && this.runtimeRole) {
        bindDecisionRuntime(built, this.runtimeRole.serviceAccountAnnotations, runtimeImageUri);
        if (runtimeImageUri !== undefined) bindResolverImage(built, runtimeImageUri);
      }
      charts.push(...built);
    } else {
      // GitOps delivers the charts from dist/: the runtime runs the table's registry image there, and its
      // ServiceAccount already names the role by its fixed ARN (synth-environment.ts). They are built
      // here (and not applied) only for what the stack adds outside the cluster: the AMP alert rules.
      runtimeAlertsApp = new Cdk8sApp();
      buildClusterCharts(runtimeAlertsApp, cluster, environment);
      new CfnOutput(this, 'ClusterAutoscalerRoleArn', { value: this.clusterAutoscalerRole.role.roleArn });
      new CfnOutput(this, 'KedaOperatorRoleArn', { value: this.kedaRole.role.roleArn });
    }
    const alerts = runtimeAlertsOf(runtimeAlertsApp);
    if (alerts?.delivery.kind === 'amazon-managed-prometheus') {
      // checkRuntimeWorkspace: an AMP history has the workspace ARN its role may query, the one read here.
      const workspace = settings.runtime?.prometheusWorkspaceArn as string;
      this.alertRules = new aps.CfnRuleGroupsNamespace(this, 'RuntimeAlertRules', {
        workspace,
        name: `elasticai-${cluster.name}`,
        data: alerts.rulesFile(),
      });
    }

    const awsChart = new Chart(k8sApp, 'aws-node-termination-handler');
    new NodeTerminationHandler(awsChart, 'nth', {
      queueUrl: this.interruption.queue.queueUrl,
      region: cluster.region,
      serviceAccountAnnotations: this.nodeTerminationHandlerRole.serviceAccountAnnotations,
      // Its Prometheus server on, and only the cluster's scraper let in. The PodMonitor, where the
      // cluster has a Prometheus operator, is in the platform chart (buildClusterCharts): applied here
      // it could precede the operator's CRD on a new cluster and fail the deploy.
      monitoring: clusterScraping(cluster).withoutMonitors(),
    });
    charts.push(awsChart);

    const manifests = new Map<string, eks.KubernetesManifest>();
    for (const chart of charts) {
      const manifest = this.eks.cluster.addCdk8sChart(`chart-${chart.node.id}`, chart);
      // ScaledObjects and TriggerAuthentications need KEDA's CRDs first.
      if (this.addons) manifest.node.addDependency(this.addons.keda);
      manifests.set(chart.node.id, manifest);
    }
    this.manifests = manifests;

    new CfnOutput(this, 'InterruptionQueueUrl', { value: this.interruption.queue.queueUrl });
    applyAwsNagSuppressions(this, cluster);
  }
}

/**
 * Binds cluster-autoscaler's ServiceAccount (built by the shared chart builder, which knows no AWS
 * role) to its IRSA role by annotating the synthesized object.
 */
function annotateClusterAutoscaler(charts: readonly Chart[], annotations: Record<string, string>): void {
  const found = charts.flatMap((chart) =>
    chart.node
      .findAll()
      .filter((c): c is ClusterAutoscaler => c instanceof ClusterAutoscaler)
      .flatMap((ca) =>
        ca.node
          .findAll()
          .filter(
            (o): o is ApiObject =>
              o instanceof ApiObject && o.kind === 'ServiceAccount' && o.name === ca.serviceAccountName,
          ),
      ),
  );
  if (found.length !== 1)
    throw new Error(`expected one cluster-autoscaler ServiceAccount, found ${found.length}`);
  for (const [key, value] of Object.entries(annotations)) found[0]?.metadata.addAnnotation(key, value);
}

/**
 * Runs the scale-to-zero resolvers on the image the stack builds: the resolver is the runtime image's
 * second entry point, so both always ship together.
 */
function bindResolverImage(charts: readonly Chart[], imageUri: string): void {
  for (const chart of charts) {
    for (const resolver of chart.node.findAll()) {
      if (!(resolver instanceof ScaleToZeroResolver)) continue;
      resolver.deployment.addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', imageUri));
    }
  }
}

/**
 * Options of the runtime's Docker image asset: the build context is the runtime folder, read with
 * Docker's own `.dockerignore` semantics (when the folder has one), and never `node_modules`, which the
 * image installs itself: staging a developer's local dependencies would bloat `cdk.out` and the asset
 * hash would change with every local `npm install`.
 */
export function runtimeImageAssetProps(directory: string): ecrAssets.DockerImageAssetProps {
  return {
    directory,
    platform: ecrAssets.Platform.LINUX_AMD64,
    ignoreMode: IgnoreMode.DOCKER,
    exclude: ['node_modules', '**/node_modules'],
  };
}

/**
 * An Amazon Managed Prometheus history must read the workspace the runtime's role may query, or every
 * query would be denied at run time.
 */
function checkRuntimeWorkspace(cluster: ClusterConfig): void {
  const history = cluster.runtime?.history;
  if (history?.kind !== 'amazon-managed-prometheus') return;
  const arn = cluster.aws?.runtime?.prometheusWorkspaceArn;
  const workspace = arn === undefined ? undefined : parseAmpWorkspaceArn(arn);
  if (workspace?.region !== history.awsRegion || workspace?.workspaceId !== history.workspaceId) {
    throw new PropError(
      `${cluster.name}.aws.runtime.prometheusWorkspaceArn`,
      arn,
      `must be the workspace the runtime's history reads (${history.workspaceId} in ${history.awsRegion}), so its role may query it`,
    );
  }
}

/**
 * Binds the decision runtime built by the shared chart builder (which knows no AWS role or asset) to
 * its IRSA role, and to the image the stack builds when it stages one.
 */
function bindDecisionRuntime(
  charts: readonly Chart[],
  annotations: Record<string, string>,
  imageUri: string | undefined,
): void {
  const runtimes = charts.flatMap((chart) =>
    chart.node.findAll().filter((c): c is DecisionRuntime => c instanceof DecisionRuntime),
  );
  if (runtimes.length !== 1) throw new Error(`expected one decision runtime, found ${runtimes.length}`);
  const runtime = runtimes[0] as DecisionRuntime;
  for (const [key, value] of Object.entries(annotations))
    runtime.serviceAccount.metadata.addAnnotation(key, value);
  if (imageUri !== undefined) {
    runtime.deployment.addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', imageUri));
  }
}
