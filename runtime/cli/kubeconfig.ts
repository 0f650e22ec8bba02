/**
 * What the API commands take from a kubeconfig: the current (or `--context`) context's user token, and
 * the runtime's URL from a context extension. Files are found as kubectl finds them: `--kubeconfig`,
 * else every file of `$KUBECONFIG` (`:`-separated; missing ones skipped, one that cannot be read or
 * parsed an error, as kubectl fails on it; the first file to set a value wins), else `~/.kube/config`.
 *
 * The user's token comes from `token`, `tokenFile`, an `exec` credential plugin (`aws eks get-token`,
 * `kubelogin`, ...: client.authentication.k8s.io ExecCredential, run as kubectl runs it), or an OIDC
 * `auth-provider`'s `id-token`. Client certificates cannot be forwarded to the runtime (it checks bearer
 * tokens only).
 *
 * The runtime URL is not part of a kubeconfig; a context may carry it as an extension:
 *
 * ```yaml
 * contexts:
 *   - name: prod-use1
 *     context:
 *       cluster: prod-use1
 *       user: alice
 *       extensions:
 *         - name: elasticai.io/runtime
 *           extension:
 *             url: https://elasticai.prod.example.com
 * ```
 *
 * Parsing the file is injected: the runtime image has no YAML parser and reads JSON kubeconfigs only,
 * while the package's `elasticai` passes the `yaml` package's parser.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { describeFsError } from './csv-output.js';

/** Name of the context extension holding the runtime's URL. */
export const RUNTIME_EXTENSION = 'elasticai.io/runtime';

/** Parses a kubeconfig file's text into plain data. */
export type KubeconfigParser = (text: string) => unknown;

/** A kubeconfig that cannot be used (unreadable, malformed, no such context); the message says why. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/**
 * A user's credential that cannot be obtained: its tokenFile cannot be read, or its exec credential plugin
 * is missing, fails or prints no token. Something for the user to fix (the file, the plugin, a login).
 */
export class KubeconfigCredentialError extends KubeconfigError {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigCredentialError';
  }
}

/** The kubeconfig has no context of the name asked for. */
export class KubeconfigNoContextError extends KubeconfigError {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigNoContextError';
  }
}

/** A kubeconfig file that is missing, unreadable or malformed: `problem` follows the path in messages. */
export class KubeconfigFileError extends KubeconfigError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`kubeconfig ${path}${problem}`);
    this.name = 'KubeconfigFileError';
  }
}

interface Named {
  readonly name: string;
  /** The file the entry came from: relative paths in it are relative to that file's folder. */
  readonly file: string;
  readonly value: Record<string, unknown>;
}

/** The merged view of one or more kubeconfig files. */
export interface Kubeconfig {
  readonly files: readonly string[];
  readonly currentContext: string | undefined;
  readonly contexts: ReadonlyMap<string, Named>;
  readonly users: ReadonlyMap<string, Named>;
}

/** How the user authenticates, as far as the runtime is concerned. */
export type UserCredential =
  | { readonly kind: 'token'; readonly token: string; readonly how: string }
  | { readonly kind: 'none'; readonly why: string };

/** What a context gives the API commands. */
export interface ContextTarget {
  readonly context: string;
  readonly user: string | undefined;
  /** The file the context is in. */
  readonly file: string;
  /** Where the runtime URL is in that file, for messages. */
  readonly urlField: string;
  /**
   * The URL of the context's `elasticai.io/runtime` extension, undefined when it has none. Read only
   * when wanted: a context whose extension is broken still gives its user's token when --url is given.
   * @throws KubeconfigFileError naming the file and the field when the extension is malformed.
   */
  readonly url: () => string | undefined;
  /** The user's credential, obtained on the first call (an exec plugin's stderr goes to `stderr`). */
  readonly credential: () => Promise<UserCredential>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where the kubeconfig files come from: `--kubeconfig`, `$KUBECONFIG` or the default `~/.kube/config`. */
export type KubeconfigSource = 'flag' | 'env' | 'default';

/** The kubeconfig files to read, where they were named, and whether they were asked for explicitly. */
export function kubeconfigPaths(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): { paths: string[]; source: KubeconfigSource; explicit: boolean } {
  if (flag !== undefined) return { paths: [flag], source: 'flag', explicit: true };
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (list.length > 0) return { paths: list, source: 'env', explicit: true };
  const home = env.HOME || homedir();
  return { paths: [join(home, '.kube', 'config')], source: 'default', explicit: false };
}

function parseFile(path: string, parse: KubeconfigParser): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeconfigFileError(path, ` cannot be read: ${describeFsError(err)}`);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new KubeconfigFileError(path, ` cannot be parsed: ${reason}`);
  }
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) throw new KubeconfigFileError(path, ' is not a mapping');
  return data;
}

function entries(
  data: Record<string, unknown>,
  key: 'contexts' | 'users',
  inner: 'context' | 'user',
  file: string,
): Named[] {
  const list = data[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigFileError(file, `: ${key} must be a list`);
  const out: Named[] = [];
  for (const [i, item] of list.entries()) {
    if (!isRecord(item) || typeof item.name !== 'string') {
      throw new KubeconfigFileError(file, `: ${key}[${i}] needs a name`);
    }
    out.push({ name: item.name, file, value: isRecord(item[inner]) ? item[inner] : {} });
  }
  return out;
}

/**
 * Reads and merges `paths` (the first file to set a value wins, as kubectl merges). Missing files are
 * skipped unless `requireAll`; undefined when none exists.
 * @throws KubeconfigFileError for a file that exists but cannot be read or parsed (or, with
 *   `requireAll`, a missing one).
 */
export function loadKubeconfig(
  paths: readonly string[],
  parse: KubeconfigParser,
  requireAll = false,
): Kubeconfig | undefined {
  const files: string[] = [];
  let currentContext: string | undefined;
  const contexts = new Map<string, Named>();
  const users = new Map<string, Named>();
  for (const path of paths) {
    if (!existsSync(path)) {
      if (requireAll) throw new KubeconfigFileError(path, ' does not exist');
      continue;
    }
    const file = resolve(path);
    const data = parseFile(file, parse);
    files.push(file);
    const cc = data['current-context'];
    if (currentContext === undefined && typeof cc === 'string' && cc !== '') currentContext = cc;
    for (const c of entries(data, 'contexts', 'context', file))
      if (!contexts.has(c.name)) contexts.set(c.name, c);
    for (const u of entries(data, 'users', 'user', file)) if (!users.has(u.name)) users.set(u.name, u);
  }
  return files.length === 0 ? undefined : { files, currentContext, contexts, users };
}

/** A kubeconfig value as messages quote it. */
const quoted = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

/**
 * The URL of the context's `elasticai.io/runtime` extension, undefined when it has none.
 * @throws KubeconfigFileError naming the file and the field when the extension is malformed.
 */
function extensionUrl(context: Named): string | undefined {
  const where = `contexts[name=${context.name}].context.extensions`;
  const list = context.value.extensions;
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) {
    throw new KubeconfigFileError(context.file, `: ${where} must be a list (got ${quoted(list)})`);
  }
  for (const item of list) {
    if (!isRecord(item) || item.name !== RUNTIME_EXTENSION) continue;
    const field = `${where}[name=${RUNTIME_EXTENSION}].extension`;
    const ext = item.extension;
    if (!isRecord(ext)) {
      throw new KubeconfigFileError(
        context.file,
        `: ${field} must be a mapping with the runtime's url (got ${quoted(ext)})`,
      );
    }
    if (typeof ext.url !== 'string' || ext.url.trim() === '') {
      throw new KubeconfigFileError(
        context.file,
        `: ${field}.url must be the runtime's http(s) URL (got ${quoted(ext.url)})`,
      );
    }
    return ext.url;
  }
  return undefined;
}

/** A path from a kubeconfig, relative to the file that named it (kubectl's rule). */
const relativeTo = (file: string, path: string): string =>
  isAbsolute(path) ? path : resolve(dirname(file), path);

/** How long an exec credential plugin may take (an interactive login included). */
const EXEC_TIMEOUT_MS = 120_000;
/** The most an exec credential plugin may print on stdout (an ExecCredential is a few KiB). */
const EXEC_MAX_STDOUT = 1 << 20;

interface PluginRun {
  readonly error?: NodeJS.ErrnoException;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  /** The first non-blank line the plugin wrote on stderr. */
  readonly firstErrorLine: string | undefined;
}

/** Runs `program`, stdin inherited, stderr passed on to `stderr` as it comes and its first line kept. */
function runPlugin(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stderr: (text: string) => void,
): Promise<PluginRun> {
  return new Promise((done) => {
    let stdout = '';
    let errorHead = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(program, args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, EXEC_TIMEOUT_MS);
    const finish = (run: Omit<PluginRun, 'stdout' | 'firstErrorLine' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const firstErrorLine = errorHead
        .split(/\r?\n/)
        .map((l) => l.trim())
        .find((l) => l !== '');
      done({ ...run, timedOut, stdout, firstErrorLine: firstErrorLine?.slice(0, 300) });
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > EXEC_MAX_STDOUT) child.kill();
    });
    child.stderr.on('data', (chunk: string) => {
      stderr(chunk);
      if (errorHead.length < 4096) errorHead += chunk;
    });
    child.on('error', (error) => finish({ error, status: null, signal: null }));
    child.on('close', (status, signal) => finish({ status, signal }));
  });
}

/**
 * Runs an exec credential plugin as kubectl does: its `env` added to ours, KUBERNETES_EXEC_INFO set,
 * stdin inherited and stderr passed through as it comes (interactive logins can prompt), and the token
 * read from the ExecCredential on stdout.
 * @throws KubeconfigCredentialError naming the command (and the first line of its stderr) when it is
 *   missing, fails or prints no token.
 */
async function execToken(
  user: Named,
  exec: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  stderr: (text: string) => void,
): Promise<string> {
  const command = exec.command;
  if (typeof command !== 'string' || command === '') {
    throw new KubeconfigCredentialError(`kubeconfig user "${user.name}": exec.command is required`);
  }
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const extra: Record<string, string> = {};
  if (Array.isArray(exec.env)) {
    for (const e of exec.env)
      if (isRecord(e) && typeof e.name === 'string') extra[e.name] = String(e.value ?? '');
  }
  const apiVersion =
    typeof exec.apiVersion === 'string' ? exec.apiVersion : 'client.authentication.k8s.io/v1';
  const interactive = process.stdin.isTTY === true && exec.interactiveMode !== 'Never';
  const program = command.includes('/') ? relativeTo(user.file, command) : command;
  const run = await runPlugin(
    program,
    args,
    {
      ...env,
      ...extra,
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive } }),
    },
    stderr,
  );
  const plugin = `the exec credential plugin of kubeconfig user "${user.name}"`;
  const said = run.firstErrorLine === undefined ? '' : `: ${run.firstErrorLine}`;
  if (run.error !== undefined || run.timedOut || run.status !== 0) {
    const why =
      run.error?.code === 'ENOENT'
        ? `"${command}" was not found${command.includes('/') ? ` (${program})` : ' on the PATH'}`
        : run.error !== undefined
          ? `"${command}" cannot be run: ${describeFsError(run.error)}`
          : run.timedOut
            ? `"${command}" did not finish within ${EXEC_TIMEOUT_MS / 1000} s${said}`
            : run.status !== null
              ? `"${command}" exited with ${run.status}${said}`
              : `"${command}" was ended by ${run.signal ?? 'a signal'}${said}`;
    const hint = typeof exec.installHint === 'string' ? ` (${exec.installHint.trim()})` : '';
    throw new KubeconfigCredentialError(`${plugin} failed: ${why}${hint}`);
  }
  let credential: unknown;
  try {
    credential = JSON.parse(run.stdout);
  } catch {
    throw new KubeconfigCredentialError(
      `${plugin} ("${command}") did not print an ExecCredential (JSON)${said}`,
    );
  }
  const status = isRecord(credential) ? credential.status : undefined;
  const token = isRecord(status) ? status.token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new KubeconfigCredentialError(
      `${plugin} ("${command}") gave no token (client certificates cannot be passed to the runtime)`,
    );
  }
  return token;
}

async function credentialOf(
  user: Named,
  env: NodeJS.ProcessEnv,
  stderr: (text: string) => void,
): Promise<UserCredential> {
  const u = user.value;
  if (typeof u.token === 'string' && u.token !== '') {
    return { kind: 'token', token: u.token, how: `token of kubeconfig user "${user.name}"` };
  }
  if (typeof u.tokenFile === 'string' && u.tokenFile !== '') {
    const path = relativeTo(user.file, u.tokenFile);
    let token: string;
    try {
      token = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new KubeconfigCredentialError(
        `kubeconfig user "${user.name}": cannot read tokenFile ${path}: ${describeFsError(err)}`,
      );
    }
    // An empty file (a projected token not written yet, a truncated copy) would be sent as
    // "Bearer " and refused as 401 with no hint of the file.
    if (token === '') {
      throw new KubeconfigCredentialError(`kubeconfig user "${user.name}": tokenFile ${path} is empty`);
    }
    return { kind: 'token', token, how: `tokenFile of kubeconfig user "${user.name}"` };
  }
  if (isRecord(u.exec)) {
    return {
      kind: 'token',
      token: await execToken(user, u.exec, env, stderr),
      how: `exec credential plugin of kubeconfig user "${user.name}"`,
    };
  }
  const provider = u['auth-provider'];
  if (isRecord(provider) && isRecord(provider.config) && typeof provider.config['id-token'] === 'string') {
    return {
      kind: 'token',
      token: provider.config['id-token'],
      how: `OIDC id-token of kubeconfig user "${user.name}"`,
    };
  }
  if (u['client-certificate'] !== undefined || u['client-certificate-data'] !== undefined) {
    return {
      kind: 'none',
      why: `kubeconfig user "${user.name}" authenticates with a client certificate, which cannot be passed to the runtime`,
    };
  }
  return { kind: 'none', why: `kubeconfig user "${user.name}" has no token, tokenFile or exec plugin` };
}

/**
 * The context to use (`name`, else the current context) and what it gives.
 * @throws KubeconfigError when there is no such context.
 */
export function contextTarget(
  config: Kubeconfig,
  name: string | undefined,
  env: NodeJS.ProcessEnv,
  stderr: (text: string) => void,
): ContextTarget {
  const wanted = name ?? config.currentContext;
  if (wanted === undefined) {
    throw new KubeconfigError(
      `kubeconfig ${config.files.join(', ')} has no current context: pass --context NAME`,
    );
  }
  const context = config.contexts.get(wanted);
  if (!context) {
    const known = [...config.contexts.keys()];
    const knownText = known.length > 0 ? `; known: ${known.join(', ')}` : '';
    if (name === undefined) {
      // Not the user's --context: the file's own current-context is wrong, so name the file(s).
      throw new KubeconfigError(
        `kubeconfig ${config.files.join(', ')}: current-context "${wanted}" names no context${knownText}; ` +
          'fix current-context or pass --context NAME',
      );
    }
    throw new KubeconfigNoContextError(`kubeconfig has no context "${wanted}"${knownText}`);
  }
  const userName = typeof context.value.user === 'string' ? context.value.user : undefined;
  const user = userName === undefined ? undefined : config.users.get(userName);
  let cached: Promise<UserCredential> | undefined;
  return {
    context: wanted,
    user: userName,
    file: context.file,
    urlField: `contexts[name=${context.name}].context.extensions[name=${RUNTIME_EXTENSION}].extension.url`,
    url: () => extensionUrl(context),
    credential: () => {
      cached ??= user
        ? credentialOf(user, env, stderr)
        : Promise.resolve({
            kind: 'none',
            why:
              userName === undefined
                ? `kubeconfig context "${wanted}" names no user`
                : `kubeconfig has no user "${userName}" (named by context "${wanted}")`,
          });
      return cached;
    },
  };
}
