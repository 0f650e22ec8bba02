/**
 * Planned requests with known bodies, fired concurrently, and the exactly-once check against what the
 * backends counted: every request answered 200 with its own id, method and body hash, and delivered to
 * a backend exactly once.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { BackendEvent, Reply } from './cluster.js';
import { send } from './cluster.js';

export interface Planned {
  readonly id: string;
  readonly method: string;
  readonly body: Buffer;
  readonly sha: string;
}

/** Deterministic pseudo-random bytes (no crypto randomness needed, reproducible failures). */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * `n` requests: 60% POST with bodies of 0 B to 8 KiB (every 50th 200 KiB, beyond the replay buffer),
 * 20% GET, 10% PUT, 10% DELETE.
 */
export function plan(n: number, prefix: string): Planned[] {
  return Array.from({ length: n }, (_, i) => {
    const r = i % 10;
    const method = r < 6 ? 'POST' : r < 8 ? 'GET' : r < 9 ? 'PUT' : 'DELETE';
    const size = method === 'POST' || method === 'PUT' ? (i % 50 === 0 ? 200 * 1024 : (i * 997) % 8192) : 0;
    const body = bytes(size, i + 1);
    return { id: `${prefix}-${i}`, method, body, sha: createHash('sha256').update(body).digest('hex') };
  });
}

/** Sends every planned request at once; each settles to its reply or the error. */
export function fire(
  port: number,
  planned: readonly Planned[],
  options: { host?: string; agent?: http.Agent; path?: string } = {},
): Promise<(Reply | Error)[]> {
  return Promise.all(
    planned.map((p) =>
      send(port, {
        method: p.method,
        path: options.path ?? `/orders/${p.id}`,
        headers: { 'x-request-id': p.id, 'content-type': 'application/octet-stream' },
        ...(p.body.length > 0 || p.method === 'POST' || p.method === 'PUT' ? { body: p.body } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.host ? { host: options.host } : {}),
      }).catch((e: Error) => e),
    ),
  );
}

export interface Verdict {
  /** Answered 200 with the right id, method and body hash. */
  readonly ok: number;
  /** Planned ids never delivered to a backend. */
  readonly lost: string[];
  /** Planned ids delivered more than once. */
  readonly duplicated: string[];
  /** Replies that were not a correct 200 (status or error, first few). */
  readonly wrong: string[];
}

export function verify(
  planned: readonly Planned[],
  replies: readonly (Reply | Error)[],
  deliveries: readonly BackendEvent[],
): Verdict {
  const counts = new Map<string, number>();
  for (const d of deliveries) counts.set(d.id ?? '', (counts.get(d.id ?? '') ?? 0) + 1);
  const wrong: string[] = [];
  let ok = 0;
  planned.forEach((p, i) => {
    const reply = replies[i];
    if (reply instanceof Error || reply === undefined) {
      wrong.push(`${p.id}: ${reply instanceof Error ? reply.message : 'no reply'}`);
      return;
    }
    if (reply.status !== 200) {
      wrong.push(`${p.id}: HTTP ${reply.status} ${reply.body.slice(0, 120)}`);
      return;
    }
    const echo = JSON.parse(reply.body) as { id: string; method: string; sha: string; bytes: number };
    if (echo.id !== p.id || echo.method !== p.method || echo.sha !== p.sha || echo.bytes !== p.body.length) {
      wrong.push(`${p.id}: echoed ${echo.id} ${echo.method} ${echo.bytes} B`);
      return;
    }
    ok++;
  });
  return {
    ok,
    lost: planned.filter((p) => (counts.get(p.id) ?? 0) === 0).map((p) => p.id),
    duplicated: planned.filter((p) => (counts.get(p.id) ?? 0) > 1).map((p) => p.id),
    wrong: wrong.slice(0, 10),
  };
}
