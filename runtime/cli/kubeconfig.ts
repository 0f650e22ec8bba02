/**
 * What the API commands take from a kubeconfig: the current (or `--context`) context's user token, and
 * the runtime's URL from a context extension. Files are found as kubectl finds them: `--kubeconfig`,
 * else every file of `$KUBECONFIG` (`:`-separated; missing ones skipped; the first file to set a value
 * wins), else `~/.kube/config`.
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
import { execFileSync } from 'node:child_process';
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
  /** From the context's `elasticai.io/runtime` extension. */
  readonly url: string | undefined;
  readonly credential: () => UserCredential;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The kubeconfig files to read, and whether they were asked for explicitly. */
export function kubeconfigPaths(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): { paths: string[]; explicit: boolean } {
  if (flag !== undefined) return { paths: [flag], explicit: true };
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (list.length > 0) return { paths: list, explicit: true };
  const home = env.HOME || homedir();
  return { paths: [join(home, '.kube', 'config')], explicit: false };
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

function extensionUrl(context: Named): string | undefined {
  const list = context.value.extensions;
  if (!Array.isArray(list)) return undefined;
  for (const item of list) {
    if (!isRecord(item) || item.name !== RUNTIME_EXTENSION) continue;
    const ext = item.extension;
    if (isRecord(ext) && typeof ext.url === 'string' && ext.url !== '') return ext.url;
    throw new KubeconfigError(
      `kubeconfig ${context.file}: context "${context.name}" extension ${RUNTIME_EXTENSION} needs extension.url`,
    );
  }
  return undefined;
}

/** A path from a kubeconfig, relative to the file that named it (kubectl's rule). */
const relativeTo = (file: string, path: string): string =>
  isAbsolute(path) ? path : resolve(dirname(file), path);

/**
 * Runs an exec credential plugin as kubectl does: its `env` added to ours, KUBERNETES_EXEC_INFO set,
 * stdin and stderr passed through (interactive logins can prompt), and the token read from the
 * ExecCredential on stdout.
 */
function execToken(user: Named, exec: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  const command = exec.command;
  if (typeof command !== 'string' || command === '') {
    throw new KubeconfigError(`kubeconfig user "${user.name}": exec.command is required`);
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
  let stdout: string;
  try {
    stdout = execFileSync(program, args, {
      env: {
        ...env,
        ...extra,
        KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive } }),
      },
      stdio: ['inherit', 'pipe', 'inherit'],
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    const e = err as { code?: string; status?: number | null };
    const why =
      e.code === 'ENOENT'
        ? `"${command}" was not found on the PATH`
        : e.status !== undefined && e.status !== null
          ? `it exited with ${e.status}`
          : err instanceof Error
            ? err.message
            : String(err);
    const hint = typeof exec.installHint === 'string' ? ` (${exec.installHint.trim()})` : '';
    throw new KubeconfigError(
      `the exec credential plugin of kubeconfig user "${user.name}" failed: ${why}${hint}`,
    );
  }
  let credential: unknown;
  try {
    credential = JSON.parse(stdout);
  } catch {
    throw new KubeconfigError(
      `the exec credential plugin of kubeconfig user "${user.name}" did not print an ExecCredential (JSON)`,
    );
  }
  const status = isRecord(credential) ? credential.status : undefined;
  const token = isRecord(status) ? status.token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new KubeconfigError(
      `the exec credential plugin of kubeconfig user "${user.name}" gave no token (client certificates cannot be passed to the runtime)`,
    );
  }
  return token;
}

function credentialOf(user: Named, env: NodeJS.ProcessEnv): UserCredential {
  const u = user.value;
  if (typeof u.token === 'string' && u.token !== '') {
    return { kind: 'token', token: u.token, how: `token of kubeconfig user "${user.name}"` };
  }
  if (typeof u.tokenFile === 'string' && u.tokenFile !== '') {
    const path = relativeTo(user.file, u.tokenFile);
    try {
      return {
        kind: 'token',
        token: readFileSync(path, 'utf8').trim(),
        how: `tokenFile of kubeconfig user "${user.name}"`,
      };
    } catch (err) {
      throw new KubeconfigError(
        `kubeconfig user "${user.name}": cannot read tokenFile ${path}: ${describeFsError(err)}`,
      );
    }
  }
  if (isRecord(u.exec)) {
    return {
      kind: 'token',
      token: execToken(user, u.exec, env),
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
    throw new KubeconfigError(
      `kubeconfig has no context "${wanted}"${known.length > 0 ? `; known: ${known.join(', ')}` : ''}`,
    );
  }
  const userName = typeof context.value.user === 'string' ? context.value.user : undefined;
  const user = userName === undefined ? undefined : config.users.get(userName);
  let cached: UserCredential | undefined;
  return {
    context: wanted,
    user: userName,
    url: extensionUrl(context),
    credential: () => {
      cached ??= user
        ? credentialOf(user, env)
        : {
            kind: 'none',
            why:
              userName === undefined
                ? `kubeconfig context "${wanted}" names no user`
                : `kubeconfig has no user "${userName}" (named by context "${wanted}")`,
          };
      return cached;
    },
  };
}
