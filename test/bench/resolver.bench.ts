/**
 * The scale-to-zero resolver on loopback, each part in its own process: the resolver (`resolver/main.js`,
 * as in the image), real backend processes, nginx (Debian) as the reference reverse proxy, and the load
 * generator with the in-process Kubernetes API here.
 *
 * 1. Warm path at a fixed request rate (open loop, latency from the scheduled send time): direct to the
 *    backend, through nginx, and through the resolver in proxy mode (`switchService: false`). With the
 *    default Service switch the warm path is the direct one: clients reach the pods, not the resolver.
 * 2. Cold starts: 10 rounds of 1,000 concurrent requests (POST bodies up to 200 KiB) at zero, each
 *    woken through the runtime stand-in, a backend process started, its endpoint marked ready: release
 *    delay (endpoint ready → first and last held request at the backend) and exactly-once delivery,
 *    counted by the backends.
 * 3. Memory per held request: the resolver's RSS and V8 heap with 5,000 requests held.
 *
 * Goals (issue 7): 0 lost; release ≤ 100 ms after readiness; warm-path p99 overhead no worse than nginx's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reply } from '../runtime/resolver/support/cluster.js';
import { FakeCluster, freePort, HOST, sleep } from '../runtime/resolver/support/cluster.js';
import { fire, plan, verify } from '../runtime/resolver/support/load.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The resolver in its own process (as `resolver/main.js` runs it), answering memory probes on stdin. */
const RESOLVER_PROCESS = join(here, '..', 'runtime', 'resolver', 'support', 'resolver-process.js');
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
const RATE = Number(process.env.RESOLVER_BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.RESOLVER_BENCH_SECONDS ?? 5);
const ROUNDS = 2;
const COLD_CYCLES = 10;
const PER_CYCLE = 1_000;
const HELD_FOR_MEMORY = 5_000;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Asks the resolver process a stdin question; resolves with its JSON answer line. */
function ask<T>(child: ChildProcess, question: string): Promise<T> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => {
      lines.close();
      resolve(JSON.parse(line) as T);
    });
    child.stdin?.write(`${question}\n`);
  });
}

/**
 * Open-loop load at `rate` per second for `seconds` (sends are scheduled, not paced by answers); the
 * latency of each request runs from its send to the end of its answer.
 */
async function load(
  port: number,
  rate: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const shoot = (): void => {
      const sentAt = performance.now();
      const req = http.request(
        { host: '127.0.0.1', port, path: '/bench', headers: { host: HOST }, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - sentAt);
            else errors++;
            if (++done === total) resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (++done === total) resolve();
      });
      req.end();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; sent < due; sent++) shoot();
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), errors };
}

function startNginx(upstreamPort: number, listenPort: number): { child: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'resolver-bench-nginx-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return { child, dir };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
      });
      return;
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`port ${port} never answered`);
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;

async function main(): Promise<void> {
  const cluster = await FakeCluster.start({
    inProcessResolver: false,
    scheduleMs: 0,
    appStartMs: 300,
    route: { switchService: false, maxHeld: 20_000, releaseConcurrency: 16, holdTimeoutSeconds: 120 },
  });
  const [proxyPort, adminPort, nginxPort] = [await freePort(), await freePort(), await freePort()];
  const resolver = spawn(process.execPath, ['--expose-gc', RESOLVER_PROCESS], {
    env: {
      PATH: process.env.PATH,
      ...cluster.resolverEnv(proxyPort, adminPort),
      ELASTICAI_RESOLVER_MAX_HELD: '20000',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    createInterface({ input: resolver.stdout as NodeJS.ReadableStream }).once('line', () => resolve()),
  );
  cluster.putResolverEndpoints([proxyPort]);
  let nginx: { child: ChildProcess; dir: string } | undefined;
  let failed = false;
  try {
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(50);
    }

    // ---- 1. warm path ----
    const backend = await cluster.startBackend({ START_DELAY_MS: '0' });
    nginx = startNginx(backend.port, nginxPort);
    await waitForPort(nginxPort);
    await waitForPort(proxyPort);
    const paths = { direct: backend.port, nginx: nginxPort, resolver: proxyPort } as const;
    const samples: Record<keyof typeof paths, number[]> = { direct: [], nginx: [], resolver: [] };
    let errors = 0;
    for (const [, port] of Object.entries(paths)) await load(port, RATE, 3); // warm-up (JIT, connections)
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, port] of Object.entries(paths) as [keyof typeof paths, number][]) {
        const r = await load(port, RATE, SECONDS);
        samples[name].push(...r.latencies);
        errors += r.errors;
      }
    }
    const stats = Object.fromEntries(
      Object.entries(samples).map(([name, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return [name, { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length }];
      }),
    ) as Record<keyof typeof paths, { p50: number; p99: number; n: number }>;
    const over = (name: 'nginx' | 'resolver') => ({
      p50: stats[name].p50 - stats.direct.p50,
      p99: stats[name].p99 - stats.direct.p99,
    });
    console.log(`\nwarm path: ${RATE} req/s, ${ROUNDS} × ${SECONDS} s per path, keep-alive, 1 backend`);
    console.log('| path | p50 | p99 | added p50 | added p99 | requests |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const name of ['direct', 'nginx', 'resolver'] as const) {
      const added = name === 'direct' ? { p50: 0, p99: 0 } : over(name);
      console.log(
        `| ${name === 'resolver' ? 'resolver (in path)' : name} | ${ms(stats[name].p50)} | ${ms(stats[name].p99)} | ${ms(added.p50)} | ${ms(added.p99)} | ${stats[name].n} |`,
      );
    }
    console.log(
      '| resolver (default: Service switched to the pods when warm) | = direct | = direct | 0 | 0 | |',
    );
    if (errors > 0) console.log(`warm path errors: ${errors}`);
    nginx.child.kill('SIGTERM');

    // ---- 2. cold starts: release delay and zero loss ----
    await cluster.scaleToZero();
    const firstDelays: number[] = [];
    const allDelays: number[] = [];
    const all: { planned: ReturnType<typeof plan>; replies: (Reply | Error)[] }[] = [];
    for (let cycle = 0; cycle < COLD_CYCLES; cycle++) {
      const planned = plan(PER_CYCLE, `bench${cycle}`);
      const readyBefore = cluster.readyAt.length;
      const replies = await fire(proxyPort, planned);
      all.push({ planned, replies });
      const readyAt = cluster.readyAt[readyBefore] as number;
      const here = cluster.backends.at(-1)?.requests ?? [];
      const mine = here.filter((r) => r.id?.startsWith(`bench${cycle}-`)).map((r) => r.at as number);
      firstDelays.push(Math.min(...mine) - readyAt);
      allDelays.push(Math.max(...mine) - readyAt);
      await cluster.scaleToZero();
    }
    const verdict = verify(
      all.flatMap((c) => c.planned),
      all.flatMap((c) => c.replies),
      cluster.deliveries,
    );
    const sortedFirst = [...firstDelays].sort((a, b) => a - b);
    const sortedAll = [...allDelays].sort((a, b) => a - b);
    const total = COLD_CYCLES * PER_CYCLE;
    console.log(
      `\ncold starts: ${COLD_CYCLES} × ${PER_CYCLE} concurrent requests (60% POST, bodies up to 200 KiB)`,
    );
    console.log(
      `release delay, endpoint ready → first held request at the backend: p50 ${ms(percentile(sortedFirst, 0.5))}, max ${ms(sortedFirst.at(-1) as number)}`,
    );
    console.log(
      `release delay, endpoint ready → all ${PER_CYCLE} delivered: p50 ${ms(percentile(sortedAll, 0.5))}, max ${ms(sortedAll.at(-1) as number)}`,
    );
    console.log(
      `delivered exactly once: ${total - verdict.lost.length - verdict.duplicated.length} / ${total}; answered 200 with the right body: ${verdict.ok}; lost ${verdict.lost.length}; duplicated ${verdict.duplicated.length}`,
    );
    if (verdict.wrong.length > 0) console.log(`wrong answers: ${verdict.wrong.join('; ')}`);
    failed = verdict.lost.length > 0 || verdict.duplicated.length > 0 || verdict.ok !== total;

    // ---- 3. memory per held request ----
    cluster.replicas = 1; // KEDA "already scaling": wake-ups start nothing, requests stay held
    type Memory = { memory: NodeJS.MemoryUsage; gc: boolean };
    const before = await ask<Memory>(resolver, 'memory');
    const rssBefore = rssMiB(resolver.pid as number);
    const planned = plan(HELD_FOR_MEMORY, 'mem').map((p, i) =>
      i % 2 === 0 ? { ...p, method: 'GET', body: Buffer.alloc(0) } : p,
    );
    const pending = fire(proxyPort, planned);
    let held = 0;
    for (let i = 0; i < 600 && held < HELD_FOR_MEMORY; i++) {
      held = (await ask<{ held: number }>(resolver, 'held')).held;
      if (held < HELD_FOR_MEMORY) await sleep(100);
    }
    const during = await ask<Memory>(resolver, 'memory');
    const rssHeld = rssMiB(resolver.pid as number);
    cluster.replicas = 0;
    await cluster.startBackend({ START_DELAY_MS: '0' });
    const memReplies = await pending;
    const memOk = memReplies.filter((r) => !(r instanceof Error) && r.status === 200).length;
    const kib = (bytes: number): string => `${(bytes / held / 1024).toFixed(2)} KiB`;
    const heap = during.memory.heapUsed - before.memory.heapUsed;
    const external = during.memory.external - before.memory.external;
    console.log(`\nmemory with ${held} requests held (half GET, half POST of 0–8 KiB, every 50th 200 KiB):`);
    console.log(
      `per held request, after a full GC: V8 heap ${kib(heap)}, external (buffers) ${kib(external)}, together ${kib(heap + external)}; process RSS ${rssBefore.toFixed(1)} → ${rssHeld.toFixed(1)} MiB (${kib((rssHeld - rssBefore) * 2 ** 20)}, kernel socket buffers not included)`,
    );
    console.log(`released after the memory test: ${memOk} / ${HELD_FOR_MEMORY} answered 200`);

    const resolverP99 = over('resolver').p99;
    const nginxP99 = over('nginx').p99;
    console.log('\ngoals');
    console.log(
      `- 0 lost over ${total} requests across ${COLD_CYCLES} cold starts: ${verdict.lost.length === 0 && verdict.duplicated.length === 0 ? 'met' : 'NOT MET'}`,
    );
    console.log(
      `- release ≤ 100 ms after readiness (first held request, worst of ${COLD_CYCLES}): ${(sortedFirst.at(-1) as number) <= 100 ? 'met' : 'NOT MET'}`,
    );
    console.log(
      `- warm-path p99 overhead no worse than nginx's: with the Service switch (default) 0 ms vs nginx ${ms(nginxP99)}: met; in proxy mode ${ms(resolverP99)} vs ${ms(nginxP99)}: ${resolverP99 <= nginxP99 ? 'met' : 'not met'}`,
    );
  } finally {
    nginx?.child.kill('SIGKILL');
    if (nginx) rmSync(nginx.dir, { recursive: true, force: true });
    resolver.kill('SIGTERM');
    await new Promise((r) => resolver.once('exit', r));
    await Promise.all(cluster.backends.map((b) => b.stop('SIGKILL')));
    await Promise.all(cluster.runtimes.map((r) => r.close()));
    await cluster.api.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
