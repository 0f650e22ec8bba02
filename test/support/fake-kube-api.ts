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
  readonly kind: 'scaledobjects' | 'leases' | 'tokenreviews' | 'subjectaccessreviews';
  readonly namespace?: string;
  readonly name?: string;
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
    }
  }

  private notFound(kind: 'scaledobjects' | 'leases', name: string): HttpError {
    const group = kind === 'scaledobjects' ? KEDA.group : COORD.group;
    return new HttpError(404, 'NotFound', `${kind}.${group} "${name}" not found`, { name, group, kind });
  }

  private getObject(kind: 'scaledobjects' | 'leases', namespace: string, name: string): JsonObject {
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
