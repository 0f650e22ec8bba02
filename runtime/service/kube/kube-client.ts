/**
 * A minimal JSON client for the few Kubernetes API calls the runtime makes (ScaledObject overrides and
 * discovery, Lease leader election, TokenReview and SubjectAccessReview). In a pod it uses the mounted
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

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
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
