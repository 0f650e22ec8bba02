/**
 * An in-process Kubernetes API server for the runtime's tests. It speaks the real REST paths and JSON of
 * exactly the resources the runtime uses, with the API server's own semantics where the runtime depends on
 * them:
 *
 * - `keda.sh/v1alpha1` ScaledObjects: get, list (all namespaces and per namespace, with `limit`/`continue`)
 *   and JSON merge patch (RFC 7386, `null` removes; `metadata.resourceVersion` in the patch is a
 *   precondition; annotations must stay a map of strings with valid keys).
 * - `coordination.k8s.io/v1` Leases: get, create (409 AlreadyExists), update (PUT; 404 when missing, 409
 *   Conflict on a stale `metadata.resourceVersion`; MicroTime fields checked).
 * - `authentication.k8s.io/v1` TokenReview and `authorization.k8s.io/v1` SubjectAccessReview, answered
 *   from a token → user map and RBAC-like rules.
 * - `discovery.k8s.io/v1` EndpointSlices: get, list and watch (per namespace or all; `labelSelector` with
 *   `=`, `==`, `!=`, `in`, `notin`, exists and `!`; `fieldSelector` on `metadata.name`), create (409
 *   AlreadyExists), update (PUT, 409 on a stale resourceVersion, `addressType` immutable), JSON merge
 *   patch and delete, with the API server's checks of addresses, ports and conditions. Watches stream
 *   one JSON event per line from a `resourceVersion` (or every current object as ADDED without one),
 *   turn selector moves into ADDED/DELETED, send BOOKMARKs on request and answer a compacted
 *   resourceVersion with an ERROR event carrying 410 Expired, as the real one does.
 * - `v1` Services: get.
 *
 * Every call must carry the runtime's ServiceAccount bearer token (401 otherwise); errors are real `Status`
 * objects; every call is recorded for assertions.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type JsonObject = Record<string, unknown>;

/** A user TokenReview knows, keyed by their bearer token. */
export interface FakeUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/**
 * One RBAC-like grant on `keda.sh` scaledobjects for SubjectAccessReview. `namespaces` undefined = any
 * namespace, including cluster-wide requests (a ClusterRoleBinding); set = a RoleBinding in each.
 */
export interface AccessRule {
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  readonly verbs: readonly string[];
  readonly namespaces?: readonly string[];
  readonly names?: readonly string[];
  /** @default 'keda.sh' */
  readonly apiGroup?: string;
  /** @default 'scaledobjects' */
  readonly resource?: string;
}

export interface RecordedCall {
  readonly method: string;
  /** Decoded path without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** Bearer token presented (undefined when none). */
  readonly token: string | undefined;
  readonly body: unknown;
  readonly status: number;
}

export interface FakeKubeApiOptions {
  /** The runtime's ServiceAccount token; more can be added to `serviceAccountTokens` (rotation). */
  readonly serviceAccountToken: string;
  /** Serve https with this key pair instead of plain http. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

interface Route {
  readonly kind:
    'scaledobjects' | 'leases' | 'tokenreviews' | 'subjectaccessreviews' | 'endpointslices' | 'services';
  readonly namespace?: string;
  readonly name?: string;
}

/** One stored change of an EndpointSlice, kept for watches that resume from a resourceVersion. */
interface SliceEvent {
  readonly rv: number;
  readonly namespace: string;
  /** The object before the change (undefined for a creation). */
  readonly before: JsonObject | undefined;
  /** The object after the change (undefined for a deletion). */
  readonly after: JsonObject | undefined;
}

/** An open watch stream. */
interface SliceWatcher {
  readonly namespace: string | undefined;
  readonly selector: LabelRequirement[];
  readonly name: string | undefined;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
}

/** One requirement of a label selector. */
interface LabelRequirement {
  readonly key: string;
  readonly op: 'in' | 'notin' | 'exists' | 'absent';
  readonly values: readonly string[];
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

const KEDA = { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' } as const;
const COORD = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' } as const;
const DISCOVERY = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' } as const;
/** Changes of EndpointSlices kept for resuming watches (older ones answer 410 Expired). */
const SLICE_HISTORY = 10_000;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAX_BODY = 3 * 1024 * 1024;
/** RFC 3339 with exactly six fractional digits, as metav1.MicroTime is encoded and parsed. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386 JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

function meta(o: JsonObject): JsonObject {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
}

export class FakeKubeApi {
  readonly calls: RecordedCall[] = [];
  /** Bearer tokens accepted as the runtime's own ServiceAccount. */
  readonly serviceAccountTokens: Set<string>;
  /** TokenReview: bearer token → user. */
  readonly users = new Map<string, FakeUser>();
  /** SubjectAccessReview: grants (anything not granted is denied). */
  readonly accessRules: AccessRule[] = [];
  /** Answer every call with 503 ServiceUnavailable. */
  unavailable = false;
  /** Wait this long before answering (timeouts). */
  delayMs = 0;
  /** Runs after authentication, before the call is handled (to interleave other writers). */
  onRequest: ((call: { method: string; path: string; body: unknown }) => void | Promise<void>) | undefined;

  private readonly objects = new Map<string, JsonObject>();
  private resourceVersion = 1000;
  private readonly sliceEvents: SliceEvent[] = [];
  /** Watches resuming from a resourceVersion below this answer 410 Expired. */
  private compactedThrough = 0;
  private readonly watchers = new Set<SliceWatcher>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    token: string,
  ) {
    this.serviceAccountTokens = new Set([token]);
  }

  static async start(options: FakeKubeApiOptions): Promise<FakeKubeApi> {
    const holder: { api?: FakeKubeApi } = {};
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      void holder.api?.handle(req, res);
    };
    const server =
      options.tls === undefined ? http.createServer(handler) : https.createServer(options.tls, handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const api = new FakeKubeApi(
      server,
      `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
      options.serviceAccountToken,
    );
    holder.api = api;
    return api;
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Calls whose method matches and whose path starts with `pathPrefix`. */
  callsTo(method: string, pathPrefix: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix));
  }

  // ---- seeding and inspection (not through HTTP, not recorded) ----

  /** Stores a ScaledObject as given (apiVersion/kind filled in), with a new resourceVersion. */
  putScaledObject(object: JsonObject): JsonObject {
    const o = clone(object);
    o.apiVersion = `${KEDA.group}/${KEDA.version}`;
    o.kind = 'ScaledObject';
    const m = meta(o);
    if (typeof m.name !== 'string' || typeof m.namespace !== 'string') {
      throw new Error('putScaledObject: metadata.name and metadata.namespace are required');
    }
    this.stamp(o, this.objects.get(this.key('scaledobjects', m.namespace, m.name)));
    this.objects.set(this.key('scaledobjects', m.namespace, m.name), o);
    return clone(o);
  }

  scaledObject(namespace: string, name: string): JsonObject | undefined {
    const o = this.objects.get(this.key('scaledobjects', namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  lease(namespace: string, name: string): JsonObject | undefined {
    const o = this.objects.get(this.key('leases', namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  /** Stores a Service as given (apiVersion/kind filled in). */
  putService(object: JsonObject): JsonObject {
    const o = clone(object);
    o.apiVersion = 'v1';
    o.kind = 'Service';
    const m = meta(o);
    if (typeof m.name !== 'string' || typeof m.namespace !== 'string') {
      throw new Error('putService: metadata.name and metadata.namespace are required');
    }
    const key = this.key('services', m.namespace, m.name);
    this.stamp(o, this.objects.get(key));
    this.objects.set(key, o);
    return clone(o);
  }

  /**
   * Creates or replaces an EndpointSlice as the EndpointSlice controller does (checked like a write
   * through the API; watchers see ADDED or MODIFIED).
   */
  putEndpointSlice(object: JsonObject): JsonObject {
    const o = clone(object);
    o.apiVersion = `${DISCOVERY.group}/${DISCOVERY.version}`;
    o.kind = 'EndpointSlice';
    const m = meta(o);
    if (typeof m.name !== 'string' || typeof m.namespace !== 'string') {
      throw new Error('putEndpointSlice: metadata.name and metadata.namespace are required');
    }
    checkEndpointSlice(o, m.name);
    const key = this.key('endpointslices', m.namespace, m.name);
    const before = this.objects.get(key);
    delete m.resourceVersion;
    this.stamp(o, before);
    this.objects.set(key, o);
    this.sliceChanged(m.namespace, before, o);
    return clone(o);
  }

  /** Deletes an EndpointSlice (watchers see DELETED); false when there was none. */
  deleteEndpointSlice(namespace: string, name: string): boolean {
    const key = this.key('endpointslices', namespace, name);
    const before = this.objects.get(key);
    if (before === undefined) return false;
    this.objects.delete(key);
    this.sliceChanged(namespace, before, undefined);
    return true;
  }

  endpointSlice(namespace: string, name: string): JsonObject | undefined {
    const o = this.objects.get(this.key('endpointslices', namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  /** EndpointSlices of a namespace, optionally only those labelled for `service`, sorted by name. */
  endpointSlices(namespace: string, service?: string): JsonObject[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`endpointslices/${namespace}/`))
      .map(([, o]) => o)
      .filter((o) => service === undefined || labelsOf(o)['kubernetes.io/service-name'] === service)
      .sort((a, b) => String(meta(a).name).localeCompare(String(meta(b).name)))
      .map((o) => clone(o));
  }

  /** Open watch streams. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Ends every watch stream, as an API server restart or its watch timeout does. */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      writeEvent(w.res, 'BOOKMARK', {
        apiVersion: `${DISCOVERY.group}/${DISCOVERY.version}`,
        kind: 'EndpointSlice',
        metadata: { resourceVersion: String(this.resourceVersion) },
      });
    }
  }

  /** Forgets the change history: watches resuming from an older resourceVersion get 410 Expired. */
  compactHistory(): void {
    this.sliceEvents.length = 0;
    this.compactedThrough = this.resourceVersion;
  }

  /** Changes a stored Lease as another writer would (new resourceVersion). */
  updateLease(namespace: string, name: string, mutate: (lease: JsonObject) => void): JsonObject {
    const key = this.key('leases', namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw new Error(`no lease ${namespace}/${name}`);
    const next = clone(current);
    mutate(next);
    this.stamp(next, current);
    this.objects.set(key, next);
    return clone(next);
  }

  // ---- HTTP ----

  private key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** New resourceVersion; uid and creationTimestamp kept from `previous` or created. */
  private stamp(o: JsonObject, previous: JsonObject | undefined): void {
    const m = meta(o);
    const pm = previous === undefined ? undefined : meta(previous);
    m.uid = pm?.uid ?? randomUUID();
    m.creationTimestamp = pm?.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    m.resourceVersion = String(++this.resourceVersion);
    const generation = typeof pm?.generation === 'number' ? pm.generation : 0;
    const specChanged = previous === undefined || JSON.stringify(previous.spec) !== JSON.stringify(o.spec);
    m.generation = specChanged ? generation + 1 : generation;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'];
    const auth = req.headers.authorization;
    const token = auth !== undefined && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    let path = url.pathname;
    let body: unknown;
    let status = 500;
    let answer: unknown;
    try {
      path = url.pathname
        .split('/')
        .map((s) => decodeURIComponent(s))
        .join('/');
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'BadRequest', 'the request body is not valid JSON');
        }
      }
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.unavailable)
        throw new HttpError(
          503,
          'ServiceUnavailable',
          'the server is currently unable to handle the request',
        );
      if (token === undefined || !this.serviceAccountTokens.has(token)) {
        throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      }
      await this.onRequest?.({ method, path, body });
      const watch = url.searchParams.get('watch');
      if (method === 'GET' && (watch === '1' || watch === 'true')) {
        this.startWatch(url, res);
        this.calls.push({
          method,
          path,
          query: Object.fromEntries(url.searchParams),
          contentType,
          token,
          body,
          status: 200,
        });
        return;
      }
      [status, answer] = this.route(method, url, body, contentType);
    } catch (e) {
      const err =
        e instanceof HttpError
          ? e
          : new HttpError(500, 'InternalError', `internal error: ${(e as Error).message}`);
      status = err.code;
      answer = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: err.message,
        reason: err.reason,
        ...(err.details === undefined ? {} : { details: err.details }),
        code: err.code,
      };
    }
    this.calls.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      contentType,
      token,
      body,
      status,
    });
    const text = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private parseRoute(pathname: string): Route {
    const s = pathname
      .split('/')
      .slice(1)
      .map((p) => decodeURIComponent(p));
    const notFound = new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (s[0] === 'api') {
      // Core group: /api/v1/namespaces/{ns}/services/{name}
      if (s[1] === 'v1' && s[2] === 'namespaces' && s[3] && s[4] === 'services' && s.length === 6 && s[5]) {
        return { kind: 'services', namespace: s[3], name: s[5] };
      }
      throw notFound;
    }
    if (s[0] !== 'apis') throw notFound;
    const [group, version] = [s[1], s[2]];
    if (group === 'authentication.k8s.io' && version === 'v1' && s[3] === 'tokenreviews' && s.length === 4) {
      return { kind: 'tokenreviews' };
    }
    if (
      group === 'authorization.k8s.io' &&
      version === 'v1' &&
      s[3] === 'subjectaccessreviews' &&
      s.length === 4
    ) {
      return { kind: 'subjectaccessreviews' };
    }
    const namespaced = s[3] === 'namespaces' && s[4] !== undefined && s[4] !== '';
    const plural = namespaced ? s[5] : s[3];
    const name = namespaced ? s[6] : undefined;
    const length = namespaced ? (name === undefined ? 6 : 7) : 4;
    if (s.length !== length || name === '') throw notFound;
    if (group === KEDA.group && version === KEDA.version && plural === KEDA.plural) {
      return { kind: 'scaledobjects', ...(namespaced ? { namespace: s[4] } : {}), ...(name ? { name } : {}) };
    }
    if (group === COORD.group && version === COORD.version && plural === COORD.plural && namespaced) {
      return { kind: 'leases', namespace: s[4], ...(name ? { name } : {}) };
    }
    if (group === DISCOVERY.group && version === DISCOVERY.version && plural === DISCOVERY.plural) {
      if (!namespaced && name !== undefined) throw notFound;
      return {
        kind: 'endpointslices',
        ...(namespaced ? { namespace: s[4] } : {}),
        ...(name ? { name } : {}),
      };
    }
    throw notFound;
  }

  private route(method: string, url: URL, body: unknown, contentType: string | undefined): [number, unknown] {
    const r = this.parseRoute(url.pathname);
    const notAllowed = new HttpError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
    switch (r.kind) {
      case 'tokenreviews':
        if (method !== 'POST') throw notAllowed;
        return [201, this.tokenReview(body)];
      case 'subjectaccessreviews':
        if (method !== 'POST') throw notAllowed;
        return [201, this.subjectAccessReview(body)];
      case 'scaledobjects':
        if (r.name === undefined) {
          if (method !== 'GET') throw notAllowed;
          return [200, this.listScaledObjects(r.namespace, url.searchParams)];
        }
        if (method === 'GET') return [200, this.getObject('scaledobjects', r.namespace as string, r.name)];
        if (method === 'PATCH')
          return [200, this.patchScaledObject(r.namespace as string, r.name, body, contentType)];
        throw notAllowed;
      case 'leases':
        if (r.name === undefined) {
          if (method !== 'POST') throw notAllowed;
          return [201, this.createLease(r.namespace as string, body)];
        }
        if (method === 'GET') return [200, this.getObject('leases', r.namespace as string, r.name)];
        if (method === 'PUT') return [200, this.replaceLease(r.namespace as string, r.name, body)];
        throw notAllowed;
      case 'services':
        if (method !== 'GET') throw notAllowed;
        return [200, this.getObject('services', r.namespace as string, r.name as string)];
      case 'endpointslices':
        if (r.name === undefined) {
          if (method === 'GET') return [200, this.listEndpointSlices(r.namespace, url.searchParams)];
          if (method === 'POST' && r.namespace !== undefined) {
            return [201, this.createEndpointSlice(r.namespace, body)];
          }
          throw notAllowed;
        }
        if (method === 'GET') return [200, this.getObject('endpointslices', r.namespace as string, r.name)];
        if (method === 'PUT') return [200, this.replaceEndpointSlice(r.namespace as string, r.name, body)];
        if (method === 'PATCH') {
          return [200, this.patchEndpointSlice(r.namespace as string, r.name, body, contentType)];
        }
        if (method === 'DELETE') {
          if (!this.deleteEndpointSlice(r.namespace as string, r.name))
            throw this.notFound('endpointslices', r.name);
          return [
            200,
            {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Success',
              details: { name: r.name, group: DISCOVERY.group, kind: 'endpointslices' },
            },
          ];
        }
        throw notAllowed;
    }
  }

  private notFound(
    kind: 'scaledobjects' | 'leases' | 'endpointslices' | 'services',
    name: string,
  ): HttpError {
    const group =
      kind === 'scaledobjects'
        ? KEDA.group
        : kind === 'leases'
          ? COORD.group
          : kind === 'endpointslices'
            ? DISCOVERY.group
            : '';
    const what = group === '' ? kind : `${kind}.${group}`;
    return new HttpError(404, 'NotFound', `${what} "${name}" not found`, { name, group, kind });
  }

  // ---- EndpointSlices ----

  private listEndpointSlices(namespace: string | undefined, query: URLSearchParams): JsonObject {
    const selector = parseLabelSelector(query.get('labelSelector') ?? '');
    const name = parseNameSelector(query.get('fieldSelector') ?? '');
    const prefix = namespace === undefined ? 'endpointslices/' : `endpointslices/${namespace}/`;
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => o)
      .filter((o) => matchesSelector(o, selector) && (name === undefined || meta(o).name === name))
      .map((o) => clone(o));
    return {
      apiVersion: `${DISCOVERY.group}/${DISCOVERY.version}`,
      kind: 'EndpointSliceList',
      metadata: { resourceVersion: String(this.resourceVersion) },
      items,
    };
  }

  private createEndpointSlice(namespace: string, body: unknown): JsonObject {
    const slice = this.checkSliceBody(namespace, body);
    const name = meta(slice).name as string;
    const key = this.key('endpointslices', namespace, name);
    if (this.objects.has(key)) {
      throw new HttpError(
        409,
        'AlreadyExists',
        `endpointslices.${DISCOVERY.group} "${name}" already exists`,
        {
          name,
          group: DISCOVERY.group,
          kind: 'endpointslices',
        },
      );
    }
    const m = meta(slice);
    delete m.resourceVersion;
    m.namespace = namespace;
    this.stamp(slice, undefined);
    this.objects.set(key, slice);
    this.sliceChanged(namespace, undefined, slice);
    return clone(slice);
  }

  private replaceEndpointSlice(namespace: string, name: string, body: unknown): JsonObject {
    const slice = this.checkSliceBody(namespace, body);
    if (meta(slice).name !== name) {
      throw new HttpError(
        400,
        'BadRequest',
        `the name of the object (${String(meta(slice).name)}) does not match the name on the URL (${name})`,
      );
    }
    const key = this.key('endpointslices', namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw this.notFound('endpointslices', name);
    const wanted = meta(slice).resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== meta(current).resourceVersion) {
      throw conflict('endpointslices', DISCOVERY.group, name);
    }
    return this.storeSliceUpdate(namespace, name, slice, current);
  }

  private patchEndpointSlice(
    namespace: string,
    name: string,
    patch: unknown,
    contentType: string | undefined,
  ): JsonObject {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/merge-patch+json') {
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got ${JSON.stringify(contentType ?? '')})`,
      );
    }
    const key = this.key('endpointslices', namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw this.notFound('endpointslices', name);
    if (!isObject(patch))
      throw new HttpError(400, 'BadRequest', 'a merge patch for an object must be a JSON object');
    const wanted = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (wanted !== undefined && wanted !== meta(current).resourceVersion) {
      throw conflict('endpointslices', DISCOVERY.group, name);
    }
    const next = this.checkSliceBody(namespace, applyMergePatch(current, patch));
    if (meta(next).name !== name) {
      throw new HttpError(
        422,
        'Invalid',
        `EndpointSlice.discovery.k8s.io "${name}" is invalid: metadata.name: Invalid value: field is immutable`,
      );
    }
    return this.storeSliceUpdate(namespace, name, next, current);
  }

  private storeSliceUpdate(
    namespace: string,
    name: string,
    slice: JsonObject,
    current: JsonObject,
  ): JsonObject {
    if (slice.addressType !== current.addressType) {
      throw new HttpError(
        422,
        'Invalid',
        `EndpointSlice.discovery.k8s.io "${name}" is invalid: addressType: Invalid value: ${JSON.stringify(slice.addressType)}: field is immutable`,
      );
    }
    meta(slice).namespace = namespace;
    this.stamp(slice, current);
    this.objects.set(this.key('endpointslices', namespace, name), slice);
    this.sliceChanged(namespace, current, slice);
    return clone(slice);
  }

  private checkSliceBody(namespace: string, body: unknown): JsonObject {
    if (
      !isObject(body) ||
      body.apiVersion !== `${DISCOVERY.group}/${DISCOVERY.version}` ||
      body.kind !== 'EndpointSlice'
    ) {
      throw new HttpError(400, 'BadRequest', 'the body must be a discovery.k8s.io/v1 EndpointSlice');
    }
    const slice = clone(body);
    const m = meta(slice);
    if (typeof m.name !== 'string' || m.name === '') {
      throw new HttpError(
        422,
        'Invalid',
        'EndpointSlice.discovery.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required',
      );
    }
    if (m.namespace !== undefined && m.namespace !== namespace) {
      throw new HttpError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    checkEndpointSlice(slice, m.name);
    return slice;
  }

  /** Records a change and tells the watches whose namespace and selector see it. */
  private sliceChanged(
    namespace: string,
    before: JsonObject | undefined,
    after: JsonObject | undefined,
  ): void {
    const rv = after !== undefined ? Number(meta(after).resourceVersion) : ++this.resourceVersion;
    const deleted = after === undefined && before !== undefined ? clone(before) : undefined;
    if (deleted !== undefined) meta(deleted).resourceVersion = String(rv);
    const event: SliceEvent = { rv, namespace, before, after: after ?? undefined };
    this.sliceEvents.push(deleted === undefined ? event : { ...event, before: deleted });
    if (this.sliceEvents.length > SLICE_HISTORY) {
      const dropped = this.sliceEvents.splice(0, this.sliceEvents.length - SLICE_HISTORY);
      this.compactedThrough = Math.max(this.compactedThrough, dropped.at(-1)?.rv ?? 0);
    }
    for (const w of this.watchers) this.deliver(w, this.sliceEvents.at(-1) as SliceEvent);
  }

  private deliver(w: SliceWatcher, e: SliceEvent): void {
    if (w.namespace !== undefined && w.namespace !== e.namespace) return;
    const sees = (o: JsonObject | undefined): boolean =>
      o !== undefined && matchesSelector(o, w.selector) && (w.name === undefined || meta(o).name === w.name);
    const was = e.before !== undefined && sees(e.before);
    const is = e.after !== undefined && sees(e.after);
    if (e.after === undefined) {
      if (was) writeEvent(w.res, 'DELETED', e.before as JsonObject);
      return;
    }
    if (is) writeEvent(w.res, was ? 'MODIFIED' : 'ADDED', e.after);
    // Moved out of the selector: the watcher sees it go away (with its new state).
    else if (was) writeEvent(w.res, 'DELETED', e.after);
  }

  private startWatch(url: URL, res: http.ServerResponse): void {
    const r = this.parseRoute(url.pathname);
    if (r.kind !== 'endpointslices' || r.name !== undefined) {
      throw new HttpError(405, 'MethodNotAllowed', 'watch is served for endpointslices collections only');
    }
    const q = url.searchParams;
    const watcher: SliceWatcher = {
      namespace: r.namespace,
      selector: parseLabelSelector(q.get('labelSelector') ?? ''),
      name: parseNameSelector(q.get('fieldSelector') ?? ''),
      bookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
      res,
    };
    const rvRaw = q.get('resourceVersion');
    const from = rvRaw === null || rvRaw === '' || rvRaw === '0' ? undefined : Number(rvRaw);
    if (from !== undefined && !Number.isInteger(from)) {
      throw new HttpError(400, 'BadRequest', `invalid resource version ${JSON.stringify(rvRaw)}`);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from !== undefined && from < this.compactedThrough) {
      writeEvent(res, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.compactedThrough})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    if (from === undefined) {
      // No resourceVersion: the current state as ADDED events first.
      const prefix = r.namespace === undefined ? 'endpointslices/' : `endpointslices/${r.namespace}/`;
      for (const [k, o] of [...this.objects.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        if (!k.startsWith(prefix)) continue;
        if (
          matchesSelector(o, watcher.selector) &&
          (watcher.name === undefined || meta(o).name === watcher.name)
        ) {
          writeEvent(res, 'ADDED', o);
        }
      }
    } else {
      for (const e of this.sliceEvents) if (e.rv > from) this.deliver(watcher, e);
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '');
    if (Number.isInteger(timeout) && timeout > 0) {
      const timer = setTimeout(() => res.end(), timeout * 1000);
      res.on('close', () => clearTimeout(timer));
    }
  }

  private getObject(
    kind: 'scaledobjects' | 'leases' | 'endpointslices' | 'services',
    namespace: string,
    name: string,
  ): JsonObject {
    const o = this.objects.get(this.key(kind, namespace, name));
    if (o === undefined) throw this.notFound(kind, name);
    return clone(o);
  }

  private listScaledObjects(namespace: string | undefined, query: URLSearchParams): JsonObject {
    const prefix = namespace === undefined ? 'scaledobjects/' : `scaledobjects/${namespace}/`;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    const from = query.get('continue');
    const limitRaw = query.get('limit');
    const limit = limitRaw === null ? 0 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 0)
      throw new HttpError(400, 'BadRequest', `invalid limit ${limitRaw}`);
    let start = 0;
    if (from !== null && from !== '') {
      const after = Buffer.from(from, 'base64url').toString('utf8');
      if (!after.startsWith('scaledobjects/')) {
        throw new HttpError(
          400,
          'BadRequest',
          'continue key is not valid: incorrect encoded start resourceVersion',
        );
      }
      start = keys.findIndex((k) => k > after);
      if (start < 0) start = keys.length;
    }
    const page = limit > 0 ? keys.slice(start, start + limit) : keys.slice(start);
    const last = page.at(-1);
    const more = last !== undefined && start + page.length < keys.length;
    return {
      apiVersion: `${KEDA.group}/${KEDA.version}`,
      kind: 'ScaledObjectList',
      metadata: {
        resourceVersion: String(this.resourceVersion),
        ...(more
          ? {
              continue: Buffer.from(last, 'utf8').toString('base64url'),
              remainingItemCount: keys.length - start - page.length,
            }
          : {}),
      },
      items: page.map((k) => clone(this.objects.get(k) as JsonObject)),
    };
  }

  private patchScaledObject(
    namespace: string,
    name: string,
    patch: unknown,
    contentType: string | undefined,
  ): JsonObject {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/merge-patch+json') {
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got ${JSON.stringify(contentType ?? '')})`,
      );
    }
    const key = this.key('scaledobjects', namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw this.notFound('scaledobjects', name);
    if (!isObject(patch))
      throw new HttpError(400, 'BadRequest', 'a merge patch for an object must be a JSON object');
    const wanted = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (wanted !== undefined && wanted !== meta(current).resourceVersion) {
      throw conflict('scaledobjects', KEDA.group, name);
    }
    const next = applyMergePatch(current, patch) as JsonObject;
    const m = meta(next);
    if (m.name !== name || m.namespace !== namespace) {
      throw new HttpError(
        422,
        'Invalid',
        `ScaledObject.keda.sh "${name}" is invalid: metadata.name: Invalid value: field is immutable`,
      );
    }
    if (next.apiVersion !== `${KEDA.group}/${KEDA.version}` || next.kind !== 'ScaledObject') {
      throw new HttpError(400, 'BadRequest', 'apiVersion and kind cannot be changed by a patch');
    }
    checkAnnotations(m, 'ScaledObject.keda.sh', name);
    this.stamp(next, current);
    this.objects.set(key, next);
    return clone(next);
  }

  private createLease(namespace: string, body: unknown): JsonObject {
    const lease = this.checkLease(namespace, body);
    const name = meta(lease).name as string;
    const key = this.key('leases', namespace, name);
    if (this.objects.has(key)) {
      throw new HttpError(409, 'AlreadyExists', `leases.${COORD.group} "${name}" already exists`, {
        name,
        group: COORD.group,
        kind: 'leases',
      });
    }
    const m = meta(lease);
    delete m.resourceVersion;
    m.namespace = namespace;
    this.stamp(lease, undefined);
    this.objects.set(key, lease);
    return clone(lease);
  }

  private replaceLease(namespace: string, name: string, body: unknown): JsonObject {
    const lease = this.checkLease(namespace, body);
    if (meta(lease).name !== name) {
      throw new HttpError(
        400,
        'BadRequest',
        `the name of the object (${String(meta(lease).name)}) does not match the name on the URL (${name})`,
      );
    }
    const key = this.key('leases', namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw this.notFound('leases', name);
    const wanted = meta(lease).resourceVersion;
    // Like the real registry: with a resourceVersion the update is conditional, without it unconditional.
    if (wanted !== undefined && wanted !== '' && wanted !== meta(current).resourceVersion) {
      throw conflict('leases', COORD.group, name);
    }
    meta(lease).namespace = namespace;
    this.stamp(lease, current);
    this.objects.set(key, lease);
    return clone(lease);
  }

  private checkLease(namespace: string, body: unknown): JsonObject {
    if (!isObject(body) || body.apiVersion !== `${COORD.group}/${COORD.version}` || body.kind !== 'Lease') {
      throw new HttpError(400, 'BadRequest', 'the body must be a coordination.k8s.io/v1 Lease');
    }
    const lease = clone(body);
    const m = meta(lease);
    if (typeof m.name !== 'string' || m.name === '') {
      throw new HttpError(
        422,
        'Invalid',
        'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required',
      );
    }
    if (m.namespace !== undefined && m.namespace !== namespace) {
      throw new HttpError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const spec = isObject(lease.spec) ? lease.spec : {};
    for (const field of ['acquireTime', 'renewTime']) {
      const v = spec[field];
      if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
        throw new HttpError(
          400,
          'BadRequest',
          `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`,
        );
      }
    }
    const d = spec.leaseDurationSeconds;
    if (d !== undefined && (typeof d !== 'number' || !Number.isInteger(d) || d <= 0)) {
      throw new HttpError(
        422,
        'Invalid',
        `Lease.coordination.k8s.io "${m.name}" is invalid: spec.leaseDurationSeconds: Invalid value: ${JSON.stringify(d)}: must be greater than 0`,
      );
    }
    if (
      spec.holderIdentity !== undefined &&
      spec.holderIdentity !== null &&
      typeof spec.holderIdentity !== 'string'
    ) {
      throw new HttpError(400, 'BadRequest', 'spec.holderIdentity must be a string');
    }
    return lease;
  }

  private tokenReview(body: unknown): JsonObject {
    if (!isObject(body) || body.apiVersion !== 'authentication.k8s.io/v1' || body.kind !== 'TokenReview') {
      throw new HttpError(400, 'BadRequest', 'the body must be an authentication.k8s.io/v1 TokenReview');
    }
    const spec = isObject(body.spec) ? body.spec : {};
    if (typeof spec.token !== 'string' || spec.token === '') {
      throw new HttpError(
        422,
        'Invalid',
        'TokenReview.authentication.k8s.io "" is invalid: spec.token: Required value',
      );
    }
    const user = this.users.get(spec.token);
    const status: JsonObject =
      user === undefined
        ? { user: {}, error: '[invalid bearer token, token lookup failed]' }
        : {
            authenticated: true,
            user: {
              username: user.username,
              ...(user.uid === undefined ? {} : { uid: user.uid }),
              groups: [...(user.groups ?? []), 'system:authenticated'],
              ...(user.extra === undefined ? {} : { extra: clone(user.extra) }),
            },
            audiences: ['https://kubernetes.default.svc'],
          };
    return {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status,
    };
  }

  private subjectAccessReview(body: unknown): JsonObject {
    if (
      !isObject(body) ||
      body.apiVersion !== 'authorization.k8s.io/v1' ||
      body.kind !== 'SubjectAccessReview'
    ) {
      throw new HttpError(
        400,
        'BadRequest',
        'the body must be an authorization.k8s.io/v1 SubjectAccessReview',
      );
    }
    const spec = isObject(body.spec) ? body.spec : {};
    const user = typeof spec.user === 'string' ? spec.user : '';
    const groups = Array.isArray(spec.groups)
      ? spec.groups.filter((g): g is string => typeof g === 'string')
      : [];
    if (user === '' && groups.length === 0) {
      throw new HttpError(
        422,
        'Invalid',
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
      );
    }
    const ra = spec.resourceAttributes;
    if (!isObject(ra) || spec.nonResourceAttributes !== undefined) {
      throw new HttpError(
        422,
        'Invalid',
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
      );
    }
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const [verb, group, resource, namespace, name] = [
      str(ra.verb),
      str(ra.group),
      str(ra.resource),
      str(ra.namespace),
      str(ra.name),
    ];
    const index = this.accessRules.findIndex(
      (rule) =>
        ((rule.users ?? []).includes(user) || (rule.groups ?? []).some((g) => groups.includes(g))) &&
        (rule.verbs.includes(verb) || rule.verbs.includes('*')) &&
        (rule.apiGroup ?? KEDA.group) === group &&
        (rule.resource ?? KEDA.plural) === resource &&
        (rule.namespaces === undefined || (namespace !== '' && rule.namespaces.includes(namespace))) &&
        (rule.names === undefined || (name !== '' && rule.names.includes(name))),
    );
    return {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status:
        index >= 0 ? { allowed: true, reason: `RBAC: allowed by fake rule #${index}` } : { allowed: false },
    };
  }
}

function writeEvent(res: http.ServerResponse, type: string, object: JsonObject): void {
  if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
}

function labelsOf(o: JsonObject): Record<string, string> {
  const labels = meta(o).labels;
  return isObject(labels) ? (labels as Record<string, string>) : {};
}

/**
 * Parses a label selector as the API server does: comma-separated requirements `k=v`, `k==v`, `k!=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. 400 on anything else.
 */
export function parseLabelSelector(raw: string): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  const bad = (): HttpError =>
    new HttpError(
      400,
      'BadRequest',
      `unable to parse requirement: invalid label selector ${JSON.stringify(raw)}`,
    );
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw bad();
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (depth !== 0) throw bad();
  parts.push(current);
  const key =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
  const value = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
  for (const part of parts.map((p) => p.trim())) {
    if (part === '') {
      if (raw.trim() === '') continue;
      throw bad();
    }
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      const values = (m[3] as string).split(',').map((v) => v.trim());
      if (!key.test(m[1] as string) || values.some((v) => !value.test(v))) throw bad();
      out.push({ key: m[1] as string, op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part))) {
      if (!key.test(m[1] as string) || !value.test(m[3] as string)) throw bad();
      out.push({ key: m[1] as string, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3] as string] });
    } else if ((m = /^!\s*(\S+)$/.exec(part))) {
      if (!key.test(m[1] as string)) throw bad();
      out.push({ key: m[1] as string, op: 'absent', values: [] });
    } else if (key.test(part)) {
      out.push({ key: part, op: 'exists', values: [] });
    } else throw bad();
  }
  return out;
}

function matchesSelector(o: JsonObject, selector: readonly LabelRequirement[]): boolean {
  const labels = labelsOf(o);
  return selector.every((r) => {
    const v = labels[r.key];
    switch (r.op) {
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case 'absent':
        return v === undefined;
    }
  });
}

/** `metadata.name=x` (or `==`) → x; empty → undefined; any other field selector is refused. */
function parseNameSelector(raw: string): string | undefined {
  if (raw.trim() === '') return undefined;
  const m = /^metadata\.name==?(.+)$/.exec(raw.trim());
  if (!m) {
    throw new HttpError(400, 'BadRequest', `field label not supported: ${raw.split(/[=!]/)[0] ?? raw}`);
  }
  return m[1];
}

/** The API server's validation of an EndpointSlice, for the fields that carry meaning. */
function checkEndpointSlice(slice: JsonObject, name: string): void {
  const invalid = (field: string, value: unknown, why: string): HttpError =>
    new HttpError(
      422,
      'Invalid',
      `EndpointSlice.discovery.k8s.io "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${why}`,
    );
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253)
    throw invalid('metadata.name', name, 'must be a DNS subdomain');
  const labels = meta(slice).labels;
  if (labels !== undefined) {
    if (!isObject(labels)) throw new HttpError(400, 'BadRequest', 'metadata.labels must be an object');
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string' || v.length > 63)
        throw invalid(`metadata.labels[${k}]`, v, 'must be a label value');
    }
  }
  const type = slice.addressType;
  if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') {
    throw invalid('addressType', type, 'supported values: "FQDN", "IPv4", "IPv6"');
  }
  if (!Array.isArray(slice.endpoints)) throw invalid('endpoints', slice.endpoints, 'Required value');
  if (slice.endpoints.length > 1000)
    throw invalid('endpoints', slice.endpoints.length, 'must have at most 1000 items');
  slice.endpoints.forEach((e: unknown, i) => {
    if (!isObject(e) || !Array.isArray(e.addresses) || e.addresses.length === 0 || e.addresses.length > 100) {
      throw invalid(
        `endpoints[${i}].addresses`,
        isObject(e) ? e.addresses : e,
        'must have 1 to 100 addresses',
      );
    }
    for (const a of e.addresses) {
      const ok =
        typeof a === 'string' &&
        (type === 'IPv4' ? IPV4.test(a) : type === 'IPv6' ? a.includes(':') : DNS_SUBDOMAIN.test(a));
      if (!ok) throw invalid(`endpoints[${i}].addresses`, a, `must be a valid ${type} address`);
    }
    if (e.conditions !== undefined) {
      if (!isObject(e.conditions))
        throw invalid(`endpoints[${i}].conditions`, e.conditions, 'must be an object');
      for (const [k, v] of Object.entries(e.conditions)) {
        if (!['ready', 'serving', 'terminating'].includes(k) || (v !== null && typeof v !== 'boolean')) {
          throw invalid(`endpoints[${i}].conditions.${k}`, v, 'must be a boolean condition');
        }
      }
    }
  });
  const ports = slice.ports ?? [];
  if (!Array.isArray(ports) || ports.length > 100)
    throw invalid('ports', ports, 'must have at most 100 items');
  const names = new Set<string>();
  ports.forEach((p: unknown, i) => {
    if (!isObject(p)) throw invalid(`ports[${i}]`, p, 'must be an object');
    const n = p.name ?? '';
    if (typeof n !== 'string' || (n !== '' && !DNS_LABEL.test(n)))
      throw invalid(`ports[${i}].name`, n, 'must be a DNS label');
    if (names.has(n))
      throw new HttpError(
        422,
        'Invalid',
        `EndpointSlice.discovery.k8s.io "${name}" is invalid: ports[${i}].name: Duplicate value: ${JSON.stringify(n)}`,
      );
    names.add(n);
    if (
      p.port !== undefined &&
      p.port !== null &&
      (!Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535)
    ) {
      throw invalid(`ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive');
    }
    if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol as string)) {
      throw invalid(`ports[${i}].protocol`, p.protocol, 'supported values: "SCTP", "TCP", "UDP"');
    }
  });
}

function conflict(kind: string, group: string, name: string): HttpError {
  return new HttpError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${kind}.${group} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind },
  );
}

function checkAnnotations(m: JsonObject, what: string, name: string): void {
  if (m.annotations === undefined) return;
  if (!isObject(m.annotations))
    throw new HttpError(400, 'BadRequest', 'metadata.annotations must be an object');
  for (const [k, v] of Object.entries(m.annotations)) {
    if (typeof v !== 'string') {
      throw new HttpError(
        400,
        'BadRequest',
        `json: cannot unmarshal ${typeof v} into Go struct field ObjectMeta.metadata.annotations of type string`,
      );
    }
    if (!QUALIFIED_NAME.test(k) || (k.split('/')[0]?.length ?? 0) > 253) {
      throw new HttpError(
        422,
        'Invalid',
        `${what} "${name}" is invalid: metadata.annotations: Invalid value: ${JSON.stringify(k)}: name part must consist of alphanumeric characters`,
      );
    }
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A self-signed certificate for 127.0.0.1 made with the system's `openssl` (no npm dependency), or
 * undefined when openssl is not installed.
 */
export function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=fake-kube-api',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'tls.key'), 'utf8'),
      cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
    };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
