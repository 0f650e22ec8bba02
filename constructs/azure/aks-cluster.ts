import * as pulumi from '@pulumi/pulumi';
import { listManagedClusterUserCredentialsOutput } from '@pulumi/azure-native/containerservice/listManagedClusterUserCredentials.js';
import { ManagedCluster } from '@pulumi/azure-native/containerservice/managedCluster.js';
import type { AutoscalerProfile } from '../k8s/autoscaler-profile.js';
import type { ClusterInfo } from '../k8s/cluster-info.js';
import { PropError } from '../k8s/validation.js';
import {
  AksControlPlaneLogs,
  checkAksControlPlaneLogs,
  type AksLogCategory,
} from './aks-control-plane-logs.js';
import { checkAzureLocation, checkAzureTags } from './azure-checks.js';
import { AksManagedPrometheus } from './aks-managed-prometheus.js';
import { AksNodePool } from './aks-node-pool.js';
import { type AksAutoScalerProfile, aksAutoScalerProfile } from './aks-autoscaler-profile.js';
import { type AksPoolSpec, aksPoolSpec, splitAksPools } from './aks-pool-spec.js';
import { aksExecKubeconfig, type KubeloginMode } from './kubeconfig.js';

/**
 * Cluster names this package takes. The name is both the AKS resource name (1-63 letters, digits, "-"
 * and "_") and the DNS prefix (1-54 letters, digits and "-", starting and ending with a letter or
 * digit), so it must satisfy both: 1-54 letters, digits and "-", starting and ending alphanumeric.
 */
const CLUSTER_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$/;
/** AKS pricing tiers. */
const SKU_TIERS: readonly string[] = ['Free', 'Standard', 'Premium'];
/** A user-assigned managed identity's resource id. */
const USER_ASSIGNED_IDENTITY_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w._()]{1,90}\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[A-Za-z0-9][-\w]{2,127}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The network policy engine, on Azure CNI in overlay mode (pods get addresses from a private overlay
 * range, not the VNet). `cilium`: Azure CNI powered by Cilium, which enforces NetworkPolicy in eBPF
 * (the Tenant and SystemNamespace constructs rely on NetworkPolicy). `calico`: Calico on the classic
 * Azure dataplane.
 */
export type AksNetworkPolicy = 'cilium' | 'calico';

/** Props for an {@link AksCluster}. */
export interface AksClusterProps {
  /**
   * The cluster from the shared table: its name (1-54 letters, digits and "-"; also the AKS resource
   * name and DNS prefix), its Kubernetes minor, its pools (exactly one `system` pool, created inline; every `user` pool becomes an
   * {@link AksNodePool}) and whether it runs the VPA (AKS's managed VPA add-on).
   */
  readonly cluster: ClusterInfo;
  /** Resource group the cluster and its monitoring live in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure location name, e.g. `westeurope` (not the display name `West Europe`). */
  readonly location: string;
  /** The shared autoscaler profile, mapped to `autoScalerProfile`. @default upstream defaults */
  readonly autoscalerProfile?: Partial<AutoscalerProfile>;
  /** Spot price cap per spot pool name (see AksPoolOptions.spotMaxPrice). @default -1 for every spot pool */
  readonly spotMaxPrice?: Readonly<Record<string, number>>;
  /** Zones for pools that name none. @default ['1', '2', '3'] */
  readonly defaultZones?: readonly string[];
  /** Network policy engine. @default 'cilium' */
  readonly networkPolicy?: AksNetworkPolicy;
  /** Entra ID groups given cluster-admin (break-glass; day-to-day access uses Azure RBAC roles). @default [] */
  readonly adminGroupObjectIds?: readonly string[];
  /** AKS pricing tier; `Standard` carries the uptime SLA production needs. @default 'Standard' */
  readonly skuTier?: 'Free' | 'Standard' | 'Premium';
  /**
   * Control-plane logs to a Log Analytics workspace kept this many days (30-730); the environment's
   * `logRetentionDays`. @default no control-plane logs
   */
  readonly logRetentionDays?: number;
  /** Control-plane log categories; only with `logRetentionDays`. @default DEFAULT_AKS_LOG_CATEGORIES */
  readonly logCategories?: readonly AksLogCategory[];
  /** Azure Monitor managed Prometheus (workspace, data collection endpoint/rule, associations). @default true */
  readonly managedPrometheus?: boolean;
  /** Resource id of a user-assigned identity for the control plane. @default a system-assigned identity */
  readonly controlPlaneIdentityId?: pulumi.Input<string>;
  /**
   * Azure tags on every resource: at most 50, names of 1-512 characters without `< > % & \ ? /`,
   * values of at most 256 characters. @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * An AKS cluster (`containerservice.ManagedCluster`) as ElasticAI runs it: a zonal system pool
 * tainted `CriticalAddonsOnly`, managed identity, OIDC issuer and workload identity, Entra ID
 * authentication with Azure RBAC and local accounts disabled, Azure CNI overlay with a network policy
 * engine, the managed cluster autoscaler tuned from the shared profile, the KEDA add-on, optionally
 * the managed VPA, Azure Monitor managed Prometheus and control-plane logs, plus one
 * {@link AksNodePool} per user pool.
 *
 * Everything is validated before any resource is registered; errors name the prop and value. Node
 * counts of autoscaled pools are ignored on update (`ignoreChanges`), so `pulumi up` never fights the
 * autoscaler.
 */
export class AksCluster extends pulumi.ComponentResource {
  readonly managedCluster: ManagedCluster;
  /** User pools, by pool name. */
  readonly nodePools: Readonly<Record<string, AksNodePool>>;
  /** The system pool's validated properties. */
  readonly systemPool: AksPoolSpec;
  /** The `autoScalerProfile` sent to AKS. */
  readonly autoScalerProfile: AksAutoScalerProfile;
  /** The cluster's OIDC issuer URL (issuer of federated identity credentials). */
  readonly oidcIssuerUrl: pulumi.Output<string>;
  readonly managedPrometheus?: AksManagedPrometheus;
  readonly controlPlaneLogs?: AksControlPlaneLogs;
  private readonly resourceGroupName: pulumi.Input<string>;
  private readonly clusterName: string;

  constructor(name: string, props: AksClusterProps, opts?: pulumi.ComponentResourceOptions) {
    const info = props.cluster;
    if (info.cloud !== 'azure')
      throw new PropError('cluster.cloud', info.cloud, 'must be "azure" for an AKS cluster');
    if (typeof info.name !== 'string' || !CLUSTER_NAME.test(info.name)) {
      throw new PropError(
        'cluster.name',
        info.name,
        'must be 1-54 letters, digits or "-", starting and ending with a letter or digit (it is also the AKS DNS prefix)',
      );
    }
    checkAzureLocation('location', props.location);
    if (props.skuTier !== undefined && !SKU_TIERS.includes(props.skuTier)) {
      throw new PropError('skuTier', props.skuTier, `must be one of ${SKU_TIERS.join(', ')}`);
    }
    const tags = { ...(props.tags ?? {}) };
    checkAzureTags('tags', tags);
    if (props.logRetentionDays !== undefined) {
      checkAksControlPlaneLogs(props.logRetentionDays, props.logCategories);
    } else if (props.logCategories !== undefined) {
      throw new PropError(
        'logCategories',
        props.logCategories,
        'needs logRetentionDays (no logs are sent without it)',
      );
    }
    (props.defaultZones ?? []).forEach((zone, i) => {
      if (!/^[1-3]$/.test(zone)) {
        throw new PropError(`defaultZones[${i}]`, zone, 'must be an Azure zone number "1", "2" or "3"');
      }
    });
    if (
      typeof props.controlPlaneIdentityId === 'string' &&
      !USER_ASSIGNED_IDENTITY_ID.test(props.controlPlaneIdentityId)
    ) {
      throw new PropError(
        'controlPlaneIdentityId',
        props.controlPlaneIdentityId,
        'must be the resource id of a user-assigned managed identity (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)',
      );
    }
    if (info.verticalPodAutoscaler !== undefined && typeof info.verticalPodAutoscaler !== 'boolean') {
      throw new PropError(
        'cluster.verticalPodAutoscaler',
        info.verticalPodAutoscaler,
        'must be true or false',
      );
    }
    const { system, user } = splitAksPools(info.nodePools, 'cluster.nodePools');
    const version = info.kubernetesVersion.version;
    const spotPrices = props.spotMaxPrice ?? {};
    for (const [pool, price] of Object.entries(spotPrices)) {
      const found = info.nodePools.find((p) => p.name === pool);
      if (!found || found.capacityType !== 'spot') {
        throw new PropError(`spotMaxPrice.${pool}`, price, `names no spot pool of cluster "${info.name}"`);
      }
    }
    const index = (pool: string): number => info.nodePools.findIndex((p) => p.name === pool);
    const poolOptions = (pool: string) => ({
      kubernetesVersion: version,
      defaultZones: props.defaultZones,
      spotMaxPrice: spotPrices[pool],
    });
    const systemSpec = aksPoolSpec(
      system,
      poolOptions(system.name),
      `cluster.nodePools[${index(system.name)}]`,
    );
    // Validate the user pools now too, so that a bad one fails before anything is registered.
    for (const pool of user)
      aksPoolSpec(pool, poolOptions(pool.name), `cluster.nodePools[${index(pool.name)}]`);
    const autoScalerProfile = aksAutoScalerProfile(props.autoscalerProfile);
    (props.adminGroupObjectIds ?? []).forEach((id, i) => {
      if (!GUID.test(id))
        throw new PropError(`adminGroupObjectIds[${i}]`, id, 'must be an Entra ID group object id (GUID)');
    });
    const networkPolicy = props.networkPolicy ?? 'cilium';
    if (networkPolicy !== 'cilium' && networkPolicy !== 'calico') {
      throw new PropError('networkPolicy', networkPolicy, 'must be "cilium" or "calico"');
    }
    const managedPrometheus = props.managedPrometheus ?? true;

    super('elasticai:azure:AksCluster', name, {}, opts);
    this.systemPool = systemSpec;
    this.autoScalerProfile = autoScalerProfile;
    this.resourceGroupName = props.resourceGroupName;
    this.clusterName = info.name;

    this.managedCluster = new ManagedCluster(
      name,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        resourceName: info.name,
        dnsPrefix: info.name,
        kubernetesVersion: version,
        sku: { name: 'Base', tier: props.skuTier ?? 'Standard' },
        identity: props.controlPlaneIdentityId
          ? { type: 'UserAssigned', userAssignedIdentities: [props.controlPlaneIdentityId] }
          : { type: 'SystemAssigned' },
        enableRBAC: true,
        disableLocalAccounts: true,
        aadProfile: {
          managed: true,
          enableAzureRBAC: true,
          adminGroupObjectIDs: [...(props.adminGroupObjectIds ?? [])],
        },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
        networkProfile:
          networkPolicy === 'cilium'
            ? {
                networkPlugin: 'azure',
                networkPluginMode: 'overlay',
                networkDataplane: 'cilium',
                networkPolicy: 'cilium',
                loadBalancerSku: 'standard',
              }
            : {
                networkPlugin: 'azure',
                networkPluginMode: 'overlay',
                networkPolicy: 'calico',
                loadBalancerSku: 'standard',
              },
        agentPoolProfiles: [
          {
            name: systemSpec.name,
            mode: systemSpec.mode,
            vmSize: systemSpec.vmSize,
            osType: systemSpec.osType,
            type: systemSpec.type,
            orchestratorVersion: systemSpec.orchestratorVersion,
            availabilityZones: systemSpec.availabilityZones,
            enableAutoScaling: systemSpec.enableAutoScaling,
            minCount: systemSpec.minCount,
            maxCount: systemSpec.maxCount,
            count: systemSpec.count,
            nodeLabels: systemSpec.nodeLabels,
            nodeTaints: systemSpec.nodeTaints,
          },
        ],
        autoScalerProfile,
        workloadAutoScalerProfile: {
          keda: { enabled: true },
          verticalPodAutoscaler: { enabled: info.verticalPodAutoscaler ?? false },
        },
        azureMonitorProfile: { metrics: { enabled: managedPrometheus } },
        autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: 'NodeImage' },
        tags,
      },
      {
        parent: this,
        // The autoscaler owns the system pool's node count once the cluster exists.
        ignoreChanges: systemSpec.enableAutoScaling ? ['agentPoolProfiles[0].count'] : [],
      },
    );
    this.oidcIssuerUrl = this.managedCluster.oidcIssuerProfile.apply((p) => {
      if (!p?.issuerURL) throw new Error(`AKS cluster "${info.name}" returned no OIDC issuer URL`);
      return p.issuerURL;
    });

    const pools: Record<string, AksNodePool> = {};
    for (const pool of user) {
      pools[pool.name] = new AksNodePool(
        `${name}-${pool.name}`,
        {
          ...poolOptions(pool.name),
          resourceGroupName: props.resourceGroupName,
          clusterName: this.managedCluster.name,
          pool,
          propPath: `cluster.nodePools[${index(pool.name)}]`,
          tags,
        },
        { parent: this },
      );
    }
    this.nodePools = Object.freeze(pools);

    if (managedPrometheus) {
      this.managedPrometheus = new AksManagedPrometheus(
        `${name}-prometheus`,
        {
          resourceGroupName: props.resourceGroupName,
          location: props.location,
          clusterName: info.name,
          clusterId: this.managedCluster.id,
        },
        { parent: this },
      );
    }
    if (props.logRetentionDays !== undefined) {
      this.controlPlaneLogs = new AksControlPlaneLogs(
        `${name}-logs`,
        {
          resourceGroupName: props.resourceGroupName,
          location: props.location,
          clusterName: info.name,
          clusterId: this.managedCluster.id,
          retentionInDays: props.logRetentionDays,
          categories: props.logCategories,
        },
        { parent: this },
      );
    }
    this.registerOutputs({ clusterId: this.managedCluster.id, oidcIssuerUrl: this.oidcIssuerUrl });
  }

  /**
   * A kubeconfig (secret) for the Pulumi Kubernetes provider: the cluster's user credentials turned
   * into a `kubelogin get-token --login <mode>` exec plugin (see {@link aksExecKubeconfig}). With
   * local accounts disabled there is no admin certificate; the identity running `pulumi up` needs an
   * Azure RBAC role on the cluster (or membership of an admin group).
   */
  kubeconfig(loginMode: KubeloginMode = 'azurecli'): pulumi.Output<string> {
    const credentials = listManagedClusterUserCredentialsOutput(
      { resourceGroupName: this.resourceGroupName, resourceName: this.managedCluster.name, format: 'exec' },
      { parent: this },
    );
    const tenantId = this.managedCluster.aadProfile.apply((p) => p?.tenantID);
    return pulumi.secret(
      pulumi.all([credentials, tenantId]).apply(([c, tenant]) => {
        const first = c.kubeconfigs[0];
        if (!first) throw new Error(`AKS cluster "${this.clusterName}" returned no user kubeconfig`);
        return aksExecKubeconfig(Buffer.from(first.value, 'base64').toString('utf8'), {
          clusterName: this.clusterName,
          loginMode,
          tenantId: tenant,
        });
      }),
    );
  }
}
