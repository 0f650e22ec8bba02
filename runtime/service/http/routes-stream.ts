/**
 * `GET /api/v1/stream[?namespace=]`: the runtime's decisions as server-sent events (`text/event-stream`),
 * for the dashboard's live view.
 *
 * Authentication is the other GETs' exactly: the request's `Authorization: Bearer` header, checked by
 * the same AccessControl (401 / 403 before the stream starts). Browsers' EventSource cannot send that
 * header, so the dashboard reads the stream with `fetch` and parses it itself (../dashboard/browser/sse.ts).
 * No credential ever goes into a URL (where access logs and proxies would keep it), and nothing is shared
 * between runtime replicas (a ticket minted on one would need a shared secret to be checked on another).
 * Anonymous read access (`readAccess: anonymous`) works with a plain EventSource too.
 *
 * Events:
 * - `hello` first: `{"heartbeatSeconds", "maxSeconds", "namespace"}`, after `retry:` (reconnect delay);
 * - `decision` per decision the registry publishes, and per change of a workload's state (`stale`,
 *   `holding`, back to `fresh`: degradation shows when it happens, not at the next decision), as the
 *   list's `WorkloadSummary` (without `override`, which lives in the Kubernetes API: the client keeps
 *   what the list said). Only workloads in namespaces
 *   the caller may `list` are sent; a stream re-asks the authorizer per namespace after `permissionTtlMs`;
 * - `removed` (`{"namespace", "name"}`) when a workload stops being tracked, and `refused` (the same)
 *   when the runtime starts refusing one for memory (it then shows in the list's `refused`), under
 *   the same namespace rule. A workload's newest event replaces any of its events still waiting;
 * - a `: ping` comment every `heartbeatMs` when the client is keeping up;
 * - `bye` (`{"reason": "max-age" | "shutdown"}`) before the server ends the stream: after `maxStreamMs`
 *   (the client reconnects, so a revoked or expired token stops working) and on shutdown.
 *
 * Decisions are snapshots, so there is no replay (no `id:`): a client that reconnects reloads what it
 * shows from the JSON API. A slow client's events wait per workload, newest replacing older ones; past
 * `maxBufferedBytes` the client is cut off (it reconnects and reloads). Closing the connection removes
 * everything the stream held; the registry listener exists only while a stream is open.
 */
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Caller } from '../auth/authenticator.js';
import type { WorkloadRef } from '../workload-spec.js';
import type { AccessControl } from './access.js';
import type { ApiServerDeps, DecisionFeed, StreamOptions } from './api-deps.js';
import { ApiError } from './api-error.js';
import { check, namespaceQuery } from './schemas.js';
import { summarize } from './workload-view.js';

export const STREAM_DEFAULTS: Required<StreamOptions> = {
  heartbeatMs: 15_000,
  maxStreamMs: 600_000,
  maxBufferedBytes: 262_144,
  permissionTtlMs: 60_000,
  maxStreams: 1000,
  retryMs: 3000,
};

/** One event in the wire format (`data` split on line ends, as the format requires). */
export function sseFrame(event: string, data: string): string {
  return `event: ${event}\n${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('')}\n`;
}

/**
 * One client's end of a stream, with bounded buffering: frames go straight to `out` while it accepts
 * them; once `out.write` says to wait, frames wait per key (a workload), a newer frame replacing the
 * waiting one, until `drain`. Past `maxBufferedBytes` waiting, the client is cut off.
 */
export class SseConnection {
  private readonly waiting = new Map<string, string>();
  private waitingBytes = 0;
  private blocked = false;
  private done = false;
  private readonly closeListeners: (() => void)[] = [];
  /** True once the client was cut off for falling behind. */
  overflowed = false;

  constructor(
    private readonly out: Writable,
    private readonly maxBufferedBytes: number,
  ) {
    out.on('drain', () => this.flush());
    out.on('close', () => this.finish());
    out.on('error', () => this.finish());
  }

  get closed(): boolean {
    return this.done;
  }

  /** Bytes of frames waiting for the client. */
  get bufferedBytes(): number {
    return this.waitingBytes;
  }

  /** Called once, when the connection ends for any reason. */
  onClose(listener: () => void): void {
    if (this.done) listener();
    else this.closeListeners.push(listener);
  }

  /** Sends `frame`, or keeps it as the one waiting for `key` while the client is behind. */
  send(key: string, frame: string): void {
    if (this.done) return;
    if (!this.blocked) {
      this.write(frame);
      return;
    }
    const previous = this.waiting.get(key);
    if (previous !== undefined) {
      this.waitingBytes -= Buffer.byteLength(previous);
      this.waiting.delete(key); // re-inserted last: the order stays the order of the newest frames
    }
    this.waiting.set(key, frame);
    this.waitingBytes += Buffer.byteLength(frame);
    if (this.waitingBytes > this.maxBufferedBytes) this.abort();
  }

  /** A comment line (heartbeat); skipped while the client is behind (it has data coming anyway). */
  comment(text: string): void {
    if (!this.done && !this.blocked) this.write(`: ${text}\n\n`);
  }

  /** Ends the stream after `frame`. */
  end(frame?: string): void {
    if (this.done) return;
    if (frame !== undefined) this.out.write(frame);
    this.out.end();
    this.finish();
  }

  /** Cuts the client off (it fell too far behind). */
  abort(): void {
    if (this.done) return;
    this.overflowed = true;
    this.out.destroy();
    this.finish();
  }

  private write(frame: string): void {
    if (!this.out.write(frame)) this.blocked = true;
  }

  private flush(): void {
    this.blocked = false;
    for (const [key, frame] of this.waiting) {
      this.waiting.delete(key);
      this.waitingBytes -= Buffer.byteLength(frame);
      this.write(frame);
      if (this.blocked || this.done) return;
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.waiting.clear();
    this.waitingBytes = 0;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

type Subscriber = (ref: WorkloadRef, frame: string) => void;

/**
 * Turns each decision into one frame, once for all open streams, and listens to the feed only while at
 * least one stream is open.
 */
class DecisionHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly listener = (ref: WorkloadRef): void => this.publish(ref);
  private readonly removed = (ref: WorkloadRef): void => this.send(ref, 'removed');
  private readonly refused = (ref: WorkloadRef): void => this.send(ref, 'refused');

  constructor(
    private readonly feed: DecisionFeed,
    private readonly registry: ApiServerDeps['registry'],
  ) {}

  subscribe(subscriber: Subscriber): () => void {
    if (this.subscribers.size === 0) {
      this.feed.on('decision', this.listener);
      this.feed.on('state', this.listener);
      this.feed.on('removed', this.removed);
      this.feed.on('refused', this.refused);
    }
    this.subscribers.add(subscriber);
    return () => {
      if (this.subscribers.delete(subscriber) && this.subscribers.size === 0) {
        this.feed.off('decision', this.listener);
        this.feed.off('state', this.listener);
        this.feed.off('removed', this.removed);
        this.feed.off('refused', this.refused);
      }
    };
  }

  private publish(ref: WorkloadRef): void {
    const status = this.registry.status(ref);
    if (!status) return;
    this.broadcast(ref, sseFrame('decision', JSON.stringify(summarize(status))));
  }

  /** `removed` / `refused`: the list changed without a decision; the client reloads it. */
  private send(ref: WorkloadRef, event: 'removed' | 'refused'): void {
    this.broadcast(ref, sseFrame(event, JSON.stringify({ namespace: ref.namespace, name: ref.name })));
  }

  private broadcast(ref: WorkloadRef, frame: string): void {
    for (const subscriber of this.subscribers) subscriber(ref, frame);
  }
}

export function registerStreamRoutes(app: FastifyInstance, deps: ApiServerDeps, access: AccessControl): void {
  const limits = { ...STREAM_DEFAULTS, ...deps.stream };
  const clock = Date.now;
  const hub = deps.decisions ? new DecisionHub(deps.decisions, deps.registry) : undefined;
  const open = new Set<SseConnection>();
  const bye = (reason: string): string => sseFrame('bye', JSON.stringify({ reason }));

  app.addHook('preClose', async () => {
    for (const connection of [...open]) connection.end(bye('shutdown'));
  });

  /** Whether `caller` may see namespace `namespace`: sync when known, a promise while the authorizer is asked. */
  const permissions = (caller: Caller | undefined, only: string | undefined) => {
    const cache = new Map<string, { readonly until: number; answer: boolean | Promise<boolean> }>();
    return (namespace: string): boolean | Promise<boolean> => {
      if (only !== undefined && namespace !== only) return false;
      // reader() returns no caller only where anonymous reads are allowed.
      if (caller === undefined) return true;
      if (caller.namespaces !== undefined && !caller.namespaces.includes(namespace)) return false;
      const now = clock();
      const known = cache.get(namespace);
      if (known && known.until > now) return known.answer;
      const entry: { until: number; answer: boolean | Promise<boolean> } = {
        until: now + limits.permissionTtlMs,
        answer: false,
      };
      entry.answer = access.listable(caller, [namespace]).then(
        (allowed) => (entry.answer = allowed.has(namespace)),
        () => (entry.answer = false), // authorizer down: show nothing rather than too much
      );
      cache.set(namespace, entry);
      return entry.answer;
    };
  };

  app.get('/api/v1/stream', async (request, reply: FastifyReply) => {
    const caller = await access.reader(request.headers.authorization);
    const { namespace } = check(namespaceQuery, request.query, 'query');
    if (!hub) {
      throw new ApiError(
        404,
        'stream-disabled',
        'live updates need the registry’s decision events, and this server was built without them',
      );
    }
    if (namespace !== undefined) await access.require(caller, { verb: 'list', namespace });
    if (open.size >= limits.maxStreams) {
      throw new ApiError(
        503,
        'too-many-streams',
        `at most ${limits.maxStreams} live streams may be open at once; retry later`,
        { 'retry-after': String(Math.ceil(limits.retryMs / 1000)) },
      );
    }

    const out = new PassThrough();
    const connection = new SseConnection(out, limits.maxBufferedBytes);
    const permitted = permissions(caller, namespace);
    // Frames whose permission is still being asked, in order; bounded like the send buffer.
    let chain: Promise<void> = Promise.resolve();
    let checking = 0;
    let checkingBytes = 0;
    const deliver: Subscriber = (ref, frame) => {
      const key = `${ref.namespace}/${ref.name}`;
      const verdict = permitted(ref.namespace);
      if (typeof verdict === 'boolean' && checking === 0) {
        if (verdict) connection.send(key, frame);
        return;
      }
      checking++;
      checkingBytes += frame.length;
      if (checkingBytes > limits.maxBufferedBytes) {
        connection.abort();
        return;
      }
      chain = chain.then(async () => {
        const allowed = await verdict;
        checking--;
        checkingBytes -= frame.length;
        if (allowed) connection.send(key, frame);
      });
    };

    out.write(
      `retry: ${limits.retryMs}\n` +
        sseFrame(
          'hello',
          JSON.stringify({
            heartbeatSeconds: limits.heartbeatMs / 1000,
            maxSeconds: limits.maxStreamMs / 1000,
            namespace: namespace ?? null,
          }),
        ),
    );
    const unsubscribe = hub.subscribe(deliver);
    const heartbeat = setInterval(() => connection.comment('ping'), limits.heartbeatMs);
    heartbeat.unref();
    const maxAge = setTimeout(() => connection.end(bye('max-age')), limits.maxStreamMs);
    maxAge.unref();
    open.add(connection);
    connection.onClose(() => {
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(maxAge);
      open.delete(connection);
      if (connection.overflowed) {
        request.log.info(
          { caller: caller?.id ?? null },
          'live stream cut off: the client fell too far behind',
        );
      }
    });
    // The client went away (or the response finished): release everything now.
    reply.raw.on('close', () => connection.end());
    return reply.type('text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(out);
  });
}
