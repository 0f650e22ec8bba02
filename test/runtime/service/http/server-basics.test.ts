import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Readiness } from '../../../../runtime/service/http/api-server.js';
import { createApiServer, startApiServer } from '../../../../runtime/service/http/api-server.js';
import { TOKENS, bearer, deps } from './support.js';

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
