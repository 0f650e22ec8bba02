/**
 * The image's second entry point, `resolver/main.js`, in a child process: bad configuration exits 2
 * naming the variable; a running resolver becomes ready after its first EndpointSlice list, and on
 * SIGTERM turns unready, lets a held request finish once the target comes up, and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeCluster, freePort, send, until } from './support/cluster.js';

const MAIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'runtime',
  'resolver',
  'main.js',
);

describe('resolver entry point', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await FakeCluster.start({ autoStart: false, inProcessResolver: false });
  });
  after(async () => {
    await Promise.all(cluster.backends.map((b) => b.stop('SIGKILL')));
    await Promise.all(cluster.runtimes.map((r) => r.close()));
    await cluster.api.close();
  });

  it('exits 2 with the variable named when the configuration is bad or there is no Kubernetes API', () => {
    const bad = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, ELASTICAI_RESOLVER_ROUTES: '[{"namespace":"Shop"}]' },
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /^elasticai-resolver: ELASTICAI_RESOLVER_ROUTES\[0\]\.namespace: must be a namespace name/,
    );
    const noKube = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, ELASTICAI_RESOLVER_ROUTES: JSON.stringify([cluster.routeJson()]) },
      encoding: 'utf8',
    });
    assert.equal(noKube.status, 2);
    assert.match(
      noKube.stderr,
      /ELASTICAI_KUBE_API_URL: the resolver watches EndpointSlices and needs the Kubernetes API/,
    );
  });

  it('exits 2 with the variable named when a token file or the address to listen on is unusable', async () => {
    // GIVEN an empty token file and a taken port
    const blank = join(mkdtempSync(join(tmpdir(), 'elasticai-token-')), 'token');
    writeFileSync(blank, '\n');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = String((taken.address() as AddressInfo).port);
    const cases: [Record<string, string>, RegExp][] = [
      [
        { ELASTICAI_RESOLVER_WAKE_TOKEN_FILE: '/nonexistent' },
        /^elasticai-resolver: ELASTICAI_RESOLVER_WAKE_TOKEN_FILE: cannot read \/nonexistent \(ENOENT\)/,
      ],
      [
        { ELASTICAI_KUBE_TOKEN_FILE: blank },
        /^elasticai-resolver: ELASTICAI_KUBE_TOKEN_FILE: the file is empty/,
      ],
      [
        { ELASTICAI_LISTEN_HOST: '999.1.1.1' },
        /^elasticai-resolver: ELASTICAI_LISTEN_HOST: must be an IP address or a host name/,
      ],
      // TEST-NET-1: an address that is not this machine's
      [
        { ELASTICAI_LISTEN_HOST: '192.0.2.1' },
        /^elasticai-resolver: ELASTICAI_LISTEN_HOST: cannot listen there \(.*EADDRNOTAVAIL/,
      ],
      [
        { ELASTICAI_RESOLVER_ADMIN_PORT: takenPort },
        /^elasticai-resolver: ELASTICAI_RESOLVER_ADMIN_PORT: cannot listen there \(.*EADDRINUSE/,
      ],
    ];
    try {
      for (const [env, message] of cases) {
        // WHEN the resolver starts with it
        const child = spawnSync(process.execPath, [MAIN], {
          env: {
            PATH: process.env.PATH,
            ELASTICAI_RESOLVER_ROUTES: JSON.stringify([cluster.routeJson()]),
            ELASTICAI_KUBE_API_URL: cluster.api.url,
            ELASTICAI_LISTEN_HOST: '127.0.0.1',
            ELASTICAI_RESOLVER_PROXY_PORT: '0',
            ELASTICAI_RESOLVER_ADMIN_PORT: '0',
            ...env,
          },
          encoding: 'utf8',
          timeout: 15_000,
        });
        // THEN it exits 2 naming the variable
        assert.equal(child.status, 2, `${JSON.stringify(env)}: ${child.stderr}`);
        assert.match(child.stderr, message);
      }
    } finally {
      taken.close();
    }
  });

  it('serves once synced, and on SIGTERM drains: unready, the held request still delivered, exit 0', async () => {
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, ...cluster.resolverEnv(proxyPort, adminPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const admin = `http://127.0.0.1:${adminPort}`;
    const status = async (path: string): Promise<number> => {
      try {
        return (await fetch(`${admin}${path}`)).status;
      } catch {
        return 0;
      }
    };
    const ready = { value: 0 };
    await until(
      () => (void status('/readyz').then((s) => (ready.value = s)), ready.value === 200),
      10_000,
      'ready',
    );
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /^elasticai_resolver_held_requests\{target="shop\/web"\} 0$/m);
    assert.match(metrics, /^elasticai_resolver_rejected_total\{target="shop\/web",reason="queue-full"\} 0$/m);
    // a request is held, then the resolver is told to stop
    const pending = send(proxyPort, {
      method: 'POST',
      body: 'last words',
      headers: { 'x-request-id': 'drain-1' },
    });
    await until(() => cluster.wakes.length > 0, 5_000, 'the wake-up');
    child.kill('SIGTERM');
    await until(
      () => (void status('/readyz').then((s) => (ready.value = s)), ready.value === 503),
      5_000,
      'unready',
    );
    // the target comes up during the grace period: the held request is delivered
    await cluster.startBackend({ START_DELAY_MS: '0' });
    const reply = await pending;
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).id, 'drain-1');
    assert.equal(await exited, 0);
    assert.match(stderr, /SIGTERM: draining/);
  });
});
