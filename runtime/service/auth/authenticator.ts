/**
 * Who is calling the runtime's HTTP API and what they may do. Bearer credentials are checked against the
 * mounted API keys first, then (when enabled and the runtime can reach the Kubernetes API) with a
 * TokenReview; Kubernetes callers are authorized with a SubjectAccessReview on `keda.sh` scaledobjects,
 * API-key callers by the key's scope (a tenant's namespaces, or the whole cluster for operator keys).
 */
import type { RuntimeConfig } from '../config.js';
import type { KubeClient } from '../kube/kube-client.js';
import { ApiKeyStore } from './api-keys.js';
import { TokenReviewer } from './token-review.js';

export interface Caller {
  readonly id: string;
  readonly via: 'api-key' | 'token-review';
  readonly groups: readonly string[];
  /** namespaces an API key is limited to; undefined = cluster-wide */
  readonly namespaces?: readonly string[];
}

/** An action on scaledobjects.keda.sh; `namespace` undefined = across all namespaces. */
export interface Action {
  readonly verb: 'get' | 'list' | 'patch';
  readonly namespace?: string;
  readonly name?: string;
}

export interface Authenticator {
  /** undefined when the header is missing or the credentials are invalid (→ 401). */
  authenticate(authorization: string | undefined): Promise<Caller | undefined>;
  /** false → 403 */
  authorize(caller: Caller, action: Action): Promise<boolean>;
}

export interface AuthenticatorOptions {
  /** Epoch milliseconds (caches and key reloads). @default Date.now */
  readonly now?: () => number;
  /** How often the API key folder is checked for changes. @default 5000 */
  readonly apiKeyCheckIntervalMs?: number;
  /** How long TokenReview / SubjectAccessReview answers are reused. @default 10000 */
  readonly reviewCacheTtlMs?: number;
  /** Most answers kept per cache. @default 1000 */
  readonly reviewCacheSize?: number;
  /** Kubernetes API failures (the request is refused) and API key reload problems. */
  readonly onError?: (error: unknown) => void;
}

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(authorization);
  return m?.[1];
}

/** An API key's scope: operator keys may do anything, tenant keys only inside their namespaces. */
export function apiKeyAllows(caller: Caller, action: Action): boolean {
  if (caller.namespaces === undefined) return true;
  return action.namespace !== undefined && caller.namespaces.includes(action.namespace);
}

/**
 * API keys first (`config.apiKeysDir`), then TokenReview when `config.tokenReview` is on and a client
 * exists; with neither configured every request is refused (401). Throws at creation when the key
 * folder holds an invalid key, so a bad Secret stops the process with the file's name.
 */
export function createAuthenticator(
  config: RuntimeConfig,
  kube?: KubeClient,
  options: AuthenticatorOptions = {},
): Authenticator {
  const keys =
    config.apiKeysDir === undefined
      ? undefined
      : new ApiKeyStore(config.apiKeysDir, config.tenants, {
          ...(options.now === undefined ? {} : { now: options.now }),
          ...(options.apiKeyCheckIntervalMs === undefined
            ? {}
            : { checkIntervalMs: options.apiKeyCheckIntervalMs }),
          ...(options.onError === undefined ? {} : { onReloadError: options.onError }),
        });
  const reviewer =
    config.tokenReview && kube !== undefined
      ? new TokenReviewer(kube, {
          ...(options.now === undefined ? {} : { now: options.now }),
          ...(options.reviewCacheTtlMs === undefined ? {} : { cacheTtlMs: options.reviewCacheTtlMs }),
          ...(options.reviewCacheSize === undefined ? {} : { cacheSize: options.reviewCacheSize }),
          ...(options.onError === undefined ? {} : { onError: options.onError }),
        })
      : undefined;
  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return undefined;
      const byKey = keys?.authenticate(token);
      if (byKey !== undefined) return byKey;
      return reviewer === undefined ? undefined : reviewer.authenticate(token);
    },
    async authorize(caller, action) {
      if (caller.via === 'api-key') return keys !== undefined && apiKeyAllows(caller, action);
      return reviewer !== undefined && reviewer.authorize(caller, action);
    },
  };
}
