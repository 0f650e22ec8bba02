/**
 * `GET /api/v1/stream`: server-sent events of the registry's decisions over real HTTP, with the same
 * read access as the other GETs, per-namespace filtering, heartbeats, the stream's maximum age,
 * shutdown, the cap on open streams, release of everything when a client goes away, and the bounded
 * per-client buffer (SseConnection against a real Writable that stops draining).
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { get } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Action, Caller } from '../../../../runtime/service/auth/authenticator.js';
import { SseConnection, sseFrame } from '../../../../runtime/service/http/routes-stream.js';
import type { WorkloadSummary } from '../../../../runtime/service/http/workload-view.js';
import { NotReadyError } from '../../../../runtime/service/workload-registry.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import type { DashboardServer, DashboardWorld } from './support.js';
import {
  CHECKOUT_QUERY,
  TOKENS,
  TENANTS,
  TestAuthenticator,
  dashboardWorld,
  getJson,
  startDashboardServer,
} from './support.js';

interface Received {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Events in order (comments are counted, not listed). */
  readonly events: { event: string; data: string }[];
  comments: number;
  /** Everything received, as text. */
  raw: string;
  /** Resolves when the stream ends (the server ended it, or `close`). */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Reads a stream over its own connection (node:http, no keep-alive pool), parsing frames independently
 * of the dashboard's parser. `close` drops the connection, as a browser tab that goes away does.
 */
function openStream(url: string, token?: string, query = ''): Promise<Received> {
  return new Promise((resolve, reject) => {
    const request = get(
      `${url}/api/v1/stream${query}`,
      { agent: false, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } },
      (response) => {
        let buffer = '';
        const received: Received = {
          status: response.statusCode ?? 0,
          headers: response.headers,
          events: [],
          comments: 0,
          raw: '',
          ended: new Promise((done) => response.on('close', () => done())),
          close: () => request.destroy(),
        };
        response.setEncoding('utf8');
        response.on('error', () => undefined);
        response.on('data', (chunk: string) => {
          received.raw += chunk;
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) !== -1) {
            const lines = buffer.slice(0, cut).split('\n');
            buffer = buffer.slice(cut + 2);
            if (lines.every((l) => l.startsWith(':'))) {
              received.comments++;
              continue;
            }
            const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
            const data = lines
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            received.events.push({ event, data });
          }
        });
        resolve(received);
      },
    );
    request.on('error', reject); // after the answer came, a no-op
  });
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const decisions = (r: Received): WorkloadSummary[] =>
  r.events.filter((e) => e.event === 'decision').map((e) => JSON.parse(e.data) as WorkloadSummary);

describe('GET /api/v1/stream', () => {
  let world: DashboardWorld;
  let server: DashboardServer;
  const streams: Received[] = [];

  before(async () => {
    world = await dashboardWorld();
    server = await startDashboardServer(world);
  });

  after(async () => {
    for (const s of streams) s.close();
    await server?.server.close();
  });

  const open = async (token?: string, query = '', url = server.url): Promise<Received> => {
    const s = await openStream(url, token, query);
    streams.push(s);
    return s;
  };

  it('streams each decision as the list’s summary, after a hello, to a caller who may read', async () => {
    // GIVEN a viewer's stream
    const s = await open(TOKENS.viewer);
    assert.equal(s.status, 200);
    assert.equal(s.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(s.headers['cache-control'], 'no-store');
    assert.equal(s.headers['x-accel-buffering'], 'no');
    await until('hello', () => s.events.length >= 1);
    assert.match(s.raw, /^retry: 3000\nevent: hello\n/);
    assert.deepEqual(JSON.parse(s.events[0]?.data ?? ''), {
      heartbeatSeconds: 1,
      maxSeconds: 600,
      namespace: null,
    });

    // WHEN the clock moves a minute and the registry ticks
    await world.advance(60);
    // THEN team-a/checkout's new decision arrives, equal to what the list says now (without the override)
    await until('a decision', () => decisions(s).some((d) => d.name === 'checkout'));
    const event = decisions(s).find((d) => d.name === 'checkout');
    const list = await getJson<{ workloads: WorkloadSummary[] }>(
      server.url,
      '/api/v1/workloads',
      TOKENS.viewer,
    );
    const { override, ...listed } = list.workloads.find((w) => w.name === 'checkout') as WorkloadSummary;
    assert.equal(override, null);
    assert.deepEqual(event, listed);
    assert.equal(event?.decidedAt, Math.floor(world.now() / 60_000) * 60);
  });

  it('pushes a state change when it happens: stale while the source fails, fresh once it heals', async () => {
    // GIVEN a tenant's stream that has seen checkout fresh
    const s = await open(TOKENS.tenantA);
    await until('hello', () => s.events.length >= 1);
    const checkout = (): WorkloadSummary[] => decisions(s).filter((d) => d.name === 'checkout');
    // WHEN checkout's Prometheus query fails for a tick (no decision is made then)
    world.source.failing.add(CHECKOUT_QUERY);
    try {
      await world.advance(60);
      // THEN the stream says so at once: the last good decision, served stale
      await until('stale', () => checkout().at(-1)?.state === 'stale');
      assert.match(checkout().at(-1)?.lastError?.message ?? '', /ECONNREFUSED/);
    } finally {
      world.source.failing.delete(CHECKOUT_QUERY);
    }
    // WHEN it heals, THEN the next tick brings checkout back to fresh
    await world.advance(60);
    await until('fresh', () => checkout().at(-1)?.state === 'fresh');
  });

  it('refuses like the other GETs: 401 without or with bad credentials, 403 outside the caller’s namespaces, 400 bad queries', async () => {
    const none = await fetch(`${server.url}/api/v1/stream`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="elasticai"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
    const bad = await fetch(`${server.url}/api/v1/stream`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /invalid_token/);
    const other = await fetch(`${server.url}/api/v1/stream?namespace=team-b`, {
      headers: { authorization: `Bearer ${TOKENS.tenantA}` },
    });
    assert.equal(other.status, 403);
    assert.match(
      ((await other.json()) as { error: { message: string } }).error.message,
      /team-a-deployer may not list/,
    );
    const query = await fetch(`${server.url}/api/v1/stream?namespace=Team_B`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    assert.equal(query.status, 400);
    assert.match(((await query.json()) as { error: { message: string } }).error.message, /namespace/);
  });

  it('sends each stream only the namespaces its caller may list (and the one asked for)', async () => {
    // GIVEN a tenant key limited to team-a, a viewer, a viewer asking for team-b only
    const tenant = await open(TOKENS.tenantA);
    const viewer = await open(TOKENS.viewer);
    const onlyB = await open(TOKENS.viewer, '?namespace=team-b');
    for (const s of [tenant, viewer, onlyB]) await until('hello', () => s.events.length >= 1);
    // WHEN five minutes pass (checkout decides per minute, search per five minutes)
    await world.advance(300);
    await until('both decisions', () => new Set(decisions(viewer).map((d) => d.namespace)).size === 2);
    await until('team-b', () => decisions(onlyB).length >= 1);
    // THEN the tenant saw team-a only, the namespace-filtered stream team-b only
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      decisions(tenant).map((d) => `${d.namespace}/${d.name}`),
      ['team-a/checkout'],
    );
    assert.deepEqual(
      decisions(onlyB).map((d) => `${d.namespace}/${d.name}`),
      ['team-b/search'],
    );
    assert.deepEqual(
      decisions(viewer)
        .map((d) => `${d.namespace}/${d.name}`)
        .sort(),
      ['team-a/checkout', 'team-b/search'],
    );
  });

  it('asks the authorizer once per namespace and stream, and shows nothing when it fails', async () => {
    // GIVEN an authorizer that counts list checks, and one that is down for team-b
    // (not cluster-wide: each namespace is asked on its own)
    class Flaky extends TestAuthenticator {
      override async authorize(caller: Caller, action: Action): Promise<boolean> {
        await super.authorize(caller, action); // records the question
        if (action.namespace === undefined) return false;
        if (action.namespace === 'team-b') throw new Error('SubjectAccessReview: 503');
        return true;
      }
    }
    const authenticator = new Flaky();
    const flaky = await startDashboardServer(world, { authenticator });
    try {
      const s = await open(TOKENS.viewer, '', flaky.url);
      await until('hello', () => s.events.length >= 1);
      // WHEN two ticks of five minutes
      await world.advance(300);
      await world.advance(300);
      await until('two checkout decisions', () => decisions(s).length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // THEN team-b's decisions were withheld, team-a's delivered in order
      assert.deepEqual(
        decisions(s).map((d) => d.namespace),
        ['team-a', 'team-a'],
      );
      const [first, second] = decisions(s);
      assert.ok((first?.decidedAt ?? 0) < (second?.decidedAt ?? 0));
      // and team-a was checked once for the stream (cached), not per decision
      const asked = authenticator.asked.map((a) => `${a.action.verb} ${a.action.namespace ?? '*'}`);
      assert.deepEqual(asked.sort(), ['list *', 'list *', 'list team-a', 'list team-b']);
    } finally {
      await flaky.server.close();
    }
  });

  it('sends heartbeats, ends with bye at its maximum age, and releases the registry listener', async () => {
    // GIVEN a server whose streams beat every 50 ms and last 1 s (about 19 beats; a loaded CI machine
    // can delay timers, so only 2 are required)
    const short = await startDashboardServer(world, { stream: { heartbeatMs: 50, maxStreamMs: 1000 } });
    try {
      const baseline = world.registry.listenerCount('decision');
      const s = await open(TOKENS.viewer, '', short.url);
      assert.equal(world.registry.listenerCount('decision'), baseline + 1);
      // WHEN waiting for the server to end it
      await s.ended;
      // THEN it beat several times and said why it ended
      assert.ok(s.comments >= 2, `${s.comments} heartbeats`);
      assert.deepEqual(s.events.at(-1), { event: 'bye', data: '{"reason":"max-age"}' });
      // and nothing listens to the registry any more
      await until('listener removed', () => world.registry.listenerCount('decision') === baseline);
    } finally {
      await short.server.close();
    }
  });

  it('releases everything when clients go away: one registry listener for all streams, none after', async () => {
    const isolated = await startDashboardServer(world);
    try {
      const baseline = world.registry.listenerCount('decision');
      const a = await open(TOKENS.viewer, '', isolated.url);
      const b = await open(TOKENS.admin, '', isolated.url);
      await until('hellos', () => a.events.length >= 1 && b.events.length >= 1);
      assert.equal(world.registry.listenerCount('decision'), baseline + 1);
      a.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(world.registry.listenerCount('decision'), baseline + 1, 'b still listens');
      b.close();
      await until('listener removed', () => world.registry.listenerCount('decision') === baseline);
    } finally {
      await isolated.server.close();
    }
  });

  it('ends open streams with bye on shutdown, so closing the server does not wait for them', async () => {
    const closing = await startDashboardServer(world);
    const s = await open(TOKENS.viewer, '', closing.url);
    await until('hello', () => s.events.length >= 1);
    const started = Date.now();
    await closing.server.close();
    await s.ended;
    assert.ok(Date.now() - started < 2000, 'closed promptly');
    assert.deepEqual(s.events.at(-1), { event: 'bye', data: '{"reason":"shutdown"}' });
  });

  it('caps the streams open at once (503 with Retry-After), and answers 404 without a decision feed', async () => {
    const capped = await startDashboardServer(world, { stream: { maxStreams: 1 } });
    const plain = await startDashboardServer(world, { decisions: undefined });
    try {
      const first = await open(TOKENS.viewer, '', capped.url);
      assert.equal(first.status, 200);
      const second = await fetch(`${capped.url}/api/v1/stream`, {
        headers: { authorization: `Bearer ${TOKENS.viewer}` },
      });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '3');
      assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'too-many-streams');
      // once it is closed, the slot is free again
      first.close();
      // (retried for up to 10 s: the server frees it when it sees the client go, later on a loaded machine)
      let again = 0;
      for (const deadline = Date.now() + 10_000; again !== 200 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const retry = await open(TOKENS.viewer, '', capped.url);
        again = retry.status;
        if (again === 200) retry.close();
      }
      assert.equal(again, 200);
      const none = await fetch(`${plain.url}/api/v1/stream`, {
        headers: { authorization: `Bearer ${TOKENS.viewer}` },
      });
      assert.equal(none.status, 404);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'stream-disabled');
    } finally {
      await capped.server.close();
      await plain.server.close();
    }
  });

  it('needs no credentials where reads are anonymous', async () => {
    const anonymous = await startDashboardServer(world, { readAccess: 'anonymous' });
    try {
      const s = await open(undefined, '', anonymous.url);
      assert.equal(s.status, 200);
      await world.advance(60);
      await until('a decision', () => decisions(s).length >= 1);
      assert.equal(decisions(s)[0]?.name, 'checkout');
    } finally {
      await anonymous.server.close();
    }
  });

  it('says when a workload starts being refused for memory (once, not per retry) and when one is removed', async () => {
    // GIVEN a viewer's stream and a team-a tenant's, and memory full
    const viewer = await open(TOKENS.viewer);
    const tenant = await open(TOKENS.tenantA);
    for (const s of [viewer, tenant]) await until('hello', () => s.events.length >= 1);
    const changes = (r: Received): string[] =>
      r.events
        .filter((e) => e.event === 'refused' || e.event === 'removed')
        .map((e) => {
          const ref = JSON.parse(e.data) as { namespace: string; name: string };
          return `${e.event} ${ref.namespace}/${ref.name}`;
        });
    const cart = { namespace: 'team-a', name: 'cart' };
    const feed = { namespace: 'team-b', name: 'feed' };
    const spec = parseWorkloadSpec(cart, { query: CHECKOUT_QUERY, capacityPerReplica: '20' }, TENANTS);
    world.setMemoryFull(true);
    try {
      // WHEN KEDA asks about two new workloads three times each
      for (let i = 0; i < 3; i++) {
        for (const ref of [cart, feed])
          assert.throws(() => world.registry.register(ref, spec), NotReadyError);
      }
    } finally {
      world.setMemoryFull(false);
    }
    // THEN the viewer heard of each refusal once, the tenant of its own namespace's only
    await until('refusals', () => changes(viewer).length >= 2);
    // WHEN memory is freed, cart is admitted on KEDA's next ask, then its ScaledObject is deleted
    await world.registry.register(cart, spec);
    world.registry.unregister(cart);
    // THEN both streams hear it is gone
    await until('removal', () => changes(tenant).length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(changes(viewer), ['refused team-a/cart', 'refused team-b/feed', 'removed team-a/cart']);
    assert.deepEqual(changes(tenant), ['refused team-a/cart', 'removed team-a/cart']);
    // and the list no longer names cart as refused (it was admitted), but still names feed
    const list = await getJson<{ refused: { name: string }[] }>(
      server.url,
      '/api/v1/workloads',
      TOKENS.viewer,
    );
    assert.deepEqual(
      list.refused.map((r) => r.name),
      ['feed'],
    );
  });
});

/** A Writable that accepts `highWaterMark` bytes and then holds every write until `release()`. */
class StalledClient extends Writable {
  readonly written: string[] = [];
  private held: (() => void)[] = [];
  private stalled = true;

  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(String(chunk));
    if (this.stalled) this.held.push(callback);
    else callback();
  }

  release(): void {
    this.stalled = false;
    for (const callback of this.held.splice(0)) callback();
  }
}

describe('SseConnection: bounded buffering per client', () => {
  const frame = (key: string, n: number): string =>
    sseFrame('decision', JSON.stringify({ key, n, pad: 'x'.repeat(100) }));

  it('writes while the client keeps up, then keeps only the newest frame per workload until it drains', () => {
    // GIVEN a client that stops reading after the first frame
    const client = new StalledClient(64);
    const connection = new SseConnection(client, 10_000);
    connection.send('team-a/checkout', frame('a', 1));
    // WHEN more decisions come while it is behind
    connection.send('team-b/search', frame('b', 1));
    connection.send('team-a/checkout', frame('a', 2));
    connection.send('team-a/checkout', frame('a', 3));
    connection.comment('ping'); // skipped: data is waiting anyway
    // THEN only the newest per workload waits
    assert.equal(client.written.length, 1);
    assert.equal(
      connection.bufferedBytes,
      Buffer.byteLength(frame('b', 1)) + Buffer.byteLength(frame('a', 3)),
    );
    // WHEN it reads again
    client.release();
    // THEN the waiting frames go out in the order of their newest versions
    assert.deepEqual(client.written, [frame('a', 1), frame('b', 1), frame('a', 3)]);
    assert.equal(connection.bufferedBytes, 0);
    connection.comment('ping');
    assert.equal(client.written.at(-1), ': ping\n\n');
    assert.equal(connection.closed, false);
  });

  it('cuts a client off once more than maxBufferedBytes wait, and reports it closed once', () => {
    const client = new StalledClient(64);
    const connection = new SseConnection(client, 1000);
    let closed = 0;
    connection.onClose(() => closed++);
    connection.send('w0', frame('w0', 1));
    // WHEN many workloads decide while the client reads nothing
    for (let i = 1; i <= 20 && !connection.closed; i++) connection.send(`w${i}`, frame(`w${i}`, 1));
    // THEN it is cut off before much more than the limit waits
    assert.equal(connection.closed, true);
    assert.equal(connection.overflowed, true);
    assert.equal(client.destroyed, true);
    assert.equal(connection.bufferedBytes, 0);
    assert.equal(closed, 1);
    connection.send('w99', frame('w99', 1));
    assert.equal(client.written.length, 1, 'nothing is written after the cut');
  });

  it('splits multi-line data into data lines, as the format requires', () => {
    assert.equal(sseFrame('x', 'a\nb\r\nc'), 'event: x\ndata: a\ndata: b\ndata: c\n\n');
  });
});
