import { Construct } from 'constructs';
import { Size } from 'cdk8s';
import { Cpu, k8s } from 'cdk8s-plus-28';
import {
  clusterAutoscalerFlags,
  renderExpanderPriorities,
  resolveAutoscalerProfile,
  type AutoscalerProfile,
} from './autoscaler-profile.js';
import { AWS_REGION_NAME } from './aws-regions.js';
import { ClusterChart, type Cloud } from './cluster-info.js';
import type { KubernetesVersion } from './kubernetes-version.js';
import { MetricsMonitor, MetricsTarget } from './metrics-monitor.js';
import { MetricsScraping, scraperIngress } from './metrics-scraping.js';
import { Placement } from './placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security.js';
import { renderResources, type ContainerResources } from './resources.js';
import { checkDnsLabel, checkImage, checkInteger, PropError, checkQualifiedName } from './validation.js';

/** Options of the AWS cloud provider. */
export interface AwsCloudProviderOptions {
  /**
   * AWS region of the cluster's Auto Scaling groups, passed as `AWS_REGION`: a region name of any
   * partition (`AWS_REGION_NAME`), e.g. `eu-west-1`, `cn-north-1`, `eusc-de-east-1`.
   * @default unset: the region comes from the IRSA webhook or the instance metadata
   */
  readonly region?: string;
}

/**
 * The cloud provider cluster-autoscaler drives. Only AWS (Auto Scaling groups found by tag) is
 * implemented; on AKS the managed autoscaler is used instead. Further providers (`clusterapi`, a
 * self-managed Azure VMSS autoscaler) would be new static factories here.
 */
export class CloudProvider {
  /** EC2 Auto Scaling groups, discovered by the `k8s.io/cluster-autoscaler/...` tags. */
  static aws(options: AwsCloudProviderOptions = {}): CloudProvider {
    const env: Record<string, string> = {};
    if (options.region !== undefined) {
      if (!AWS_REGION_NAME.test(options.region)) {
        throw new PropError('cloudProvider.region', options.region, 'must be an AWS region like "eu-west-1"');
      }
      env.AWS_REGION = options.region;
    }
    return new CloudProvider('aws', env);
  }

  private constructor(
    /** The cloud, as `ClusterInfo.cloud` spells it. */
    readonly cloud: Cloud,
    /** Environment variables the provider needs in the autoscaler container. */
    readonly env: Readonly<Record<string, string>>,
  ) {}
}

/** Where the autoscaler image is pulled from. */
export interface ClusterAutoscalerImage {
  /**
   * Image repository, e.g. a pull-through mirror of the upstream image.
   * @default 'registry.k8s.io/autoscaling/cluster-autoscaler'
   */
  readonly repository?: string;
  /**
   * Release tag `vX.Y.Z`; its minor must equal the cluster's.
   * @default the newest known patch for the cluster's minor (`KubernetesVersion.clusterAutoscalerTag`)
   */
  readonly tag?: string;
}

/** Props for a {@link ClusterAutoscaler}. */
export interface ClusterAutoscalerProps {
  /** Namespace of the autoscaler and its namespaced objects. @default 'kube-system' */
  readonly namespace?: string;
  /** The cloud whose node groups are scaled, e.g. `CloudProvider.aws({ region: 'eu-west-1' })`. */
  readonly cloudProvider: CloudProvider;
  /**
   * Cluster name used in the node-group auto-discovery tag `k8s.io/cluster-autoscaler/<clusterName>`.
   * @default the enclosing ClusterChart's cluster name
   */
  readonly clusterName?: string;
  /**
   * Kubernetes minor of the cluster; the autoscaler image's minor is pinned to it.
   * @default the enclosing ClusterChart's cluster version (required outside a ClusterChart)
   */
  readonly kubernetesVersion?: KubernetesVersion;
  /** Autoscaler tunables; unset fields take upstream's defaults. @default DEFAULT_AUTOSCALER_PROFILE */
  readonly profile?: Partial<AutoscalerProfile>;
  /**
   * Annotations of the ServiceAccount: the identity hook, e.g. IRSA's `eks.amazonaws.com/role-arn`
   * (or `azure.workload.identity/client-id`). @default {}
   */
  readonly serviceAccountAnnotations?: Readonly<Record<string, string>>;
  /** Pod replicas; only the leader-elected one acts, others are warm standbys. @default 1 */
  readonly replicas?: number;
  /** Container CPU and memory. @default requests 100m CPU / 600Mi memory (upstream's example) */
  readonly resources?: ContainerResources;
  /** Image repository and tag overrides. @default upstream image, tag pinned to the cluster's minor */
  readonly image?: ClusterAutoscalerImage;
  /**
   * Run the autoscaler's CapacityBuffer controller and buffer pod injection, so `CapacityBuffer`
   * objects (e.g. from `Headroom` with `HeadroomMode.capacityBuffer()`) reserve capacity. Adds the
   * flags and the RBAC rules the controller needs ({@link capacityBufferFlags}). Needs Kubernetes
   * (and cluster-autoscaler) >= 1.34, and the `capacitybuffers.autoscaling.x-k8s.io` CRD installed.
   * @default false
   */
  readonly capacityBuffers?: boolean;
  /**
   * Who scrapes the autoscaler's `/metrics` (port 8085: `cluster_autoscaler_failed_scale_ups_total`,
   * `cluster_autoscaler_unschedulable_pods_count`, read by `RuntimeAlerts` and the dashboard). A
   * NetworkPolicy lets only the scraper's namespaces reach the port (`none()`: nobody); with a monitor
   * flavour a PodMonitor (job `cluster-autoscaler`) is written too.
   * @default MetricsScraping.collector(): the `monitoring` namespace let in, no PodMonitor
   */
  readonly monitoring?: MetricsScraping;
}

/** Name of every object the construct emits (and of the leader-election Lease). */
const NAME = 'cluster-autoscaler';
/** ConfigMap the priority expander reads (fixed by upstream). */
export const PRIORITY_EXPANDER_CONFIGMAP = 'cluster-autoscaler-priority-expander';
/** Status ConfigMap the autoscaler writes (upstream's default `--status-config-map-name`). */
const STATUS_CONFIGMAP = 'cluster-autoscaler-status';
/** Port of the metrics and `/health-check` endpoints (upstream's default `--address`). */
export const CLUSTER_AUTOSCALER_PORT = 8085;
const DEFAULT_REPOSITORY = 'registry.k8s.io/autoscaling/cluster-autoscaler';

const READ = ['watch', 'list', 'get'];

/** First Kubernetes (= cluster-autoscaler) minor with the CapacityBuffer controller. */
export const CAPACITY_BUFFER_MIN_MINOR = 34;

/*
 * CapacityBuffer support, checked against kubernetes/autoscaler source, issues and PRs (as of 2026-09):
 *
 * - Flags: `--capacity-buffer-controller-enabled` ("Whether to enable the default controller for
 *   capacity buffers") and `--capacity-buffer-pod-injection-enabled` ("Whether to enable pod list
 *   processor that processes ready capacity buffers and injects fake pods"), both default false;
 *   `cluster-autoscaler/config/flags/flags.go` (1.34 and master), added in PR #8540.
 * - `--kube-api-content-type=application/json`: the buffer client inherits the global client
 *   config, whose default protobuf cannot encode a CRD ("*v1beta1.CapacityBuffer does not implement
 *   the protobuf marshalling interface"; issue #8855). Master pins JSON for that client only since
 *   PR #9603 (2026-05), which is not known to be in the 1.34/1.35 patches pinned here.
 * - From 1.36 the controller resolves each buffer's pod with a server-side dry-run pod create and
 *   keeps a managed PodTemplate also for `podTemplateRef` buffers (PR #9265, merged 2026-02 after
 *   the 1.35 branch; inferred for 1.36, not read from the v1.36.1 tag). The dry run needs
 *   `create` on pods in every namespace, i.e. the power to run any pod; we turn it off
 *   (`--capacity-buffer-pod-dry-run-enabled=false`, its flag in master's flags.go) rather than
 *   grant that, and grant only PodTemplate writes.
 * - RBAC: upstream's Helm chart gained CapacityBuffer rules only in PR #9933 (2026-07: buffers,
 *   their status, PodTemplate writes, Deployment reads). The buffer client
 *   (`capacitybuffer/client/client.go`) lists/watches capacitybuffers, updates their status, and
 *   runs informers on podtemplates, deployments, replicasets, statefulsets, jobs,
 *   replicationcontrollers and (with the 1.35 quota integration, release issue #8960)
 *   resourcequotas; the base rules already cover replicasets, statefulsets, jobs and
 *   replicationcontrollers. `scalableRef` buffers read `/scale` of arbitrary kinds; Headroom uses
 *   only `podTemplateRef`, so no scale access is granted (upstream logs the ClusterRole to
 *   aggregate when one is needed, `capacitybuffer/controller/rbac.go`).
 */

/** The flags `capacityBuffers: true` adds, for a Kubernetes minor. */
export function capacityBufferFlags(version: KubernetesVersion): string[] {
  return [
    '--capacity-buffer-controller-enabled=true',
    '--capacity-buffer-pod-injection-enabled=true',
    '--kube-api-content-type=application/json',
    ...(version.minor >= 36 ? ['--capacity-buffer-pod-dry-run-enabled=false'] : []),
  ];
}

/** The ClusterRole rules `capacityBuffers: true` adds (see the sources above). */
function capacityBufferRules(version: KubernetesVersion): k8s.PolicyRule[] {
  const rules: k8s.PolicyRule[] = [
    { apiGroups: ['autoscaling.x-k8s.io'], resources: ['capacitybuffers'], verbs: READ },
    {
      apiGroups: ['autoscaling.x-k8s.io'],
      resources: ['capacitybuffers/status'],
      verbs: ['update', 'patch'],
    },
    { apiGroups: [''], resources: ['podtemplates'], verbs: READ },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: READ },
  ];
  if (version.minor >= 35) {
    rules.push({ apiGroups: [''], resources: ['resourcequotas'], verbs: READ });
  }
  if (version.minor >= 36) {
    rules.push({ apiGroups: [''], resources: ['podtemplates'], verbs: ['create', 'update', 'patch'] });
  }
  return rules;
}

/**
 * ClusterRole rules, equal to upstream's AWS manifest
 * `cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml` (master, which
 * also matches the Helm chart's `clusterrole.yaml` for `cloudProvider: aws`). Upstream uses no
 * wildcard verbs or resources. `resource.k8s.io` read access is only granted from 1.35, where
 * dynamic resource allocation is always on (upstream PR #9487); `volumeattachments` comes from
 * upstream PR #7904.
 */
function clusterRules(version: KubernetesVersion): k8s.PolicyRule[] {
  const rules: k8s.PolicyRule[] = [
    { apiGroups: [''], resources: ['events', 'endpoints'], verbs: ['create', 'patch'] },
    { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    { apiGroups: [''], resources: ['pods/status'], verbs: ['update'] },
    { apiGroups: [''], resources: ['endpoints'], resourceNames: [NAME], verbs: ['get', 'update'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['watch', 'list', 'get', 'update'] },
    {
      apiGroups: [''],
      resources: [
        'namespaces',
        'pods',
        'services',
        'replicationcontrollers',
        'persistentvolumeclaims',
        'persistentvolumes',
      ],
      verbs: READ,
    },
    { apiGroups: ['extensions'], resources: ['replicasets', 'daemonsets'], verbs: READ },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['watch', 'list'] },
    { apiGroups: ['apps'], resources: ['statefulsets', 'replicasets', 'daemonsets'], verbs: READ },
  ];
  if (version.minor >= 35) {
    rules.push({
      apiGroups: ['resource.k8s.io'],
      resources: ['deviceclasses', 'resourceslices', 'resourceclaims'],
      verbs: READ,
    });
  }
  rules.push(
    {
      apiGroups: ['storage.k8s.io'],
      resources: ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities', 'volumeattachments'],
      verbs: READ,
    },
    { apiGroups: ['batch', 'extensions'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: [NAME],
      verbs: ['get', 'update'],
    },
  );
  return rules;
}

/**
 * Namespaced Role rules for the status (and priority-expander) ConfigMaps, as upstream's Helm chart
 * `role.yaml` renders them: list/watch and the priority-expander ConfigMap only when that expander
 * is used.
 */
function namespaceRules(usesPriority: boolean): k8s.PolicyRule[] {
  return [
    {
      apiGroups: [''],
      resources: ['configmaps'],
      verbs: usesPriority ? ['create', 'list', 'watch'] : ['create'],
    },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: usesPriority ? [STATUS_CONFIGMAP, PRIORITY_EXPANDER_CONFIGMAP] : [STATUS_CONFIGMAP],
      verbs: usesPriority ? ['delete', 'get', 'update', 'watch'] : ['delete', 'get', 'update'],
    },
  ];
}

/**
 * cluster-autoscaler for a self-managed node-group autoscaler (EKS): ServiceAccount, least-privilege
 * RBAC equal to upstream's, the Deployment (image minor pinned to the cluster's, flags from the typed
 * {@link AutoscalerProfile}), a PodDisruptionBudget, a NetworkPolicy that lets only the metrics scraper
 * in (on the metrics port; kubelet probes come from the node), a PodMonitor where a Prometheus operator
 * scrapes it and, when the priority expander is used, its ConfigMap.
 */
export class ClusterAutoscaler extends Construct {
  /** Name of the ServiceAccount (for IRSA trust policies: `system:serviceaccount:<ns>:<name>`). */
  readonly serviceAccountName: string = NAME;
  /** Namespace of the autoscaler. */
  readonly namespace: string;
  /** The autoscaler's command-line flags, sorted. */
  readonly flags: readonly string[];
  /** The container image, pinned to a tag. */
  readonly image: string;
  /** The resolved, validated profile. */
  readonly profile: AutoscalerProfile;
  /** Whether the CapacityBuffer controller and buffer pod injection are on. */
  readonly capacityBuffers: boolean;
  /** Who scrapes the autoscaler's metrics. */
  readonly monitoring: MetricsScraping;

  constructor(scope: Construct, id: string, props: ClusterAutoscalerProps) {
    super(scope, id);
    const cluster = ClusterChart.find(this)?.cluster;

    this.namespace = props.namespace ?? 'kube-system';
    checkDnsLabel('namespace', this.namespace);

    if (!(props.cloudProvider instanceof CloudProvider)) {
      throw new PropError(
        'cloudProvider',
        props.cloudProvider,
        'must be a CloudProvider (CloudProvider.aws())',
      );
    }
    if (cluster && cluster.cloud !== props.cloudProvider.cloud) {
      throw new PropError(
        'cloudProvider',
        props.cloudProvider.cloud,
        `must match the cluster's cloud (${cluster.cloud})`,
      );
    }

    const clusterName = props.clusterName ?? cluster?.name;
    if (clusterName === undefined) {
      throw new PropError('clusterName', clusterName, 'is required outside a ClusterChart');
    }

    const version = props.kubernetesVersion ?? cluster?.kubernetesVersion;
    if (version === undefined) {
      throw new PropError('kubernetesVersion', version, 'is required outside a ClusterChart');
    }
    if (
      cluster &&
      props.kubernetesVersion &&
      props.kubernetesVersion.version !== cluster.kubernetesVersion.version
    ) {
      throw new PropError(
        'kubernetesVersion',
        props.kubernetesVersion.version,
        `must equal the cluster's Kubernetes minor (${cluster.kubernetesVersion.version}): the autoscaler's minor must match the cluster's`,
      );
    }

    this.image = resolveImage(props.image ?? {}, version);

    this.capacityBuffers = props.capacityBuffers ?? false;
    if (typeof this.capacityBuffers !== 'boolean') {
      throw new PropError('capacityBuffers', this.capacityBuffers, 'must be a boolean');
    }
    if (this.capacityBuffers && version.minor < CAPACITY_BUFFER_MIN_MINOR) {
      throw new PropError(
        'capacityBuffers',
        true,
        `needs Kubernetes >= 1.${CAPACITY_BUFFER_MIN_MINOR} (the cluster runs ${version.version}): cluster-autoscaler has no CapacityBuffer controller before 1.${CAPACITY_BUFFER_MIN_MINOR}`,
      );
    }

    const replicas = props.replicas ?? 1;
    checkInteger('replicas', replicas, 1);

    const resources = renderResources(
      'resources',
      props.resources ?? { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(600) } },
    );

    this.profile = resolveAutoscalerProfile(props.profile ?? {}, 'profile');
    this.flags = [
      ...clusterAutoscalerFlags(this.profile, props.cloudProvider.cloud, clusterName),
      `--address=:${CLUSTER_AUTOSCALER_PORT}`,
      `--namespace=${this.namespace}`,
      ...(this.capacityBuffers ? capacityBufferFlags(version) : []),
    ].sort();

    const annotations = props.serviceAccountAnnotations ?? {};
    for (const [key, value] of Object.entries(annotations)) {
      checkQualifiedName('serviceAccountAnnotations', key, 'annotation');
      if (typeof value !== 'string') {
        throw new PropError(`serviceAccountAnnotations["${key}"]`, value, 'must be a string');
      }
    }

    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': 'node-autoscaler' };
    const selector = { 'app.kubernetes.io/name': NAME };
    const meta = (namespaced: boolean): k8s.ObjectMeta => ({
      name: NAME,
      ...(namespaced ? { namespace: this.namespace } : {}),
      labels,
    });
    const subject: k8s.Subject = { kind: 'ServiceAccount', name: NAME, namespace: this.namespace };

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        ...meta(true),
        ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      },
      // The pod opts in below; nothing else should get this identity's token by default.
      automountServiceAccountToken: false,
    });
    new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: meta(false),
      rules: [...clusterRules(version), ...(this.capacityBuffers ? capacityBufferRules(version) : [])],
    });
    new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: meta(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [subject],
    });
    new k8s.KubeRole(this, 'Role', {
      metadata: meta(true),
      rules: namespaceRules(this.profile.expander.usesPriority),
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: meta(true),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [subject],
    });

    if (this.profile.expander.usesPriority) {
      new k8s.KubeConfigMap(this, 'PriorityExpander', {
        metadata: { name: PRIORITY_EXPANDER_CONFIGMAP, namespace: this.namespace, labels },
        data: { priorities: renderExpanderPriorities(this.profile.expander.priorities ?? {}) },
      });
    }

    const probe = (): k8s.Probe => ({
      httpGet: { path: '/health-check', port: k8s.IntOrString.fromString('http') },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });

    new k8s.KubeDeployment(this, 'Deployment', {
      metadata: meta(true),
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            // The autoscaler watches pods and nodes and writes leases: it needs the API token.
            automountServiceAccountToken: true,
            priorityClassName: 'system-cluster-critical',
            securityContext: restrictedPodSecurityContext(),
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
            // Never on spot capacity: an interruption would stop all node scaling.
            affinity: Placement.onDemandOnly().podSpecFields().affinity,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'topology.kubernetes.io/zone',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
            ],
            containers: [
              {
                name: NAME,
                image: this.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/cluster-autoscaler', ...this.flags],
                env: Object.entries(props.cloudProvider.env)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([name, value]) => ({ name, value })),
                ports: [{ name: 'http', containerPort: CLUSTER_AUTOSCALER_PORT, protocol: 'TCP' }],
                livenessProbe: { ...probe(), initialDelaySeconds: 30 },
                readinessProbe: probe(),
                resources,
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
      metadata: meta(true),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });

    // The autoscaler takes no connections but the scraper's (its probes come from the node).
    this.monitoring = props.monitoring ?? MetricsScraping.collector();
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: meta(true),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: scraperIngress(this.monitoring, 'monitoring', CLUSTER_AUTOSCALER_PORT),
      },
    });
    new MetricsMonitor(this, 'PodMonitor', {
      name: NAME,
      namespace: this.namespace,
      scraping: this.monitoring,
      target: MetricsTarget.podPort(selector, 'http'),
      jobLabel: 'app.kubernetes.io/name',
      prop: 'monitoring',
    });
  }
}

/** The pinned image reference; a tag override must keep the cluster's minor. */
function resolveImage(image: ClusterAutoscalerImage, version: KubernetesVersion): string {
  const repository = image.repository ?? DEFAULT_REPOSITORY;
  if (/[@\s]/.test(repository) || /:[^/]*$/.test(repository) || repository.length === 0) {
    throw new PropError('image.repository', repository, 'must be a repository without tag or digest');
  }
  const tag = image.tag ?? version.clusterAutoscalerTag;
  const match = /^v1\.(\d+)\.\d+$/.exec(tag);
  if (!match) throw new PropError('image.tag', tag, 'must be a release tag like "v1.33.6"');
  if (Number(match[1]) !== version.minor) {
    throw new PropError('image.tag', tag, `must have the cluster's Kubernetes minor (${version.version})`);
  }
  const ref = `${repository}:${tag}`;
  checkImage('image', ref);
  return ref;
}
