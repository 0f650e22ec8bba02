/**
 * Takes the resolver out of the data path while a target is warm.
 *
 * The target's Service keeps its own selector and the EndpointSlices the EndpointSlice controller
 * writes for its pods. Next to them the resolver keeps one more slice of the same Service
 * (`<service>-elasticai-resolver`, labelled `kubernetes.io/service-name: <service>` and
 * `endpointslice.kubernetes.io/managed-by: resolver.elasticai.io`, which the controller leaves alone):
 * it lists the resolver's ready pods while the target has no ready pod, and nothing while it has one.
 * kube-proxy, Cilium and ingress controllers merge every slice of a Service, so at zero the Service
 * reaches the resolver, and once a pod is ready it reaches the pods only — the warm path pays nothing
 * for the resolver. Nothing in the Service (or any object GitOps manages) is changed, so Argo CD and
 * Flux see no drift.
 *
 * Every resolver replica reconciles the same desired state from the same inputs, idempotently (PUT
 * with the resourceVersion it read; a conflict re-reads), so replicas need no leader.
 */
import type { KubeClient } from '../service/kube/kube-client.js';
import { KubeApiError, kubePath } from '../service/kube/kube-client.js';
import type { Route } from './config.js';
import { RESOLVER_MANAGED_BY, resolverSliceName } from './config.js';
import type { Endpoint, EndpointSlice, SliceInformer } from './slice-informer.js';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './slice-informer.js';

export interface ServiceSwitchOptions {
  readonly kube: KubeClient;
  /** The informer of a namespace (holds the target's slices, the resolver's own included). */
  readonly informer: (namespace: string) => SliceInformer | undefined;
  /** Ready pods of the resolver itself, on its proxy port. */
  readonly resolverEndpoints: () => readonly Endpoint[];
  readonly log?: (entry: Record<string, unknown>) => void;
}

interface DesiredSlice {
  readonly addressType: string;
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ServiceSwitch {
  private readonly busy = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly owners = new Map<string, { uid: string } | null>();
  private closed = false;

  constructor(private readonly options: ServiceSwitchOptions) {}

  /** Reconciles the resolver slice of `route` for `targetReady` (coalesced per route). */
  update(route: Route, targetReady: () => boolean): void {
    if (!route.switchService || this.closed) return;
    if (this.busy.has(route.id)) {
      this.dirty.add(route.id);
      return;
    }
    this.busy.add(route.id);
    void this.loop(route, targetReady);
  }

  close(): void {
    this.closed = true;
  }

  /** Resolver slice state of a route right now, as the informer sees it (for tests and logs). */
  current(route: Route): EndpointSlice | undefined {
    return this.options.informer(route.namespace)?.slice(resolverSliceName(route.service));
  }

  private async loop(route: Route, targetReady: () => boolean): Promise<void> {
    let backoff = 200;
    try {
      for (;;) {
        this.dirty.delete(route.id);
        try {
          await this.reconcile(route, targetReady());
          backoff = 200;
        } catch (error) {
          this.options.log?.({
            level: 'warn',
            target: route.id,
            msg: `cannot update the resolver EndpointSlice: ${(error as Error).message}`,
            retryInMs: backoff,
          });
          this.dirty.add(route.id);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5_000);
        }
        if (!this.dirty.has(route.id) || this.closed) break;
      }
    } finally {
      this.busy.delete(route.id);
    }
  }

  private desired(targetReady: boolean, current: EndpointSlice | undefined): DesiredSlice | undefined {
    const mine = this.options.resolverEndpoints().filter((e) => e.ready);
    if (targetReady) {
      return {
        addressType: current?.addressType ?? mine[0]?.addressType ?? 'IPv4',
        port: current?.ports?.[0]?.port ?? mine[0]?.port ?? 8080,
        endpoints: [],
      };
    }
    // No ready resolver pod known: keep what is there rather than route the Service nowhere.
    if (mine.length === 0) return undefined;
    const addressType = mine[0]?.addressType ?? 'IPv4';
    return {
      addressType,
      port: mine[0]?.port ?? 8080,
      endpoints: mine.filter((e) => e.addressType === addressType),
    };
  }

  private body(
    route: Route,
    want: DesiredSlice,
    resourceVersion: string | undefined,
  ): Record<string, unknown> {
    const owner = this.owners.get(route.id);
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: resolverSliceName(route.service),
        namespace: route.namespace,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
        labels: {
          [SERVICE_NAME_LABEL]: route.service,
          [MANAGED_BY_LABEL]: RESOLVER_MANAGED_BY,
          'app.kubernetes.io/managed-by': 'elasticai',
          'app.kubernetes.io/component': 'scale-to-zero-resolver',
        },
        ...(owner
          ? {
              ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: route.service, uid: owner.uid }],
            }
          : {}),
      },
      addressType: want.addressType,
      ports: [{ name: route.port, port: want.port, protocol: 'TCP' }],
      endpoints: want.endpoints.map((e) => ({
        addresses: [e.host],
        conditions: { ready: true, serving: true, terminating: false },
        ...(e.targetRef ? { targetRef: e.targetRef } : {}),
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ...(e.zone ? { zone: e.zone } : {}),
      })),
    };
  }

  private same(current: EndpointSlice, route: Route, want: DesiredSlice): boolean {
    const port = current.ports?.[0];
    if (current.ports?.length !== 1 || port?.name !== route.port || port.port !== want.port) return false;
    if (current.addressType !== want.addressType) return false;
    const have = current.endpoints
      .filter((e) => e.conditions?.ready !== false)
      .map((e) => e.addresses[0])
      .sort();
    const wanted = want.endpoints.map((e) => e.host).sort();
    return have.length === wanted.length && have.every((a, i) => a === wanted[i]);
  }

  private async ownerOf(route: Route): Promise<void> {
    if (this.owners.has(route.id)) return;
    try {
      const service = await this.options.kube.get<{ metadata?: { uid?: string } }>(
        kubePath('api', 'v1', 'namespaces', route.namespace, 'services', route.service),
      );
      const uid = service?.metadata?.uid;
      this.owners.set(route.id, uid ? { uid } : null);
    } catch (error) {
      // Not fatal: the slice works without an owner (it is just not garbage-collected with the Service).
      this.owners.set(route.id, null);
      this.options.log?.({
        level: 'info',
        target: route.id,
        msg: `no owner reference: ${(error as Error).message}`,
      });
    }
  }

  private async reconcile(route: Route, targetReady: boolean): Promise<void> {
    const name = resolverSliceName(route.service);
    const collection = kubePath(
      'apis',
      'discovery.k8s.io',
      'v1',
      'namespaces',
      route.namespace,
      'endpointslices',
    );
    let current = this.options.informer(route.namespace)?.slice(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const want = this.desired(targetReady, current);
      if (want === undefined) return;
      if (current && this.same(current, route, want)) return;
      if (!current && want.endpoints.length === 0) {
        // Warm and no slice yet: nothing routes through the resolver, nothing to write.
        return;
      }
      try {
        if (!current) {
          await this.ownerOf(route);
          await this.options.kube.post(collection, this.body(route, want, undefined));
        } else {
          await this.options.kube.replace(
            `${collection}/${encodeURIComponent(name)}`,
            this.body(route, want, current.metadata.resourceVersion),
          );
        }
        this.options.log?.({
          level: 'info',
          target: route.id,
          msg:
            want.endpoints.length > 0
              ? 'Service routed through the resolver'
              : 'Service routed straight to the pods',
          endpoints: want.endpoints.map((e) => e.host),
        });
        return;
      } catch (error) {
        if (!(error instanceof KubeApiError) || (error.status !== 409 && error.status !== 404)) throw error;
        // Someone else (the other replica) wrote it meanwhile, or it is gone: read it again.
        try {
          current = await this.options.kube.get<EndpointSlice>(`${collection}/${encodeURIComponent(name)}`);
        } catch (e) {
          if (!KubeApiError.isNotFound(e)) throw e;
          current = undefined;
        }
      }
    }
    throw new Error('kept conflicting with other writers');
  }
}
