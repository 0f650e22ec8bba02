import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { PrometheusConfig } from '../../../../runtime/service/config.js';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import type { SourceFailureKind } from '../../../../runtime/service/history/history-source.js';
import {
  AZURE_PROMETHEUS_SCOPE,
  AzureTokenAuthorizer,
  createPrometheusAuthorizer,
} from '../../../../runtime/service/history/prometheus-auth.js';
import type { AwsCredentials } from '../../../../runtime/service/history/prometheus-auth.js';
import { PrometheusSource } from '../../../../runtime/service/history/prometheus-source.js';
import type { PrometheusSourceOptions } from '../../../../runtime/service/history/prometheus-source.js';
import { fakeServer, formOf, json, matrix } from './fake-http.js';
import type { FakeServer, Handler, Received } from './fake-http.js';

const servers: FakeServer[] = [];
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'elasticai-prom-auth-'));
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(handler: Handler): Promise<FakeServer> {
  const s = await fakeServer(handler);
  servers.push(s);
  return s;
}

const Q = { query: 'sum(rate(http_requests_total{job="shop"}[1m]))', start: 600, end: 660, stepSeconds: 60 };
const ANSWER = matrix([
  [600, '4'],
  [660, '5'],
]);

function source(config: Partial<PrometheusConfig> & { url: string }, options?: PrometheusSourceOptions) {
  return new PrometheusSource({ auth: 'none', timeoutMs: 2000, ...config }, options);
}

async function rejectsWith(
  p: Promise<unknown>,
  kind: SourceFailureKind,
  message: RegExp,
): Promise<SourceError> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a SourceError'),
    (e: unknown) => {
      caught = e;
    },
  );
  assert.ok(caught instanceof SourceError, `expected a SourceError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.match(caught.message, message);
  return caught;
}

/** A server that answers only requests carrying `Authorization: Bearer <one of tokens()>`. */
async function bearerServer(tokens: () => readonly string[]): Promise<FakeServer> {
  return serve((r, res) => {
    const ok = tokens().some((t) => r.headers.authorization === `Bearer ${t}`);
    if (ok) json(res, 200, ANSWER);
    else json(res, 401, { status: 'error', errorType: 'unauthorized', error: 'bad token' });
  });
}

describe('auth none', () => {
  it('sends no Authorization header', async () => {
    const s = await serve((_r, res) => json(res, 200, ANSWER));
    await source({ url: s.url }).queryRange(Q);
    assert.equal(s.received[0]!.headers.authorization, undefined);
  });
});

describe('bearer auth', () => {
  it('reads the token file on every request, so a rotated token is used at once', async () => {
    // GIVEN a token file and a server that accepts the current token only
    const file = join(dir, 'token-rotate');
    let valid = ['first-token'];
    const s = await bearerServer(() => valid);
    await writeFile(file, 'first-token\n');
    const src = source({ url: s.url, auth: 'bearer', tokenFile: file });
    // WHEN queried THEN the trimmed token is sent
    assert.deepEqual(await src.queryRange(Q), { timestamps: [600, 660], values: [4, 5] });
    // WHEN the token is rotated (the kubelet rewrites the projected file)
    valid = ['second-token'];
    await writeFile(file, '  second-token  \n');
    // THEN the next request carries the new token without a new source
    assert.deepEqual(await src.queryRange(Q), { timestamps: [600, 660], values: [4, 5] });
    assert.deepEqual(
      s.received.map((r) => r.headers.authorization),
      ['Bearer first-token', 'Bearer second-token'],
    );
  });

  it('fails clearly, without a request, when the token file is missing or empty', async () => {
    const s = await bearerServer(() => ['t']);
    const missing = join(dir, 'no-such-token');
    await rejectsWith(
      source({ url: s.url, auth: 'bearer', tokenFile: missing }).queryRange(Q),
      'unreachable',
      new RegExp(`bearer token file ${missing} does not exist`),
    );
    const empty = join(dir, 'empty-token');
    await writeFile(empty, ' \n');
    await rejectsWith(
      source({ url: s.url, auth: 'bearer', tokenFile: empty }).queryRange(Q),
      'unreachable',
      /bearer token file .*empty-token is empty/,
    );
    const split = join(dir, 'split-token');
    await writeFile(split, 'abc\ndef');
    await rejectsWith(
      source({ url: s.url, auth: 'bearer', tokenFile: split }).queryRange(Q),
      'unreachable',
      /characters not allowed/,
    );
    assert.equal(s.received.length, 0);
  });

  it('keeps the token out of the error when the server refuses it', async () => {
    const file = join(dir, 'token-refused');
    await writeFile(file, 'super-secret-value');
    const s = await bearerServer(() => ['another']);
    const e = await rejectsWith(
      source({ url: s.url, auth: 'bearer', tokenFile: file }).queryRange(Q),
      'http-error',
      /HTTP 401/,
    );
    assert.doesNotMatch(e.message, /super-secret-value/);
  });
});

describe('aws-sigv4 auth (Amazon Managed Prometheus)', () => {
  const credentials: AwsCredentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLESESSION',
  };
  const region = 'eu-west-1';
  const signingDate = Date.UTC(2025, 2, 14, 9, 26, 53);

  /**
   * A fake AMP endpoint: checks the SigV4 headers, then re-signs what it RECEIVED (method, host, path,
   * query, the signed headers, the raw body) with the same credentials and date and compares signatures.
   */
  async function fakeAmp(): Promise<FakeServer & { verdicts: string[] }> {
    const verdicts: string[] = [];
    const s = await serve(async (r, res) => {
      const verdict = await verify(r);
      verdicts.push(verdict);
      if (verdict === 'ok') json(res, 200, ANSWER);
      else json(res, 403, { message: `signature rejected: ${verdict}` });
    });
    return Object.assign(s, { verdicts });
  }

  async function verify(r: Received): Promise<string> {
    const auth = String(r.headers.authorization ?? '');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return 'malformed authorization';
    const [, keyId, day, signedRegion, service, signedHeaders, signature] = m;
    if (keyId !== credentials.accessKeyId || signedRegion !== region || service !== 'aps')
      return 'wrong scope';
    const amzDate = String(r.headers['x-amz-date'] ?? '');
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day!)) return 'bad x-amz-date';
    const bodyHash = createHash('sha256').update(r.body).digest('hex');
    if (r.headers['x-amz-content-sha256'] !== bodyHash) return 'body hash mismatch';
    if (r.headers['x-amz-security-token'] !== credentials.sessionToken) return 'no session token';
    const names = signedHeaders!.split(';');
    for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256', 'content-type']) {
      if (!names.includes(required)) return `${required} not signed`;
    }
    const headers: Record<string, string> = {};
    for (const name of names) headers[name] = String(r.headers[name] ?? '');
    const url = new URL(r.url, `http://${r.headers.host}`);
    const query: Record<string, string> = Object.fromEntries(url.searchParams);
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const signer = new SignatureV4({
      service: 'aps',
      region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
    const expected = await signer.sign(
      {
        method: r.method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query,
        headers,
        body: r.body,
      },
      { signingDate: date },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1];
    return expectedSignature === signature ? 'ok' : 'signature mismatch';
  }

  const sigv4 = (url: string, options: PrometheusSourceOptions = {}) =>
    source(
      { url, auth: 'aws-sigv4', awsRegion: region },
      { auth: { awsCredentials: async () => credentials, clock: () => signingDate }, ...options },
    );

  it('signs method, host, path, query and the exact body; the fake AMP re-derives the signature', async () => {
    // GIVEN a fake AMP workspace URL with a path (and a query parameter a proxy might need)
    const amp = await fakeAmp();
    const url = `${amp.url}/workspaces/ws-0123abcd?tenant=shop`;
    // WHEN a range is queried
    const out = await sigv4(url).queryRange(Q);
    // THEN the endpoint accepted the signature over exactly what arrived
    assert.deepEqual(amp.verdicts, ['ok']);
    assert.deepEqual(out, { timestamps: [600, 660], values: [4, 5] });
    const r = amp.received[0]!;
    assert.equal(r.url, '/workspaces/ws-0123abcd/api/v1/query_range?tenant=shop');
    assert.equal(r.headers['x-amz-date'], '20250314T092653Z');
    assert.match(
      String(r.headers.authorization),
      /Credential=AKIDEXAMPLE\/20250314\/eu-west-1\/aps\/aws4_request/,
    );
    assert.equal(formOf(r).query, Q.query);
  });

  it('is rejected when the body is changed after signing', async () => {
    // GIVEN a fetch that alters the query in the body after the signature was computed
    const amp = await fakeAmp();
    const tampering: typeof fetch = (input, init) =>
      fetch(input, { ...init, body: String(init?.body).replace('shop', 'admin') });
    // WHEN queried THEN the signature no longer matches and the endpoint refuses (403 → http-error)
    await rejectsWith(
      sigv4(amp.url, { fetch: tampering }).queryRange(Q),
      'http-error',
      /HTTP 403: signature rejected: body hash mismatch/,
    );
    // AND a tampered body whose hash header is patched to match still fails on the signature itself
    const patching: typeof fetch = (input, init) => {
      const body = String(init?.body).replace('shop', 'admin');
      const headers = {
        ...(init?.headers as Record<string, string>),
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      };
      return fetch(input, { ...init, headers, body });
    };
    await rejectsWith(sigv4(amp.url, { fetch: patching }).queryRange(Q), 'http-error', /signature mismatch/);
    assert.deepEqual(amp.verdicts, ['body hash mismatch', 'signature mismatch']);
  });

  it('signs with fresh credentials each time the provider returns new ones', async () => {
    const amp = await fakeAmp();
    let calls = 0;
    const src = source(
      { url: amp.url, auth: 'aws-sigv4', awsRegion: region },
      {
        auth: {
          awsCredentials: async () => {
            calls++;
            return credentials;
          },
          clock: () => signingDate,
        },
      },
    );
    await src.queryRange(Q);
    await src.queryRange(Q);
    assert.equal(calls, 2);
    assert.deepEqual(amp.verdicts, ['ok', 'ok']);
  });

  it('reports missing credentials as unreachable without secrets and without a request', async () => {
    const amp = await fakeAmp();
    const src = source(
      { url: amp.url, auth: 'aws-sigv4', awsRegion: region },
      {
        auth: {
          awsCredentials: () => Promise.reject(new Error('Could not load credentials from any providers')),
        },
      },
    );
    const e = await rejectsWith(
      src.queryRange(Q),
      'unreachable',
      /cannot sign the request with AWS credentials: Error: Could not load credentials/,
    );
    assert.doesNotMatch(e.message, /wJalrXUtnFEMI|AKIDEXAMPLE/);
    assert.equal(amp.received.length, 0);
  });

  it('needs a region', () => {
    assert.throws(
      () => createPrometheusAuthorizer({ url: 'https://x', auth: 'aws-sigv4', timeoutMs: 1000 }),
      /region/,
    );
  });
});

/** A TokenCredential that hands out numbered tokens valid for `lifetimeMs` on the given clock. */
class FakeCredential implements TokenCredential {
  calls: { scopes: string | string[]; options?: GetTokenOptions }[] = [];
  fail = false;
  delayMs = 0;
  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs = 3_600_000,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.calls.push({ scopes, ...(options === undefined ? {} : { options }) });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw new Error('ManagedIdentityCredential: no identity endpoint');
    return { token: `entra-${this.calls.length}`, expiresOnTimestamp: this.now() + this.lifetimeMs };
  }
}

describe('azure auth (Azure Monitor workspace)', () => {
  it('asks for the Azure Monitor scope, caches the token and refreshes it shortly before expiry', async () => {
    // GIVEN a credential issuing one-hour tokens and a controllable clock
    let now = Date.UTC(2025, 0, 1);
    const credential = new FakeCredential(() => now);
    const seen: string[] = [];
    const s = await serve((r, res) => {
      seen.push(String(r.headers.authorization));
      json(res, 200, ANSWER);
    });
    const src = source(
      { url: s.url, auth: 'azure' },
      { auth: { azureCredential: credential, clock: () => now, azureRefreshMarginMs: 5 * 60_000 } },
    );
    // WHEN queried twice, then at 54 min, then at 55 min + 1 ms (inside the 5-minute margin)
    await src.queryRange(Q);
    now += 10 * 60_000;
    await src.queryRange(Q);
    now += 44 * 60_000;
    await src.queryRange(Q);
    now += 60_001;
    await src.queryRange(Q);
    // THEN one token served the first three requests and a new one the fourth
    assert.deepEqual(seen, ['Bearer entra-1', 'Bearer entra-1', 'Bearer entra-1', 'Bearer entra-2']);
    assert.equal(credential.calls.length, 2);
    assert.deepEqual(credential.calls[0]!.scopes, AZURE_PROMETHEUS_SCOPE);
    assert.equal(AZURE_PROMETHEUS_SCOPE, 'https://prometheus.monitor.azure.com/.default');
  });

  it('shares one token request between concurrent queries', async () => {
    const now = Date.now();
    const credential = new FakeCredential(() => now);
    credential.delayMs = 50;
    const auth = new AzureTokenAuthorizer(credential, () => now);
    const request = { method: 'POST', url: new URL('http://x'), headers: {}, body: '' };
    const headers = await Promise.all([1, 2, 3].map(() => auth.headersFor(request)));
    assert.deepEqual(
      headers.map((h) => h.authorization),
      ['Bearer entra-1', 'Bearer entra-1', 'Bearer entra-1'],
    );
    assert.equal(credential.calls.length, 1);
  });

  it('keeps using an unexpired token when a refresh fails, and fails clearly once it has expired', async () => {
    let now = 0;
    const credential = new FakeCredential(() => now, 60 * 60_000);
    const auth = new AzureTokenAuthorizer(credential, () => now, 5 * 60_000);
    const request = { method: 'POST', url: new URL('http://x'), headers: {}, body: '' };
    assert.equal((await auth.headersFor(request)).authorization, 'Bearer entra-1');
    // inside the refresh margin, Entra is down: the still-valid token is used
    credential.fail = true;
    now = 58 * 60_000;
    assert.equal((await auth.headersFor(request)).authorization, 'Bearer entra-1');
    // after expiry there is nothing left to use
    now = 61 * 60_000;
    await assert.rejects(auth.headersFor(request), /cannot get an Entra token .*no identity endpoint/);
    // and the source reports it as unreachable
    const s = await serve((_r, res) => json(res, 200, ANSWER));
    const src = source({ url: s.url, auth: 'azure' }, { authorizer: auth });
    await rejectsWith(
      src.queryRange(Q),
      'unreachable',
      /cannot authorise the Prometheus request: cannot get an Entra token/,
    );
    assert.equal(s.received.length, 0);
  });

  it('refuses a credential that returns no token', async () => {
    const auth = new AzureTokenAuthorizer({ getToken: async () => null });
    await assert.rejects(
      auth.headersFor({ method: 'POST', url: new URL('http://x'), headers: {}, body: '' }),
      /returned no token/,
    );
  });
});
