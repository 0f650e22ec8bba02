/**
 * What the resolver does to a request on its way through (the path held requests are released on, and
 * that clients take while the Service still points at the resolver): end-to-end headers only, the
 * standard forwarding headers, bodies streamed both ways, trailers and statuses kept, `100 Continue`
 * passed on, cancellation carried to the pod, and loops and unknown hosts refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeCluster, HOST, send, sleep, until } from './support/cluster.js';

describe('forwarding through the resolver', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await FakeCluster.start({ autoStart: false });
    await cluster.startBackend({ START_DELAY_MS: '0' });
    await until(() => cluster.resolver.targets.get('shop/web')?.isReady === true, 10_000, 'ready');
  });
  after(async () => {
    await cluster?.close();
  });

  it('forwards end-to-end headers only, adds X-Forwarded-* and Via, and keeps repeated response headers', async () => {
    const reply = await send(cluster.resolver.proxyPort, {
      path: '/headers?q=1',
      headers: {
        'x-request-id': 'h-1',
        connection: 'keep-alive, x-hop',
        'x-hop': 'must not pass',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'gzip',
        'x-forwarded-for': '203.0.113.9',
        'x-end-to-end': 'kept',
      },
      host: `${HOST}:8443`,
    });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as { path: string; headers: Record<string, string> };
    assert.equal(seen.path, '/headers?q=1');
    assert.equal(seen.headers['x-end-to-end'], 'kept');
    for (const hop of ['x-hop', 'keep-alive', 'proxy-connection', 'te'])
      assert.equal(seen.headers[hop], undefined, hop);
    assert.equal(seen.headers.host, `${HOST}:8443`);
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], `${HOST}:8443`);
    assert.equal(seen.headers.via, '1.1 elasticai-resolver.elasticai-system');
    assert.deepEqual(reply.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(reply.headers['x-backend'], 'yes');
    // the Service bypasses the resolver while the target is warm: the client is asked to reconnect
    assert.equal(reply.headers.connection, 'close');
  });

  it('streams a 5 MiB upload and keeps statuses and trailers', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 7);
    const upload = await send(cluster.resolver.proxyPort, { method: 'PUT', path: '/big', body });
    assert.equal(JSON.parse(upload.body).sha, createHash('sha256').update(body).digest('hex'));
    assert.equal((await send(cluster.resolver.proxyPort, { path: '/status/418' })).status, 418);
    const withTrailers = await new Promise<Record<string, string>>((resolve, reject) => {
      const socket = net.connect(cluster.resolver.proxyPort, '127.0.0.1');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => {
        const m = /0\r\n([\s\S]*?)\r\n\r\n/.exec(text);
        resolve(
          Object.fromEntries((m?.[1] ?? '').split('\r\n').map((l) => l.split(': ') as [string, string])),
        );
      });
      socket.on('error', reject);
      socket.write(`GET /trailers HTTP/1.1\r\nHost: ${HOST}\r\nTE: trailers\r\nConnection: close\r\n\r\n`);
    });
    assert.match(withTrailers['x-checksum'] ?? '', /^[0-9a-f]{64}$/);
  });

  it('passes 100 Continue on: the client sends its body only once the pod asks for it', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(cluster.resolver.proxyPort, '127.0.0.1');
      let text = '';
      let sent = false;
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (!sent && text.includes('100 Continue')) {
          sent = true;
          socket.write('hello');
        }
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        `POST /expect HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\nX-Request-Id: expect-1\r\n\r\n`,
      );
    });
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(answer, /"id":"expect-1","method":"POST","path":"\/expect","bytes":5,/);
  });

  it('cancels the request at the pod when its client goes away', async () => {
    const abort = new AbortController();
    const pending = send(cluster.resolver.proxyPort, {
      path: '/slow/2000',
      headers: { 'x-request-id': 'cancel-me' },
      signal: abort.signal,
    }).catch((e: Error) => e);
    const backend = cluster.running;
    await until(
      () => backend?.requests.some((r) => r.id === 'cancel-me') === true,
      10_000,
      'the request at the pod',
    );
    abort.abort();
    assert.ok((await pending) instanceof Error);
    await until(
      () => backend?.events.some((e) => e.event === 'client-gone' && e.id === 'cancel-me') === true,
      10_000,
      'the pod to see its client go',
    );
  });

  it('refuses a request that loops back into the resolver (508) and unknown hosts (404)', async () => {
    const loop = await send(cluster.resolver.proxyPort, {
      headers: { via: '1.1 elasticai-resolver.elasticai-system' },
    });
    assert.equal(loop.status, 508);
    const unknown = await send(cluster.resolver.proxyPort, { host: 'elsewhere.example.com' });
    assert.equal(unknown.status, 404);
    assert.match(
      JSON.parse(unknown.body).message,
      /no scale-to-zero route for host "elsewhere\.example\.com"/,
    );
    assert.equal(await cluster.metric('elasticai_resolver_unrouted_total'), 1);
    await sleep(10);
  });
});
