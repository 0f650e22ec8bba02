/**
 * The scale-to-zero resolver, assembled: EndpointSlice informers (one watch per namespace), a target per
 * route, the wake-up fan-out to the decision runtime, the Service switch that takes the resolver out of
 * the warm path, the proxy port and the admin port (`/healthz`, `/readyz`, `/metrics`).
 *
 * `startResolver` returns once both ports listen; `/readyz` answers 200 only after every informer's
 * first list (before that, the resolver would not know which targets are ready) and until shutdown.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeClient } from '../service/kube/kube-client.js';
import type { ResolverConfig, Route, RuntimeRef } from './config.js';
import { resolverSliceName } from './config.js';
import type { ForwardContext } from './exchange.js';
import { H2Pool } from './exchange.js';
import { ResolverMetrics } from './metrics.js';
import { ProxyServer } from './proxy-server.js';
import { RouteTable } from './route-table.js';
import { ServiceSwitch } from './service-switch.js';
import type { Endpoint } from './slice-informer.js';
import { SliceInformer } from './slice-informer.js';
import { HoldBudget, Target } from './target.js';
import { Waker } from './waker.js';

export interface ResolverDeps {
  readonly kube: KubeClient;
  /** One JSON object per log line. @default JSON lines on stdout */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Prometheus default process metrics. @default true */
  readonly defaultMetrics?: boolean;
  /** Informer watch timeout asked of the API server. @default 60 */
  readonly watchTimeoutSeconds?: number;
}

export interface Resolver {
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly metrics: ResolverMetrics;
  readonly targets: ReadonlyMap<string, Target>;
  readonly serviceSwitch: ServiceSwitch;
  /** Every informer has listed once and the resolver is not draining. */
  ready(): boolean;
  /** Stops taking new work, lets held and in-flight requests finish (up to the grace period), then closes. */
  shutdown(): Promise<void>;
}

function defaultLog(entry: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'resolver', ...entry })}\n`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function base(e: Endpoint): string {
  return e.addressType === 'IPv6' ? `http://[${e.host}]:${e.port}` : `http://${e.host}:${e.port}`;
}

export async function startResolver(config: ResolverConfig, deps: ResolverDeps): Promise<Resolver> {
  const log = deps.log ?? defaultLog;
  const { kube } = deps;
  const metrics = new ResolverMetrics(
    config.routes.map((r) => r.id),
    { defaultMetrics: deps.defaultMetrics ?? true },
  );
  const table = new RouteTable(config.routes);

  // One informer per namespace, for the targets' Services, the resolver's own and the runtimes'.
  const wanted = new Map<string, Set<string>>();
  const want = (namespace: string, service: string): void => {
    const set = wanted.get(namespace) ?? new Set<string>();
    set.add(service);
    wanted.set(namespace, set);
  };
  want(config.namespace, config.service);
  for (const r of config.routes) {
    want(r.namespace, r.service);
    if (config.runtimeUrl === undefined) want(r.runtime.namespace, r.runtime.service);
  }
  const informers = new Map<string, SliceInformer>();
  for (const [namespace, services] of wanted) {
    informers.set(
      namespace,
      new SliceInformer(kube, namespace, [...services], {
        log,
        ...(deps.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: deps.watchTimeoutSeconds }),
      }),
    );
  }

  let wakeToken: { value: string; readAt: number } | undefined;
  const token = async (): Promise<string | undefined> => {
    if (config.wakeTokenFile === undefined) return kube.bearerToken();
    const now = Date.now();
    if (wakeToken && now - wakeToken.readAt < 60_000) return wakeToken.value;
    wakeToken = { value: (await readFile(config.wakeTokenFile, 'utf8')).trim(), readAt: now };
    return wakeToken.value;
  };
  const runtimeBases = (runtime: RuntimeRef): string[] | undefined => {
    const ready = informers
      .get(runtime.namespace)
      ?.endpoints(runtime.service, runtime.port)
      .filter((e) => e.ready);
    return ready && ready.length > 0 ? ready.map(base) : undefined;
  };
  const waker = new Waker({
    runtimeBases,
    token,
    ...(config.runtimeUrl === undefined ? {} : { staticBase: config.runtimeUrl }),
  });

  const ownEndpoints = (): Endpoint[] =>
    informers.get(config.namespace)?.endpoints(config.service, config.servicePort) ?? [];
  const serviceSwitch = new ServiceSwitch({
    kube,
    informer: (namespace) => informers.get(namespace),
    resolverEndpoints: ownEndpoints,
    log,
  });

  const budget = new HoldBudget(config.maxHeldTotal);
  const targets = new Map<string, Target>();
  for (const route of config.routes) {
    const target = new Target(route, {
      metrics,
      budget,
      wake: (r: Route) => waker.wake(r),
      rewakeMs: config.rewakeMs,
      onReadinessChange: (t) => serviceSwitch.update(t.route, () => t.isReady),
      relist: () => informers.get(route.namespace)?.relist(),
      log,
    });
    targets.set(route.id, target);
  }

  const updateSwitches = (): void => {
    for (const t of targets.values()) serviceSwitch.update(t.route, () => t.isReady);
  };
  for (const [namespace, informer] of informers) {
    informer.on('change', (services: Set<string>) => {
      for (const t of targets.values()) {
        if (t.route.namespace !== namespace || !services.has(t.route.service)) continue;
        t.setEndpoints(informer.endpoints(t.route.service, t.route.port));
        // Our own slice may have been changed by someone else: check it against the desired state.
        if (informer.slice(resolverSliceName(t.route.service)) !== undefined || !t.isReady) {
          serviceSwitch.update(t.route, () => t.isReady);
        }
      }
      if (namespace === config.namespace && services.has(config.service)) updateSwitches();
    });
  }

  let draining = false;
  const pseudonym = `elasticai-resolver.${config.namespace}`;
  const ctx: ForwardContext = {
    // Per pod: reused connections (closed after 1 s idle, before a pod's own keep-alive timeout can race
    // a request on them), at most 128 at once so a burst queues here instead of flooding the pod's
    // accept queue with connects.
    agent: new http.Agent({ keepAlive: true, maxSockets: 128, scheduling: 'lifo', timeout: 1_000 }),
    h2: new H2Pool(),
    connectTimeoutMs: config.connectTimeoutMs,
    via: `1.1 ${pseudonym}`,
    // While the Service bypasses the resolver (or the resolver drains), ask clients still connected to
    // it to reconnect.
    shouldClose: (route) => draining || (route.switchService && (targets.get(route.id)?.isReady ?? false)),
  };
  const proxy = new ProxyServer({ table, targets, ctx, metrics, pseudonym, log });

  const ready = (): boolean => !draining && [...informers.values()].every((i) => i.synced);
  const admin = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = ready();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ok ? 'ready\n' : draining ? 'draining\n' : 'syncing\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  const proxyPort = await proxy.listen(config.listenHost, config.proxyPort);
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(config.adminPort, config.listenHost, () => resolve());
  });
  const adminPort = (admin.address() as AddressInfo).port;
  const display = config.listenHost === '0.0.0.0' ? '127.0.0.1' : config.listenHost;
  // Informers sync in the background; readiness waits for them.
  for (const informer of informers.values()) void informer.start();
  log({
    level: 'info',
    msg: 'resolver listening',
    proxyPort,
    adminPort,
    routes: config.routes.map((r) => ({
      target: r.id,
      hosts: r.hosts,
      pathPrefix: r.pathPrefix,
      protocol: r.protocol,
    })),
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      log({
        level: 'info',
        msg: 'draining',
        drainDelayMs: config.drainDelayMs,
        graceMs: config.shutdownGraceMs,
      });
      // Endpoint removal takes a moment to reach kube-proxy: keep taking requests meanwhile.
      if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
      proxy.stopAccepting();
      let graceTimer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        graceTimer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs);
      });
      const idle = Promise.all([...[...targets.values()].map((t) => t.idle()), proxy.idle()]).then(
        () => 'idle' as const,
      );
      const how = await Promise.race([idle, deadline]);
      clearTimeout(graceTimer);
      proxy.closeIdle();
      if (how === 'timeout') for (const t of targets.values()) t.close();
      serviceSwitch.close();
      proxy.destroyAll();
      await Promise.all([...informers.values()].map((i) => i.stop()));
      waker.close();
      ctx.agent.destroy();
      ctx.h2.close();
      for (const t of targets.values()) t.close();
      await new Promise<void>((resolve) => {
        admin.closeAllConnections();
        admin.close(() => resolve());
      });
      log({ level: 'info', msg: 'stopped', how });
    })();
    return stopping;
  };

  return {
    proxyPort,
    adminPort,
    proxyUrl: `http://${display}:${proxyPort}`,
    adminUrl: `http://${display}:${adminPort}`,
    metrics,
    targets,
    serviceSwitch,
    ready,
    shutdown,
  };
}
