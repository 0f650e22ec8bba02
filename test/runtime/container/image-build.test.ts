import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../support/paths.js';
import { execForm, last, parseDockerfile } from './dockerfile.js';
import { contextFiles, DockerIgnore } from './dockerignore.js';
import type { SimulatedBuild } from './image-build.js';
import { simulateBuild } from './image-build.js';
import { importsOf, packageOf } from './imports.js';
import { freePort } from '../../support/free-port.js';

const RUNTIME_DIR = join(REPO_ROOT, 'runtime');
const PROTO = 'service/grpc/externalscaler.proto';
/** The runtime looks for the proto by walking up from its compiled files, under either of these. */
const PROTO_CANDIDATES = [PROTO, `runtime/${PROTO}`];
/** Preloaded into the child that loads the image's modules: any socket or DNS lookup fails it. */
const NO_NETWORK = new URL('../../support/no-network.js', import.meta.url);

const dockerfile = parseDockerfile(readFileSync(join(RUNTIME_DIR, 'Dockerfile'), 'utf8'));
const ignore = DockerIgnore.parse(readFileSync(join(RUNTIME_DIR, '.dockerignore'), 'utf8'));

/** Every file under `dir` (absolute), not following symlinks. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects if the process exits or 60 s pass. */
async function waitForPort(port: number, exited: Promise<unknown>, output: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (gone) throw new Error(`the service exited before listening on ${port}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const done = (ok: boolean): void => {
        socket.destroy(); // an open probe connection would hold up the service's drain
        resolve(ok);
      };
      socket.once('connect', () => done(true)).once('error', () => done(false));
      socket.setTimeout(1_000, () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on ${port} after 60 s:\n${output()}`);
}

/** Every file under `dir` except tmp/, with its size and modification time. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of filesUnder(dir)) {
    const rel = relative(dir, f).split(sep).join('/');
    if (rel === 'tmp' || rel.startsWith('tmp/')) continue;
    const st = lstatSync(f);
    files.set(rel, `${st.size}:${st.mtimeMs}`);
  }
  return files;
}

const diff = (a: Map<string, string>, b: Map<string, string>): string[] =>
  [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();

/** Lockfile-style paths (`node_modules/a`, `node_modules/a/node_modules/@s/b`) of installed packages. */
function installedPackages(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const names = e.name.startsWith('@')
      ? readdirSync(join(dir, e.name)).map((n) => `${e.name}/${n}`)
      : [e.name];
    for (const name of names) {
      found.push(`${prefix}/${name}`);
      found.push(...installedPackages(join(dir, name, 'node_modules'), `${prefix}/${name}/node_modules`));
    }
  }
  return found.sort();
}

/** The command the final image runs: ENTRYPOINT + CMD, both exec form (the static test checks that). */
function imageCommand(): string[] {
  const final = dockerfile.stages.at(-1)!;
  const ep = last(final, 'ENTRYPOINT');
  const cmd = last(final, 'CMD');
  return [...(ep ? (execForm(ep.args) ?? []) : []), ...(cmd ? (execForm(cmd.args) ?? []) : [])];
}

describe('docker build runtime/ (simulated without Docker)', () => {
  let scratch = '';
  let image: SimulatedBuild;
  /** Host folder of the final image's `/`. */
  let root = '';
  const entry = (): string => image.hostPath(imageCommand().find((w, i) => i > 0 && w.endsWith('.js'))!);
  /** The node_modules the final image got, unless it is only a stand-in for the real install. */
  const productionModules = (): { dir: string } | { skip: string } => {
    const dir = image.hostPath('node_modules');
    if (!lstatSync(dir).isSymbolicLink()) return { dir };
    const why = image.stages.map((s) => s.approximate).find((a) => a !== undefined);
    return { skip: `the production install could not be reproduced offline: ${why}` };
  };
  const env = (): NodeJS.ProcessEnv => {
    const home = join(root, 'tmp');
    mkdirSync(home, { recursive: true });
    return { PATH: process.env.PATH, ...image.final.env, HOME: home };
  };

  before(
    () => {
      scratch = mkdtempSync(join(tmpdir(), 'elasticai-image-'));
      image = simulateBuild({
        dockerfile,
        contextDir: RUNTIME_DIR,
        ignore,
        scratchDir: scratch,
        fallbackNodeModules: join(REPO_ROOT, 'node_modules'),
      });
      root = image.final.root;
    },
    { timeout: 300_000 },
  );
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('compiles every runtime source from the runtime/ context alone', () => {
    // GIVEN the build stage (the stage whose output the final image copies)
    const build = image.stages.find((s) => existsSync(join(s.root, s.workdir, 'tsconfig.json')));
    assert.ok(build, 'no stage received tsconfig.json');
    // THEN tsc succeeded there (the simulation throws otherwise) and emitted one .js per .ts sent to it
    const sources = contextFiles(RUNTIME_DIR, ignore).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
    );
    const outDir = join(build.root, build.workdir, 'build');
    const missing = sources.filter((f) => !existsSync(join(outDir, f.replace(/\.ts$/, '.js'))));
    assert.deepEqual(missing, [], 'sources without compiled output');
    assert.ok(sources.length > 20, `only ${sources.length} sources reached the build`);
  });

  it('puts the file the ENTRYPOINT runs into the image, compiled from service/main.ts', () => {
    const command = imageCommand();
    assert.ok(existsSync(entry()), `${command.join(' ')}: ${entry()} is not in the image`);
    assert.match(readFileSync(entry(), 'utf8'), /\S/);
    assert.equal(relative(image.hostPath('build'), entry()).split(sep).join('/'), 'service/main.js');
  });

  it('puts the proto where the runtime finds it, walking up from its compiled files', () => {
    // GIVEN the compiled files that name the proto
    const build = image.hostPath('build');
    const loaders = filesUnder(build).filter(
      (f) => f.endsWith('.js') && readFileSync(f, 'utf8').includes('externalscaler.proto'),
    );
    assert.ok(loaders.length > 0, 'no compiled file of the image loads externalscaler.proto');
    const expected = readFileSync(join(RUNTIME_DIR, PROTO), 'utf8');
    for (const from of loaders) {
      // WHEN walking up from its folder as the runtime does, stopping at the image's /
      let found: string | undefined;
      for (let dir = dirname(from); found === undefined; dir = dirname(dir)) {
        found = PROTO_CANDIDATES.map((c) => join(dir, c)).find((p) => existsSync(p));
        if (dir === root) break;
      }
      // THEN the runtime's proto is found, inside the image
      assert.ok(found, `no ${PROTO} above ${relative(root, from)} in the image`);
      assert.equal(readFileSync(found, 'utf8'), expected);
    }
    // AND the runtime's own lookup (a loader's exported protoPath()) finds that file when run there
    const script =
      'const found = [];' +
      'for (const f of JSON.parse(process.argv[1])) {' +
      '  const m = await import(f);' +
      "  if (typeof m.protoPath === 'function') found.push(m.protoPath());" +
      '}' +
      'console.log(JSON.stringify(found)); process.exit(0);';
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(loaders.map((f) => pathToFileURL(f).href))],
      { cwd: image.hostPath('.'), env: env(), encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const answers = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]') as string[];
    assert.ok(answers.length > 0, 'no compiled loader exports protoPath(), the lookup this checks');
    for (const path of answers) {
      assert.ok(path.startsWith(root + sep), `protoPath() answered ${path}, outside the image`);
      assert.equal(readFileSync(path, 'utf8'), expected);
    }
  });

  it('ships no TypeScript source, compiler configuration, compiler or dev dependency', (t) => {
    // THEN outside node_modules the image holds only JavaScript, the manifest and the proto
    const app = image.hostPath('.');
    const shipped = filesUnder(app)
      .map((f) => relative(app, f).split(sep).join('/'))
      .filter((f) => f.split('/')[0] !== 'node_modules');
    assert.deepEqual(
      shipped.filter((f) => !/\.js$|^package\.json$|\.proto$/.test(f)),
      [],
    );
    // AND node_modules holds exactly the production packages of the lockfile, so no typescript or tsc
    const modules = productionModules();
    if ('skip' in modules) return void t.skip(modules.skip);
    const lock = JSON.parse(readFileSync(join(RUNTIME_DIR, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const production = Object.entries(lock.packages).filter(([path, e]) => path !== '' && !e.dev);
    const installed = installedPackages(modules.dir, 'node_modules');
    assert.deepEqual(
      installed.filter((p) => !lock.packages[p] || lock.packages[p].dev),
      [],
      'installed but not a production package of the lockfile',
    );
    assert.deepEqual(
      production.filter(([p, e]) => !e.optional && !installed.includes(p)).map(([p]) => p),
      [],
      'production packages of the lockfile missing from the image',
    );
    assert.equal(existsSync(join(modules.dir, 'typescript')), false, 'typescript is in the image');
    assert.equal(existsSync(join(modules.dir, '.bin', 'tsc')), false, 'tsc is in the image');
  });

  it('loads every compiled module and dependency from the production node_modules, offline', (t) => {
    const modules = productionModules();
    if ('skip' in modules) return void t.skip(modules.skip);
    // GIVEN every compiled module except the entry points (importing those would start them) and
    // every package any compiled module imports (so the entry points' own imports are loaded too)
    const compiled = filesUnder(image.hostPath('build')).filter((f) => f.endsWith('.js'));
    const modulesToLoad = compiled
      .filter((f) => !f.endsWith(`${sep}main.js`))
      .map((f) => pathToFileURL(f).href);
    const packages = [
      ...new Set(
        compiled.flatMap((f) =>
          importsOf(f, readFileSync(f, 'utf8'))
            .filter((i) => packageOf(i.specifier) !== undefined)
            .map((i) => i.specifier),
        ),
      ),
    ].sort();
    // WHEN importing them in the image's layout, with no network and NODE_ENV=production
    const script =
      'const [files, packages] = JSON.parse(process.argv[1]);' +
      'for (const f of [...files, ...packages]) await import(f);' +
      'console.log(`loaded ${files.length} modules, ${packages.length} packages`); process.exit(0);';
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        NO_NETWORK.href,
        '--input-type=module',
        '-e',
        script,
        JSON.stringify([modulesToLoad, packages]),
      ],
      { cwd: image.hostPath('.'), env: env(), encoding: 'utf8', timeout: 60_000 },
    );
    // THEN everything resolves inside the image (nothing from the repository's node_modules)
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`loaded ${modulesToLoad.length} modules, ${packages.length} packages`));
  });

  /** Starts the image's command in its layout on two free loopback ports (no Kubernetes, no Prometheus). */
  async function startImageService(): Promise<{
    child: ReturnType<typeof spawn>;
    ports: { grpc: number; http: number };
    exited: Promise<[number | null, NodeJS.Signals | null]>;
    output: () => string;
  }> {
    // No network guard here: listening resolves the host with dns.lookup, which the guard refuses.
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const [node, ...args] = imageCommand();
    assert.equal(node, 'node');
    const child = spawn(
      process.execPath,
      // Flags (the image's `--single-threaded-gc`) as they are; paths into the image's layout.
      args.map((a) => (a.startsWith('-') ? a : image.hostPath(a))),
      {
        cwd: image.hostPath('.'),
        env: {
          ...env(),
          ELASTICAI_LISTEN_HOST: '127.0.0.1',
          ELASTICAI_GRPC_PORT: String(grpcPort),
          ELASTICAI_HTTP_PORT: String(httpPort),
          ELASTICAI_TOKEN_REVIEW: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    return { child, ports: { grpc: grpcPort, http: httpPort }, exited, output: () => output };
  }

  /** Sends SIGTERM and expects the service to handle it and exit 0 within 30 s. */
  async function expectCleanExitOnSigterm(
    service: Awaited<ReturnType<typeof startImageService>>,
  ): Promise<void> {
    service.child.kill('SIGTERM');
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`still running 30 s after SIGTERM:\n${service.output()}`)),
        30_000,
      ).unref(),
    );
    const [code, signal] = await Promise.race([service.exited, timeout]);
    // The service handled the signal itself (not killed by it) and exited cleanly.
    assert.equal(signal, null, `killed by ${signal}: no SIGTERM handler ran\n${service.output()}`);
    assert.equal(code, 0, service.output());
  }

  it('starts the service from the image, serves both ports, and exits 0 on SIGTERM without writing', async () => {
    // GIVEN the image's command, run in its layout with the production environment, two free
    // loopback ports and no Kubernetes or Prometheus (the defaults outside a cluster)
    const before = snapshot(root);
    const service = await startImageService();
    try {
      // WHEN both ports accept connections
      await waitForPort(service.ports.grpc, service.exited, service.output);
      await waitForPort(service.ports.http, service.exited, service.output);
      // AND Kubernetes stops the pod
      // THEN the service handles the signal and exits cleanly
      await expectCleanExitOnSigterm(service);
    } finally {
      service.child.kill('SIGKILL');
    }
    // AND it wrote nothing into the image (a read-only root filesystem would have refused it)
    assert.deepEqual(diff(before, snapshot(root)), [], 'files the service created or changed');
  });

  it('exits 0 on a SIGTERM that arrives while it is still starting (the signal waits for the servers)', async () => {
    // GIVEN the service, stopped as soon as its first port (gRPC, started before the HTTP API) accepts
    const service = await startImageService();
    try {
      await waitForPort(service.ports.grpc, service.exited, service.output);
      // WHEN Kubernetes stops the pod right away
      // THEN the signal is not fatal: the servers are drained once up, and the exit is clean
      await expectCleanExitOnSigterm(service);
      assert.match(service.output(), /SIGTERM: draining/);
    } finally {
      service.child.kill('SIGKILL');
    }
  });

  it('runs the elasticai CLI from the image layout', () => {
    // WHEN running the compiled CLI of the image with node, as `--entrypoint node` would
    const r = spawnSync(process.execPath, [image.hostPath('build/cli/main.js'), '--help'], {
      cwd: image.hostPath('.'),
      env: env(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    // THEN it answers with its help
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /elasticai <command>/);
    assert.match(r.stdout, /simulate/);
  });
});
