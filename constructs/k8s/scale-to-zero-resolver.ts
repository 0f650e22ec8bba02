import { type ApiObject, Duration, Lazy, Size } from 'cdk8s';
import { Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RouteJson } from '../../runtime/resolver/config.js';
import { RESOLVER_DEFAULTS, RESOLVER_ENV } from '../../runtime/resolver/config.js';
import { ENV as RUNTIME_ENV } from '../../runtime/service/config.js';
import {
  DecisionRuntime,
  type IDecisionRuntime,
  RUNTIME_HTTP_PORT,
  type RuntimeKubernetesApiAccess,
  RuntimeServiceMonitor,
} from './decision-runtime.js';
import type { Placement } from './placement.js';
import * as platform from './platform-deployment.js';
import { type ContainerResources, renderResources } from './resources.js';
import {
  type IScaleToZeroResolver,
  registerScaleToZeroResolver,
  RESOLVER_ADMIN_PORT,
  RESOLVER_PROXY_PORT,
  type ScaleToZeroRoute,
  scaleToZeroRoutes,
} from './scale-to-zero.js';
import { PropError, checkDnsLabel, checkImage, checkInteger, checkNonEmpty } from './validation.js';

/** Default name of the resolver's objects. */
export const SCALE_TO_ZERO_RESOLVER_NAME = 'elasticai-resolver';
/** Default namespace: the system namespace, beside the decision runtime (whose API it calls). */
export const SCALE_TO_ZERO_RESOLVER_NAMESPACE = 'elasticai-system';
/** The resolver's entry point in the runtime image (runtime/Dockerfile puts compiled files in /app/build). */
export const RESOLVER_COMMAND: readonly string[] = ['node', '/app/build/resolver/main.js'];

/** Props for a {@link ScaleToZeroResolver}. */
export interface ScaleToZeroResolverProps {
  /**
   * The decision runtime's image, pinned to a tag or digest: the resolver is its second entry point
   * (`node /app/build/resolver/main.js`), so both always ship together.
   */
  readonly image: string;
  /**
   * The decision runtime that wakes workloads (its `POST …/wake` streams IsActive=true to KEDA). Every
   * workload behind this resolver must have that runtime's `external-push` trigger.
   */
  readonly runtime: IDecisionRuntime;
  /** Name of the Deployment, Service, ServiceAccount, PDB, NetworkPolicy and RBAC. @default 'elasticai-resolver' */
  readonly name?: string;
  /** Namespace. @default 'elasticai-system' */
  readonly namespace?: string;
  /**
   * Replicas, at least 2: at zero the resolver is the only thing behind its workloads' Services.
   * @default 2
   */
  readonly replicas?: number;
  /** Most requests held over all workloads of one replica (memory bound). @default 10000 */
  readonly maxHeld?: number;
  /** Namespaces that may scrape `/metrics` (admin port). @default ['monitoring'] */
  readonly monitoringNamespaces?: readonly string[];
  /** Where the API server is reachable. @default any address on ports 443 and 6443 */
  readonly kubernetesApi?: RuntimeKubernetesApiAccess;
  /** ServiceMonitor for `/metrics`. @default RuntimeServiceMonitor.prometheusOperator() */
  readonly serviceMonitor?: RuntimeServiceMonitor;
  /**
   * Container requests and limits. The memory limit bounds `maxHeld` (a held request costs a few KiB,
   * see runtime/README.md). @default cpu 100m (limit 1), memory 256Mi (limit 256Mi)
   */
  readonly resources?: ContainerResources;
  /** Capacity the pods run on. @default Placement.onDemandOnly() */
  readonly placement?: Placement;
  /** PriorityClass of the pods. @default 'system-cluster-critical' */
  readonly priorityClassName?: string;
  /** After SIGTERM, time still accepting new connections while endpoint removal propagates. @default 5 s */
  readonly drainDelay?: Duration;
  /** After the drain delay, longest wait for held and in-flight requests. @default 30 s */
  readonly shutdownGrace?: Duration;
  /** Non-root UID. @default 65532 */
  readonly runAsUser?: number;
}

/** Options of {@link ScaleToZeroResolver.reference}. */
export interface ScaleToZeroResolverReferenceOptions {
  /** The decision runtime the resolver wakes workloads through. */
  readonly runtime: IDecisionRuntime;
  /** @default 'elasticai-resolver' */
  readonly name?: string;
  /** @default 'elasticai-system' */
  readonly namespace?: string;
}

class ScaleToZeroResolverReference implements IScaleToZeroResolver {
  readonly selector: Readonly<Record<string, string>>;
  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly runtime: IDecisionRuntime,
  ) {
    checkDnsLabel('name', name);
    checkDnsLabel('namespace', namespace);
    this.selector = platform.selector(name);
  }
}

function seconds(prop: string, d: Duration, min: number, max: number): number {
  const value = d.toSeconds({ integral: false });
  if (!Number.isInteger(value)) throw new PropError(prop, `${value}s`, 'must be whole seconds');
  checkInteger(prop, value, min, max);
  return value;
}

/**
 * The scale-to-zero resolver: a highly available proxy in front of every workload with
 * `scaleToZero: ScaleToZero.http({ resolver })`. While such a workload has no ready pod, its Service
 * reaches the resolver, which holds requests (bounded, with a timeout), wakes the workload through the
 * decision runtime, watches its EndpointSlices and releases the requests as soon as a pod is ready; while
 * the workload is warm, its Service reaches the pods only.
 *
 * It runs the decision runtime's image with the command `node /app/build/resolver/main.js`: ≥ 2 replicas
 * spread over zones and nodes, a PDB, Pod Security "restricted", probes on its admin port, a
 * ServiceAccount whose token it presents to the runtime, RBAC to watch EndpointSlices in its own and the
 * runtime's namespace (each workload adds a Role in its own namespace), and a NetworkPolicy letting in
 * only the workloads' client namespaces (proxy) and monitoring (metrics), and out only to DNS, the API
 * server, the runtime and the workloads' pods. The routing table is collected at synth from the
 * workloads that use it, and checked.
 */
export class ScaleToZeroResolver extends Construct implements IScaleToZeroResolver {
  /** A resolver deployed elsewhere (another chart of the app, e.g. the platform chart). */
  static reference(options: ScaleToZeroResolverReferenceOptions): IScaleToZeroResolver {
    return new ScaleToZeroResolverReference(
      options.name ?? SCALE_TO_ZERO_RESOLVER_NAME,
      options.namespace ?? SCALE_TO_ZERO_RESOLVER_NAMESPACE,
      options.runtime,
    );
  }

  readonly name: string;
  readonly namespace: string;
  readonly runtime: IDecisionRuntime;
  readonly selector: Readonly<Record<string, string>>;
  readonly deployment: ApiObject;
  readonly service: ApiObject;

  constructor(scope: Construct, id: string, props: ScaleToZeroResolverProps) {
    super(scope, id);
    this.name = props.name ?? SCALE_TO_ZERO_RESOLVER_NAME;
    this.namespace = props.namespace ?? SCALE_TO_ZERO_RESOLVER_NAMESPACE;
    checkDnsLabel('name', this.name);
    checkDnsLabel('namespace', this.namespace);
    checkImage('image', props.image);
    if (!props.runtime) {
      throw new PropError(
        'runtime',
        undefined,
        'is required: the DecisionRuntime (or DecisionRuntime.reference()) that wakes workloads',
      );
    }
    this.runtime = props.runtime;
    const replicas = props.replicas ?? 2;
    checkInteger('replicas', replicas, 1);
    if (replicas < 2) {
      throw new PropError(
        'replicas',
        replicas,
        'must be at least 2: at zero the resolver is all that stands behind its workloads’ Services',
      );
    }
    this.selector = platform.selector(this.name);
    registerScaleToZeroResolver(this, this);

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: this.meta(),
      // It watches EndpointSlices and presents its token to the decision runtime.
      automountServiceAccountToken: true,
    });
    this.createRbac();
    this.deployment = this.createDeployment(props, replicas);
    this.service = platform.service(this, this.component, [
      { name: 'http', port: RESOLVER_PROXY_PORT },
      { name: 'admin', port: RESOLVER_ADMIN_PORT, appProtocol: 'http' },
    ]);
    platform.disruptionBudget(this, this.component);
    this.createNetworkPolicy(props);
    this.createServiceMonitor(props);
    this.node.addValidation({ validate: () => this.validateRoutes() });
  }

  /** The workloads routed through this resolver (known once the app is built). */
  get routes(): ScaleToZeroRoute[] {
    return scaleToZeroRoutes(this, this);
  }

  /** The routing table written into `ELASTICAI_RESOLVER_ROUTES` (`runtime/resolver/config.ts`). */
  routeTable(): RouteJson[] {
    const routes = this.routes;
    const names = routes.map((r) => r.shortHost);
    return routes.map((r) => {
      // `<name>` alone is ambiguous across namespaces: routed only while no other target has that name.
      const short = names.filter((n) => n === r.shortHost).length === 1 ? [r.shortHost] : [];
      return { ...r.json, hosts: [...r.json.hosts, ...short.filter((h) => !r.json.hosts.includes(h))] };
    });
  }

  private get labels(): Record<string, string> {
    return platform.labels(this.selector, 'scale-to-zero-resolver');
  }

  private get component(): platform.PlatformComponent {
    return { name: this.name, namespace: this.namespace, selector: this.selector, labels: this.labels };
  }

  private meta(namespace: string = this.namespace): k8s.ObjectMeta {
    return { name: this.name, namespace, labels: this.labels };
  }

  private createRbac(): void {
    const role = (id: string, namespace: string, why: string): void => {
      new k8s.KubeRole(this, `${id}Role`, {
        metadata: { ...this.meta(namespace), annotations: { 'elasticai.io/purpose': why } },
        rules: [
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        ],
      });
      new k8s.KubeRoleBinding(this, `${id}RoleBinding`, {
        metadata: this.meta(namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
        subjects: [{ kind: 'ServiceAccount', name: this.name, namespace: this.namespace }],
      });
    };
    role('Own', this.namespace, "the resolver's own ready pods, which the workloads' Services reach at zero");
    if (this.runtime.namespace !== this.namespace) {
      role('Runtime', this.runtime.namespace, 'the decision runtime pods every wake-up is sent to');
    }
  }

  private createDeployment(props: ScaleToZeroResolverProps, replicas: number): ApiObject {
    const pod = platform.podSettings(props);
    const maxHeld = props.maxHeld ?? RESOLVER_DEFAULTS.maxHeldTotal;
    checkInteger('maxHeld', maxHeld, 1, 10_000_000);
    const drain = seconds('drainDelay', props.drainDelay ?? Duration.seconds(5), 0, 300);
    const grace = seconds('shutdownGrace', props.shutdownGrace ?? Duration.seconds(30), 0, 3_600);
    const probe = platform.httpProbe('admin', 'HTTP', 2);
    const tmp = platform.tmpVolume('16Mi');
    const E = RESOLVER_ENV;
    return platform.deployment(this, this.component, {
      replicas,
      pod,
      podLabels: { ...this.labels },
      // Drain delay + grace for held requests, and a little to exit.
      terminationGracePeriodSeconds: drain + grace + 5,
      container: {
        name: 'resolver',
        image: props.image,
        command: [...RESOLVER_COMMAND],
        ports: [
          platform.containerPort('http', RESOLVER_PROXY_PORT),
          platform.containerPort('admin', RESOLVER_ADMIN_PORT),
        ],
        env: [
          {
            name: E.routes,
            value: Lazy.any({ produce: () => JSON.stringify(this.routeTable()) }) as unknown as string,
          },
          { name: E.service, value: this.name },
          { name: E.servicePort, value: 'http' },
          { name: E.proxyPort, value: String(RESOLVER_PROXY_PORT) },
          { name: E.adminPort, value: String(RESOLVER_ADMIN_PORT) },
          { name: E.maxHeldTotal, value: String(maxHeld) },
          { name: E.drainDelayMs, value: String(drain * 1000) },
          { name: E.shutdownGraceMs, value: String(grace * 1000) },
          { name: E.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: E.namespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        ],
        resources: renderResources(
          'resources',
          props.resources ?? {
            cpu: { request: Cpu.millis(100), limit: Cpu.millis(1000) },
            memory: { request: Size.mebibytes(256), limit: Size.mebibytes(256) },
          },
        ),
        startupProbe: probe('/healthz', 1, 30),
        // Ready only once it has listed the EndpointSlices it watches (it must know which workloads are up).
        readinessProbe: probe('/readyz', 2, 2),
        livenessProbe: probe('/healthz', 10, 3),
        volumeMounts: [tmp.mount],
      },
      volumes: [tmp.volume],
    });
  }

  private createNetworkPolicy(props: ScaleToZeroResolverProps): void {
    const monitoring = props.monitoringNamespaces ?? ['monitoring'];
    checkNonEmpty('monitoringNamespaces', monitoring);
    monitoring.forEach((ns, i) => checkDnsLabel(`monitoringNamespaces[${i}]`, ns));
    const api = platform.kubernetesApiEndpoints(props.kubernetesApi);

    const ingress = Lazy.any({
      produce: (): k8s.NetworkPolicyIngressRule[] => {
        const clients = [...new Set(this.routes.flatMap((r) => r.clientNamespaces))].sort();
        return [
          // Clients of the workloads: their Services reach the resolver while the workloads are at zero.
          ...(clients.length > 0
            ? [{ from: clients.map(platform.fromNamespace), ports: [platform.tcpPort(RESOLVER_PROXY_PORT)] }]
            : []),
          {
            from: [...new Set(monitoring)].map(platform.fromNamespace),
            ports: [platform.tcpPort(RESOLVER_ADMIN_PORT)],
          },
        ];
      },
    }) as unknown as k8s.NetworkPolicyIngressRule[];
    const egress = Lazy.any({
      produce: (): k8s.NetworkPolicyEgressRule[] => [
        platform.dnsEgressRule(),
        // The API server (EndpointSlice watches and writes), by its endpoint addresses.
        platform.kubernetesApiEgressRule(api),
        // The decision runtime's API (wake-ups), every replica.
        {
          to: [
            {
              namespaceSelector: { matchLabels: { [platform.NAMESPACE_NAME_LABEL]: this.runtime.namespace } },
              podSelector: { matchLabels: platform.selector(this.runtime.name) },
            },
          ],
          ports: [platform.tcpPort(RUNTIME_HTTP_PORT)],
        },
        // The workloads' pods, on their ports.
        ...this.routes.map((r) => ({
          to: [
            {
              namespaceSelector: { matchLabels: { [platform.NAMESPACE_NAME_LABEL]: r.json.namespace } },
              podSelector: { matchLabels: { ...r.workload.selector } },
            },
          ],
          ports: [platform.tcpPort(r.workload.port)],
        })),
      ],
    }) as unknown as k8s.NetworkPolicyEgressRule[];
    platform.networkPolicy(this, this.component, ingress, egress);
  }

  private createServiceMonitor(props: ScaleToZeroResolverProps): void {
    const monitor = props.serviceMonitor ?? RuntimeServiceMonitor.prometheusOperator();
    if (monitor.apiVersion === undefined) return;
    if (monitor.options.tlsCa !== undefined) {
      throw new PropError(
        'serviceMonitor.tlsCa',
        monitor.options.tlsCa.secretName,
        'is not used: the resolver serves metrics over plain HTTP',
      );
    }
    const interval = platform.serviceMonitorInterval(monitor.options.interval);
    platform.checkServiceMonitorLabels(monitor.options.labels);
    platform.serviceMonitor(
      this,
      this.component,
      monitor.apiVersion,
      monitor.options.labels,
      platform.metricsEndpoint('admin', interval, 'http'),
    );
  }

  /** Synth-time checks of the routing table and of the runtime the resolver wakes workloads through. */
  private validateRoutes(): string[] {
    const errors: string[] = [];
    const routes = this.routes;
    const me = `resolver ${this.namespace}/${this.name}`;
    if (routes.length === 0) {
      errors.push(`${me}: no workload uses it (give a workload scaleToZero: ScaleToZero.http({ resolver }))`);
    }
    const seen = new Map<string, string>();
    for (const r of routes) {
      if (r.scalerAddress !== this.runtime.scalerAddress) {
        errors.push(
          `${me}: ${r.where} is woken through ${r.scalerAddress}, but the resolver wakes through ${this.runtime.scalerAddress}`,
        );
      }
      for (const host of r.json.hosts) {
        const key = `${host}${r.json.pathPrefix ?? '/'}`;
        const other = seen.get(key);
        if (other !== undefined) {
          errors.push(
            `${me}: host ${host} with path prefix ${r.json.pathPrefix ?? '/'} is routed to both ${other} and ${r.where}`,
          );
        }
        seen.set(key, r.where);
      }
    }
    // The runtime deployed by this app must let the resolver call its API and authenticate it.
    const runtime = this.node.root.node
      .findAll()
      .find(
        (c): c is DecisionRuntime =>
          c instanceof DecisionRuntime && c.scalerAddress === this.runtime.scalerAddress,
      );
    if (runtime) {
      const policy = runtime.node.tryFindChild('NetworkPolicy') as ApiObject | undefined;
      const rules = ((policy?.toJson() as { spec?: { ingress?: k8s.NetworkPolicyIngressRule[] } } | undefined)
        ?.spec?.ingress ?? []) as {
        from?: { namespaceSelector?: { matchLabels?: Record<string, string> } }[];
        ports?: { port?: unknown }[];
      }[];
      const httpFrom = rules
        .filter((rule) => (rule.ports ?? []).some((p) => p.port === RUNTIME_HTTP_PORT))
        .flatMap((rule) =>
          (rule.from ?? []).map((f) => f.namespaceSelector?.matchLabels?.[platform.NAMESPACE_NAME_LABEL]),
        );
      if (policy && !httpFrom.includes(this.namespace)) {
        errors.push(
          `${me}: runtime ${runtime.namespace}/${runtime.name} does not let namespace ${this.namespace} call its HTTP API (add it to httpIngressNamespaces)`,
        );
      }
      const env = (
        (
          runtime.deployment.toJson() as {
            spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
          }
        ).spec?.template?.spec?.containers?.[0]?.env ?? []
      ).find((e) => e.name === RUNTIME_ENV.tokenReview);
      if (env?.value === 'false') {
        errors.push(
          `${me}: runtime ${runtime.namespace}/${runtime.name} has tokenReview: false, so it cannot authenticate the resolver's ServiceAccount token`,
        );
      }
    }
    return errors;
  }
}
