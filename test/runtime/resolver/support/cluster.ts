/**
 * A small cluster on loopback for the resolver's tests and benchmark, made of real parts where it
 * matters:
 *
 * - the in-process Kubernetes API (`FakeKubeApi`) holding the EndpointSlices of the target Service,
 *   of the resolver's own Service and of the decision runtime's Service;
 * - the resolver itself (in this process, or any process pointed at `api.url`);
 * - "runtime replicas": HTTP servers answering `POST …/wake` (202 for the resolver's token) — or the
 *   real runtime, in the test that wires it;
 * - "KEDA + kubelet": a wake-up for a target at zero starts a real backend process after a scheduling
 *   delay; the process itself takes its start-up time to listen, and only then does its endpoint
 *   turn ready in the EndpointSlice (as the EndpointSlice controller writes it after the readiness
 *   probe). Scaling to zero marks it terminating, stops the process and removes it;
 * - "kube-proxy": a TCP forwarder for the target Service that sends each new connection to one ready
 *   endpoint of the union of the Service's EndpointSlices (serving-terminating ones when none is
 *   ready), and resets the connection when there is none — the path clients really take.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ResolverConfig, RouteJson } from '../../../../runtime/resolver/config.js';
import { loadResolverConfig } from '../../../../runtime/resolver/config.js';
import type { Resolver } from '../../../../runtime/resolver/resolver.js';
import { startResolver } from '../../../../runtime/resolver/resolver.js';
import { KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import { FakeKubeApi, type JsonObject } from '../../../support/fake-kube-api.js';

export const RESOLVER_TOKEN = 'resolver-service-account-token-0123456789';
export const NAMESPACE = 'shop';
export const SERVICE = 'web';
export const SYSTEM = 'elasticai-system';
export const HOST = 'shop.example.com';

const here = dirname(fileURLToPath(import.meta.url));
export const BACKEND_SCRIPT = join(here, 'backend.js');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Epoch milliseconds with sub-millisecond precision, comparable across processes of this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export { freePort } from '../../../support/free-port.js';

/** Waits until `check` holds, polling every 10 ms. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** One line a backend printed. */
export interface BackendEvent {
  readonly event: string;
  readonly id?: string;
  readonly method?: string;
  readonly path?: string;
  readonly bytes?: number;
  readonly sha?: string;
  readonly inflight?: number;
  readonly at?: number;
  readonly port?: number;
  readonly pid?: number;
  readonly via?: string;
  readonly message?: string;
}

/** A backend process (one "pod"). */
export class Backend {
  readonly events: BackendEvent[] = [];
  readonly exited: Promise<number | null>;
  port = 0;
  private listeners: ((e: BackendEvent) => void)[] = [];

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      let event: BackendEvent;
      try {
        event = JSON.parse(line) as BackendEvent;
      } catch {
        return;
      }
      this.events.push(event);
      for (const l of this.listeners) l(event);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(env: Record<string, string>): Backend {
    const child = spawn(process.execPath, [BACKEND_SCRIPT], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Backend(child);
  }

  on(listener: (e: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  listening(timeoutMs = 15_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const found = this.events.find((e) => e.event === 'listening');
      if (found) return resolve(found.port as number);
      const timer = setTimeout(() => reject(new Error('backend did not listen in time')), timeoutMs);
      this.on((e) => {
        if (e.event === 'listening') {
          clearTimeout(timer);
          this.port = e.port as number;
          resolve(e.port as number);
        }
      });
      this.child.once('exit', (code) => reject(new Error(`backend exited with ${code} before listening`)));
    });
  }

  get requests(): BackendEvent[] {
    return this.events.filter((e) => e.event === 'request');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** A stand-in replica of the decision runtime's HTTP API: wake-ups only. */
export class FakeRuntime {
  readonly wakes: { at: number; path: string; token: string | undefined }[] = [];
  /** Status to answer (202 normally). */
  status = 202;
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(onWake: (namespace: string, name: string) => void): Promise<FakeRuntime> {
    const holder: { runtime?: FakeRuntime } = {};
    const server = http.createServer((req, res) => {
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
      const m = /^\/api\/v1\/workloads\/([^/]+)\/([^/]+)\/wake$/.exec(req.url ?? '');
      req.resume();
      const runtime = holder.runtime as FakeRuntime;
      if (req.method !== 'POST' || !m) return void res.writeHead(404).end();
      runtime.wakes.push({ at: wallNow(), path: req.url ?? '', token });
      if (token !== RESOLVER_TOKEN) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      if (runtime.status !== 202) {
        res.writeHead(runtime.status, { 'content-type': 'application/json' }).end('{"message":"not now"}');
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"woken":true}');
      onWake(decodeURIComponent(m[1] as string), decodeURIComponent(m[2] as string));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const runtime = new FakeRuntime(server, (server.address() as net.AddressInfo).port);
    holder.runtime = runtime;
    return runtime;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A kube-proxy stand-in for one Service: each connection goes to one endpoint of its slices. */
export class ServiceProxy {
  /** Where each accepted connection went (`resolver`, `pod` or `none`). */
  readonly routed: { to: 'resolver' | 'pod' | 'none'; port: number }[] = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(
    api: FakeKubeApi,
    namespace: string,
    service: string,
    portName: string,
  ): Promise<ServiceProxy> {
    const holder: { proxy?: ServiceProxy } = {};
    const server = net.createServer((client) => {
      const proxy = holder.proxy as ServiceProxy;
      proxy.sockets.add(client);
      client.on('close', () => proxy.sockets.delete(client));
      client.on('error', () => client.destroy());
      const candidates: {
        host: string;
        port: number;
        ready: boolean;
        serving: boolean;
        resolver: boolean;
      }[] = [];
      for (const slice of api.endpointSlices(namespace, service)) {
        const labels = ((slice.metadata as JsonObject).labels ?? {}) as Record<string, string>;
        const resolver = labels['endpointslice.kubernetes.io/managed-by'] === 'resolver.elasticai.io';
        const port = ((slice.ports as JsonObject[] | undefined) ?? []).find((p) => p.name === portName)?.port;
        if (typeof port !== 'number') continue;
        for (const e of (slice.endpoints as JsonObject[]) ?? []) {
          const c = (e.conditions ?? {}) as Record<string, boolean | undefined>;
          const terminating = c.terminating === true;
          const ready = c.ready !== false && !terminating;
          candidates.push({
            host: (e.addresses as string[])[0] as string,
            port,
            ready,
            serving: c.serving ?? ready,
            resolver,
          });
        }
      }
      const ready = candidates.filter((c) => c.ready);
      const pool = ready.length > 0 ? ready : candidates.filter((c) => c.serving);
      const chosen = pool[Math.floor(Math.random() * pool.length)];
      if (!chosen) {
        proxy.routed.push({ to: 'none', port: 0 });
        client.resetAndDestroy();
        return;
      }
      proxy.routed.push({ to: chosen.resolver ? 'resolver' : 'pod', port: chosen.port });
      const upstream = net.connect({ host: chosen.host, port: chosen.port });
      upstream.on('error', () => client.resetAndDestroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new ServiceProxy(server, (server.address() as net.AddressInfo).port);
    holder.proxy = proxy;
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ClusterOptions {
  /** Delay between the wake-up and the backend process being started (KEDA, scheduling, image). @default 200 */
  readonly scheduleMs?: number;
  /** Start-up time of the backend process before it listens. @default 800 */
  readonly appStartMs?: number;
  /** Extra environment of each backend process (MODE, RESPONSE_DELAY_MS, DIE_AFTER, …). */
  readonly backendEnv?: Record<string, string>;
  /** Route fields over the defaults. */
  readonly route?: Partial<RouteJson>;
  /** Resolver settings over the defaults. */
  readonly resolver?: Partial<ResolverConfig>;
  /** Runtime replicas (wake-up fan-out). @default 1 */
  readonly runtimes?: number;
  /** Start a backend when woken. @default true */
  readonly autoStart?: boolean;
  /** Collect the resolver's log lines. */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Start the resolver in this process. @default true */
  readonly inProcessResolver?: boolean;
}

/** A ready-made loopback cluster with one scale-to-zero target `shop/web`. */
export class FakeCluster {
  api!: FakeKubeApi;
  resolver!: Resolver;
  runtimes: FakeRuntime[] = [];
  backends: Backend[] = [];
  /** When each backend's endpoint turned ready in its EndpointSlice (wall ms). */
  readyAt: number[] = [];
  /** Wake-ups that started a backend. */
  starts = 0;
  /** The Deployment's replica count as KEDA sets it (a wake-up at 0 makes it 1). */
  replicas = 0;
  config!: ResolverConfig;
  private starting: Promise<void> | undefined;
  private sliceSeq = 0;

  private constructor(readonly options: ClusterOptions) {}

  static async start(options: ClusterOptions = {}): Promise<FakeCluster> {
    const c = new FakeCluster(options);
    c.api = await FakeKubeApi.start({ serviceAccountToken: RESOLVER_TOKEN });
    c.api.putService({
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: {
        selector: { 'app.kubernetes.io/name': SERVICE },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    });
    for (let i = 0; i < (options.runtimes ?? 1); i++) {
      const runtime = await FakeRuntime.start((ns, name) => c.onWake(ns, name));
      c.runtimes.push(runtime);
      c.api.putEndpointSlice(
        FakeCluster.slice(SYSTEM, 'elasticai-runtime', `elasticai-runtime-r${i}`, 'http', runtime.port, [
          { address: '127.0.0.1', ready: true },
        ]),
      );
    }
    c.config = c.resolverConfig();
    if (options.inProcessResolver ?? true) {
      c.resolver = await startResolver(c.config, {
        kube: new KubeClient({ url: c.api.url, token: RESOLVER_TOKEN }),
        log: options.log ?? (() => undefined),
        defaultMetrics: false,
      });
      c.putResolverEndpoints([c.resolver.proxyPort]);
      await until(() => c.resolver.ready(), 5_000, 'the resolver to sync');
    }
    return c;
  }

  /** The resolver's environment for this cluster (for a resolver in another process). */
  resolverEnv(proxyPort: number, adminPort: number): Record<string, string> {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'resolver-token-')), 'token');
    writeFileSync(tokenFile, `${RESOLVER_TOKEN}\n`);
    return {
      ELASTICAI_KUBE_TOKEN_FILE: tokenFile,
      ELASTICAI_RESOLVER_ROUTES: JSON.stringify([this.routeJson()]),
      ELASTICAI_LISTEN_HOST: '127.0.0.1',
      ELASTICAI_RESOLVER_PROXY_PORT: String(proxyPort),
      ELASTICAI_RESOLVER_ADMIN_PORT: String(adminPort),
      ELASTICAI_NAMESPACE: SYSTEM,
      ELASTICAI_KUBE_API_URL: this.api.url,
      ELASTICAI_RESOLVER_DRAIN_DELAY_MS: '0',
      ELASTICAI_SHUTDOWN_GRACE_MS: '5000',
    };
  }

  routeJson(): RouteJson {
    return {
      namespace: NAMESPACE,
      service: SERVICE,
      port: 'http',
      scaledObject: SERVICE,
      hosts: [HOST, `${SERVICE}.${NAMESPACE}`, `${SERVICE}.${NAMESPACE}.svc.cluster.local`],
      runtime: {
        namespace: SYSTEM,
        service: 'elasticai-runtime',
        port: 'http',
        url: this.runtimes[0]?.url ?? 'http://127.0.0.1:1',
      },
      holdTimeoutSeconds: 30,
      ...this.options.route,
    };
  }

  private resolverConfig(): ResolverConfig {
    const base = loadResolverConfig({
      ELASTICAI_RESOLVER_ROUTES: JSON.stringify([this.routeJson()]),
      ELASTICAI_LISTEN_HOST: '127.0.0.1',
      ELASTICAI_RESOLVER_PROXY_PORT: '0',
      ELASTICAI_RESOLVER_ADMIN_PORT: '0',
      ELASTICAI_NAMESPACE: SYSTEM,
      ELASTICAI_RESOLVER_DRAIN_DELAY_MS: '0',
      ELASTICAI_SHUTDOWN_GRACE_MS: '5000',
    });
    return { ...base, ...this.options.resolver };
  }

  /** An EndpointSlice as the EndpointSlice controller writes it. */
  static slice(
    namespace: string,
    service: string,
    name: string,
    portName: string,
    port: number,
    endpoints: { address: string; ready: boolean; terminating?: boolean }[],
  ): JsonObject {
    return {
      metadata: {
        name,
        namespace,
        labels: {
          'kubernetes.io/service-name': service,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: portName, port, protocol: 'TCP' }],
      endpoints: endpoints.map((e) => ({
        addresses: [e.address],
        conditions: {
          ready: e.ready && !e.terminating,
          serving: e.ready || e.terminating === true,
          terminating: e.terminating === true,
        },
        targetRef: { kind: 'Pod', name: `${service}-pod`, namespace },
      })),
    };
  }

  /** The resolver's own Service endpoints (its ready pods). */
  putResolverEndpoints(ports: number[]): void {
    ports.forEach((port, i) =>
      this.api.putEndpointSlice(
        FakeCluster.slice(SYSTEM, 'elasticai-resolver', `elasticai-resolver-p${i}`, 'http', port, [
          { address: '127.0.0.1', ready: true },
        ]),
      ),
    );
  }

  /** The controller-managed slice of the target: one endpoint per backend port given. */
  putTargetEndpoints(endpoints: { port: number; ready: boolean; terminating?: boolean }[]): void {
    for (const old of this.api.endpointSlices(NAMESPACE, SERVICE)) {
      const labels = ((old.metadata as JsonObject).labels ?? {}) as Record<string, string>;
      if (labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io') {
        this.api.deleteEndpointSlice(NAMESPACE, (old.metadata as JsonObject).name as string);
      }
    }
    endpoints.forEach((e) =>
      this.api.putEndpointSlice(
        FakeCluster.slice(NAMESPACE, SERVICE, `${SERVICE}-${++this.sliceSeq}`, 'http', e.port, [
          { address: '127.0.0.1', ready: e.ready, ...(e.terminating ? { terminating: true } : {}) },
        ]),
      ),
    );
  }

  /** Every request any backend of this cluster received, in order of arrival. */
  get deliveries(): BackendEvent[] {
    return this.backends.flatMap((b) => b.requests).sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  }

  get running(): Backend | undefined {
    return this.backends.find((b) => b.child.exitCode === null && b.child.signalCode === null);
  }

  private onWake(namespace: string, name: string): void {
    if (namespace !== NAMESPACE || name !== SERVICE) return;
    // KEDA: an active push at zero replicas scales to one, even while the last pod still terminates.
    if (this.options.autoStart === false || this.replicas > 0 || this.starting) return;
    this.replicas = 1;
    this.starting = (async () => {
      await sleep(this.options.scheduleMs ?? 200);
      await this.startBackend();
    })().finally(() => {
      this.starting = undefined;
    });
  }

  /** Starts a backend ("a pod") and marks it ready once it listens. */
  async startBackend(env: Record<string, string> = {}): Promise<Backend> {
    this.starts++;
    this.replicas = 1;
    const backend = Backend.start({
      START_DELAY_MS: String(this.options.appStartMs ?? 800),
      ...this.options.backendEnv,
      ...env,
    });
    this.backends.push(backend);
    const port = await backend.listening();
    this.readyAt.push(wallNow());
    this.putTargetEndpoints([{ port, ready: true }]);
    return backend;
  }

  /** KEDA scaling to zero: the endpoint turns terminating, the process stops, the endpoint goes. */
  async scaleToZero(): Promise<void> {
    const backend = this.running;
    this.replicas = 0;
    if (!backend) return;
    this.putTargetEndpoints([{ port: backend.port, ready: false, terminating: true }]);
    await backend.stop('SIGTERM');
    this.putTargetEndpoints([]);
  }

  /** All wake-ups received by the runtime replicas. */
  get wakes(): { at: number; path: string; token: string | undefined }[] {
    return this.runtimes.flatMap((r) => r.wakes).sort((a, b) => a.at - b.at);
  }

  /** A metric of the in-process resolver, summed over the series matching `labels` (histograms: their count). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const all = await this.resolver.metrics.registry.getMetricsAsJSON();
    const m = all.find((x) => x.name === name);
    if (!m) return Number.NaN;
    const values = m.values as {
      labels: Record<string, string | number>;
      value: number;
      metricName?: string;
    }[];
    const wanted =
      String(m.type) === 'histogram' ? values.filter((v) => v.metricName === `${name}_count`) : values;
    return wanted
      .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async close(): Promise<void> {
    await this.resolver?.shutdown();
    await Promise.all(this.backends.map((b) => b.stop('SIGKILL')));
    await Promise.all(this.runtimes.map((r) => r.close()));
    await this.api.close();
  }
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request on its own connection (or `agent`), with a body and an optional abort. */
export function send(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent | false;
    signal?: AbortSignal;
    host?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: options.host ?? HOST, ...options.headers },
        agent: options.agent ?? false,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
