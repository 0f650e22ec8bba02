/**
 * Kubernetes callers: a bearer token is authenticated with a TokenReview, and each action authorized with
 * a SubjectAccessReview on `keda.sh` `scaledobjects` (so the cluster's RBAC decides who may read or
 * override which workloads). Answers, positive and negative, are reused for a few seconds from bounded
 * caches so a busy client does not hammer the API server; concurrent identical questions share one call.
 * Any API failure refuses the request (fail closed) and is not cached.
 */
import { createHash } from 'node:crypto';
import type { KubeClient } from '../kube/kube-client.js';
import type { Action, Caller } from './authenticator.js';

export const TOKEN_REVIEWS_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const SUBJECT_ACCESS_REVIEWS_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface TokenReviewerOptions {
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** @default 10000 */
  readonly cacheTtlMs?: number;
  /** Most answers kept per cache (the oldest go first). @default 1000 */
  readonly cacheSize?: number;
  /** API failures (the request is refused). @default console.error */
  readonly onError?: (error: unknown) => void;
}

/** The user a TokenReview returned, sent back as-is in SubjectAccessReviews. */
interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

interface TokenReviewResponse {
  readonly status?: {
    readonly authenticated?: boolean;
    readonly user?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
    readonly error?: string;
  };
}

interface SubjectAccessReviewResponse {
  readonly status?: { readonly allowed?: boolean; readonly denied?: boolean; readonly reason?: string };
}

/** A small TTL cache of promises, bounded, oldest entries evicted first. */
class AnswerCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly size: number,
    private readonly now: () => number,
  ) {}

  answer(key: string, compute: () => Promise<V>): Promise<V> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expires > now) return hit.value;
    if (hit !== undefined) this.entries.delete(key);
    const value = compute();
    this.entries.set(key, { expires: now + this.ttlMs, value });
    // Failures are not answers: forget them so the next request asks again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return value;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function extraOf(v: unknown): Record<string, string[]> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(v)) out[k] = strings(list);
  return Object.keys(out).length === 0 ? undefined : out;
}

export class TokenReviewer {
  private readonly tokens: AnswerCache<Caller | undefined>;
  private readonly access: AnswerCache<boolean>;
  private readonly users = new WeakMap<Caller, UserInfo>();
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly kube: KubeClient,
    options: TokenReviewerOptions = {},
  ) {
    const now = options.now ?? Date.now;
    const ttl = options.cacheTtlMs ?? 10_000;
    const size = options.cacheSize ?? 1_000;
    this.tokens = new AnswerCache(ttl, size, now);
    this.access = new AnswerCache(ttl, size, now);
    this.onError = options.onError ?? ((e) => console.error(`Kubernetes auth review failed: ${String(e)}`));
  }

  /** The token's user, or undefined when it is not valid or the API server cannot be asked. */
  async authenticate(token: string): Promise<Caller | undefined> {
    // Tokens are kept only as hashes.
    const key = createHash('sha256').update(token, 'utf8').digest('base64');
    try {
      return await this.tokens.answer(key, () => this.review(token));
    } catch (e) {
      this.onError(e);
      return undefined;
    }
  }

  /** Whether the caller may do the action on scaledobjects.keda.sh; false when the API server fails. */
  async authorize(caller: Caller, action: Action): Promise<boolean> {
    const user = this.users.get(caller) ?? { username: caller.id, groups: caller.groups };
    const key = JSON.stringify([
      user.username,
      user.uid ?? '',
      user.groups,
      user.extra ?? {},
      action.verb,
      action.namespace ?? '',
      action.name ?? '',
    ]);
    try {
      return await this.access.answer(key, () => this.reviewAccess(user, action));
    } catch (e) {
      this.onError(e);
      return false;
    }
  }

  private async review(token: string): Promise<Caller | undefined> {
    const response = await this.kube.post<TokenReviewResponse>(TOKEN_REVIEWS_PATH, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const status = response?.status;
    const username = status?.user?.username;
    if (status?.authenticated !== true || typeof username !== 'string' || username === '') return undefined;
    const uid = status.user?.uid;
    const extra = extraOf(status.user?.extra);
    const info: UserInfo = {
      username,
      ...(typeof uid === 'string' && uid !== '' ? { uid } : {}),
      groups: strings(status.user?.groups),
      ...(extra === undefined ? {} : { extra }),
    };
    const caller: Caller = Object.freeze({
      id: username,
      via: 'token-review' as const,
      groups: Object.freeze([...info.groups]),
    });
    this.users.set(caller, info);
    return caller;
  }

  private async reviewAccess(user: UserInfo, action: Action): Promise<boolean> {
    const response = await this.kube.post<SubjectAccessReviewResponse>(SUBJECT_ACCESS_REVIEWS_PATH, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        groups: user.groups,
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        resourceAttributes: {
          group: 'keda.sh',
          resource: 'scaledobjects',
          verb: action.verb,
          ...(action.namespace === undefined ? {} : { namespace: action.namespace }),
          ...(action.name === undefined ? {} : { name: action.name }),
        },
      },
    });
    return response?.status?.allowed === true && response.status.denied !== true;
  }
}
