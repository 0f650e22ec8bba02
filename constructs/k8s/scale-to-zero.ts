import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct, IConstruct } from 'constructs';
import type { RouteJson } from '../../runtime/resolver/config.js';
import { RESOLVER_DEFAULTS, resolverSliceName } from '../../runtime/resolver/config.js';
import { type IDecisionRuntime, RUNTIME_HTTP_PORT } from './decision-runtime.js';
import type { Trigger } from './keda/trigger.js';
import { PropError, checkDnsLabel, checkInteger, checkNonEmpty } from './validation.js';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Port of the resolver's proxy (HTTP/1.1 and HTTP/2 cleartext). */
export const RESOLVER_PROXY_PORT: number = RESOLVER_DEFAULTS.proxyPort;
/** Port of the resolver's `/healthz`, `/readyz` and `/metrics`. */
export const RESOLVER_ADMIN_PORT: number = RESOLVER_DEFAULTS.adminPort;

/** What a workload's scale-to-zero option needs to know about its resolver. */
export interface IScaleToZeroResolver {
  readonly name: string;
  readonly namespace: string;
  /** Labels selecting the resolver's pods. */
  readonly selector: Readonly<Record<string, string>>;
  /** The decision runtime the resolver wakes workloads through. */
  readonly runtime: IDecisionRuntime;
}

/** Protocol the workload's pods speak on their port. */
export type ScaleToZeroProtocol = 'http' | 'grpc';

/** Options of {@link ScaleToZero.http}. */
export interface ScaleToZeroOptions {
  /**
   * The resolver that holds requests while the workload is at zero: a `ScaleToZeroResolver` of this app
   * or `ScaleToZeroResolver.reference()`.
   */
  readonly resolver: IScaleToZeroResolver;
  /**
   * Host names clients use (Host / `:authority`, without port), e.g. the Ingress host. The Service's own
   * names (`<name>.<namespace>`, `….svc`, `….svc.cluster.local`, and `<name>` while no other target of
   * the resolver has that name) are always routed. `*.example.com` matches one label. @default []
   */
  readonly hosts?: readonly string[];
  /** Route only requests under this path prefix (whole segments). @default '/' */
  readonly pathPrefix?: string;
  /**
   * `http`: HTTP/1.1 to the pods (WebSocket upgrades pass through). `grpc`: HTTP/2 cleartext to the
   * pods (gRPC and any h2c). @default 'http'
   */
  readonly protocol?: ScaleToZeroProtocol;
  /** Longest time a request waits for the workload to wake (then 503 with Retry-After). @default 30 s */
  readonly holdTimeout?: Duration;
  /** Most requests held for this workload at once (beyond: 503 with Retry-After). @default 1000 */
  readonly maxHeld?: number;
  /** Held requests released at once per ready pod, so the first pod is not flattened. @default 16 */
  readonly releaseConcurrency?: number;
  /** `Retry-After` of refusals. @default 5 s */
  readonly retryAfter?: Duration;
  /**
   * Namespaces whose pods call the workload (an ingress controller's, other teams'): let into the
   * resolver, and (in a Tenant) to the workload's pods directly while it is warm. Clients in other
   * default-deny namespaces need their own egress to the resolver. @default [the workload's namespace]
   */
  readonly clientNamespaces?: readonly string[];
  /**
   * Take the resolver out of the warm path: the Service reaches the resolver only while no pod is
   * ready (an EndpointSlice the resolver keeps next to the Service's own). With false the Service is
   * never touched and traffic must be sent to the resolver's Service itself. @default true
   */
  readonly switchService?: boolean;
}

/** The workload facts the option checks and wires (given by AutoscaledWorkload). */
export interface ScaleToZeroTarget {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  /** Container port (undefined: the workload serves no HTTP). */
  readonly port: number | undefined;
  readonly replicasMin: number;
  /** KEDA triggers, or undefined for HPA scaling. */
  readonly kedaTriggers: readonly Trigger[] | undefined;
  /** The namespace is a Tenant's (default-deny egress): clients need an egress allow to the resolver. */
  readonly tenantNamespace: boolean;
}

/** One workload's route, as the resolver's configuration and NetworkPolicy need it. */
export interface ScaleToZeroRoute {
  readonly resolver: { readonly name: string; readonly namespace: string };
  readonly json: RouteJson;
  /** `<name>`: routed only while no other target of the resolver has that name. */
  readonly shortHost: string;
  readonly workload: { readonly selector: Readonly<Record<string, string>>; readonly port: number };
  readonly clientNamespaces: readonly string[];
  /** Where the workload's push trigger points (checked against the resolver's runtime). */
  readonly scalerAddress: string;
  /** For error messages. */
  readonly where: string;
}

// ---- registry: workloads register their routes, resolvers read them at synth ----

const ROUTES = new WeakMap<IConstruct, ScaleToZeroRoute[]>();
const RESOLVERS = new WeakMap<IConstruct, Set<string>>();

/** @internal The routes of every workload of the app that uses resolver `namespace/name`. */
export function scaleToZeroRoutes(
  scope: IConstruct,
  resolver: { name: string; namespace: string },
): ScaleToZeroRoute[] {
  return (ROUTES.get(scope.node.root) ?? []).filter(
    (r) => r.resolver.name === resolver.name && r.resolver.namespace === resolver.namespace,
  );
}

/** @internal Records that a resolver is deployed by this app. */
export function registerScaleToZeroResolver(
  scope: IConstruct,
  resolver: { name: string; namespace: string },
): void {
  const root = scope.node.root;
  const set = RESOLVERS.get(root) ?? new Set<string>();
  set.add(`${resolver.namespace}/${resolver.name}`);
  RESOLVERS.set(root, set);
}

/** @internal Whether the app deploys resolver `namespace/name`. */
export function hasScaleToZeroResolver(
  scope: IConstruct,
  resolver: { name: string; namespace: string },
): boolean {
  return RESOLVERS.get(scope.node.root)?.has(`${resolver.namespace}/${resolver.name}`) ?? false;
}

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function seconds(prop: string, duration: Duration, min: number, max: number): number {
  const value = duration.toSeconds({ integral: false });
  if (!Number.isInteger(value)) throw new PropError(prop, `${value}s`, 'must be whole seconds');
  checkInteger(prop, value, min, max);
  return value;
}

/**
 * Scale to zero for an HTTP workload (`AutoscaledWorkloadProps.scaleToZero`): while no pod runs, its
 * Service reaches the scale-to-zero resolver, which holds requests, wakes the workload through the
 * decision runtime and releases them once a pod is ready; while warm, the Service reaches the pods only.
 *
 * The workload must be HTTP (a `port`), scaled by KEDA with `replicas.min: 0` and an `external-push`
 * trigger of the resolver's decision runtime with `minReplicas: 0` (`runtime.trigger({ ..., push:
 * true, minReplicas: 0 })`). It gets a Role for the resolver in its namespace (its EndpointSlices, its
 * Service, and `patch` on its ScaledObject — what the runtime checks before it accepts a wake-up) and,
 * in a Tenant's default-deny namespace, NetworkPolicies: the resolver and the client namespaces to the
 * pods, and the namespace's pods to the resolver. (Outside a Tenant nothing is denied, and a policy
 * selecting the pods would isolate them from everything else.)
 */
export class ScaleToZero {
  /** Scale to zero behind the resolver (see {@link ScaleToZeroOptions}). */
  static http(options: ScaleToZeroOptions): ScaleToZero {
    return new ScaleToZero(options);
  }

  readonly resolver: IScaleToZeroResolver;
  private readonly hosts: readonly string[];
  private readonly pathPrefix: string;
  private readonly protocol: ScaleToZeroProtocol;
  private readonly holdTimeoutSeconds: number;
  private readonly maxHeld: number;
  private readonly releaseConcurrency: number;
  private readonly retryAfterSeconds: number;
  private readonly switchService: boolean;

  private constructor(private readonly options: ScaleToZeroOptions) {
    const p = 'scaleToZero';
    if (!options.resolver) {
      throw new PropError(
        `${p}.resolver`,
        undefined,
        'is required: a ScaleToZeroResolver or ScaleToZeroResolver.reference()',
      );
    }
    this.resolver = options.resolver;
    this.hosts = [...(options.hosts ?? [])];
    this.hosts.forEach((h, i) => {
      if (h.length > 253 || !HOST.test(h)) {
        throw new PropError(
          `${p}.hosts[${i}]`,
          h,
          'must be a lowercase host name without port (optionally "*.domain")',
        );
      }
    });
    if (new Set(this.hosts).size !== this.hosts.length)
      throw new PropError(`${p}.hosts`, this.hosts, 'must not repeat a host');
    const prefix = options.pathPrefix ?? '/';
    if (!/^\/[^?#\s]*$/.test(prefix)) {
      throw new PropError(
        `${p}.pathPrefix`,
        prefix,
        'must start with "/" and hold no query, fragment or spaces',
      );
    }
    this.pathPrefix = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
    this.protocol = options.protocol ?? 'http';
    if (this.protocol !== 'http' && this.protocol !== 'grpc') {
      throw new PropError(`${p}.protocol`, this.protocol, 'must be "http" or "grpc"');
    }
    this.holdTimeoutSeconds = seconds(
      `${p}.holdTimeout`,
      options.holdTimeout ?? Duration.seconds(30),
      1,
      3_600,
    );
    this.maxHeld = options.maxHeld ?? RESOLVER_DEFAULTS.maxHeld;
    checkInteger(`${p}.maxHeld`, this.maxHeld, 1, 1_000_000);
    this.releaseConcurrency = options.releaseConcurrency ?? RESOLVER_DEFAULTS.releaseConcurrency;
    checkInteger(`${p}.releaseConcurrency`, this.releaseConcurrency, 1, 10_000);
    this.retryAfterSeconds = seconds(`${p}.retryAfter`, options.retryAfter ?? Duration.seconds(5), 1, 3_600);
    this.switchService = options.switchService ?? true;
    if (options.clientNamespaces !== undefined) {
      checkNonEmpty(`${p}.clientNamespaces`, options.clientNamespaces);
      options.clientNamespaces.forEach((ns, i) => checkDnsLabel(`${p}.clientNamespaces[${i}]`, ns));
    }
  }

  /** @internal Checks that the workload can scale to zero behind the resolver (before anything is built). */
  check(target: ScaleToZeroTarget): void {
    const where = `workload "${target.namespace}/${target.name}"`;
    if (target.port === undefined) {
      throw new PropError(
        'scaleToZero',
        'ScaleToZero.http(...)',
        `needs an HTTP port: ${where} has no port, so there is no request to hold while it is at zero (set port, or drop scaleToZero)`,
      );
    }
    if (target.kedaTriggers === undefined) {
      throw new PropError(
        'scaleToZero',
        'WorkloadScaling.hpa(...)',
        'needs WorkloadScaling.keda(...): an HPA cannot scale to zero',
      );
    }
    if (target.replicasMin !== 0) {
      throw new PropError('replicas.min', target.replicasMin, 'must be 0 with scaleToZero');
    }
    const runtime = this.resolver.runtime;
    const push = target.kedaTriggers.filter(
      (t) => t.type === 'external-push' && t.metadata.scalerAddress === runtime.scalerAddress,
    );
    if (push.length !== 1) {
      throw new PropError(
        'scaling.triggers',
        target.kedaTriggers.map(
          (t) => `${t.type}${t.metadata.scalerAddress ? ` ${t.metadata.scalerAddress}` : ''}`,
        ),
        `scaleToZero needs exactly one external-push trigger of the resolver's decision runtime (${runtime.scalerAddress}): runtime.trigger({ ..., push: true, minReplicas: 0 }), so a wake-up reaches KEDA at once`,
      );
    }
    const trigger = push[0] as Trigger;
    if (trigger.metadata.minReplicas !== '0') {
      throw new PropError(
        'scaling.triggers',
        trigger.metadata.minReplicas ?? '1 (the runtime default)',
        `the decision runtime's push trigger must set minReplicas: 0 with scaleToZero, or the runtime keeps ${where} above zero`,
      );
    }
  }

  /**
   * @internal Checks the workload, creates the resolver's Role and the NetworkPolicies in the
   * workload's namespace, and registers the route for the resolver.
   */
  bind(scope: Construct, target: ScaleToZeroTarget): ScaleToZeroRoute {
    this.check(target);
    const where = `workload "${target.namespace}/${target.name}"`;
    const runtime = this.resolver.runtime;
    const clients = [...new Set(this.options.clientNamespaces ?? [target.namespace])];
    const resolver = this.resolver;
    const svc = `${target.name}.${target.namespace}`;
    const route: ScaleToZeroRoute = {
      resolver: { name: resolver.name, namespace: resolver.namespace },
      json: {
        namespace: target.namespace,
        service: target.name,
        port: 'http',
        scaledObject: target.name,
        hosts: [...this.hosts, svc, `${svc}.svc`, `${svc}.svc.cluster.local`].filter(
          (h, i, all) => all.indexOf(h) === i,
        ),
        pathPrefix: this.pathPrefix,
        protocol: this.protocol === 'grpc' ? 'h2c' : 'http',
        runtime: {
          namespace: runtime.namespace,
          service: runtime.name,
          port: 'http',
          url: `http://${runtime.name}.${runtime.namespace}.svc.cluster.local:${RUNTIME_HTTP_PORT}`,
        },
        holdTimeoutSeconds: this.holdTimeoutSeconds,
        maxHeld: this.maxHeld,
        releaseConcurrency: this.releaseConcurrency,
        retryAfterSeconds: this.retryAfterSeconds,
        switchService: this.switchService,
      },
      shortHost: target.name,
      workload: { selector: target.selector, port: target.port as number },
      clientNamespaces: clients,
      scalerAddress: runtime.scalerAddress,
      where,
    };
    const root = scope.node.root;
    ROUTES.set(root, [...(ROUTES.get(root) ?? []), route]);
    this.createRbac(scope, target);
    this.createNetworkPolicies(scope, target, clients);
    scope.node.addValidation({
      validate: () =>
        hasScaleToZeroResolver(scope, resolver)
          ? []
          : [
              `scaleToZero: ${where} uses resolver ${resolver.namespace}/${resolver.name}, which this app does not deploy (add a ScaleToZeroResolver)`,
            ],
    });
    return route;
  }

  private labels(target: ScaleToZeroTarget): Record<string, string> {
    return {
      'app.kubernetes.io/name': target.name,
      'app.kubernetes.io/component': 'scale-to-zero',
      'app.kubernetes.io/managed-by': 'elasticai',
    };
  }

  /** What the resolver may do in the workload's namespace, and nothing more. */
  private createRbac(scope: Construct, target: ScaleToZeroTarget): void {
    const name = `${this.resolver.name}-${target.name}`;
    const metadata = { name, namespace: target.namespace, labels: this.labels(target) };
    new k8s.KubeRole(scope, 'ScaleToZeroRole', {
      metadata,
      rules: [
        // Readiness of the workload's pods, through a watch (list/watch cannot be narrowed by name).
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        // Its own EndpointSlice next to the Service's: created once (create cannot be narrowed by name),
        // then only that one slice is updated or removed.
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['create'] },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          resourceNames: [resolverSliceName(target.name)],
          verbs: ['update', 'patch', 'delete'],
        },
        // The Service's uid, so the slice is owned by (and deleted with) the Service.
        { apiGroups: [''], resources: ['services'], resourceNames: [target.name], verbs: ['get'] },
        // The decision runtime accepts a wake-up only from callers allowed to patch the ScaledObject
        // (a SubjectAccessReview); the resolver itself never patches it.
        {
          apiGroups: ['keda.sh'],
          resources: ['scaledobjects'],
          resourceNames: [target.name],
          verbs: ['patch'],
        },
      ],
    });
    new k8s.KubeRoleBinding(scope, 'ScaleToZeroRoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: this.resolver.name, namespace: this.resolver.namespace }],
    });
  }

  private createNetworkPolicies(
    scope: Construct,
    target: ScaleToZeroTarget,
    clients: readonly string[],
  ): void {
    const fromNamespace = (ns: string): k8s.NetworkPolicyPeer => ({
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } },
    });
    const resolverPods: k8s.NetworkPolicyPeer = {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.resolver.namespace } },
      podSelector: { matchLabels: { ...this.resolver.selector } },
    };
    const tcp = (port: number): k8s.NetworkPolicyPort => ({
      protocol: 'TCP',
      port: k8s.IntOrString.fromNumber(port),
    });
    // Outside a Tenant nothing denies traffic to the workload's pods, and a policy selecting them would
    // start to (Prometheus scrapes, other callers): there the resolver's own policy is all that is needed.
    if (!target.tenantNamespace) return;
    // In a Tenant (default-deny): the workload's pods from the resolver (releases at zero) and from the
    // clients directly (the warm path bypasses the resolver).
    new k8s.KubeNetworkPolicy(scope, 'ScaleToZeroIngress', {
      metadata: {
        name: `${target.name}-scale-to-zero`,
        namespace: target.namespace,
        labels: this.labels(target),
      },
      spec: {
        podSelector: { matchLabels: { ...target.selector } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [resolverPods, ...clients.map(fromNamespace)], ports: [tcp(target.port as number)] },
        ],
      },
    });
    // A Tenant denies egress by default: its pods calling the workload at zero reach the resolver's pods.
    if (clients.includes(target.namespace)) {
      new k8s.KubeNetworkPolicy(scope, 'ScaleToZeroClientEgress', {
        metadata: {
          name: `${target.name}-clients-to-resolver`,
          namespace: target.namespace,
          labels: this.labels(target),
        },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [resolverPods], ports: [tcp(RESOLVER_PROXY_PORT)] }],
        },
      });
    }
  }
}
