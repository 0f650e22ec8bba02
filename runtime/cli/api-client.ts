/**
 * How the API commands (`status`, `explain`, `override`, `recommend`) reach the runtime's HTTP API:
 * where the URL and token come from, and what a failed call tells the user to do.
 *
 * URL: `--url`, else `ELASTICAI_URL`, else the kubeconfig context's `elasticai.io/runtime` extension.
 * Token: `--token`, else `ELASTICAI_TOKEN`, else the kubeconfig context's user (token, tokenFile, exec
 * plugin). Without a token the call is made anonymously (a runtime with `ELASTICAI_READ_ACCESS=anonymous`
 * answers reads).
 */
import type { Flags, FlagSpecs } from './args.js';
import type { CommandIo } from './command.js';
import { RunError, UsageError } from './command.js';
import type { ContextTarget, KubeconfigParser, KubeconfigSource } from './kubeconfig.js';
import {
  contextTarget,
  KubeconfigError,
  KubeconfigFileError,
  KubeconfigNoContextError,
  kubeconfigPaths,
  loadKubeconfig,
  RUNTIME_EXTENSION,
} from './kubeconfig.js';

/** Options every API command is built with. */
export interface ApiCommandOptions {
  /**
   * Parses kubeconfig files. @default JSON.parse (the runtime image has no YAML parser; the package's
   * `elasticai` passes the `yaml` package's parser)
   */
  readonly parseKubeconfig?: KubeconfigParser;
}

/** Flags of every API command. */
export const CONNECTION_FLAGS: FlagSpecs = {
  url: 'value',
  token: 'value',
  context: 'value',
  kubeconfig: 'value',
  json: 'switch',
};

/** The `Connection:` block of every API command's help. */
export const CONNECTION_HELP = `Connection (first found wins):
  --url URL            the runtime's HTTP API (port 8080), e.g. http://127.0.0.1:8080 after
                       kubectl -n elasticai-system port-forward svc/elasticai-runtime 8080:8080;
                       else $ELASTICAI_URL, else the kubeconfig context's ${RUNTIME_EXTENSION} extension
  --token TOKEN        an API key or a Kubernetes bearer token; else $ELASTICAI_TOKEN (preferred: a
                       flag shows in the process list), else the kubeconfig context's user
                       (token, tokenFile or exec plugin such as aws eks get-token / kubelogin)
  --context NAME       kubeconfig context (default: the current context)
  --kubeconfig FILE    kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --json               print the API's JSON answer on stdout instead of the human view`;

/** Where the runtime is and how to authenticate, with where each came from (for messages). */
export interface ApiTarget {
  /** Base URL, ending with `/`. */
  readonly url: URL;
  readonly urlFrom: string;
  readonly token: string | undefined;
  readonly tokenFrom: string | undefined;
  /** Why no token was found in the kubeconfig, when that was tried. */
  readonly tokenMissing: string | undefined;
}

const LOOPBACK = /^(localhost|127(?:\.\d+){3}|\[::1\])$/;

function parseUrl(text: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${from} must be an http(s) URL such as http://127.0.0.1:8080 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${from} must be an http(s) URL such as http://127.0.0.1:8080 (got "${text}")`);
  }
  if (url.username || url.password) throw new UsageError(`${from} must not carry credentials; use --token`);
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * Resolves the target from flags, environment and kubeconfig.
 * @throws UsageError when no URL is found, a value is malformed, a kubeconfig that was asked for (by
 *   --kubeconfig, $KUBECONFIG or --context) or is needed for the URL cannot be used (missing, unreadable,
 *   malformed, no such context, no current context), or the user's credential cannot be obtained (its
 *   tokenFile unreadable, its exec plugin missing, failing or printing no token).
 */
export async function resolveTarget(
  flags: Flags,
  io: CommandIo,
  options: ApiCommandOptions,
): Promise<ApiTarget> {
  const env = io.env ?? process.env;
  let urlText: string | undefined;
  let urlFrom = '';
  /** Where the URL is, for a message saying it is malformed (urlFrom unless it is more precise). */
  let urlWhere: string | undefined;
  const flagUrl = flags.string('url');
  if (flagUrl !== undefined) [urlText, urlFrom] = [flagUrl, '--url'];
  else if (env.ELASTICAI_URL) [urlText, urlFrom] = [env.ELASTICAI_URL, 'ELASTICAI_URL'];

  let token: string | undefined;
  let tokenFrom: string | undefined;
  const flagToken = flags.string('token');
  if (flagToken !== undefined) [token, tokenFrom] = [flagToken, '--token'];
  else if (env.ELASTICAI_TOKEN) [token, tokenFrom] = [env.ELASTICAI_TOKEN, 'ELASTICAI_TOKEN'];

  let tokenMissing: string | undefined;
  const askedContext = flags.string('context');
  const flagKubeconfig = flags.string('kubeconfig');
  const { paths, source, explicit } = kubeconfigPaths(flagKubeconfig, env);
  const needKubeconfig = urlText === undefined || token === undefined || askedContext !== undefined;
  if (needKubeconfig) {
    // Failures matter when the kubeconfig was asked for or is the only source of the URL; otherwise
    // (looking for a token only, in the default file) they only explain a later 401.
    const mustWork = explicit || askedContext !== undefined || urlText === undefined;
    let context: ContextTarget | undefined;
    try {
      const config = loadKubeconfig(paths, options.parseKubeconfig ?? JSON.parse, source === 'flag');
      if (config) context = contextTarget(config, askedContext, env, io.stderr);
      else if (askedContext !== undefined) {
        throw new KubeconfigError(`--context ${askedContext}: no kubeconfig found (${paths.join(', ')})`);
      }
    } catch (err) {
      if (!(err instanceof KubeconfigError)) throw err;
      // A kubeconfig the command needs is an input like --trace, however it was found (--kubeconfig,
      // $KUBECONFIG, ~/.kube/config): missing, malformed, without the --context asked for or without a
      // current context, it is the user's to fix, a usage error naming the file (or the flag).
      if (mustWork) {
        const message =
          err instanceof KubeconfigFileError
            ? `${kubeconfigLabel(err.path, source, flagKubeconfig)}${err.problem}`
            : askedContext !== undefined && err instanceof KubeconfigNoContextError
              ? `--context ${askedContext}: ${err.message}`
              : err.message;
        throw new UsageError(kubeconfigAdvice(message, options));
      }
      tokenMissing = err.message;
    }
    if (context) {
      if (urlText === undefined) {
        // The URL is wanted from the context: a broken extension (or URL) in it is the user's to fix,
        // named by file and field as a malformed kubeconfig is.
        const label = kubeconfigLabel(context.file, source, flagKubeconfig);
        let url: string | undefined;
        try {
          url = context.url();
        } catch (err) {
          if (!(err instanceof KubeconfigFileError)) throw err;
          throw new UsageError(`${label}${err.problem}`);
        }
        if (url !== undefined) {
          [urlText, urlFrom] = [url, `kubeconfig context "${context.context}" (${RUNTIME_EXTENSION})`];
          urlWhere = `${label}: ${context.urlField}`;
        }
      }
      if (token === undefined) {
        let credential;
        try {
          credential = await context.credential();
        } catch (err) {
          if (!(err instanceof KubeconfigError)) throw err;
          // A tokenFile or an exec plugin is the user's to fix (the file, the plugin, a login), like a
          // malformed --kubeconfig: a usage error naming it.
          throw new UsageError(`${err.message}; or pass --token / set ELASTICAI_TOKEN`);
        }
        if (credential.kind === 'token') [token, tokenFrom] = [credential.token, credential.how];
        else tokenMissing = credential.why;
      }
    }
  }
  if (urlText === undefined) {
    throw new UsageError(
      `no runtime URL: pass --url (e.g. http://127.0.0.1:8080 after \`kubectl -n elasticai-system port-forward svc/elasticai-runtime 8080:8080\`), ` +
        `set ELASTICAI_URL, or add a ${RUNTIME_EXTENSION} extension with the url to the kubeconfig context`,
    );
  }
  return { url: parseUrl(urlText, urlWhere ?? urlFrom), urlFrom, token, tokenFrom, tokenMissing };
}

/** How messages name a kubeconfig file: by the flag that gave it, as a file of $KUBECONFIG, or by path. */
function kubeconfigLabel(path: string, source: KubeconfigSource, flag: string | undefined): string {
  if (source === 'flag' && flag !== undefined) return `--kubeconfig ${flag}`;
  return source === 'env' ? `KUBECONFIG file ${path}` : `kubeconfig ${path}`;
}

function kubeconfigAdvice(message: string, options: ApiCommandOptions): string {
  const yamlHint =
    options.parseKubeconfig === undefined && /cannot be parsed/.test(message)
      ? ' (this build of elasticai reads JSON kubeconfigs only: use the elasticai package, or pass --url and --token)'
      : '';
  return `${message}${yamlHint}`;
}

/** The API's error body. */
interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string };
}

/** An answer from the runtime. */
export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** A non-2xx answer the command may want to handle itself (e.g. 404 `no-override`). */
export class ApiStatusError extends RunError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ApiStatusError';
  }
}

/** Per-call advice for answers that depend on what was asked. */
export interface CallAdvice {
  /** Added to a 404's message (e.g. "run `elasticai status` to list the workloads"). */
  readonly notFound?: string;
  /** Added to a 403's message. */
  readonly forbidden?: string;
}

/** Longest wait for one answer (the recommendations route itself waits up to 20 s for Prometheus). */
export const API_TIMEOUT_MS = 30_000;

export class ApiClient {
  private warned = false;

  constructor(
    readonly target: ApiTarget,
    private readonly io: CommandIo,
    private readonly timeoutMs = API_TIMEOUT_MS,
  ) {}

  /** `path` is relative to the base URL (`api/v1/workloads`). */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    advice: CallAdvice = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(path, this.target.url);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token !== undefined) {
      headers.authorization = `Bearer ${this.target.token}`;
      this.warnPlaintext(url);
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new RunError(this.unreachable(err));
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new RunError(
          `unexpected answer from ${url.origin}${url.pathname} (HTTP ${response.status}, ${response.headers.get('content-type') ?? 'no content type'}, not JSON): ` +
            `is ${this.target.urlFrom} the runtime's HTTP API (port 8080)?`,
        );
      }
    }
    if (response.ok) return { status: response.status, body: parsed as T };
    throw this.failure(response, parsed as ErrorBody | undefined, advice);
  }

  private warnPlaintext(url: URL): void {
    if (this.warned || url.protocol !== 'http:' || LOOPBACK.test(url.hostname)) return;
    this.warned = true;
    this.io.stderr(
      `warning: sending a bearer token (${this.target.tokenFrom ?? 'given'}) over plain http to ${url.host}; use https or a port-forward to 127.0.0.1\n`,
    );
  }

  private unreachable(err: unknown): string {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const name = (err as { name?: string }).name;
    const where = `the runtime at ${this.target.url.href} (from ${this.target.urlFrom})`;
    if (name === 'TimeoutError') return `${where} did not answer within ${this.timeoutMs / 1000} s`;
    const code = cause?.code ?? (err instanceof Error ? err.message : String(err));
    return (
      `cannot reach ${where}: ${code}. Check the URL; from outside the cluster run ` +
      '`kubectl -n elasticai-system port-forward svc/elasticai-runtime 8080:8080` and pass --url http://127.0.0.1:8080'
    );
  }

  private failure(response: Response, body: ErrorBody | undefined, advice: CallAdvice): ApiStatusError {
    const status = response.status;
    const code = body?.error?.code;
    const said = body?.error?.message ?? response.statusText;
    const t = this.target;
    let message: string;
    switch (status) {
      case 401:
        message =
          t.token === undefined
            ? `the runtime needs credentials (401: ${said}): pass --token or set ELASTICAI_TOKEN (an API key or a Kubernetes token)` +
              (t.tokenMissing ? `; ${t.tokenMissing}` : '')
            : `the runtime refused the ${t.tokenFrom} (401: ${said}): pass --token or set ELASTICAI_TOKEN to a valid API key or a Kubernetes token of the runtime's cluster`;
        break;
      case 403:
        message = `not allowed (403): ${said}${advice.forbidden ? `; ${advice.forbidden}` : ''}`;
        break;
      case 404:
        message = `${said} (404)${advice.notFound ? `; ${advice.notFound}` : ''}`;
        break;
      case 429: {
        const retry = response.headers.get('retry-after');
        message = `rate limited by the runtime (429)${retry ? `: retry in ${retry} s` : ''}`;
        break;
      }
      default:
        // 400 names the bad field, 422 the refused value (a tenant's cap): the runtime's words say it.
        message = status >= 500 ? `the runtime could not answer (${status}: ${said})` : `${said} (${status})`;
    }
    return new ApiStatusError(message, status, code);
  }
}

/** The `NS/NAME` argument of a workload, checked as the API checks it. */
export function parseWorkloadRef(text: string): { namespace: string; name: string } {
  const m =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/.exec(
      text,
    );
  if (!m || (m[1] as string).length > 63 || (m[3] as string).length > 253) {
    throw new UsageError(
      `NS/NAME must be a namespace and a ScaledObject name, e.g. shop/checkout (got "${text}")`,
    );
  }
  return { namespace: m[1] as string, name: m[3] as string };
}

/** `api/v1/workloads/<ns>/<name>` (+ `suffix`). */
export function workloadPath(ref: { namespace: string; name: string }, suffix = ''): string {
  return `api/v1/workloads/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}${suffix}`;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
