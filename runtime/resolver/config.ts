/**
 * The scale-to-zero resolver's configuration: environment variables set by the ScaleToZero construct
 * (`constructs/k8s/scale-to-zero-resolver.ts` imports the names from here, so both sides agree). The
 * routing table is one JSON variable; every value is checked at start and a bad one stops the process
 * with the variable's (and the route field's) name.
 */
import type { Env } from '../service/config.js';
import { ConfigError, checkSecretFile, httpUrl, int, listenAddress, text } from '../service/config.js';

export { ConfigError };

/** Protocol the target's pods speak: HTTP/1.1 (WebSocket upgrades pass through) or HTTP/2 cleartext (gRPC). */
export type RouteProtocol = 'http' | 'h2c';

/** The decision runtime that wakes a target: its Service, whose ready pods are all told. */
export interface RuntimeRef {
  readonly namespace: string;
  readonly service: string;
  /** Name of the runtime Service's HTTP port (its EndpointSlice port). */
  readonly port: string;
  /** URL used while no runtime pod is known from its EndpointSlices (the Service's DNS name). */
  readonly url: string;
}

/** One route as written in `ELASTICAI_RESOLVER_ROUTES` (the construct writes this JSON). */
export interface RouteJson {
  readonly namespace: string;
  /** The workload's Service. */
  readonly service: string;
  /** Name of the Service port the workload serves on (matched against EndpointSlice port names). */
  readonly port: string;
  /** The workload's ScaledObject (the runtime's wake endpoint is per ScaledObject). */
  readonly scaledObject: string;
  /** Host names (Host / :authority, port ignored); `*.example.com` matches one label. */
  readonly hosts: readonly string[];
  /** @default '/' */
  readonly pathPrefix?: string;
  /** @default 'http' */
  readonly protocol?: RouteProtocol;
  readonly runtime: RuntimeRef;
  /** Longest time a request is held while the target wakes. @default 30 */
  readonly holdTimeoutSeconds?: number;
  /** Most requests held for this target at once. @default 1000 */
  readonly maxHeld?: number;
  /** Held requests released at once per ready endpoint. @default 16 */
  readonly releaseConcurrency?: number;
  /** `Retry-After` of refusals. @default 5 */
  readonly retryAfterSeconds?: number;
  /**
   * Take the resolver out of the data path while the target is warm: its Service is routed through
   * the resolver (an EndpointSlice of the resolver's pods) only while no pod of the target is ready.
   * @default true
   */
  readonly switchService?: boolean;
}

/** A checked route. */
export interface Route extends Required<Omit<RouteJson, 'hosts'>> {
  /** `namespace/service`: the `target` label of every metric. */
  readonly id: string;
  readonly hosts: readonly string[];
  readonly holdTimeoutMs: number;
}

export interface ResolverConfig {
  readonly listenHost: string;
  /** Requests to targets (HTTP/1.1 and HTTP/2 cleartext on one port). */
  readonly proxyPort: number;
  /** `/healthz`, `/readyz`, `/metrics`. */
  readonly adminPort: number;
  /** The resolver's own namespace and Service (its pods' addresses go into the targets' EndpointSlices). */
  readonly namespace: string;
  readonly service: string;
  /** Name of the resolver Service's proxy port. */
  readonly servicePort: string;
  readonly podName: string;
  readonly routes: readonly Route[];
  /** Most requests held over all targets (memory bound). */
  readonly maxHeldTotal: number;
  /** Interval of repeated wake-ups while requests are held (keeps KEDA's cooldown from firing). */
  readonly rewakeMs: number;
  /** Connect timeout to a target pod (a timed-out connect sent nothing, so it is retried). */
  readonly connectTimeoutMs: number;
  /** Kubernetes API base URL; absent: in-cluster. */
  readonly kubeApiUrl?: string;
  /** Bearer token file for the Kubernetes API. @default the pod's ServiceAccount token */
  readonly kubeTokenFile?: string;
  /** Send wake-ups here instead of to the routes' runtimes (tests, out-of-cluster use). */
  readonly runtimeUrl?: string;
  /** Bearer token file presented to the runtime. @default the pod's ServiceAccount token */
  readonly wakeTokenFile?: string;
  /** After SIGTERM: time still accepting new connections while endpoint removal propagates. */
  readonly drainDelayMs: number;
  /** After SIGTERM: longest wait for held and in-flight requests before exiting. */
  readonly shutdownGraceMs: number;
}

/** Every variable the resolver reads. */
export const RESOLVER_ENV = {
  routes: 'ELASTICAI_RESOLVER_ROUTES',
  listenHost: 'ELASTICAI_LISTEN_HOST',
  proxyPort: 'ELASTICAI_RESOLVER_PROXY_PORT',
  adminPort: 'ELASTICAI_RESOLVER_ADMIN_PORT',
  namespace: 'ELASTICAI_NAMESPACE',
  service: 'ELASTICAI_RESOLVER_SERVICE',
  servicePort: 'ELASTICAI_RESOLVER_SERVICE_PORT',
  podName: 'ELASTICAI_POD_NAME',
  maxHeldTotal: 'ELASTICAI_RESOLVER_MAX_HELD',
  rewakeMs: 'ELASTICAI_RESOLVER_REWAKE_MS',
  connectTimeoutMs: 'ELASTICAI_RESOLVER_CONNECT_TIMEOUT_MS',
  kubeApiUrl: 'ELASTICAI_KUBE_API_URL',
  kubeTokenFile: 'ELASTICAI_KUBE_TOKEN_FILE',
  runtimeUrl: 'ELASTICAI_RESOLVER_RUNTIME_URL',
  wakeTokenFile: 'ELASTICAI_RESOLVER_WAKE_TOKEN_FILE',
  drainDelayMs: 'ELASTICAI_RESOLVER_DRAIN_DELAY_MS',
  shutdownGraceMs: 'ELASTICAI_SHUTDOWN_GRACE_MS',
} as const;

/** Documented defaults (runtime/README.md's scale-to-zero section repeats them). */
export const RESOLVER_DEFAULTS = {
  listenHost: '0.0.0.0',
  proxyPort: 8080,
  adminPort: 9091,
  service: 'elasticai-resolver',
  servicePort: 'http',
  maxHeldTotal: 10_000,
  rewakeMs: 5_000,
  connectTimeoutMs: 2_000,
  drainDelayMs: 5_000,
  shutdownGraceMs: 30_000,
  holdTimeoutSeconds: 30,
  maxHeld: 1_000,
  releaseConcurrency: 16,
  retryAfterSeconds: 5,
  pathPrefix: '/',
  protocol: 'http' as RouteProtocol,
} as const;

/** The EndpointSlice `managed-by` label value of the slices the resolver writes. */
export const RESOLVER_MANAGED_BY = 'resolver.elasticai.io';

/** Name of the EndpointSlice the resolver writes for a target Service. */
export function resolverSliceName(service: string): string {
  return `${service}-elasticai-resolver`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A host name, optionally `*.` + a name (one label wildcard), lowercase, no port. */
const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses and checks `ELASTICAI_RESOLVER_ROUTES`. */
export function parseRoutes(raw: string | undefined, variable: string = RESOLVER_ENV.routes): Route[] {
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError(variable, raw ?? '', 'is required: a JSON array of routes');
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(variable, raw.slice(0, 80), 'must be a JSON array of routes');
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(variable, value, 'must be a non-empty JSON array of routes');
  }
  const seenTargets = new Set<string>();
  const seenMatches = new Map<string, string>();
  return value.map((item: unknown, i) => {
    const where = `${variable}[${i}]`;
    const o = (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {}) as Record<
      string,
      unknown
    >;
    const name = (field: string, pattern: RegExp, what: string): string => {
      const v = o[field];
      if (typeof v !== 'string' || !pattern.test(v))
        throw new ConfigError(`${where}.${field}`, v, `must be ${what}`);
      return v;
    };
    const integer = (field: string, fallback: number, min: number, max: number): number => {
      const v = o[field];
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        throw new ConfigError(`${where}.${field}`, v, `must be an integer in [${min}, ${max}]`);
      }
      return v;
    };
    const namespace = name('namespace', DNS_LABEL, 'a namespace name');
    const service = name('service', DNS_LABEL, 'a Service name');
    const port = name('port', DNS_LABEL, 'the name of a Service port');
    const scaledObject = name('scaledObject', DNS_SUBDOMAIN, 'a ScaledObject name');
    const id = `${namespace}/${service}`;
    if (seenTargets.has(id)) throw new ConfigError(`${where}.service`, service, `repeats target ${id}`);
    seenTargets.add(id);
    if (!Array.isArray(o.hosts) || o.hosts.length === 0) {
      throw new ConfigError(`${where}.hosts`, o.hosts, 'must be a non-empty array of host names');
    }
    const hosts = o.hosts.map((h: unknown, j) => {
      if (typeof h !== 'string' || h.length > 253 || !HOST.test(h)) {
        throw new ConfigError(
          `${where}.hosts[${j}]`,
          h,
          'must be a lowercase host name (optionally "*.name"), no port',
        );
      }
      return h;
    });
    const pathPrefix = o.pathPrefix ?? RESOLVER_DEFAULTS.pathPrefix;
    if (typeof pathPrefix !== 'string' || !/^\/[^?#\s]*$/.test(pathPrefix)) {
      throw new ConfigError(
        `${where}.pathPrefix`,
        pathPrefix,
        'must start with "/" and hold no query or spaces',
      );
    }
    const normalizedPrefix = pathPrefix.length > 1 ? pathPrefix.replace(/\/+$/, '') : pathPrefix;
    for (const host of hosts) {
      const key = `${host}${normalizedPrefix}`;
      const other = seenMatches.get(key);
      if (other !== undefined) {
        throw new ConfigError(
          `${where}.hosts`,
          host,
          `with pathPrefix ${normalizedPrefix} is already routed to ${other}`,
        );
      }
      seenMatches.set(key, id);
    }
    const protocol = o.protocol ?? RESOLVER_DEFAULTS.protocol;
    if (protocol !== 'http' && protocol !== 'h2c') {
      throw new ConfigError(`${where}.protocol`, protocol, 'must be "http" or "h2c"');
    }
    const r = (typeof o.runtime === 'object' && o.runtime !== null ? o.runtime : {}) as Record<
      string,
      unknown
    >;
    const runtimeField = (field: string, pattern: RegExp, what: string): string => {
      const v = r[field];
      if (typeof v !== 'string' || !pattern.test(v)) {
        throw new ConfigError(`${where}.runtime.${field}`, v, `must be ${what}`);
      }
      return v;
    };
    const runtime: RuntimeRef = {
      namespace: runtimeField('namespace', DNS_LABEL, 'a namespace name'),
      service: runtimeField('service', DNS_LABEL, 'a Service name'),
      port: runtimeField('port', DNS_LABEL, 'the name of a Service port'),
      url: httpUrl(`${where}.runtime.url`, typeof r.url === 'string' ? r.url : ''),
    };
    const switchService = o.switchService ?? true;
    if (typeof switchService !== 'boolean') {
      throw new ConfigError(`${where}.switchService`, switchService, 'must be true or false');
    }
    for (const key of Object.keys(o)) {
      if (
        ![
          'namespace',
          'service',
          'port',
          'scaledObject',
          'hosts',
          'pathPrefix',
          'protocol',
          'runtime',
          'holdTimeoutSeconds',
          'maxHeld',
          'releaseConcurrency',
          'retryAfterSeconds',
          'switchService',
        ].includes(key)
      ) {
        throw new ConfigError(`${where}.${key}`, o[key], 'is not a route field');
      }
    }
    const holdTimeoutSeconds = integer('holdTimeoutSeconds', RESOLVER_DEFAULTS.holdTimeoutSeconds, 1, 3_600);
    return {
      id,
      namespace,
      service,
      port,
      scaledObject,
      hosts,
      pathPrefix: normalizedPrefix,
      protocol,
      runtime,
      holdTimeoutSeconds,
      holdTimeoutMs: holdTimeoutSeconds * 1000,
      maxHeld: integer('maxHeld', RESOLVER_DEFAULTS.maxHeld, 1, 1_000_000),
      releaseConcurrency: integer('releaseConcurrency', RESOLVER_DEFAULTS.releaseConcurrency, 1, 10_000),
      retryAfterSeconds: integer('retryAfterSeconds', RESOLVER_DEFAULTS.retryAfterSeconds, 1, 3_600),
      switchService,
    };
  });
}

/**
 * Checks at start the token files the configuration names, which are read again later (a rotated token
 * is picked up): a missing or empty one stops the process naming its variable instead of failing every
 * wake-up or Kubernetes call.
 */
export function checkResolverFiles(config: ResolverConfig): void {
  const files: [string, string | undefined][] = [
    [RESOLVER_ENV.wakeTokenFile, config.wakeTokenFile],
    [RESOLVER_ENV.kubeTokenFile, config.kubeTokenFile],
  ];
  for (const [variable, path] of files) if (path !== undefined) checkSecretFile(variable, path);
}

/** Reads and checks the configuration; throws ConfigError naming the first bad variable. */
export function loadResolverConfig(env: Env = process.env): ResolverConfig {
  const E = RESOLVER_ENV;
  const D = RESOLVER_DEFAULTS;
  const namespace = text(env, E.namespace) ?? 'elasticai-system';
  if (!DNS_LABEL.test(namespace)) throw new ConfigError(E.namespace, namespace, 'must be a namespace name');
  const service = text(env, E.service) ?? D.service;
  if (!DNS_LABEL.test(service)) throw new ConfigError(E.service, service, 'must be a Service name');
  const servicePort = text(env, E.servicePort) ?? D.servicePort;
  if (!DNS_LABEL.test(servicePort)) throw new ConfigError(E.servicePort, servicePort, 'must be a port name');
  const kubeApiUrl = text(env, E.kubeApiUrl);
  const runtimeUrl = text(env, E.runtimeUrl);
  const wakeTokenFile = text(env, E.wakeTokenFile);
  const kubeTokenFile = text(env, E.kubeTokenFile);
  const proxyPort = int(env, E.proxyPort, D.proxyPort, 0, 65_535);
  const adminPort = int(env, E.adminPort, D.adminPort, 0, 65_535);
  if (proxyPort !== 0 && proxyPort === adminPort) {
    throw new ConfigError(E.adminPort, adminPort, `must differ from ${E.proxyPort}`);
  }
  return {
    listenHost: listenAddress(env, E.listenHost, D.listenHost),
    proxyPort,
    adminPort,
    namespace,
    service,
    servicePort,
    podName: text(env, E.podName) ?? 'elasticai-resolver-local',
    routes: parseRoutes(text(env, E.routes)),
    maxHeldTotal: int(env, E.maxHeldTotal, D.maxHeldTotal, 1, 10_000_000),
    rewakeMs: int(env, E.rewakeMs, D.rewakeMs, 100, 600_000),
    connectTimeoutMs: int(env, E.connectTimeoutMs, D.connectTimeoutMs, 50, 60_000),
    ...(kubeApiUrl === undefined ? {} : { kubeApiUrl: httpUrl(E.kubeApiUrl, kubeApiUrl) }),
    ...(runtimeUrl === undefined ? {} : { runtimeUrl: httpUrl(E.runtimeUrl, runtimeUrl) }),
    ...(wakeTokenFile === undefined ? {} : { wakeTokenFile }),
    ...(kubeTokenFile === undefined ? {} : { kubeTokenFile }),
    drainDelayMs: int(env, E.drainDelayMs, D.drainDelayMs, 0, 300_000),
    shutdownGraceMs: int(env, E.shutdownGraceMs, D.shutdownGraceMs, 0, 3_600_000),
  };
}
