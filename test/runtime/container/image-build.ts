/**
 * Runs a Dockerfile's steps without Docker, to check what `docker build` would produce. Each stage gets
 * a host folder standing for its `/`; base-image contents are not reproduced (the host's Node and npm
 * stand in for the image's). Instructions are carried out as Docker does:
 *
 * - `COPY` from the build context honours `.dockerignore`; `COPY --from=<stage>` copies from that
 *   stage's folder. A source that is missing (or ignored) fails the build, as in Docker.
 * - `WORKDIR`, `ENV`, `USER`, `EXPOSE`, `ENTRYPOINT`, `CMD` are recorded (ENV is passed to RUN steps).
 * - `RUN` is executed for real, but only the commands this repository's image uses: `npm ci [flags]`
 *   (offline, from the local npm cache) and `npm run <script>`. Anything else (a shell pipeline, a
 *   package manager, a download) is refused, so the Dockerfile cannot gain an unverified step.
 *
 * When the npm cache cannot serve `npm ci` offline, that stage's node_modules becomes a symlink to the
 * repository's node_modules (same versions: the lockfile test checks that) and the stage is marked
 * approximate, so checks that need the real production tree can skip with a reason.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import type { Dockerfile, Stage } from './dockerfile.js';
import { execForm, parseCopy, parseEnv, splitWords } from './dockerfile.js';
import type { DockerIgnore } from './dockerignore.js';
import { contextFiles } from './dockerignore.js';

export interface BuiltStage {
  readonly stage: Stage;
  /** Host folder standing for the stage's `/`. */
  readonly root: string;
  /** Container path of the current WORKDIR. */
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  /** Why node_modules is the repository's rather than what `npm ci` would install, if it is. */
  readonly approximate?: string;
}

export interface SimulatedBuild {
  readonly stages: readonly BuiltStage[];
  readonly final: BuiltStage;
  /** Host path of a container path in the final image. */
  hostPath(containerPath: string): string;
}

export interface SimulationOptions {
  readonly dockerfile: Dockerfile;
  readonly contextDir: string;
  readonly ignore: DockerIgnore;
  /** Empty scratch folder the stages are built in. */
  readonly scratchDir: string;
  /** The repository's node_modules, the stand-in when `npm ci` cannot run offline. */
  readonly fallbackNodeModules: string;
}

interface MutableStage {
  stage: Stage;
  root: string;
  workdir: string;
  env: Record<string, string>;
  approximate?: string;
}

/** Instructions the simulation carries out or records; any other one fails it. */
const SUPPORTED = new Set([
  'WORKDIR',
  'ENV',
  'COPY',
  'RUN',
  'USER',
  'EXPOSE',
  'ENTRYPOINT',
  'CMD',
  'HEALTHCHECK',
]);

export function simulateBuild(options: SimulationOptions): SimulatedBuild {
  const { dockerfile } = options;
  if (dockerfile.preamble.length > 0) throw new Error('ARG before FROM is not simulated');
  const built: MutableStage[] = [];
  for (const stage of dockerfile.stages) {
    const root = join(options.scratchDir, `stage-${stage.index}`);
    const base = built.find((b) => b.stage.name === stage.image);
    const state: MutableStage = base
      ? { stage, root, workdir: base.workdir, env: { ...base.env }, ...spreadApproximate(base) }
      : { stage, root, workdir: '/', env: {} };
    if (base) cpSync(base.root, root, { recursive: true, verbatimSymlinks: true });
    else mkdirSync(root, { recursive: true });
    for (const ins of stage.instructions) {
      if (!SUPPORTED.has(ins.keyword)) {
        throw new Error(`line ${ins.line}: ${ins.keyword} is not simulated`);
      }
      if (ins.args.includes('$')) throw new Error(`line ${ins.line}: variable substitution is not simulated`);
      const where = (p: string): string => join(root, posix.resolve(state.workdir, p));
      switch (ins.keyword) {
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir, ins.args.trim());
          mkdirSync(where('.'), { recursive: true });
          break;
        case 'ENV':
          for (const [k, v] of parseEnv(ins)) state.env[k] = v;
          break;
        case 'COPY': {
          const copy = parseCopy(ins);
          const fromStage =
            copy.from === undefined
              ? undefined
              : built.find((b) => b.stage.name === copy.from || String(b.stage.index) === copy.from);
          if (copy.from !== undefined && !fromStage) {
            throw new Error(`line ${ins.line}: COPY --from=${copy.from}: no earlier stage of that name`);
          }
          const many = copy.sources.length > 1 || copy.destination.endsWith('/');
          for (const src of copy.sources) {
            if (/[*?[]/.test(src)) throw new Error(`line ${ins.line}: wildcards in COPY are not simulated`);
            const dest = where(copy.destination);
            if (fromStage) copyFromStage(fromStage, src, dest, many, ins.line);
            else copyFromContext(options, src, dest, many, ins.line);
          }
          break;
        }
        case 'RUN':
          run(state, ins.args, ins.line, options);
          break;
        default:
          // USER, EXPOSE, ENTRYPOINT, CMD, HEALTHCHECK: image metadata, read by the tests.
          break;
      }
    }
    built.push(state);
  }
  const final = built.at(-1);
  if (!final) throw new Error('the Dockerfile has no FROM');
  return {
    stages: built,
    final,
    hostPath: (p) => join(final.root, posix.resolve(final.workdir, p)),
  };
}

const spreadApproximate = (s: MutableStage): { approximate?: string } =>
  s.approximate !== undefined ? { approximate: s.approximate } : {};

/** Copies `src` (a file or a folder's contents) to `dest` as COPY does. */
function place(src: string, dest: string, many: boolean): void {
  const isDir = statSync(src).isDirectory();
  const target = isDir ? dest : many || isExistingDir(dest) ? join(dest, posix.basename(src)) : dest;
  mkdirSync(isDir ? target : dirname(target), { recursive: true });
  cpSync(src, target, { recursive: true, verbatimSymlinks: true });
}

const isExistingDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

function copyFromStage(from: MutableStage, src: string, dest: string, many: boolean, line: number): void {
  const host = join(from.root, posix.resolve(from.workdir, src));
  if (!existsSync(host)) throw new Error(`line ${line}: COPY --from: ${src} does not exist in that stage`);
  if (lstatSync(host).isSymbolicLink()) {
    // The stand-in node_modules of an approximate stage stays a symlink, so checks can tell.
    mkdirSync(dirname(dest), { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    symlinkSync(readlinkSync(host), dest);
    return;
  }
  if (!statSync(host).isDirectory()) return place(host, dest, many);
  // Stages are never changed once built, so hard links give the same tree as a copy, in a fraction of
  // the time for a 100 MB node_modules.
  linkTree(host, dest);
}

function linkTree(src: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    const from = join(src, entry.name);
    const to = join(dest, entry.name);
    if (entry.isDirectory()) {
      linkTree(from, to);
      continue;
    }
    rmSync(to, { force: true }); // COPY overwrites
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else linkSync(from, to);
  }
}

function copyFromContext(
  options: SimulationOptions,
  src: string,
  dest: string,
  many: boolean,
  line: number,
): void {
  const rel = posix.normalize(src).replace(/^\/+/, '').replace(/\/$/, '') || '.';
  if (rel.startsWith('..')) throw new Error(`line ${line}: COPY ${src} is outside the build context`);
  const host = join(options.contextDir, rel);
  if (!existsSync(host) || (rel !== '.' && options.ignore.ignores(rel))) {
    throw new Error(`line ${line}: COPY ${src}: not found in the build context (missing or .dockerignore'd)`);
  }
  if (!statSync(host).isDirectory()) {
    place(host, dest, many);
    return;
  }
  // A folder: its contents, minus what .dockerignore leaves out.
  const files = contextFiles(options.contextDir, options.ignore).filter(
    (f) => rel === '.' || f.startsWith(`${rel}/`),
  );
  mkdirSync(dest, { recursive: true });
  for (const file of files) {
    const inside = rel === '.' ? file : file.slice(rel.length + 1);
    mkdirSync(dirname(join(dest, inside)), { recursive: true });
    cpSync(join(options.contextDir, file), join(dest, inside));
  }
}

/** The environment of a simulated RUN: the host's PATH and the stage's ENV, nothing from the test runner. */
function runEnv(state: MutableStage): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // npm_* (from `npm test`), NODE_ENV, NODE_OPTIONS and node:test's context would change what runs.
    if (/^(npm_|NODE_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...state.env, npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm') };
}

function run(state: MutableStage, args: string, line: number, options: SimulationOptions): void {
  const exec = execForm(args);
  if (!exec && /[&|;<>`()]/.test(args))
    throw new Error(`line ${line}: RUN ${args}: shell syntax is not simulated`);
  const words = exec ?? splitWords(args);
  const cwd = join(state.root, state.workdir);
  const [cmd, sub, ...rest] = words;
  if (cmd === 'npm' && sub === 'ci') {
    npmCi(state, cwd, rest, line, options);
  } else if (cmd === 'npm' && sub === 'run' && rest.length === 1) {
    const r = spawnSync('npm', ['run', rest[0]!], { cwd, env: runEnv(state), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`line ${line}: RUN ${args} failed:\n${r.stdout}\n${r.stderr}`);
  } else {
    throw new Error(`line ${line}: RUN ${args}: only "npm ci" and "npm run <script>" are simulated`);
  }
}

/**
 * `npm ci` with the Dockerfile's flags plus `--offline`. The lockfile names no tarball URLs (this
 * machine's npm omits them), so npm would ask the registry for each package's metadata; for the
 * offline run only, the public registry's URL is written into the stage's copy of the lockfile, which
 * lets npm take each tarball from its cache by integrity. The tree npm builds comes from the lockfile
 * either way. The original lockfile is put back afterwards.
 */
function npmCi(
  state: MutableStage,
  cwd: string,
  flags: string[],
  line: number,
  options: SimulationOptions,
): void {
  const lockPath = join(cwd, 'package-lock.json');
  if (!existsSync(lockPath))
    throw new Error(`line ${line}: npm ci needs package-lock.json in ${state.workdir}`);
  const original = readFileSync(lockPath, 'utf8');
  const lock = JSON.parse(original) as {
    packages: Record<string, { version?: string; resolved?: string; name?: string; link?: boolean }>;
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.link || entry.resolved !== undefined || entry.version === undefined) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    entry.resolved = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()!}-${entry.version}.tgz`;
  }
  writeFileSync(lockPath, JSON.stringify(lock, null, 2));
  try {
    const r = spawnSync('npm', ['ci', ...flags, '--offline'], { cwd, env: runEnv(state), encoding: 'utf8' });
    if (r.status === 0) return;
    const output = `${r.stdout}\n${r.stderr}`;
    if (!/ENOTCACHED/.test(output))
      throw new Error(`line ${line}: npm ci ${flags.join(' ')} failed:\n${output}`);
    rmSync(join(cwd, 'node_modules'), { recursive: true, force: true });
    symlinkSync(options.fallbackNodeModules, join(cwd, 'node_modules'), 'dir');
    const missing = /request to (\S+) failed/.exec(output)?.[1] ?? 'a package';
    state.approximate = `npm ci ${flags.join(' ')}: ${missing} is not in the npm cache; node_modules is the repository's`;
  } finally {
    writeFileSync(lockPath, original);
  }
}
