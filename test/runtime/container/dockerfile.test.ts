import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/paths.js';
import type { Instruction, Stage } from './dockerfile.js';
import { execForm, last, parseCopy, parseDockerfile, parseEnv, splitWords } from './dockerfile.js';
import { contextFiles, DockerIgnore } from './dockerignore.js';
import { typeScriptFiles } from './imports.js';

const RUNTIME_DIR = join(REPO_ROOT, 'runtime');
const dockerfile = parseDockerfile(readFileSync(join(RUNTIME_DIR, 'Dockerfile'), 'utf8'));
const ignore = DockerIgnore.parse(readFileSync(join(RUNTIME_DIR, '.dockerignore'), 'utf8'));
const runtimePackage = JSON.parse(readFileSync(join(RUNTIME_DIR, 'package.json'), 'utf8')) as {
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
};

const { stages } = dockerfile;
const finalStage = stages.at(-1)!;
/** A stage built on an image from a registry, not on an earlier stage. */
const fromRegistry = (s: Stage): boolean => !stages.some((o) => o.index < s.index && o.name === s.image);
const stageNamed = (ref: string): Stage | undefined =>
  stages.find((s) => s.name === ref || String(s.index) === ref);
const all: Instruction[] = [...dockerfile.preamble, ...stages.flatMap((s) => [s.from, ...s.instructions])];
const runs = (s: Stage): Instruction[] => s.instructions.filter((i) => i.keyword === 'RUN');
const runWords = (i: Instruction): string[] => execForm(i.args) ?? splitWords(i.args);
const isNpmCi = (i: Instruction): boolean => runWords(i)[0] === 'npm' && runWords(i)[1] === 'ci';

/** node:<major>.<minor>.<patch>-<alpine3.N | bookworm-slim | trixie-slim>, optionally @digest. */
const PINNED_NODE_LTS =
  /^node:(20|22)\.\d+\.\d+-(alpine3\.\d+|(bookworm|trixie)-slim)(@sha256:[0-9a-f]{64})?$/;

describe('runtime/Dockerfile', () => {
  it('is a multi-stage build on one pinned Node LTS alpine/slim image', () => {
    // GIVEN the stages of the Dockerfile
    // THEN there are at least two, the last one starts from a registry image, not from a stage
    assert.ok(stages.length >= 2, `expected a multi-stage build, got ${stages.length} FROM`);
    assert.ok(fromRegistry(finalStage), `the final stage builds on stage "${finalStage.image}"`);
    // AND every registry base is an exact Node 20/22 release on a fixed Alpine or Debian release
    const bases = stages.filter(fromRegistry).map((s) => s.image);
    for (const image of bases) {
      assert.match(image, PINNED_NODE_LTS, `FROM ${image}: pin node:<x.y.z>-alpine3.N or -<release>-slim`);
      assert.doesNotMatch(image, /:latest\b/);
    }
    // AND the code is compiled, installed and run by the same Node
    assert.deepEqual(new Set(bases).size, 1, `stages use different bases: ${bases.join(', ')}`);
  });

  it('runs the final stage as a numeric, non-root user', () => {
    // GIVEN the final stage's last USER
    const user = last(finalStage, 'USER');
    // THEN it is uid[:gid] in digits (Kubernetes runAsNonRoot can only verify a numeric user), not 0
    assert.ok(user, 'the final stage sets no USER, so it runs as root');
    const m = /^(\d+)(?::(\d+))?$/.exec(user.args.trim());
    assert.ok(m, `USER ${user.args}: use a numeric uid[:gid]`);
    assert.notEqual(Number(m[1]), 0, 'USER 0 is root');
    if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0, 'group 0 is root');
    // AND no instruction after it switches back
    assert.equal(finalStage.instructions.filter((i) => i.keyword === 'USER').at(-1), user);
  });

  it('fetches nothing but the base image and the npm ci packages', () => {
    // THEN there is no `# syntax=` directive (it pulls a frontend image) and no ADD (it can fetch URLs)
    assert.equal(dockerfile.directives.has('syntax'), false, '# syntax= makes the build pull an image');
    assert.deepEqual(
      all.filter((i) => i.keyword === 'ADD').map((i) => i.line),
      [],
      'ADD can download; use COPY',
    );
    // AND no instruction mentions a package manager or download tool
    for (const ins of all) {
      assert.doesNotMatch(
        `${ins.keyword} ${ins.args}`,
        /(^|[\s;&|"'[,/])(apt-get|apt|apk|yum|dnf|curl|wget|git|npx|yarn|pnpm)([\s;&|"',\]]|$)/,
        `line ${ins.line}: ${ins.keyword} ${ins.args}`,
      );
    }
    // AND every RUN is either `npm ci` or `npm run <script>` whose script only runs tsc
    for (const ins of stages.flatMap(runs)) {
      const words = runWords(ins);
      if (isNpmCi(ins)) continue;
      assert.equal(words[0], 'npm', `line ${ins.line}: RUN ${ins.args}`);
      assert.equal(words[1], 'run', `line ${ins.line}: RUN ${ins.args}`);
      const script = runtimePackage.scripts?.[words[2] ?? ''];
      assert.ok(script !== undefined, `line ${ins.line}: runtime/package.json has no script "${words[2]}"`);
      assert.match(script, /^tsc( -p tsconfig\.json)?$/, `script ${words[2]}: ${script}`);
    }
  });

  it('installs without running package scripts', () => {
    // GIVEN every npm ci
    const installs = stages.flatMap(runs).filter(isNpmCi);
    assert.ok(installs.length > 0, 'no npm ci at all');
    // THEN each one passes --ignore-scripts (the lockfile test checks no package needs one)
    for (const ins of installs) assert.ok(runWords(ins).includes('--ignore-scripts'), `line ${ins.line}`);
  });

  it('gives the final image production dependencies only and no TypeScript build inputs', () => {
    // GIVEN the final stage's COPY instructions
    const copies = finalStage.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => ({ i, c: parseCopy(i) }));
    // THEN node_modules comes from a stage whose npm ci omits dev dependencies, and only from there
    const moduleCopies = copies.filter(({ c }) => c.sources.some((s) => /(^|\/)node_modules\/?$/.test(s)));
    assert.equal(moduleCopies.length, 1, 'the final stage must copy node_modules exactly once');
    const { i: copyLine, c: copy } = moduleCopies[0]!;
    const source = copy.from !== undefined ? stageNamed(copy.from) : undefined;
    assert.ok(source, `line ${copyLine.line}: node_modules must come from a build stage`);
    const installs = runs(source).filter(isNpmCi);
    assert.equal(
      installs.length,
      1,
      `stage ${source.name ?? source.index} runs npm ci ${installs.length} times`,
    );
    assert.ok(
      runWords(installs[0]!).includes('--omit=dev'),
      `stage ${source.name ?? source.index}: npm ci --omit=dev`,
    );
    // AND the final stage installs nothing itself
    assert.deepEqual(runs(finalStage), [], 'the final stage has RUN steps');
    // AND what it takes from the build context is no TypeScript source or compiler configuration
    for (const { i, c } of copies.filter(({ c }) => c.from === undefined)) {
      for (const s of c.sources) {
        assert.doesNotMatch(s, /^\.\/?$|\.ts$|tsconfig|\/$/, `line ${i.line}: COPY ${s} brings build inputs`);
      }
    }
    // AND typescript really is a dev-only dependency of the runtime
    assert.ok(runtimePackage.devDependencies?.typescript, 'typescript is not a devDependency');
    assert.equal(runtimePackage.dependencies?.typescript, undefined, 'typescript is a production dependency');
  });

  it('starts node itself, in exec form, so SIGTERM reaches the service', () => {
    // GIVEN the final ENTRYPOINT and CMD
    const entrypoint = last(finalStage, 'ENTRYPOINT');
    const cmd = last(finalStage, 'CMD');
    // THEN both (when present) are JSON arrays: shell form would run `/bin/sh -c` as PID 1
    const ep = entrypoint ? execForm(entrypoint.args) : [];
    const args = cmd ? execForm(cmd.args) : [];
    assert.ok(ep, `ENTRYPOINT ${entrypoint?.args}: use exec form ["node", ...]`);
    assert.ok(args, `CMD ${cmd?.args}: use exec form`);
    // AND the process is node running a script of the image, with no npm/sh/tini in front
    const command = [...ep, ...args];
    assert.match(command[0] ?? '', /^(\/usr\/local\/bin\/)?node$/, `the container runs ${command.join(' ')}`);
    assert.match(command.find((w, n) => n > 0 && !w.startsWith('-')) ?? '', /\.js$/, 'no script after node');
  });

  it("runs node with --single-threaded-gc, on which the scaler thread's latency depends", () => {
    // GIVEN the final ENTRYPOINT + CMD
    const entrypoint = last(finalStage, 'ENTRYPOINT');
    const cmd = last(finalStage, 'CMD');
    const command = [
      ...(entrypoint ? (execForm(entrypoint.args) ?? []) : []),
      ...(cmd ? (execForm(cmd.args) ?? []) : []),
    ];
    // THEN the flag comes before the script (after it, it would be the service's argument, not node's):
    // without it V8 marks the engines' heap on helper threads that take the scaler thread's cores
    const script = command.findIndex((word, i) => i > 0 && !word.startsWith('-'));
    assert.ok(
      command.slice(1, script).includes('--single-threaded-gc'),
      `the container runs ${command.join(' ')}`,
    );
  });

  it('exposes gRPC 9090 and HTTP 8080 and runs with NODE_ENV=production', () => {
    const exposed = finalStage.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => splitWords(i.args))
      .map((p) => p.replace(/\/tcp$/, ''));
    assert.ok(exposed.includes('9090'), `EXPOSE ${exposed.join(' ')}: the KEDA external scaler (gRPC)`);
    assert.ok(exposed.includes('8080'), `EXPOSE ${exposed.join(' ')}: the REST API and metrics (HTTP)`);
    const env = new Map(
      finalStage.instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => [...parseEnv(i)]),
    );
    assert.equal(env.get('NODE_ENV'), 'production');
  });

  it('works on a read-only root filesystem: code owned by root, HOME under /tmp, no volumes', () => {
    // THEN nothing the final stage copies is handed to the service user (it could rewrite its own code)
    for (const i of finalStage.instructions.filter((x) => x.keyword === 'COPY')) {
      const c = parseCopy(i);
      assert.equal(c.chown, undefined, `line ${i.line}: COPY --chown makes the code writable by the service`);
      assert.equal(c.chmod, undefined, `line ${i.line}: COPY --chmod`);
    }
    // AND $HOME (where SDKs look for config) is the one writable place, /tmp
    const env = new Map(
      finalStage.instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => [...parseEnv(i)]),
    );
    assert.match(env.get('HOME') ?? '', /^\/tmp(\/|$)/, 'set HOME under /tmp');
    // AND no VOLUME asks for a writable mount the pod would not have
    assert.deepEqual(
      finalStage.instructions.filter((i) => i.keyword === 'VOLUME'),
      [],
    );
  });

  it('has, if any, a HEALTHCHECK that runs node in exec form', () => {
    const check = last(finalStage, 'HEALTHCHECK');
    if (!check) return; // optional: Kubernetes uses the pod's probes
    const m = /^(?:--\S+\s+)*CMD\s+(.*)$/i.exec(check.args);
    assert.ok(m, `HEALTHCHECK ${check.args}`);
    assert.match(execForm(m[1]!)?.[0] ?? '', /^(\/usr\/local\/bin\/)?node$/);
  });
});

describe('runtime/.dockerignore', () => {
  it('keeps installed, compiled, test and documentation files out of the build context', () => {
    for (const path of [
      'node_modules/fastify/package.json',
      'service/node_modules/x/index.js',
      'build/service/main.js',
      'build-container/runtime/cli/main.js',
      'README.md',
      'service/README.md',
      'engine/models.test.ts',
      'test/fixture.ts',
      '.env',
      'Dockerfile',
    ]) {
      assert.equal(ignore.ignores(path), true, `${path} is sent to the build`);
    }
  });

  it('lets every runtime source, manifest and .proto through', () => {
    // GIVEN the files of runtime/ that the image needs
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'service/grpc/externalscaler.proto',
      ...typeScriptFiles(RUNTIME_DIR).map((f) =>
        f
          .slice(RUNTIME_DIR.length + 1)
          .split('\\')
          .join('/'),
      ),
    ];
    // THEN none is ignored
    assert.deepEqual(
      needed.filter((f) => ignore.ignores(f)),
      [],
    );
    // AND the context as Docker would send it holds every source file that exists today
    const context = new Set(contextFiles(RUNTIME_DIR, ignore));
    for (const f of needed.filter((n) => n.endsWith('.ts'))) assert.ok(context.has(f), f);
    assert.equal(
      [...context].some((f) => f.endsWith('.md')),
      false,
    );
  });
});

describe('Dockerfile and .dockerignore readers', () => {
  it('joins continuations, drops comments inside them, and splits stages', () => {
    // GIVEN a Dockerfile with a directive, continued lines and a comment inside a continuation
    const d = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:22.1.0-alpine3.20 AS build',
        'RUN npm ci \\',
        '# a comment Docker removes',
        '    --omit=dev',
        'from build',
        'CMD ["node", "main.js"]',
      ].join('\n'),
    );
    // THEN the directive, both stages and the joined instruction are read
    assert.equal(d.directives.get('syntax'), 'docker/dockerfile:1');
    assert.deepEqual(
      d.stages.map((s) => [s.image, s.name]),
      [
        ['node:22.1.0-alpine3.20', 'build'],
        ['build', undefined],
      ],
    );
    assert.equal(d.stages[0]!.instructions[0]!.args, 'npm ci --omit=dev');
    assert.deepEqual(execForm(d.stages[1]!.instructions[0]!.args), ['node', 'main.js']);
    assert.equal(execForm('node main.js'), undefined);
  });

  it('reads COPY flags and ENV pairs', () => {
    const copy = parseCopy({
      keyword: 'COPY',
      args: '--from=deps --chown=1:1 /app/node_modules ./node_modules',
      line: 1,
    });
    assert.deepEqual(copy, {
      from: 'deps',
      chown: '1:1',
      sources: ['/app/node_modules'],
      destination: './node_modules',
    });
    assert.deepEqual(
      [...parseEnv({ keyword: 'ENV', args: 'A=1 B="two words"', line: 1 })],
      [
        ['A', '1'],
        ['B', 'two words'],
      ],
    );
    assert.deepEqual(
      [...parseEnv({ keyword: 'ENV', args: 'NODE_ENV production', line: 1 })],
      [['NODE_ENV', 'production']],
    );
  });

  it('matches .dockerignore patterns as Docker documents them', () => {
    // GIVEN the examples of Docker's .dockerignore reference
    const d = DockerIgnore.parse(
      [
        '# comment',
        '*/temp*',
        '*/*/temp*',
        'temp?',
        '**/*.go',
        '*.md',
        '!README*.md',
        'README-secret.md',
      ].join('\n'),
    );
    // THEN each matches what the reference says and nothing more
    assert.equal(d.ignores('somedir/temporary.txt'), true);
    assert.equal(d.ignores('somedir/temp'), true);
    assert.equal(d.ignores('temporary.txt'), false, '*/temp* needs one folder level');
    assert.equal(d.ignores('somedir/subdir/temporary.txt'), true);
    assert.equal(d.ignores('tempa'), true);
    assert.equal(d.ignores('tempab'), false);
    assert.equal(d.ignores('main.go'), true, '** also matches zero folders');
    assert.equal(d.ignores('a/b/c.go'), true);
    assert.equal(d.ignores('CHANGES.md'), true);
    assert.equal(d.ignores('README.md'), false, 'the exception re-includes it');
    assert.equal(d.ignores('README-secret.md'), true, 'the last matching pattern wins');
    // AND a bare name matches at the root only, while a matched folder excludes its contents
    const root = DockerIgnore.parse('node_modules\n/build/\n');
    assert.equal(root.ignores('node_modules/x/index.js'), true);
    assert.equal(root.ignores('service/node_modules/x/index.js'), false);
    assert.equal(root.ignores('build/a/b.js'), true);
  });
});
