import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Readiness } from '../../../../runtime/service/http/api-server.js';
import { createApiServer, startApiServer } from '../../../../runtime/service/http/api-server.js';
import { RuntimeMetrics } from '../../../../runtime/service/metrics.js';
import { EventStore, TOKENS, bearer, deps, secretFile } from './support.js';

describe('probes', () => {
  it('/healthz is 200 while the process runs; /readyz follows the readiness callback, then shutdown', async () => {
    // GIVEN readiness that is not there yet and a shutdown signal
    let readiness: Readiness = { ready: false, reason: 'initial ScaledObject discovery not done' };
    const shutdown = new AbortController();
    const app = createApiServer(await deps({ readiness: () => readiness, shutdown: shutdown.signal }));
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    // WHEN not ready THEN 503 with the reason
    const notReady = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.deepEqual(notReady.json(), {
      error: { code: 'not-ready', message: 'initial ScaledObject discovery not done' },
    });
    // WHEN ready THEN 200
    readiness = { ready: true };
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
    // WHEN shutting down THEN 503 even though the callback says ready, and the process is still healthy
    shutdown.abort();
    const draining = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(draining.statusCode, 503);
    assert.equal(draining.json<{ error: { code: string } }>().error.code, 'shutting-down');
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});

describe('GET /metrics', () => {
  it('serves the registry in the Prometheus text format, counting requests by route pattern and status', async () => {
    const d = await deps();
    const app = createApiServer(d);
    await app.inject({ method: 'GET', url: '/api/v1/workloads', headers: bearer(TOKENS.admin) });
    await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-a/checkout',
      headers: bearer(TOKENS.admin),
    });
    await app.inject({
      method: 'GET',
      url: '/api/v1/workloads/team-b/search',
      headers: bearer(TOKENS.admin),
    });
    await app.inject({ method: 'GET', url: '/api/v1/workloads/team-b/nope', headers: bearer(TOKENS.admin) });
    await app.inject({ method: 'GET', url: '/no/such/thing' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], d.metrics.registry.contentType);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.match(text, /# TYPE elasticai_http_requests_total counter/);
    assert.match(text, /elasticai_http_requests_total\{route="GET \/api\/v1\/workloads",status="200"\} 1/);
    // the pattern, never the raw URL: two workloads, one series
    assert.match(
      text,
      /elasticai_http_requests_total\{route="GET \/api\/v1\/workloads\/:namespace\/:name",status="200"\} 2/,
    );
    assert.match(
      text,
      /elasticai_http_requests_total\{route="GET \/api\/v1\/workloads\/:namespace\/:name",status="404"\} 1/,
    );
    assert.match(text, /elasticai_http_requests_total\{route="unmatched",status="404"\} 1/);
    assert.doesNotMatch(text, /checkout|no\/such/);
  });

  it('is open even when reads need credentials', async () => {
    const app = createApiServer(await deps());
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
  });
});

describe('rate limit (real listener)', () => {
  it('answers 429 with Retry-After past rateLimitPerMinute per client; probes are never limited', async () => {
    // GIVEN a server on 127.0.0.1 allowing 3 requests a minute
    const server = await startApiServer(
      await deps({ config: { rateLimitPerMinute: 3, readAccess: 'anonymous' } }),
      {
        host: '127.0.0.1',
        port: 0,
      },
    );
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      // WHEN a client sends four API requests
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${server.url}/api/v1/workloads`);
        statuses.push(last.status);
        if (i < 3) await last.arrayBuffer();
      }
      // THEN the fourth is refused, telling when to retry
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const retryAfter = Number(last?.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.deepEqual(await last?.json(), {
        error: {
          code: 'rate-limited',
          message: 'too many requests: at most 3 per minute per client; see Retry-After',
        },
      });
      // AND probes and metrics still answer
      for (const path of ['/healthz', '/readyz', '/metrics', '/healthz']) {
        const res = await fetch(`${server.url}${path}`);
        assert.equal(res.status, 200, path);
        await res.arrayBuffer();
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(
        metrics,
        /elasticai_http_requests_total\{route="GET \/api\/v1\/workloads",status="429"\} 1/,
      );
    } finally {
      await server.close();
    }
  });
});

describe('HTTPS (real listener)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elasticai-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves HTTPS from tls.crt / tls.key of httpTlsDir', async () => {
    // GIVEN a self-signed certificate for 127.0.0.1, as a kubernetes.io/tls Secret mounts it
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1',
      '-subj', '/CN=elasticai-runtime', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' }); // prettier-ignore
    const server = await startApiServer(await deps(), { host: '127.0.0.1', port: 0, tlsDir: dir });
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      // WHEN a client that trusts the certificate calls the API
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          `${server.url}/api/v1/workloads/team-a/checkout`,
          { ca: readFileSync(join(dir, 'tls.crt')), headers: bearer(TOKENS.admin) },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      // THEN it gets the workload over TLS
      assert.equal(status, 200);
      assert.equal((JSON.parse(body) as { name: string }).name, 'checkout');
      // AND plain HTTP on the same port is not served
      await assert.rejects(fetch(`${server.url.replace('https', 'http')}/healthz`));
    } finally {
      await server.close();
    }
  });
});

describe('errors', () => {
  it('never leaks an internal error: 500 with a generic message, logged', async () => {
    const lines: string[] = [];
    const d = await deps({
      config: { readAccess: 'anonymous' },
      logger: { level: 'error', stream: { write: (l: string) => lines.push(l) } },
    });
    const registry = {
      ...d.registry,
      list: () => {
        throw new Error('secret internal detail at /srv/x.ts:12');
      },
      status: d.registry.status.bind(d.registry),
      history: d.registry.history.bind(d.registry),
    };
    const app = createApiServer({ ...d, registry });
    const res = await app.inject({ method: 'GET', url: '/api/v1/workloads' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), {
      error: { code: 'internal', message: 'internal error (logged by the runtime)' },
    });
    assert.doesNotMatch(res.body, /secret|srv/);
    assert.ok(lines.some((l) => l.includes('secret internal detail')));
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it("answers the router's own refusals in the API's shape, keeping their status", async () => {
    // GIVEN the API server
    const d = await deps();
    const app = createApiServer(d);
    // WHEN a path has malformed percent-encoding, on a workload route and on the webhook route
    for (const [method, url] of [
      ['GET', '/api/v1/workloads/team-a/%ZZ'],
      ['POST', '/api/v1/events/%ZZ'],
    ] as const) {
      const res = await app.inject({ method, url, headers: bearer(TOKENS.admin) });
      // THEN 400 with the API's error, naming the path
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual(res.json(), {
        error: { code: 'invalid-path', message: 'path: malformed percent-encoding' },
      });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-store');
    }
    // WHEN a path parameter is longer than any valid name THEN 414 in the same shape
    const long = await app.inject({
      method: 'GET',
      url: `/api/v1/workloads/team-a/${'l'.repeat(254)}`,
      headers: bearer(TOKENS.admin),
    });
    assert.equal(long.statusCode, 414);
    assert.deepEqual(long.json(), {
      error: { code: 'uri-too-long', message: 'path: a parameter is longer than 253 characters' },
    });
    // AND they are counted like every other answer
    const text = await d.metrics.text();
    assert.match(text, /elasticai_http_requests_total\{route="unmatched",status="400"\} 2/);
    assert.match(text, /elasticai_http_requests_total\{route="unmatched",status="414"\} 1/);
  });

  it("answers requests Node's HTTP parser refuses in the API's shape (real listener)", async () => {
    // GIVEN a listening server
    const server = await startApiServer(await deps({ config: { readAccess: 'anonymous' } }), {
      host: '127.0.0.1',
      port: 0,
    });
    const { port } = new URL(server.url);
    /** Everything the server sends back on one connection for `text`. */
    const exchange = (text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
    const lastAnswer = (received: string): { status: number; body: unknown } => {
      const answer = received.split(/(?=HTTP\/1\.1 \d{3} )/).at(-1) ?? '';
      return {
        status: Number(answer.slice(9, 12)),
        body: JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown,
      };
    };
    try {
      // WHEN a body is longer than its Content-Length (the rest is read as the next request)
      const overlong = await exchange(
        'POST /api/v1/workloads/team-a/checkout/override HTTP/1.1\r\nHost: x\r\n' +
          'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"replicas":3}',
      );
      // THEN the first request is answered, then a 400 in the API's shape
      assert.match(overlong, /^HTTP\/1\.1 401 /);
      assert.deepEqual(lastAnswer(overlong), {
        status: 400,
        body: {
          error: {
            code: 'bad-request',
            message:
              'request: bytes after the end of a request (HPE_INVALID_METHOD: Invalid method encountered); is the body longer than its Content-Length?',
          },
        },
      });
      // WHEN a header line is malformed THEN 400 in the API's shape
      const malformed = lastAnswer(await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n'));
      assert.equal(malformed.status, 400);
      assert.equal((malformed.body as { error: { code: string } }).error.code, 'bad-request');
      // WHEN the headers are larger than Node accepts THEN 431 in the API's shape
      const huge = lastAnswer(
        await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
      );
      assert.deepEqual(huge, {
        status: 431,
        body: { error: { code: 'headers-too-large', message: 'headers: larger than 16384 bytes' } },
      });
    } finally {
      await server.close();
    }
  });

  it('answers 408 and closes the connection when a body stops short of its Content-Length', async () => {
    // GIVEN a listening server with the event webhook (it reads the body before checking anything)
    // and a 300 ms request timeout (30 s by default)
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const d = await deps({
      metrics,
      events: new EventStore({ clock: Date.now, metrics }),
      config: { webhookSecretFile: secretFile('s3cret-for-the-timeout-test') },
    });
    const server = await startApiServer({ ...d, requestTimeoutMs: 300 }, { host: '127.0.0.1', port: 0 });
    const { port } = new URL(server.url);
    try {
      // WHEN a client announces 20 bytes of body, sends 2 and waits
      const started = Date.now();
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            'POST /api/v1/events/orders HTTP/1.1\r\nHost: x\r\n' +
              'Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{}',
          ),
        );
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      // THEN it gets a 408 in the API's shape within seconds, not Node's 300 s, and the socket closes
      const elapsed = Date.now() - started;
      assert.match(received, /^HTTP\/1\.1 408 /);
      assert.match(received, /"code":"request-timeout"/);
      assert.ok(elapsed >= 250 && elapsed < 5_000, `answered after ${elapsed} ms`);
    } finally {
      await server.close();
    }
  });

  it("refuses a request that arrives while the server closes with 503 in the API's shape", async () => {
    // GIVEN a server whose authenticator holds the first request until released
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const d = await deps();
    const server = await startApiServer(
      {
        ...d,
        authenticator: {
          authenticate: async (authorization) => {
            await held;
            return d.authenticator.authenticate(authorization);
          },
          authorize: (caller, action) => d.authenticator.authorize(caller, action),
        },
      },
      { host: '127.0.0.1', port: 0 },
    );
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const get = `GET /api/v1/workloads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.admin}\r\n\r\n`;
    // (each step waits for the server to have the request, not a fixed time: a loaded machine can take
    // longer than a moment)
    let requests = 0;
    server.app.server.on('request', () => requests++);
    const seen = async (n: number): Promise<void> => {
      for (const deadline = Date.now() + 10_000; requests < n && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 10));
    };
    socket.write(get);
    await seen(1);
    // WHEN the server starts closing and a second request arrives on the same connection
    const closing = server.close();
    // (Fastify marks itself closing before it closes the listening socket)
    for (const deadline = Date.now() + 10_000; server.app.server.listening && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 10));
    socket.write(get);
    await seen(2);
    release();
    await closing;
    await closed;
    // THEN the first is served and the second refused in the API's shape
    const answers = received.split(/(?=HTTP\/1\.1 \d{3} )/);
    assert.equal(answers.length, 2, received);
    assert.match(answers[0] as string, /^HTTP\/1\.1 200 /);
    assert.match(answers[1] as string, /^HTTP\/1\.1 503 /);
    assert.match(
      answers[1] as string,
      /\r\n\r\n\{"error":\{"code":"shutting-down","message":"the runtime is shutting down"\}\}$/,
    );
  });

  it('answers 503 when the authenticator cannot be reached', async () => {
    const d = await deps();
    const app = createApiServer({
      ...d,
      authenticator: {
        authenticate: async () => {
          throw new Error('TokenReview: connect ETIMEDOUT');
        },
        authorize: async () => true,
      },
    });
    const res = await app.inject({ method: 'GET', url: '/api/v1/workloads', headers: bearer('x') });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), {
      error: { code: 'authentication-unavailable', message: 'the credentials could not be checked' },
    });
  });
});
