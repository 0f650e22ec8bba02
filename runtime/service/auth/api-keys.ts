/**
 * API keys from a mounted Secret: each file of the folder is one key, the file name its id. Kubernetes
 * mounts Secrets as symlinks into a `..data` folder that it swaps atomically on update; dotfiles and
 * those `..` entries are skipped, and the folder is read again at most every few seconds, so a rotated
 * key takes effect without a restart. Comparison is constant-time: SHA-256 of both sides compared with
 * `crypto.timingSafeEqual`, against every key, without stopping at the first match.
 *
 * A key named like a tenant (`config.tenants[].name`) is limited to that tenant's namespaces; any other
 * key is a cluster-wide operator key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TenantLimits } from '../config.js';
import type { Caller } from './authenticator.js';

/** Shortest key accepted (characters, after trimming surrounding whitespace). */
export const MIN_API_KEY_LENGTH = 32;

/** A key file that cannot be used; `file` is its path. */
export class ApiKeyError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`API key ${file}: ${reason}`);
    this.name = 'ApiKeyError';
  }
}

export interface ApiKeyStoreOptions {
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** The folder is read again when this long has passed since the last read. @default 5000 */
  readonly checkIntervalMs?: number;
  /** Problems found when re-reading (the bad key is refused, the others keep working). @default console.error */
  readonly onReloadError?: (error: Error) => void;
}

interface Key {
  readonly id: string;
  readonly hash: Buffer;
  readonly caller: Caller;
}

interface Loaded {
  readonly keys: readonly Key[];
  readonly errors: readonly Error[];
  /** Names and content hashes: a change of any file changes it. */
  readonly signature: string;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class ApiKeyStore {
  private keys: readonly Key[];
  private signature: string;
  private checkedAt: number;
  private readonly now: () => number;
  private readonly checkIntervalMs: number;
  private readonly onReloadError: (error: Error) => void;

  /** Reads the folder; throws ApiKeyError (naming the file) when a key is invalid. */
  constructor(
    readonly dir: string,
    private readonly tenants: readonly TenantLimits[],
    options: ApiKeyStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.checkIntervalMs = options.checkIntervalMs ?? 5_000;
    this.onReloadError = options.onReloadError ?? ((e) => console.error(e.message));
    const loaded = this.load();
    if (loaded.errors.length > 0) throw loaded.errors[0];
    this.keys = loaded.keys;
    this.signature = loaded.signature;
    this.checkedAt = this.now();
  }

  /** Ids of the keys in use. */
  get ids(): readonly string[] {
    this.refresh();
    return this.keys.map((k) => k.id);
  }

  /** The caller a key belongs to, or undefined. Takes the same time whichever key (if any) matches. */
  authenticate(presented: string): Caller | undefined {
    this.refresh();
    const hash = sha256(presented);
    let found: Caller | undefined;
    for (const key of this.keys) {
      const equal = timingSafeEqual(hash, key.hash);
      if (equal) found = key.caller;
    }
    return found;
  }

  private refresh(): void {
    const now = this.now();
    if (now - this.checkedAt < this.checkIntervalMs) return;
    this.checkedAt = now;
    const loaded = this.load();
    if (loaded.signature === this.signature) return;
    this.keys = loaded.keys;
    this.signature = loaded.signature;
    for (const e of loaded.errors) this.onReloadError(e);
  }

  private load(): Loaded {
    const errors: Error[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir)
        .filter((n) => !n.startsWith('.'))
        .sort();
    } catch (e) {
      // A missing folder refuses every key (fail closed) and is reported.
      const error = new ApiKeyError(this.dir, `cannot read the folder: ${(e as Error).message}`);
      return { keys: [], errors: [error], signature: `error:${error.message}` };
    }
    const read: { id: string; file: string; value: string }[] = [];
    for (const id of names) {
      const file = join(this.dir, id);
      try {
        if (!statSync(file).isFile()) continue; // follows the ..data symlinks; skips folders
        read.push({ id, file, value: readFileSync(file, 'utf8').trim() });
      } catch (e) {
        errors.push(new ApiKeyError(file, `cannot be read: ${(e as Error).message}`));
      }
    }
    const keys: Key[] = [];
    const byHash = new Map<string, string>();
    const signature: string[] = [];
    for (const { id, file, value } of read) {
      const hash = sha256(value);
      signature.push(`${id}:${hash.toString('hex')}`);
      if (value.length < MIN_API_KEY_LENGTH) {
        errors.push(
          new ApiKeyError(
            file,
            `is ${value.length} characters long; keys need at least ${MIN_API_KEY_LENGTH}`,
          ),
        );
        continue;
      }
      const other = byHash.get(hash.toString('hex'));
      if (other !== undefined) {
        errors.push(new ApiKeyError(file, `has the same value as ${other}; every key must be unique`));
        continue;
      }
      byHash.set(hash.toString('hex'), file);
      keys.push({ id, hash, caller: this.callerFor(id) });
    }
    return { keys, errors, signature: signature.join('\n') };
  }

  private callerFor(id: string): Caller {
    const tenant = this.tenants.find((t) => t.name === id);
    return Object.freeze(
      tenant === undefined
        ? { id: `api-key:${id}`, via: 'api-key' as const, groups: Object.freeze(['elasticai:operators']) }
        : {
            id: `api-key:${id}`,
            via: 'api-key' as const,
            groups: Object.freeze([`elasticai:tenant:${tenant.name}`]),
            namespaces: Object.freeze([...tenant.namespaces]),
          },
    );
  }
}
