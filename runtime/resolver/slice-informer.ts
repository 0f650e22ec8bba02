/**
 * Keeps the EndpointSlices of a few Services of one namespace in memory: one list, then one watch
 * (`labelSelector=kubernetes.io/service-name in (…)`) resumed from the last resourceVersion, so a pod
 * turning ready is seen within milliseconds of the EndpointSlice controller writing it — no polling.
 *
 * A watch ended by the server is resumed from the last resourceVersion (bookmarks keep it fresh); an
 * `ERROR` event with 410 Expired re-lists at once; any other failure re-lists after a backoff (100 ms
 * doubling to 5 s). Watch sockets use TCP keep-alive and an idle timeout, so a half-open connection is
 * noticed and replaced instead of leaving the resolver blind.
 */
import { EventEmitter } from 'node:events';
import type { KubeClient, WatchEvent } from '../service/kube/kube-client.js';
import { KubeApiError, kubePath } from '../service/kube/kube-client.js';
import { RESOLVER_MANAGED_BY } from './config.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** The parts of an EndpointSlice the resolver reads. */
export interface EndpointSlice {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly addressType: string;
  readonly endpoints: readonly {
    readonly addresses: readonly string[];
    readonly conditions?: {
      readonly ready?: boolean | null;
      readonly serving?: boolean | null;
      readonly terminating?: boolean | null;
    };
    readonly targetRef?: {
      readonly kind?: string;
      readonly name?: string;
      readonly namespace?: string;
      readonly uid?: string;
    };
    readonly nodeName?: string;
    readonly zone?: string;
  }[];
  readonly ports?:
    readonly { readonly name?: string; readonly port?: number | null; readonly protocol?: string }[] | null;
}

/** One address and port of a Service's port, with its state. */
export interface Endpoint {
  /** `host:port`, unique per endpoint. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Ready (a nil condition counts as ready, as the API documents). */
  readonly ready: boolean;
  /** Serving even while terminating. */
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly targetRef?: {
    readonly kind?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
  };
  readonly nodeName?: string;
  readonly zone?: string;
  readonly addressType: string;
}

export interface SliceInformerOptions {
  /** Longest silence on a watch before it is replaced. @default 90000 */
  readonly idleTimeoutMs?: number;
  /** `timeoutSeconds` asked of the API server for each watch. @default 60 */
  readonly watchTimeoutSeconds?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Emits `change` with the set of Service names whose slices changed (after the first list too), and
 * `synced` once the first list is in.
 */
export class SliceInformer extends EventEmitter {
  private readonly slices = new Map<string, EndpointSlice>();
  private resourceVersion: string | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private relistNow = false;
  private readonly services: readonly string[];

  constructor(
    private readonly kube: KubeClient,
    readonly namespace: string,
    services: readonly string[],
    private readonly options: SliceInformerOptions = {},
  ) {
    super();
    this.services = [...new Set(services)].sort();
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  /** Starts listing and watching; resolves after the first successful list. */
  start(): Promise<void> {
    if (!this.running) this.running = this.run();
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.once('synced', resolve));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** Asks for a fresh list now (a backstop while requests wait for readiness); cheap to call often. */
  relist(): void {
    this.relistNow = true;
    this.watchAbort?.abort();
  }

  /** The slice named `name`, if known. */
  slice(name: string): EndpointSlice | undefined {
    return this.slices.get(name);
  }

  /**
   * Endpoints of `service`'s port `portName` over all its slices, except slices written by the resolver
   * itself. An address listed twice (slices overlap during controller updates) is kept once, the ready
   * copy winning.
   */
  endpoints(service: string, portName: string): Endpoint[] {
    const byKey = new Map<string, Endpoint>();
    for (const slice of this.slices.values()) {
      const labels = slice.metadata.labels ?? {};
      if (labels[SERVICE_NAME_LABEL] !== service || labels[MANAGED_BY_LABEL] === RESOLVER_MANAGED_BY)
        continue;
      if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName)?.port;
      if (port === undefined || port === null) continue;
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses[0];
        if (address === undefined) continue;
        const c = e.conditions ?? {};
        const terminating = c.terminating === true;
        // A nil `ready` means ready, but never for a terminating endpoint.
        const ready = c.ready !== false && !terminating;
        const serving = c.serving === undefined || c.serving === null ? ready : c.serving;
        const host = slice.addressType === 'IPv6' ? `[${address}]` : address;
        const key = `${host}:${port}`;
        const previous = byKey.get(key);
        if (previous && previous.ready) continue;
        byKey.set(key, {
          key,
          host: address,
          port,
          ready,
          serving,
          terminating,
          addressType: slice.addressType,
          ...(e.targetRef ? { targetRef: e.targetRef } : {}),
          ...(e.nodeName ? { nodeName: e.nodeName } : {}),
          ...(e.zone ? { zone: e.zone } : {}),
        });
      }
    }
    return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  private watchAbort: AbortController | undefined;

  private log(entry: Record<string, unknown>): void {
    this.options.log?.({ component: 'slice-informer', namespace: this.namespace, ...entry });
  }

  private get path(): string {
    return kubePath('apis', 'discovery.k8s.io', 'v1', 'namespaces', this.namespace, 'endpointslices');
  }

  private get selector(): string {
    return `${SERVICE_NAME_LABEL} in (${this.services.join(',')})`;
  }

  private async list(): Promise<void> {
    const answer = await this.kube.list<{ metadata?: { resourceVersion?: string }; items?: EndpointSlice[] }>(
      this.path,
      { labelSelector: this.selector },
    );
    const changed = new Set<string>();
    const next = new Map<string, EndpointSlice>();
    for (const s of answer?.items ?? []) next.set(s.metadata.name, s);
    for (const [name, s] of this.slices) {
      if (!next.has(name)) changed.add(s.metadata.labels?.[SERVICE_NAME_LABEL] ?? '');
    }
    for (const [name, s] of next) {
      const old = this.slices.get(name);
      if (!old || old.metadata.resourceVersion !== s.metadata.resourceVersion) {
        changed.add(s.metadata.labels?.[SERVICE_NAME_LABEL] ?? '');
      }
    }
    this.slices.clear();
    for (const [name, s] of next) this.slices.set(name, s);
    this.resourceVersion = answer?.metadata?.resourceVersion;
    changed.delete('');
    const first = !this.syncedOnce;
    this.syncedOnce = true;
    if (first) this.emit('synced');
    this.emit('change', first ? new Set(this.services) : changed);
  }

  private apply(event: WatchEvent<EndpointSlice>): void {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(
        status.code ?? 500,
        status.reason ?? 'WatchError',
        status.message ?? 'watch error',
      );
    }
    const o = event.object;
    if (o?.metadata?.resourceVersion !== undefined) this.resourceVersion = o.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const name = o.metadata.name;
    const service =
      o.metadata.labels?.[SERVICE_NAME_LABEL] ?? this.slices.get(name)?.metadata.labels?.[SERVICE_NAME_LABEL];
    if (event.type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, o);
    if (service !== undefined) this.emit('change', new Set([service]));
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let needList = true;
    let backoff = 100;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 60;
    while (!signal.aborted) {
      try {
        if (needList || this.relistNow) {
          this.relistNow = false;
          await this.list();
          needList = false;
          if (this.relistNow) continue;
        }
        // stop() may have been called while listing: its abort event is gone by now.
        if (signal.aborted) break;
        const watchAbort = new AbortController();
        this.watchAbort = watchAbort;
        const onAbort = (): void => watchAbort.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await this.kube.watch<EndpointSlice>(
            this.path,
            {
              labelSelector: this.selector,
              resourceVersion: this.resourceVersion,
              allowWatchBookmarks: 'true',
              timeoutSeconds,
            },
            (event) => this.apply(event),
            {
              signal: watchAbort.signal,
              idleTimeoutMs: this.options.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000,
            },
          );
        } finally {
          signal.removeEventListener('abort', onAbort);
          this.watchAbort = undefined;
        }
        backoff = 100;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof KubeApiError && error.reason === 'Aborted' && this.relistNow) continue;
        needList = true;
        if (
          error instanceof KubeApiError &&
          (error.status === 410 || error.reason === 'Expired' || error.reason === 'Gone')
        ) {
          this.log({ level: 'info', msg: 'watch expired; re-listing' });
          continue;
        }
        this.log({
          level: 'warn',
          msg: `EndpointSlice watch failed: ${(error as Error).message}`,
          backoffMs: backoff,
        });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }
}
