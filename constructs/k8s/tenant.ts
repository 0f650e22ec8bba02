import { ApiObject, Size } from 'cdk8s';
import { Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MetricsMonitor, MetricsTarget } from './metrics-monitor.js';
import { MetricsScraping, namespacePeer, tcpPort } from './metrics-scraping.js';
import { memoryKiB, positiveCpuMillis } from './resources.js';
import { isQuotaConsumer } from './scalable-workload.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkInteger,
  checkNonEmpty,
  checkLabelValue,
} from './validation.js';

/** Label every tenant namespace carries, value the tenant's name. */
export const TENANT_LABEL = 'elasticai.io/tenant';

/** Label the API server sets on every namespace (since 1.21), value the namespace's name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A port a network rule allows. */
export class TenantPort {
  /** A TCP port (1-65535). */
  static tcp(port: number): TenantPort {
    return new TenantPort('TCP', port);
  }

  /** A UDP port (1-65535). */
  static udp(port: number): TenantPort {
    return new TenantPort('UDP', port);
  }

  private constructor(
    readonly protocol: 'TCP' | 'UDP',
    readonly port: number,
  ) {}

  /** @internal */
  _render(prop: string): k8s.NetworkPolicyPort {
    checkInteger(prop, this.port, 1, 65535);
    return { protocol: this.protocol, port: k8s.IntOrString.fromNumber(this.port) };
  }
}

/** A source of traffic the tenant's pods accept (beyond their own namespace). */
export class TenantIngress {
  /**
   * Pods of another namespace (matched by the API server's `kubernetes.io/metadata.name` label),
   * e.g. the ingress controller's namespace.
   * @param ports ports they may reach. @default all ports
   */
  static fromNamespace(namespace: string, ports: readonly TenantPort[] = []): TenantIngress {
    return new TenantIngress({ namespace }, ports);
  }

  /**
   * Addresses outside the cluster (a load balancer's subnet, a VPN range), as an IPv4 or IPv6 CIDR.
   * @param ports ports they may reach. @default all ports
   */
  static fromCidr(cidr: string, ports: readonly TenantPort[] = []): TenantIngress {
    return new TenantIngress({ cidr }, ports);
  }

  private constructor(
    private readonly source: { readonly namespace?: string; readonly cidr?: string },
    private readonly ports: readonly TenantPort[],
  ) {}

  /** @internal */
  _render(prop: string): k8s.NetworkPolicyIngressRule {
    let peer: k8s.NetworkPolicyPeer;
    if (this.source.namespace !== undefined) {
      checkDnsLabel(`${prop}.namespace`, this.source.namespace);
      peer = { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.source.namespace } } };
    } else {
      checkCidr(`${prop}.cidr`, this.source.cidr ?? '');
      peer = { ipBlock: { cidr: this.source.cidr ?? '' } };
    }
    const ports = this.ports.map((p, i) => p._render(`${prop}.ports[${i}]`));
    return { from: [peer], ...(ports.length > 0 ? { ports } : {}) };
  }
}

/** A destination outside the tenant's namespace that its pods may reach. */
export class TenantEgress {
  /**
   * Addresses given as an IPv4 or IPv6 CIDR (a database subnet, a NAT'd SaaS range).
   * @param ports ports they may reach. @default all ports
   * @param except sub-ranges of `cidr` that stay denied. @default none
   */
  static toCidr(
    cidr: string,
    ports: readonly TenantPort[] = [],
    except: readonly string[] = [],
  ): TenantEgress {
    return new TenantEgress({ cidr, except }, ports);
  }

  /**
   * Pods of another namespace (matched by its `kubernetes.io/metadata.name` label).
   * @param ports ports they may reach. @default all ports
   */
  static toNamespace(namespace: string, ports: readonly TenantPort[] = []): TenantEgress {
    return new TenantEgress({ namespace }, ports);
  }

  private constructor(
    private readonly destination: {
      readonly namespace?: string;
      readonly cidr?: string;
      readonly except?: readonly string[];
    },
    private readonly ports: readonly TenantPort[],
  ) {}

  /** @internal */
  _render(prop: string): k8s.NetworkPolicyEgressRule {
    let peer: k8s.NetworkPolicyPeer;
    if (this.destination.namespace !== undefined) {
      checkDnsLabel(`${prop}.namespace`, this.destination.namespace);
      peer = { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.destination.namespace } } };
    } else {
      const cidr = this.destination.cidr ?? '';
      checkCidr(`${prop}.cidr`, cidr);
      const except = this.destination.except ?? [];
      except.forEach((e, i) => checkCidr(`${prop}.except[${i}]`, e));
      peer = { ipBlock: { cidr, ...(except.length > 0 ? { except: [...except] } : {}) } };
    }
    const ports = this.ports.map((p, i) => p._render(`${prop}.ports[${i}]`));
    return { to: [peer], ...(ports.length > 0 ? { ports } : {}) };
  }
}

/** Namespace-wide totals (a ResourceQuota). */
export interface TenantQuota {
  /** Sum of CPU requests / limits of all non-terminal pods. @default requests 4, limits 8 */
  readonly cpu?: { readonly requests?: Cpu; readonly limits?: Cpu };
  /** Sum of memory requests / limits of all non-terminal pods. @default requests 8Gi, limits 16Gi */
  readonly memory?: { readonly requests?: Size; readonly limits?: Size };
  /** Number of non-terminal pods. @default 100 */
  readonly pods?: number;
  /** Number of Services. @default 20 */
  readonly services?: number;
  /** Number of `LoadBalancer` Services (each one is a billed cloud load balancer). @default 0 */
  readonly loadBalancers?: number;
  /** Number of `NodePort` Services (they open ports on every node). @default 0 */
  readonly nodePorts?: number;
  /** Number of PersistentVolumeClaims. @default 10 */
  readonly persistentVolumeClaims?: number;
  /** Sum of storage requested by PersistentVolumeClaims. @default 100Gi */
  readonly storage?: Size;
}

/** CPU and memory for one LimitRange field. */
export interface TenantContainerResources {
  readonly cpu?: Cpu;
  readonly memory?: Size;
}

/** Per-container defaults and bounds (a LimitRange). */
export interface TenantContainerLimits {
  /** Requests given to containers that set none. @default cpu 100m, memory 128Mi */
  readonly defaultRequest?: TenantContainerResources;
  /** Limits given to containers that set none. @default cpu 500m, memory 512Mi */
  readonly default?: TenantContainerResources;
  /** Largest limit a single container may ask for. @default cpu 4, memory 8Gi */
  readonly max?: TenantContainerResources;
}

/** Scraping of a tenant's pods: who may reach their metrics ports, and how it finds them. */
export interface TenantMonitoring {
  /**
   * Who scrapes: its namespaces are let into the tenant's pods on `ports`, and nowhere else. With a
   * monitor flavour (`prometheusOperator()`, `azureManagedPrometheus()`) a PodMonitor `tenant-workloads`
   * scrapes `/metrics` on the `http` port of every pod of the tenant's AutoscaledWorkloads, job and
   * `service` label the workload's name (as a ServiceMonitor would name them). Pods, not Services: a
   * Service of a workload at zero reaches the scale-to-zero resolver, and a scrape there would wake it.
   * @default MetricsScraping.collector(): the `monitoring` namespace, no PodMonitor
   */
  readonly scraping?: MetricsScraping;
  /**
   * The metrics ports of the tenant's pods that the scraper may reach (TCP). Required and non-empty: a
   * tenant opens no port it was not told, and never all of them.
   */
  readonly ports: readonly TenantPort[];
}

/** Egress to the Kubernetes API server, for tenants whose pods call it (operators, controllers). */
export interface TenantKubernetesApiAccess {
  /**
   * The API server's endpoint addresses as CIDRs (`kubectl get endpoints kubernetes`): NetworkPolicy
   * matches the endpoint address after the `kubernetes.default` Service IP is translated.
   */
  readonly cidrs: readonly string[];
  /** Endpoint port(s). @default [443] */
  readonly ports?: readonly number[];
}

/** Props for a {@link Tenant}. */
export interface TenantProps {
  /** Namespace name: an RFC 1123 label, not `default` and not `kube-*`. */
  readonly name: string;
  /**
   * Directory groups granted the tenant's developer role: an Entra ID group object id on AKS, or a
   * group an EKS access entry / aws-auth mapping puts IAM principals in.
   */
  readonly groups: readonly string[];
  /** Namespace totals. @default see {@link TenantQuota} */
  readonly quota?: TenantQuota;
  /** Per-container defaults and bounds. @default see {@link TenantContainerLimits} */
  readonly containerLimits?: TenantContainerLimits;
  /** Allow all traffic between pods of the tenant's namespace. @default true */
  readonly allowWithinNamespace?: boolean;
  /** Extra allowed ingress sources. @default none (only the namespace itself, if allowed) */
  readonly ingress?: readonly TenantIngress[];
  /** Extra allowed egress destinations. @default none (only DNS and the namespace itself) */
  readonly egress?: readonly TenantEgress[];
  /** Allow egress to the Kubernetes API server. @default no API access */
  readonly kubernetesApi?: TenantKubernetesApiAccess;
  /**
   * Let a metrics scraper in on the declared metrics ports (and write its PodMonitor where it reads
   * one). @default none: nothing outside the namespace may scrape the tenant's pods
   */
  readonly monitoring?: TenantMonitoring;
  /**
   * Let the developer role read Secrets. Note that anyone who may edit Deployments can still mount a
   * Secret into a pod; this only stops reading values through the API. @default false
   */
  readonly allowSecretsRead?: boolean;
  /** Extra namespace labels (the Pod Security and tenant labels cannot be overridden). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

const READ = ['get', 'list', 'watch'];

/** Name of the PodMonitor of a tenant's workloads. */
const TENANT_POD_MONITOR = 'tenant-workloads';
/** Label of the pods of the package's workloads (AutoscaledWorkload). */
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The part of a synthesized Deployment the scraped-port check reads. */
interface PodTemplateOwnerSpec {
  readonly template?: {
    readonly metadata?: { readonly labels?: Readonly<Record<string, string>> };
    readonly spec?: {
      readonly containers?: readonly {
        readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
      }[];
    };
  };
}
const WRITE = ['create', 'update', 'patch', 'delete'];

/**
 * A team's slice of a shared cluster: a namespace enforcing the restricted Pod Security Standard,
 * quota and container limits, default-deny networking with explicit allows, and a least-privilege
 * developer role for the team's directory group.
 *
 * Workloads created inside a tenant (`new AutoscaledWorkload(tenant, 'api', ...)`) take its namespace
 * through {@link Tenant.of}.
 */
export class Tenant extends Construct {
  /** The nearest enclosing Tenant of `scope` (or `scope` itself), or undefined outside one. */
  static of(scope: Construct): Tenant | undefined {
    const found = scope.node.scopes.filter((c): c is Tenant => c instanceof Tenant);
    return found[found.length - 1];
  }

  /** The tenant's namespace. */
  readonly namespace: string;
  /** The group(s) bound to the developer role. */
  readonly groups: readonly string[];

  constructor(scope: Construct, id: string, props: TenantProps) {
    super(scope, id);
    checkTenantName(props.name);
    checkNonEmpty('groups', props.groups);
    props.groups.forEach((g, i) => {
      if (g.trim() === '' || g.startsWith('system:')) {
        throw new PropError(`groups[${i}]`, g, 'must be a non-empty group name outside the "system:" prefix');
      }
    });
    this.namespace = props.name;
    this.groups = [...props.groups];

    const labels = props.labels ?? {};
    for (const [key, value] of Object.entries(labels)) {
      checkLabelKey(`labels.${key}`, key);
      checkLabelValue(`labels.${key}`, value);
    }

    new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: this.namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'latest',
          [TENANT_LABEL]: this.namespace,
        },
      },
    });

    const quota = renderQuota(props.quota ?? {});
    new k8s.KubeResourceQuota(this, 'quota', {
      metadata: this.meta('tenant-quota'),
      spec: { hard: quota.hard },
    });

    const limits = renderLimits(props.containerLimits ?? {});
    new k8s.KubeLimitRange(this, 'limits', {
      metadata: this.meta('tenant-limits'),
      spec: { limits: [limits.item] },
    });
    this.node.addValidation({ validate: () => this.checkPeakDemand(quota.compute, limits.max) });

    this.addNetworkPolicies(props);
    if (props.monitoring) this.addMonitoring(props.monitoring);
    this.addRbac(props.allowSecretsRead ?? false);
  }

  /** Who may scrape the tenant's pods (its namespaces, on the declared ports), and its PodMonitor. */
  private addMonitoring(monitoring: TenantMonitoring): void {
    const scraping = monitoring.scraping ?? MetricsScraping.collector();
    if (!scraping.enabled) {
      throw new PropError(
        'monitoring.scraping',
        'none',
        'must name a scraper (leave monitoring out to let none in)',
      );
    }
    checkNonEmpty('monitoring.ports', monitoring.ports);
    const ports = monitoring.ports.map((p, i) => {
      if (p.protocol !== 'TCP') {
        throw new PropError(`monitoring.ports[${i}]`, `${p.protocol}/${p.port}`, 'must be a TCP port');
      }
      p._render(`monitoring.ports[${i}]`);
      return p.port;
    });
    scraping.check('monitoring.scraping');
    new k8s.KubeNetworkPolicy(this, 'allow-monitoring', {
      metadata: this.meta('allow-monitoring'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        // The scraper's namespaces, on exactly the declared ports.
        ingress: [
          {
            from: [...new Set(scraping.namespaces)].map(namespacePeer),
            ports: [...new Set(ports)].map(tcpPort),
          },
        ],
      },
    });
    if (scraping.apiVersion === undefined) return;
    new MetricsMonitor(this, 'pod-monitor', {
      name: TENANT_POD_MONITOR,
      namespace: this.namespace,
      scraping,
      target: MetricsTarget.podPort({ [MANAGED_BY_LABEL]: 'elasticai' }, 'http'),
      jobLabel: 'app.kubernetes.io/name',
      relabelings: [
        { sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], targetLabel: 'service' },
      ],
      prop: 'monitoring.scraping',
    });
    this.node.addValidation({ validate: () => this.checkScrapedPorts(new Set(ports)) });
  }

  /**
   * The PodMonitor scrapes the `http` port of the tenant's workloads: each must be a declared port, or
   * the NetworkPolicy would silently drop every scrape.
   */
  private checkScrapedPorts(declared: ReadonlySet<number>): string[] {
    const errors: string[] = [];
    for (const o of this.node.findAll()) {
      if (!(o instanceof ApiObject) || o.kind !== 'Deployment') continue;
      const spec = (o.toJson() as { spec?: PodTemplateOwnerSpec }).spec?.template;
      if (spec?.metadata?.labels?.[MANAGED_BY_LABEL] !== 'elasticai') continue;
      for (const c of spec.spec?.containers ?? []) {
        const http = (c.ports ?? []).find((p) => p.name === 'http');
        if (http && !declared.has(http.containerPort)) {
          errors.push(
            `monitoring.ports: the PodMonitor ${TENANT_POD_MONITOR} scrapes port "http" (${http.containerPort}) of Deployment ${this.namespace}/${o.name}, which is not declared (add TenantPort.tcp(${http.containerPort}))`,
          );
        }
      }
    }
    return errors;
  }

  /**
   * Every workload in the tenant must fit the LimitRange, and all of them at their max replicas (plus
   * rollout surge) must fit the quota together; otherwise the API server rejects pods and the
   * autoscaler silently stops short of its max.
   */
  private checkPeakDemand(quota: ComputeQuota, max: { cpuMillis: number; memoryKiB: number }): string[] {
    const consumers = this.node.findAll().filter(isQuotaConsumer);
    const errors = consumers
      .filter((c) => c.namespace !== this.namespace)
      .map(
        (c) =>
          `namespace: ${c.kind} ${c.name} is inside Tenant "${this.namespace}" but targets namespace "${c.namespace}"`,
      );
    for (const c of consumers) {
      const biggest = c.peakDemand.containers;
      const cpu = Math.max(...biggest.map((a) => a.cpuLimitMillis));
      const mem = Math.max(...biggest.map((a) => a.memoryLimitKiB));
      if (cpu > max.cpuMillis) {
        errors.push(
          `containerLimits.max.cpu: ${showCpu(max.cpuMillis)} is below the cpu limit ${showCpu(cpu)} of ${c.kind} ${c.namespace}/${c.name}; the API server would reject its pods`,
        );
      }
      if (mem > max.memoryKiB) {
        errors.push(
          `containerLimits.max.memory: ${showMem(max.memoryKiB)} is below the memory limit ${showMem(mem)} of ${c.kind} ${c.namespace}/${c.name}; the API server would reject its pods`,
        );
      }
    }
    const checks: [string, keyof ComputeQuota, (n: number) => string][] = [
      ['quota.cpu.requests', 'cpuRequestMillis', showCpu],
      ['quota.cpu.limits', 'cpuLimitMillis', showCpu],
      ['quota.memory.requests', 'memoryRequestKiB', showMem],
      ['quota.memory.limits', 'memoryLimitKiB', showMem],
      ['quota.pods', 'pods', String],
    ];
    for (const [prop, key, show] of checks) {
      const need = consumers.reduce(
        (n, c) => n + (key === 'pods' ? c.peakDemand.pods : c.peakDemand.total[key]),
        0,
      );
      if (need > quota[key]) {
        const who = consumers.map(
          (c) => `${c.name} ${show(key === 'pods' ? c.peakDemand.pods : c.peakDemand.total[key])}`,
        );
        errors.push(
          `${prop}: ${show(quota[key])} cannot hold the tenant's workloads at max replicas plus rollout surge, which need ${show(need)} (${who.join(', ')})`,
        );
      }
    }
    return errors;
  }

  private meta(name: string): k8s.ObjectMeta {
    return { name, namespace: this.namespace, labels: { [TENANT_LABEL]: this.namespace } };
  }

  private addNetworkPolicies(props: TenantProps): void {
    const allPods: k8s.LabelSelector = {};
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: this.meta('default-deny-all'),
      spec: { podSelector: allPods, policyTypes: ['Ingress', 'Egress'] },
    });

    new k8s.KubeNetworkPolicy(this, 'allow-dns', {
      metadata: this.meta('allow-dns'),
      spec: {
        podSelector: allPods,
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [TenantPort.udp(53)._render('dns'), TenantPort.tcp(53)._render('dns')],
          },
        ],
      },
    });

    if (props.allowWithinNamespace ?? true) {
      new k8s.KubeNetworkPolicy(this, 'allow-same-namespace', {
        metadata: this.meta('allow-same-namespace'),
        spec: {
          podSelector: allPods,
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: allPods }] }],
          egress: [{ to: [{ podSelector: allPods }] }],
        },
      });
    }

    const ingress = (props.ingress ?? []).map((r, i) => r._render(`ingress[${i}]`));
    if (ingress.length > 0) {
      new k8s.KubeNetworkPolicy(this, 'allow-ingress', {
        metadata: this.meta('allow-ingress'),
        spec: { podSelector: allPods, policyTypes: ['Ingress'], ingress },
      });
    }

    const egress = (props.egress ?? []).map((r, i) => r._render(`egress[${i}]`));
    if (egress.length > 0) {
      new k8s.KubeNetworkPolicy(this, 'allow-egress', {
        metadata: this.meta('allow-egress'),
        spec: { podSelector: allPods, policyTypes: ['Egress'], egress },
      });
    }

    if (props.kubernetesApi) {
      const api = props.kubernetesApi;
      checkNonEmpty('kubernetesApi.cidrs', api.cidrs);
      api.cidrs.forEach((c, i) => checkCidr(`kubernetesApi.cidrs[${i}]`, c));
      const ports = api.ports ?? [443];
      checkNonEmpty('kubernetesApi.ports', ports);
      new k8s.KubeNetworkPolicy(this, 'allow-kube-api', {
        metadata: this.meta('allow-kubernetes-api'),
        spec: {
          podSelector: allPods,
          policyTypes: ['Egress'],
          egress: [
            {
              to: api.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
              ports: ports.map((p, i) => TenantPort.tcp(p)._render(`kubernetesApi.ports[${i}]`)),
            },
          ],
        },
      });
    }
  }

  private addRbac(allowSecretsRead: boolean): void {
    const rules: k8s.PolicyRule[] = [
      {
        apiGroups: [''],
        resources: [
          'pods',
          'pods/log',
          'services',
          'endpoints',
          'configmaps',
          'persistentvolumeclaims',
          'serviceaccounts',
          'events',
          'resourcequotas',
          'limitranges',
        ],
        verbs: READ,
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'deployments/scale', 'replicasets', 'statefulsets', 'daemonsets'],
        verbs: READ,
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: READ },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: READ },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: READ },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: READ },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
      {
        apiGroups: ['keda.sh'],
        resources: ['scaledobjects', 'scaledjobs', 'triggerauthentications'],
        verbs: READ,
      },
      { apiGroups: ['autoscaling.k8s.io'], resources: ['verticalpodautoscalers'], verbs: READ },
      // Edit: the objects a team changes day to day.
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: WRITE },
      { apiGroups: [''], resources: ['services', 'configmaps'], verbs: WRITE },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: WRITE },
    ];
    if (allowSecretsRead) rules.push({ apiGroups: [''], resources: ['secrets'], verbs: READ });

    new k8s.KubeRole(this, 'developer-role', { metadata: this.meta('tenant-developer'), rules });
    new k8s.KubeRoleBinding(this, 'developer-binding', {
      metadata: this.meta('tenant-developers'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant-developer' },
      subjects: this.groups.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name })),
    });
  }
}

function checkTenantName(name: string): void {
  checkDnsLabel('name', name);
  if (name === 'default' || name.startsWith('kube-')) {
    throw new PropError('name', name, 'must not be "default" or a "kube-" system namespace');
  }
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkLabelKey(prop: string, key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) checkDnsSubdomain(prop, prefix);
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    throw new PropError(prop, key, 'must be a valid label key');
  }
  if (key.startsWith('pod-security.kubernetes.io/') || key === TENANT_LABEL) {
    throw new PropError(prop, key, 'is set by the Tenant and cannot be overridden');
  }
}

const IPV4_CIDR =
  /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/** Throws unless `value` is an IPv4 or IPv6 CIDR. */
function checkCidr(prop: string, value: string): void {
  if (!IPV4_CIDR.test(value) && !IPV6_CIDR.test(value)) {
    throw new PropError(prop, value, 'must be an IPv4 or IPv6 CIDR such as "10.0.0.0/16"');
  }
}

const positiveCpu = positiveCpuMillis;
const positiveMemory = (prop: string, size: Size): number => memoryKiB(prop, size);

function cpuQuantity(millis: number): k8s.Quantity {
  return k8s.Quantity.fromString(millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`);
}

function memoryQuantity(kib: number): k8s.Quantity {
  if (kib % (1024 * 1024) === 0) return k8s.Quantity.fromString(`${kib / (1024 * 1024)}Gi`);
  if (kib % 1024 === 0) return k8s.Quantity.fromString(`${kib / 1024}Mi`);
  return k8s.Quantity.fromString(`${Math.ceil(kib)}Ki`);
}

const showCpu = (millis: number): string => String(cpuQuantity(millis).value);
const showMem = (kib: number): string => String(memoryQuantity(kib).value);

/** Throws when `value` (prop) is below `other` (otherProp); `show` renders both for the message. */
function checkNotBelow(
  prop: string,
  value: number,
  otherProp: string,
  other: number,
  show: (n: number) => string,
): void {
  if (value < other) throw new PropError(prop, show(value), `must be >= ${otherProp} (${show(other)})`);
}

/** The quota's compute limits as numbers (millicores, KiB, pods), for the peak-demand check. */
interface ComputeQuota {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestKiB: number;
  readonly memoryLimitKiB: number;
  readonly pods: number;
}

function renderQuota(quota: TenantQuota): { hard: Record<string, k8s.Quantity>; compute: ComputeQuota } {
  const cpuReq = positiveCpu('quota.cpu.requests', quota.cpu?.requests ?? Cpu.units(4));
  const cpuLim = positiveCpu('quota.cpu.limits', quota.cpu?.limits ?? Cpu.units(8));
  checkNotBelow('quota.cpu.limits', cpuLim, 'quota.cpu.requests', cpuReq, showCpu);
  const memReq = positiveMemory('quota.memory.requests', quota.memory?.requests ?? Size.gibibytes(8));
  const memLim = positiveMemory('quota.memory.limits', quota.memory?.limits ?? Size.gibibytes(16));
  checkNotBelow('quota.memory.limits', memLim, 'quota.memory.requests', memReq, showMem);
  const pods = quota.pods ?? 100;
  checkInteger('quota.pods', pods, 1);
  const services = quota.services ?? 20;
  checkInteger('quota.services', services, 0);
  const loadBalancers = quota.loadBalancers ?? 0;
  checkInteger('quota.loadBalancers', loadBalancers, 0);
  const nodePorts = quota.nodePorts ?? 0;
  checkInteger('quota.nodePorts', nodePorts, 0);
  const pvcs = quota.persistentVolumeClaims ?? 10;
  checkInteger('quota.persistentVolumeClaims', pvcs, 0);
  const storage = quota.storage ?? Size.gibibytes(100);
  const storageKib = memoryKiB('quota.storage', storage, true);
  const count = (n: number) => k8s.Quantity.fromString(String(n));
  const hard = {
    'requests.cpu': cpuQuantity(cpuReq),
    'limits.cpu': cpuQuantity(cpuLim),
    'requests.memory': memoryQuantity(memReq),
    'limits.memory': memoryQuantity(memLim),
    pods: count(pods),
    services: count(services),
    'services.loadbalancers': count(loadBalancers),
    'services.nodeports': count(nodePorts),
    persistentvolumeclaims: count(pvcs),
    'requests.storage': memoryQuantity(storageKib),
  };
  return {
    hard,
    compute: {
      cpuRequestMillis: cpuReq,
      cpuLimitMillis: cpuLim,
      memoryRequestKiB: memReq,
      memoryLimitKiB: memLim,
      pods,
    },
  };
}

function renderLimits(limits: TenantContainerLimits): {
  item: k8s.LimitRangeItem;
  max: { cpuMillis: number; memoryKiB: number };
} {
  const p = 'containerLimits';
  const reqCpu = positiveCpu(`${p}.defaultRequest.cpu`, limits.defaultRequest?.cpu ?? Cpu.millis(100));
  const reqMem = positiveMemory(
    `${p}.defaultRequest.memory`,
    limits.defaultRequest?.memory ?? Size.mebibytes(128),
  );
  const defCpu = positiveCpu(`${p}.default.cpu`, limits.default?.cpu ?? Cpu.millis(500));
  const defMem = positiveMemory(`${p}.default.memory`, limits.default?.memory ?? Size.mebibytes(512));
  const maxCpu = positiveCpu(`${p}.max.cpu`, limits.max?.cpu ?? Cpu.units(4));
  const maxMem = positiveMemory(`${p}.max.memory`, limits.max?.memory ?? Size.gibibytes(8));
  checkNotBelow(`${p}.default.cpu`, defCpu, `${p}.defaultRequest.cpu`, reqCpu, showCpu);
  checkNotBelow(`${p}.default.memory`, defMem, `${p}.defaultRequest.memory`, reqMem, showMem);
  checkNotBelow(`${p}.max.cpu`, maxCpu, `${p}.default.cpu`, defCpu, showCpu);
  checkNotBelow(`${p}.max.memory`, maxMem, `${p}.default.memory`, defMem, showMem);
  return {
    item: {
      type: 'Container',
      defaultRequest: { cpu: cpuQuantity(reqCpu), memory: memoryQuantity(reqMem) },
      default: { cpu: cpuQuantity(defCpu), memory: memoryQuantity(defMem) },
      max: { cpu: cpuQuantity(maxCpu), memory: memoryQuantity(maxMem) },
    },
    max: { cpuMillis: maxCpu, memoryKiB: maxMem },
  };
}
