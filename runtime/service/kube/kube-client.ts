/**
 * A minimal JSON client for the few Kubernetes API calls the runtime makes (ScaledObject overrides and
 * discovery, Lease leader election, TokenReview and SubjectAccessReview) and the scale-to-zero resolver
 * makes (EndpointSlice list and watch, its own EndpointSlices). In a pod it uses the mounted
 * ServiceAccount: the API server's address from KUBERNETES_SERVICE_HOST/PORT, the CA from `ca.crt` and
 * the bearer token from `token`, re-read regularly (and at once after a 401) so projected-token rotation
 * works. Errors carry the HTTP status and the `reason` of the API's `Status` object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { RuntimeConfig } from '../config.js';

/** Where the kubelet mounts the pod's ServiceAccount credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Default per-request timeout. */
export const DEFAULT_KUBE_TIMEOUT_MS = 5_000;

/** How long a token read from a file is used before the file is read again (client-go uses 1 minute). */
export const DEFAULT_TOKEN_REFRESH_MS = 60_000;

/** Largest response body accepted (a list of every ScaledObject in a big cluster stays far below). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * A failed call. `status` is the HTTP status (0 when no response came: `reason` is then `Timeout` or
 * `Unreachable`), `reason` the API's machine-readable reason (`NotFound`, `Conflict`, `AlreadyExists`,
 * `Forbidden`, `Unauthorized`, …) and `message` its human-readable message.
 */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  static isNotFound(e: unknown): e is KubeApiError {
    return e instanceof KubeApiError && e.status === 404;
  }

  static isConflict(e: unknown): e is KubeApiError {
    return e instanceof KubeApiError && e.status === 409;
  }
}

export interface KubeClientOptions {
  /** API server base URL, e.g. `https://10.0.0.1:443` (no trailing path). */
  readonly url: string;
  /** Bearer token, fixed. */
  readonly token?: string;
  /** File holding the bearer token (a projected ServiceAccount token): read again every `tokenRefreshMs`. */
  readonly tokenFile?: string;
  /** @default 60000 */
  readonly tokenRefreshMs?: number;
  /** PEM CA bundle the API server's certificate must chain to (https only). */
  readonly ca?: string | Buffer;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  /** Overrides the client's timeout for this call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Query parameters of a list call (`labelSelector`, `fieldSelector`, `limit`, `continue`, …). */
export type ListQuery = Readonly<Record<string, string | number | undefined>>;

/** One event of a watch stream (`type` as the API server sends it; `object` a `Status` for ERROR). */
export interface WatchEvent<T = unknown> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export interface WatchOptions {
  readonly signal?: AbortSignal;
  /**
   * Longest silence (no event, no bookmark) before the stream is treated as dead and the call fails
   * with reason `Timeout`: a half-open connection must not leave a watcher blind. @default none
   */
  readonly idleTimeoutMs?: number;
}

/** Largest single watch event accepted. */
const MAX_WATCH_EVENT_BYTES = 16 * 1024 * 1024;

export interface KubeEnvironment {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default SERVICE_ACCOUNT_DIR */
  readonly serviceAccountDir?: string;
}

/** Joins path segments, escaping each: `kubePath('apis', 'keda.sh', 'v1alpha1', 'namespaces', ns)`. */
export function kubePath(...segments: readonly string[]): string {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

export class KubeClient {
  readonly url: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly tokenRefreshMs: number;
  private cachedToken: { value: string; readAt: number } | undefined;

  constructor(private readonly options: KubeClientOptions) {
    this.base = new URL(options.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new TypeError(`Kubernetes API URL must be http(s) (got ${JSON.stringify(options.url)})`);
    }
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
    this.tokenRefreshMs = options.tokenRefreshMs ?? DEFAULT_TOKEN_REFRESH_MS;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
        : new http.Agent({ keepAlive: true });
  }

  /**
   * The in-cluster client: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` with the mounted
   * ServiceAccount's token and CA; undefined when not running in a pod.
   */
  static inCluster(environment: KubeEnvironment = {}): KubeClient | undefined {
    const env = environment.env ?? process.env;
    const dir = environment.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const host = env.KUBERNETES_SERVICE_HOST?.trim();
    const port = env.KUBERNETES_SERVICE_PORT?.trim();
    const tokenFile = join(dir, 'token');
    if (!host || !port || !existsSync(tokenFile)) return undefined;
    const caFile = join(dir, 'ca.crt');
    return new KubeClient({
      url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      tokenFile,
      ...(existsSync(caFile) ? { ca: readFileSync(caFile) } : {}),
    });
  }

  /**
   * The client the runtime uses: `config.kubeApiUrl` when set (with the ServiceAccount's token and CA
   * when they are mounted), else in-cluster, else undefined (local use: no Kubernetes features).
   */
  static fromConfig(config: RuntimeConfig, environment: KubeEnvironment = {}): KubeClient | undefined {
    if (config.kubeApiUrl === undefined) return KubeClient.inCluster(environment);
    const dir = environment.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const tokenFile = join(dir, 'token');
    const caFile = join(dir, 'ca.crt');
    return new KubeClient({
      url: config.kubeApiUrl,
      ...(existsSync(tokenFile) ? { tokenFile } : {}),
      ...(existsSync(caFile) ? { ca: readFileSync(caFile) } : {}),
    });
  }

  /** GET one object. */
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, undefined, options);
  }

  /** GET a collection (`…List` object with `items`). */
  list<T = unknown>(path: string, query: ListQuery = {}, options?: RequestOptions): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.request<T>('GET', qs === '' ? path : `${path}?${qs}`, undefined, undefined, options);
  }

  /** POST an object to its collection path. */
  create<T = unknown>(collectionPath: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.post<T>(collectionPath, body, options);
  }

  /** PUT (update) an object; include `metadata.resourceVersion` for optimistic concurrency. */
  replace<T = unknown>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, body, 'application/json', options);
  }

  /** PATCH with an RFC 7386 JSON merge patch (`null` removes a key). */
  mergePatch<T = unknown>(path: string, patch: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json', options);
  }

  /** POST a body (TokenReview, SubjectAccessReview, creations). */
  post<T = unknown>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, 'application/json', options);
  }

  /**
   * Watches a collection: `GET path?watch=1&…` streams one JSON event per line, each handed to
   * `onEvent` in order. Resolves when the server ends the stream (its `timeoutSeconds`, or a restart);
   * rejects with a KubeApiError when the call is refused (status and reason of the API's `Status`), the
   * connection breaks, `idleTimeoutMs` passes in silence (`Timeout`), or `signal` aborts (`Aborted`).
   * `ERROR` events (e.g. 410 Gone for a too-old resourceVersion) are handed over like any other: the
   * caller decides to re-list. Watches use their own connection, never the pooled ones.
   */
  async watch<T = unknown>(
    path: string,
    query: ListQuery,
    onEvent: (event: WatchEvent<T>) => void,
    options: WatchOptions = {},
  ): Promise<void> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    params.set('watch', '1');
    const target = `${path}?${params.toString()}`;
    const token = await this.token(false);
    try {
      await this.stream<T>(target, token, onEvent, options);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 401 && this.options.tokenFile !== undefined) {
        const fresh = await this.token(true);
        if (fresh !== token) return this.stream<T>(target, fresh, onEvent, options);
      }
      throw e;
    }
  }

  /** The bearer token the client presents now (re-read from the token file when due), for other calls made with the same identity. */
  bearerToken(): Promise<string | undefined> {
    return this.token(false);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private stream<T>(
    path: string,
    token: string | undefined,
    onEvent: (event: WatchEvent<T>) => void,
    options: WatchOptions,
  ): Promise<void> {
    const target = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'elasticai-runtime',
    };
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    const what = `WATCH ${target.pathname}`;
    const transport = target.protocol === 'https:' ? https : http;
    const agentOptions =
      this.base.protocol === 'https:' && this.options.ca !== undefined ? { ca: this.options.ca } : {};
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (err: Error | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        options.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (err !== undefined) reject(err);
        else resolve();
      };
      const armIdle = (): void => {
        if (options.idleTimeoutMs === undefined) return;
        clearTimeout(idle);
        idle = setTimeout(
          () =>
            finish(new KubeApiError(0, 'Timeout', `${what}: no event within ${options.idleTimeoutMs} ms`)),
          options.idleTimeoutMs,
        );
      };
      // agent: false — a watch holds its connection for minutes; it must not take a pooled socket.
      const req = transport.request(
        target,
        { method: 'GET', headers, agent: false, ...agentOptions },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              if (chunks.length < 64) chunks.push(c);
            });
            res.on('end', () =>
              finish(
                errorFromResponse(status, res.statusMessage, Buffer.concat(chunks).toString('utf8'), what),
              ),
            );
            res.on('error', (e) => finish(new KubeApiError(0, 'Unreachable', `${what}: ${e.message}`)));
            return;
          }
          armIdle();
          let pending: Buffer[] = [];
          let pendingBytes = 0;
          const line = (bytes: Buffer): void => {
            const text = bytes.toString('utf8').trim();
            if (text === '') return;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(text) as WatchEvent<T>;
            } catch {
              throw new KubeApiError(status, 'BadResponse', `${what}: an event is not JSON`);
            }
            if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
              throw new KubeApiError(status, 'BadResponse', `${what}: an event has no type`);
            }
            onEvent(event);
          };
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            armIdle();
            try {
              let start = 0;
              for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
                const piece = chunk.subarray(start, nl);
                if (pending.length > 0) {
                  pending.push(piece);
                  line(Buffer.concat(pending));
                  pending = [];
                  pendingBytes = 0;
                } else {
                  line(piece);
                }
                start = nl + 1;
              }
              if (start < chunk.length) {
                pending.push(chunk.subarray(start));
                pendingBytes += chunk.length - start;
                if (pendingBytes > MAX_WATCH_EVENT_BYTES) {
                  throw new KubeApiError(
                    0,
                    'ResponseTooLarge',
                    `${what}: an event is larger than ${MAX_WATCH_EVENT_BYTES} bytes`,
                  );
                }
              }
            } catch (e) {
              finish(e instanceof Error ? e : new Error(String(e)));
            }
          });
          res.on('end', () => {
            try {
              if (pending.length > 0) line(Buffer.concat(pending));
              finish(undefined);
            } catch (e) {
              finish(e instanceof Error ? e : new Error(String(e)));
            }
          });
          res.on('error', (e) => finish(new KubeApiError(0, 'Unreachable', `${what}: ${e.message}`)));
          // 'close' without 'end': the connection broke mid-stream.
          res.on('close', () => finish(new KubeApiError(0, 'Unreachable', `${what}: the stream was cut`)));
        },
      );
      const onAbort = (): void => finish(new KubeApiError(0, 'Aborted', `${what}: aborted`));
      // Keep-alive probes notice a peer that vanished without closing (a half-open watch).
      req.on('socket', (socket) => socket.setKeepAlive(true, 10_000));
      req.on('error', (e) => finish(new KubeApiError(0, 'Unreachable', `${what}: ${e.message}`)));
      // Connecting counts as silence too: an unreachable API server must not hang the watcher.
      armIdle();
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  private async token(forceRead: boolean): Promise<string | undefined> {
    const file = this.options.tokenFile;
    if (file === undefined) return this.options.token;
    const now = Date.now();
    if (!forceRead && this.cachedToken !== undefined && now - this.cachedToken.readAt < this.tokenRefreshMs) {
      return this.cachedToken.value;
    }
    try {
      const value = (await readFile(file, 'utf8')).trim();
      this.cachedToken = { value, readAt: now };
      return value;
    } catch (e) {
      // Keep using the last token when the file is briefly missing during an atomic swap.
      if (this.cachedToken !== undefined) return this.cachedToken.value;
      throw new KubeApiError(
        0,
        'Unauthorized',
        `cannot read the token file ${file}: ${(e as Error).message}`,
      );
    }
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    options: RequestOptions = {},
  ): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const token = await this.token(false);
    try {
      return await this.send<T>(method, path, payload, contentType, token, options);
    } catch (e) {
      // A rotated projected token: the cached one was refused, read the file again and retry once.
      if (e instanceof KubeApiError && e.status === 401 && this.options.tokenFile !== undefined) {
        const fresh = await this.token(true);
        if (fresh !== token) return this.send<T>(method, path, payload, contentType, fresh, options);
      }
      throw e;
    }
  }

  private send<T>(
    method: string,
    path: string,
    payload: Buffer | undefined,
    contentType: string | undefined,
    token: string | undefined,
    options: RequestOptions,
  ): Promise<T> {
    const target = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'elasticai-runtime',
    };
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const what = `${method} ${target.pathname}`;
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(value as T);
      };
      const req = transport.request(target, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            finish(
              new KubeApiError(
                0,
                'ResponseTooLarge',
                `${what}: response larger than ${MAX_RESPONSE_BYTES} bytes`,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (e) => finish(new KubeApiError(0, 'Unreachable', `${what}: ${e.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (text.trim() === '') return finish(undefined, undefined as T);
            try {
              return finish(undefined, JSON.parse(text) as T);
            } catch {
              return finish(new KubeApiError(status, 'BadResponse', `${what}: response is not JSON`));
            }
          }
          finish(errorFromResponse(status, res.statusMessage, text, what));
        });
      });
      const timer = setTimeout(() => {
        finish(new KubeApiError(0, 'Timeout', `${what}: no answer within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      const onAbort = (): void => {
        finish(new KubeApiError(0, 'Aborted', `${what}: aborted`));
        req.destroy();
      };
      req.on('error', (e) => finish(new KubeApiError(0, 'Unreachable', `${what}: ${e.message}`)));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(payload);
    });
  }
}

/** Builds the error from the API's `Status` object when there is one, else from the HTTP status. */
function errorFromResponse(
  status: number,
  statusText: string | undefined,
  text: string,
  what: string,
): KubeApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const s = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const reason =
    typeof s.reason === 'string' && s.reason !== ''
      ? s.reason
      : (statusText ?? `HTTP${status}`).replace(/\s+/g, '');
  const message =
    typeof s.message === 'string' && s.message !== ''
      ? s.message
      : `${what}: HTTP ${status}${text.trim() === '' ? '' : `: ${text.trim().slice(0, 200)}`}`;
  return new KubeApiError(status, reason, message);
}
