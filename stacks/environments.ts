/**
 * The built-in environment table: what `npm run synth` renders, and what the CDK app (EKS) and the
 * Pulumi program (AKS) deploy. Environments differ in substance: node-pool sizes, replica bounds, the
 * spot share of mixed pools, autoscaler tuning, headroom, log/metric retention and where the decision
 * runtime reads its history.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import type { NodePoolInfo, NodeTaint } from '../constructs/k8s/cluster-info.js';
import { DecisionRuntime, RuntimeServiceMonitor } from '../constructs/k8s/decision-runtime.js';
import { GitOpsEngine } from '../constructs/k8s/gitops-addons.js';
import { HeadroomScaling } from '../constructs/k8s/headroom.js';
import { HealthCheck } from '../constructs/k8s/health-check.js';
import { Trigger } from '../constructs/k8s/keda/trigger.js';
import type { ITriggerAuthentication } from '../constructs/k8s/keda/trigger-authentication.js';
import { PodIdentity } from '../constructs/k8s/keda/trigger-authentication.js';
import { KubernetesVersion } from '../constructs/k8s/kubernetes-version.js';
import { Metric, MetricTarget } from '../constructs/k8s/metric.js';
import { Placement } from '../constructs/k8s/placement.js';
import { RuntimeHistory } from '../constructs/k8s/runtime-history.js';
import { ScaleToZero } from '../constructs/k8s/scale-to-zero.js';
import { ScaleToZeroResolver } from '../constructs/k8s/scale-to-zero-resolver.js';
import { ScalingPolicy } from '../constructs/k8s/scaling-behavior.js';
import { TenantEgress, TenantIngress, TenantPort } from '../constructs/k8s/tenant.js';
import { WorkloadIdentity } from '../constructs/k8s/workload-identity.js';
import { WorkloadScaling } from '../constructs/k8s/workload-scaling.js';
import type { Cloud } from '../constructs/k8s/cluster-info.js';
import { PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT, PLACEHOLDER_CLIENT_ID } from './azure-identities.js';
import type {
  AwsRuntimeSettings,
  ClusterConfig,
  ClusterRuntimeConfig,
  EnvironmentConfig,
  TenantConfig,
} from './environment-types.js';

export type * from './environment-types.js';

/** The example AWS account of every EKS cluster (replace with yours). */
const PLACEHOLDER_ACCOUNT = '123456789012';

/**
 * The decision runtime's image, at the package's version (a test keeps them equal). Built from
 * `runtime/` (its Dockerfile) and published by the release; EKS clusters whose charts the CDK stack
 * applies run the image the stack builds from the same folder instead.
 */
export const RUNTIME_IMAGE = 'ghcr.io/elasticai/elasticai-runtime:0.1.0';

/** The repository's `runtime/` folder (the image's build context), found from this compiled file. */
const RUNTIME_DIR = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'runtime');
})();

/**
 * The decision runtime every cluster's platform chart deploys (default name and namespace): workloads
 * of the table hand themselves to it with `RUNTIME.trigger(...)`.
 */
const RUNTIME = DecisionRuntime.reference();

/**
 * The scale-to-zero resolver (default name, in the platform namespace beside the runtime it wakes
 * workloads through): the platform chart deploys it on every cluster where a workload of the table
 * uses it.
 */
const RESOLVER = ScaleToZeroResolver.reference({ runtime: RUNTIME });

/** Messages one order worker is given (the queue trigger's target, and the formula's divisor). */
const ORDERS_PER_WORKER = 20;

/** What scales between environments; everything else is shared. */
interface Sizing {
  /** Max nodes of the main user pool. */
  readonly userPoolMax: number;
  /** Max nodes of the spot pool. */
  readonly spotPoolMax: number;
  /** Replica bounds of the storefront. */
  readonly web: { readonly min: number; readonly max: number };
  /** Replica bounds of the checkout API. */
  readonly checkout: { readonly min: number; readonly max: number };
  /** Max replicas of the order worker (it scales to zero when the queue is empty). */
  readonly workerMax: number;
  /** Max replicas of the back-office reports UI (at zero while nobody uses it). */
  readonly reportsMax: number;
  /** Tenant CPU quota in cores. */
  readonly quotaCores: number;
}

const SYSTEM_TAINT: NodeTaint = { key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' };

function systemPool(cloud: Cloud, max: number): NodePoolInfo {
  return {
    name: 'system',
    role: 'system',
    capacityType: 'on-demand',
    instanceTypes: cloud === 'aws' ? ['m7i.large'] : ['Standard_D4s_v5'],
    minSize: 2,
    maxSize: max,
    taints: [SYSTEM_TAINT],
  };
}

/** Node pools of an EKS cluster: system, a mixed on-demand/spot group and a spot-only group. */
function awsPools(sizing: Sizing, onDemandBase: number, onDemandPercentageAboveBase: number): NodePoolInfo[] {
  return [
    systemPool('aws', 3),
    {
      name: 'general',
      role: 'user',
      capacityType: 'mixed',
      instanceTypes: ['m7i.xlarge', 'm6i.xlarge', 'm7a.xlarge'],
      minSize: onDemandBase,
      maxSize: sizing.userPoolMax,
      mixed: { onDemandBase, onDemandPercentageAboveBase },
    },
    {
      name: 'spot',
      role: 'user',
      capacityType: 'spot',
      instanceTypes: ['c7i.xlarge', 'c6i.xlarge', 'c7a.xlarge'],
      minSize: 0,
      maxSize: sizing.spotPoolMax,
    },
  ];
}

/** Node pools of an AKS cluster: system, a regular user pool and a spot pool. */
function azurePools(sizing: Sizing): NodePoolInfo[] {
  return [
    systemPool('azure', 3),
    {
      name: 'general',
      role: 'user',
      capacityType: 'on-demand',
      instanceTypes: ['Standard_D4s_v5'],
      minSize: 1,
      maxSize: sizing.userPoolMax,
    },
    {
      name: 'spot',
      role: 'user',
      capacityType: 'spot',
      instanceTypes: ['Standard_F4s_v2'],
      minSize: 0,
      maxSize: sizing.spotPoolMax,
    },
  ];
}

/** The shop tenant's KEDA authentication for its queue (pod identity; created by the tenant chart). */
const QUEUE_AUTH: ITriggerAuthentication = {
  name: 'queue-reader',
  kind: 'TriggerAuthentication',
  namespace: 'shop',
};

/** The order worker's queue trigger: SQS on AWS, Service Bus on Azure, read with pod identity. */
function queueTrigger(cloud: Cloud, env: string, region: string): Trigger {
  return cloud === 'aws'
    ? Trigger.awsSqsQueue({
        name: 'orders',
        queueUrl: `https://sqs.${region}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${env}-orders`,
        awsRegion: region,
        queueLength: ORDERS_PER_WORKER,
        authentication: QUEUE_AUTH,
      })
    : Trigger.azureServiceBus({
        name: 'orders',
        namespace: `elasticai-${env}`,
        queueName: 'orders',
        messageCount: ORDERS_PER_WORKER,
        authentication: QUEUE_AUTH,
      });
}

/**
 * The `shop` tenant: storefront (HPA), checkout API (KEDA, Prometheus + business-hours cron), order
 * worker (queue + runtime forecast, down to zero) and the back-office reports UI (scale to zero behind
 * the resolver).
 */
function shopTenant(
  env: string,
  cloud: Cloud,
  region: string,
  sizing: Sizing,
  spotHeavy: boolean,
  withVpa: boolean,
): TenantConfig {
  const resources = { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256) } };
  return {
    name: 'shop',
    groups: [`shop-developers-${env}`],
    quota: {
      cpu: { requests: Cpu.units(sizing.quotaCores), limits: Cpu.units(sizing.quotaCores * 2) },
      memory: {
        requests: Size.gibibytes(sizing.quotaCores * 2),
        limits: Size.gibibytes(sizing.quotaCores * 2),
      },
      // Every workload at max replicas plus the 25% rollout surge, and room for ad-hoc pods.
      pods:
        Math.ceil((sizing.web.max + sizing.checkout.max + sizing.workerMax + sizing.reportsMax) * 1.25) + 20,
    },
    ingress: [TenantIngress.fromNamespace('ingress', [TenantPort.tcp(8080)])],
    // The workloads serve /metrics on their HTTP port (checkout's trigger and the runtime's history read
    // them): the cluster's scraper is let in on that port only.
    monitoring: { ports: [TenantPort.tcp(8080)] },
    // Cloud APIs (SQS / Service Bus, STS / Entra ID token exchange) over HTTPS; never the private ranges.
    egress: [
      TenantEgress.toCidr(
        '0.0.0.0/0',
        [TenantPort.tcp(443)],
        ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'],
      ),
    ],
    triggerAuthentications: [
      {
        name: QUEUE_AUTH.name,
        podIdentity:
          cloud === 'aws' ? PodIdentity.aws({ identityOwner: 'workload' }) : PodIdentity.azureWorkload(),
      },
    ],
    workloads: [
      {
        name: 'web',
        image: 'ghcr.io/elasticai/examples/storefront:2.3.1',
        port: 8080,
        resources,
        replicas: sizing.web,
        placement: spotHeavy ? Placement.spotPreferred() : Placement.spotPreferred(50),
        readiness: HealthCheck.httpGet('/healthz/ready'),
        liveness: HealthCheck.httpGet('/healthz/live'),
        scaling: WorkloadScaling.hpa({
          metrics: [Metric.resourceCpu(MetricTarget.utilization(65))],
          behavior: {
            scaleDown: {
              stabilizationWindow: Duration.minutes(5),
              policies: [ScalingPolicy.percent(20, Duration.minutes(1))],
            },
          },
        }),
        // Recommendation-only VPA feeding right-sizing, where the cluster runs the VPA.
        ...(withVpa ? { vpa: {} } : {}),
      },
      {
        name: 'checkout',
        image: 'ghcr.io/elasticai/examples/checkout:1.9.0',
        port: 8080,
        resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.mebibytes(512) } },
        replicas: sizing.checkout,
        placement: Placement.onDemandOnly(),
        readiness: HealthCheck.httpGet('/ready'),
        liveness: HealthCheck.httpGet('/live'),
        scaling: WorkloadScaling.keda({
          triggers: [
            Trigger.prometheus({
              name: 'rps',
              serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
              query: 'sum(rate(http_requests_total{namespace="shop",service="checkout"}[2m]))',
              threshold: 40,
            }),
            Trigger.cron({
              name: 'business-hours',
              timezone: region.startsWith('us-') ? 'America/New_York' : 'Europe/Amsterdam',
              start: '0 8 * * 1-5',
              end: '0 20 * * 1-5',
              desiredReplicas: sizing.checkout.min * 2,
            }),
          ],
          pollingInterval: Duration.seconds(15),
        }),
      },
      {
        name: 'order-worker',
        image: 'ghcr.io/elasticai/examples/order-worker:1.9.0',
        resources: { cpu: { request: Cpu.millis(200) }, memory: { request: Size.mebibytes(256) } },
        replicas: { min: 0, max: sizing.workerMax },
        placement: spotHeavy ? Placement.spotOnly() : Placement.spotPreferred(),
        readiness: HealthCheck.exec(['/app/order-worker', 'healthcheck', '--ready']),
        liveness: HealthCheck.exec(['/app/order-worker', 'healthcheck']),
        identity:
          cloud === 'aws'
            ? WorkloadIdentity.awsIrsa(`arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/${env}-order-worker`)
            : WorkloadIdentity.azureWorkload('00000000-0000-0000-0000-000000000000'),
        // The queue's backlog (KEDA's own scaler) or the decision runtime's forecast of incoming orders,
        // whichever asks for more workers; both 0 lets KEDA scale the worker to zero, and the runtime's
        // push trigger wakes it as soon as orders are predicted.
        scaling: WorkloadScaling.keda({
          triggers: [
            queueTrigger(cloud, env, region),
            RUNTIME.trigger({
              name: 'predicted',
              query: 'sum(rate(shop_orders_placed_total{namespace="shop"}[2m])) * 60',
              capacityPerReplica: 120,
              leadTime: Duration.minutes(2),
              minReplicas: 0,
              maxReplicas: sizing.workerMax,
              tenant: 'shop',
              push: true,
            }),
          ],
          scalingModifiers: { formula: `max(predicted, orders / ${ORDERS_PER_WORKER})`, target: 1 },
          cooldownPeriod: Duration.minutes(5),
        }),
      },
      {
        // The back-office reports UI: staff open it a few times a day, so it sits at zero. The first
        // request wakes it through the resolver (held, not refused, for up to 30 s), the runtime's
        // forecast wakes it ahead of the usual morning use, and 15 idle minutes put it back to zero.
        name: 'reports',
        image: 'ghcr.io/elasticai/examples/reports:1.4.0',
        port: 8080,
        resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(512) } },
        replicas: { min: 0, max: sizing.reportsMax },
        placement: Placement.spotPreferred(),
        // A fast readiness probe is a fast cold start: the resolver releases on the first ready pod.
        readiness: HealthCheck.httpGet('/ready', { period: Duration.seconds(1) }),
        liveness: HealthCheck.httpGet('/live'),
        scaling: WorkloadScaling.keda({
          triggers: [
            RUNTIME.trigger({
              name: 'predicted',
              query: 'sum(rate(http_requests_total{namespace="shop",service="reports"}[2m])) * 60',
              capacityPerReplica: 300,
              leadTime: Duration.minutes(1),
              minReplicas: 0,
              maxReplicas: sizing.reportsMax,
              tenant: 'shop',
              push: true,
            }),
          ],
          cooldownPeriod: Duration.minutes(15),
        }),
        scaleToZero: ScaleToZero.http({
          resolver: RESOLVER,
          hosts: [`reports.${env}.shop.example.com`],
          // The ingress controller (the tenant's only way in) and the shop's own services.
          clientNamespaces: ['ingress', 'shop'],
        }),
      },
    ],
  };
}

/** A placeholder Amazon Managed Prometheus workspace of the example account (replace with yours). */
function ampWorkspaceArn(region: string, n: number): string {
  return `arn:aws:aps:${region}:${PLACEHOLDER_ACCOUNT}:workspace/ws-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** One headroom pod reserves room for about one typical replica. */
const HEADROOM_POD = { cpu: { request: Cpu.millis(500) }, memory: { request: Size.mebibytes(512) } };

const DEV_SIZING: Sizing = {
  userPoolMax: 4,
  spotPoolMax: 6,
  web: { min: 1, max: 4 },
  checkout: { min: 1, max: 4 },
  workerMax: 5,
  reportsMax: 2,
  quotaCores: 8,
};
const STAGING_SIZING: Sizing = {
  userPoolMax: 10,
  spotPoolMax: 15,
  web: { min: 2, max: 12 },
  checkout: { min: 2, max: 10 },
  workerMax: 20,
  reportsMax: 3,
  quotaCores: 32,
};
const PROD_SIZING: Sizing = {
  userPoolMax: 60,
  spotPoolMax: 80,
  web: { min: 4, max: 80 },
  checkout: { min: 4, max: 60 },
  workerMax: 100,
  reportsMax: 6,
  quotaCores: 256,
};

/**
 * Where an EKS cluster's runtime reads history: the cluster's own Prometheus, or an Amazon Managed
 * Prometheus workspace (created outside this package; its ARN also scopes the runtime's IAM role).
 */
type AwsRuntimeHistory = { readonly inCluster: string } | { readonly workspaceArn: string };

/** An EKS cluster's runtime: the table image, its history, and the AWS side (workspace, image asset). */
function awsRuntime(
  history: AwsRuntimeHistory,
  imageAsset: boolean,
): { runtime: ClusterRuntimeConfig; aws: AwsRuntimeSettings } {
  if ('inCluster' in history) {
    return {
      runtime: { image: RUNTIME_IMAGE, history: RuntimeHistory.prometheus(history.inCluster) },
      aws: imageAsset ? { imageAssetDirectory: RUNTIME_DIR } : {},
    };
  }
  return {
    runtime: {
      image: RUNTIME_IMAGE,
      history: RuntimeHistory.amazonManagedPrometheus({ workspaceArn: history.workspaceArn }),
      // No Prometheus operator here (the stacks install none, and AMP is fed by its own collector): a
      // ServiceMonitor without its CRD would fail the apply, and on prod the whole `cdk deploy`.
      serviceMonitor: RuntimeServiceMonitor.none(),
    },
    aws: {
      prometheusWorkspaceArn: history.workspaceArn,
      ...(imageAsset ? { imageAssetDirectory: RUNTIME_DIR } : {}),
    },
  };
}

function awsCluster(
  env: string,
  region: string,
  version: KubernetesVersion,
  sizing: Sizing,
  mix: [number, number],
  verticalPodAutoscaler: boolean,
  runtime: { runtime: ClusterRuntimeConfig; aws: AwsRuntimeSettings },
): ClusterConfig {
  const spotHeavy = mix[1] === 0;
  return {
    name: `${env}-${region === 'us-east-1' ? 'use1' : region}`,
    cloud: 'aws',
    region,
    // Placeholder account: GitOps manifests reference the CDK-created IAM roles by ARN in it.
    aws: { account: PLACEHOLDER_ACCOUNT, runtime: runtime.aws },
    runtime: runtime.runtime,
    kubernetesVersion: version,
    verticalPodAutoscaler,
    nodePools: awsPools(sizing, mix[0], mix[1]),
    tenants: [shopTenant(env, 'aws', region, sizing, spotHeavy, verticalPodAutoscaler)],
  };
}

function azureCluster(
  env: string,
  location: string,
  version: KubernetesVersion,
  sizing: Sizing,
): ClusterConfig {
  return {
    name: `${env}-weu`,
    cloud: 'azure',
    region: location,
    kubernetesVersion: version,
    // AKS's managed VPA add-on (workloadAutoScalerProfile.verticalPodAutoscaler), enabled by the Pulumi stack.
    verticalPodAutoscaler: true,
    nodePools: azurePools(sizing),
    tenants: [shopTenant(env, 'azure', location, sizing, false, true)],
    // History from the cluster's Azure Monitor workspace (managed Prometheus), read with the runtime's
    // workload identity; the Pulumi stack creates both and fills in their placeholders.
    runtime: {
      image: RUNTIME_IMAGE,
      history: RuntimeHistory.azureMonitorWorkspace(PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT),
      identity: WorkloadIdentity.azureWorkload(PLACEHOLDER_CLIENT_ID),
    },
    azure: {
      // The order worker's queue (see queueTrigger): KEDA reads its length, the worker receives from it.
      serviceBusQueues: [
        {
          resourceGroupName: `rg-elasticai-messaging-${env}`,
          namespace: `elasticai-${env}`,
          queue: 'orders',
          receivers: ['shop/order-worker'],
        },
      ],
    },
  };
}

/** dev runs the next Kubernetes minor first, all-spot above a one-node base, short retention. */
const DEV: EnvironmentConfig = {
  name: 'dev',
  logRetentionDays: 7,
  metricsHistoryDays: 14,
  clusters: [
    {
      // dev's runtime reads the cluster's own Prometheus (no managed workspace for dev).
      ...awsCluster(
        'dev',
        'us-east-1',
        KubernetesVersion.V1_35,
        DEV_SIZING,
        [1, 0],
        true,
        awsRuntime({ inCluster: 'http://prometheus-operated.monitoring.svc:9090' }, false),
      ),
      // Cost first: give idle nodes back quickly.
      autoscalerProfile: {
        scaleDownUnneededTime: Duration.minutes(5),
        scaleDownDelayAfterAdd: Duration.minutes(5),
      },
      // dev is managed purely by GitOps: Flux installs KEDA, metrics-server and the VPA recommender.
      gitopsAddons: { engine: GitOpsEngine.flux(), verticalPodAutoscaler: { enabled: true } },
    },
  ],
};

/** staging mirrors prod's shape on both clouds at a fraction of the size. */
const STAGING: EnvironmentConfig = {
  name: 'staging',
  logRetentionDays: 30,
  metricsHistoryDays: 28,
  clusters: [
    {
      ...awsCluster(
        'staging',
        'us-east-1',
        KubernetesVersion.V1_34,
        STAGING_SIZING,
        [1, 20],
        true,
        awsRuntime({ workspaceArn: ampWorkspaceArn('us-east-1', 2) }, false),
      ),
      gitopsAddons: { engine: GitOpsEngine.argoCd(), verticalPodAutoscaler: { enabled: true } },
      headroom: { podResources: HEADROOM_POD, scaling: HeadroomScaling.fixed(1) },
    },
    azureCluster('staging', 'westeurope', KubernetesVersion.V1_34, STAGING_SIZING),
  ],
};

/** prod keeps a larger on-demand share, headroom ahead of demand, and long retention. */
const PROD: EnvironmentConfig = {
  name: 'prod',
  logRetentionDays: 90,
  metricsHistoryDays: 35,
  clusters: [
    {
      // The CDK stack applies prod's charts: the runtime runs the image the stack builds from runtime/.
      ...awsCluster(
        'prod',
        'us-east-1',
        KubernetesVersion.V1_34,
        PROD_SIZING,
        [3, 50],
        false,
        awsRuntime({ workspaceArn: ampWorkspaceArn('us-east-1', 3) }, true),
      ),
      autoscalerProfile: { balanceSimilarNodeGroups: true },
      // A node's worth of room all day, four ahead of the US business-day ramp.
      headroom: {
        podResources: HEADROOM_POD,
        scaling: HeadroomScaling.cron(
          [{ timezone: 'America/New_York', start: '30 7 * * 1-5', end: '0 20 * * 1-5', replicas: 4 }],
          1,
        ),
      },
    },
    {
      ...azureCluster('prod', 'westeurope', KubernetesVersion.V1_34, PROD_SIZING),
      headroom: { podResources: HEADROOM_POD, scaling: HeadroomScaling.fixed(2) },
    },
  ],
};

/** Every environment, in promotion order. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [DEV, STAGING, PROD];
