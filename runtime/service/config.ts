/**
 * The decision runtime's process configuration: environment variables (set by the DecisionRuntime
 * construct from typed props) and mounted files. One place names every variable, its default and its
 * check, so the construct and the service cannot drift apart. A bad value stops the process at start
 * with the variable's name; nothing falls back silently.
 */

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';

/** How the runtime authenticates to the Prometheus HTTP API. */
export type PrometheusAuthKind = 'none' | 'bearer' | 'aws-sigv4' | 'azure';

/** Who may call the read endpoints (`GET /api/...`). State-changing endpoints always need a caller. */
export type ReadAccess = 'anonymous' | 'authenticated';

/** A tenant: the namespaces its workloads live in and the most replicas any one of them may get. */
export interface TenantLimits {
  readonly name: string;
  readonly namespaces: readonly string[];
  readonly maxReplicas: number;
}

export interface PrometheusConfig {
  /** Base URL of the Prometheus HTTP API (…/api/v1 is appended), e.g. an AMP workspace URL. */
  readonly url: string;
  readonly auth: PrometheusAuthKind;
  /** Bearer token file (re-read on every request, so rotated tokens are picked up). */
  readonly tokenFile?: string;
  /** AWS region of an Amazon Managed Prometheus workspace (SigV4 signing). */
  readonly awsRegion?: string;
  /** Per-request timeout; the gRPC path never waits on it. */
  readonly timeoutMs: number;
}

export interface RuntimeConfig {
  readonly listenHost: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Absent: the webhook is the only history source. */
  readonly prometheus?: PrometheusConfig;
  /** History each workload's engine learns from. */
  readonly historySeconds: number;
  /** Points younger than this are not used yet, so every replica sees the same settled values. */
  readonly settleSeconds: number;
  /** Engines are rebuilt from a fresh backfill at multiples of this (same anchor on every replica). */
  readonly refitEpochSeconds: number;
  /** How long the last good decision is served while the source fails, before holding. */
  readonly staleAfterSeconds: number;
  readonly readAccess: ReadAccess;
  /** Folder of a mounted Secret: each file is one API key, its name the key's id. */
  readonly apiKeysDir?: string;
  /** Authenticate bearer tokens with Kubernetes TokenReview + SubjectAccessReview. */
  readonly tokenReview: boolean;
  /** File with the HMAC-SHA256 secret of the event webhook; absent: webhook disabled. */
  readonly webhookSecretFile?: string;
  /** Folders with tls.crt / tls.key (and ca.crt to require client certificates). */
  readonly grpcTlsDir?: string;
  readonly httpTlsDir?: string;
  readonly tenants: readonly TenantLimits[];
  readonly rateLimitPerMinute: number;
  readonly bodyLimitBytes: number;
  /** Where the runtime runs (downward API): Lease holder identity and namespace. */
  readonly podName: string;
  readonly namespace: string;
  /** Kubernetes API base URL; absent: in-cluster (KUBERNETES_SERVICE_HOST) when there, else none. */
  readonly kubeApiUrl?: string;
  /** Grace period for draining gRPC and HTTP on SIGTERM. */
  readonly shutdownGraceMs: number;
  /**
   * Virtual seconds per wall-clock second, for replaying a time-compressed trace (demos, integration
   * tests): the engine sees the trace's own intervals and seasons. 1 in production.
   */
  readonly timeScale: number;
  /**
   * Memory limit (MiB) new workloads are admitted against (see memory-guard.ts); 0: admit every
   * workload. Absent: the container's cgroup limit, when it has one.
   */
  readonly memoryLimitMiB?: number;
}

/** Every variable the runtime reads. The construct imports this to set them. */
export const ENV = {
  listenHost: 'ELASTICAI_LISTEN_HOST',
  grpcPort: 'ELASTICAI_GRPC_PORT',
  httpPort: 'ELASTICAI_HTTP_PORT',
  prometheusUrl: 'ELASTICAI_PROMETHEUS_URL',
  prometheusAuth: 'ELASTICAI_PROMETHEUS_AUTH',
  prometheusTokenFile: 'ELASTICAI_PROMETHEUS_TOKEN_FILE',
  prometheusAwsRegion: 'ELASTICAI_PROMETHEUS_AWS_REGION',
  prometheusTimeoutMs: 'ELASTICAI_PROMETHEUS_TIMEOUT_MS',
  historyDays: 'ELASTICAI_HISTORY_DAYS',
  settleSeconds: 'ELASTICAI_SETTLE_SECONDS',
  refitEpochSeconds: 'ELASTICAI_REFIT_EPOCH_SECONDS',
  staleAfterSeconds: 'ELASTICAI_STALE_AFTER_SECONDS',
  readAccess: 'ELASTICAI_READ_ACCESS',
  apiKeysDir: 'ELASTICAI_API_KEYS_DIR',
  tokenReview: 'ELASTICAI_TOKEN_REVIEW',
  webhookSecretFile: 'ELASTICAI_WEBHOOK_SECRET_FILE',
  grpcTlsDir: 'ELASTICAI_GRPC_TLS_DIR',
  httpTlsDir: 'ELASTICAI_HTTP_TLS_DIR',
  tenants: 'ELASTICAI_TENANTS',
  rateLimitPerMinute: 'ELASTICAI_RATE_LIMIT_PER_MINUTE',
  bodyLimitBytes: 'ELASTICAI_BODY_LIMIT_BYTES',
  podName: 'ELASTICAI_POD_NAME',
  namespace: 'ELASTICAI_NAMESPACE',
  kubeApiUrl: 'ELASTICAI_KUBE_API_URL',
  shutdownGraceMs: 'ELASTICAI_SHUTDOWN_GRACE_MS',
  timeScale: 'ELASTICAI_TIME_SCALE',
  memoryLimitMiB: 'ELASTICAI_MEMORY_LIMIT_MIB',
} as const;

/** Documented defaults (README's settings table repeats them). */
export const DEFAULTS = {
  listenHost: '0.0.0.0',
  grpcPort: 9090,
  httpPort: 8080,
  prometheusTimeoutMs: 1500,
  historyDays: 14,
  settleSeconds: 30,
  refitEpochSeconds: 86_400,
  staleAfterSeconds: 300,
  readAccess: 'authenticated' as ReadAccess,
  rateLimitPerMinute: 600,
  bodyLimitBytes: 65_536,
  shutdownGraceMs: 10_000,
} as const;

/** A bad configuration value; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    value: unknown,
    reason: string,
  ) {
    super(`${variable}: ${reason} (got ${JSON.stringify(value)})`);
    this.name = 'ConfigError';
  }
}

/** Environment variables (process.env or a test's record). */
export type Env = Readonly<Record<string, string | undefined>>;

/** `name`'s value, trimmed; undefined when unset or blank. */
export function text(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `name` as an integer in [min, max], `fallback` when unset; anything else is a ConfigError. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new ConfigError(name, raw, `must be an integer in [${min}, ${max}]`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, raw, `must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function url(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  return raw === undefined ? undefined : httpUrl(name, raw);
}

/** `raw` checked as an absolute http(s) URL (for the message: `name`), without trailing slashes. */
export function httpUrl(name: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, raw, 'must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, raw, 'must be an absolute http(s) URL');
  }
  return raw.replace(/\/+$/, '');
}

/**
 * `name` as an address to listen on: an IP address or a host name (an all-numeric last label, as in
 * 999.1.1.1, is a mistyped IPv4 address, not a name).
 */
export function listenAddress(env: Env, name: string, fallback: string): string {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (isIP(raw) !== 0) return raw;
  const labels = raw.split('.');
  const hostname =
    raw.length <= 253 &&
    labels.every((l) => /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(l)) &&
    !/^\d+$/.test(labels[labels.length - 1] as string);
  if (!hostname) throw new ConfigError(name, raw, 'must be an IP address or a host name');
  return raw;
}

/** A mounted file's bytes; a ConfigError naming `variable` (whose value is `value`) when unreadable. */
export function mountedFile(variable: string, value: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ConfigError(variable, value, `cannot read ${path} (${e.code ?? e.message})`);
  }
}

/** A mounted secret or token file `variable` names, checked readable and not blank. */
export function checkSecretFile(variable: string, path: string): void {
  if (mountedFile(variable, path, path).toString('utf8').trim() === '') {
    throw new ConfigError(variable, path, 'the file is empty');
  }
}

/**
 * A server's failure to listen as the setting at fault: the host (cannot be resolved or is not this
 * machine's) or the port (taken, or privileged). Anything else is returned as it is.
 */
export function listenFailure(
  error: unknown,
  host: { variable: string; value: string },
  port: { variable: string; value: number },
): unknown {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL' || code === 'EAI_FAIL') {
    return new ConfigError(host.variable, host.value, `cannot listen there (${message})`);
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return new ConfigError(port.variable, String(port.value), `cannot listen there (${message})`);
  }
  return error;
}

/**
 * `tls.crt`, `tls.key` and, when `withCa` and present, `ca.crt` of the folder `variable` names, checked
 * as a usable pair; a ConfigError naming the variable otherwise.
 */
export function tlsFolder(
  variable: string,
  dir: string,
  withCa: boolean,
): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const cert = mountedFile(variable, dir, join(dir, 'tls.crt'));
  const key = mountedFile(variable, dir, join(dir, 'tls.key'));
  let ca: Buffer | undefined;
  if (withCa) {
    try {
      ca = readFileSync(join(dir, 'ca.crt'));
    } catch (error) {
      // No ca.crt: no client certificates asked for. Any other failure is the mount's.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') mountedFile(variable, dir, join(dir, 'ca.crt'));
    }
  }
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (error) {
    throw new ConfigError(variable, dir, `not a usable certificate and key (${(error as Error).message})`);
  }
  return { cert, key, ...(ca ? { ca } : {}) };
}

/**
 * Checks at start the files the configuration names, which are read again later (a rotated Secret is
 * picked up): a missing or unusable mount stops the process naming its variable instead of failing
 * every request that needs it. The API key folder is checked when its store is built (runtime.ts).
 */
export function checkMountedFiles(config: RuntimeConfig): void {
  if (config.webhookSecretFile !== undefined)
    checkSecretFile(ENV.webhookSecretFile, config.webhookSecretFile);
  if (config.grpcTlsDir !== undefined) tlsFolder(ENV.grpcTlsDir, config.grpcTlsDir, true);
  if (config.httpTlsDir !== undefined) tlsFolder(ENV.httpTlsDir, config.httpTlsDir, false);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Parses `ELASTICAI_TENANTS`: a JSON array of {name, namespaces, maxReplicas}. */
export function parseTenants(raw: string | undefined, variable: string = ENV.tenants): TenantLimits[] {
  if (raw === undefined || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(variable, raw, 'must be a JSON array of {name, namespaces, maxReplicas}');
  }
  if (!Array.isArray(value)) throw new ConfigError(variable, value, 'must be a JSON array');
  const seen = new Map<string, string>();
  return value.map((t: unknown, i) => {
    const where = `${variable}[${i}]`;
    const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || !DNS_LABEL.test(o.name)) {
      throw new ConfigError(`${where}.name`, o.name, 'must be a DNS label');
    }
    if (!Array.isArray(o.namespaces) || o.namespaces.length === 0) {
      throw new ConfigError(`${where}.namespaces`, o.namespaces, 'must be a non-empty array of namespaces');
    }
    for (const ns of o.namespaces) {
      if (typeof ns !== 'string' || !DNS_LABEL.test(ns)) {
        throw new ConfigError(`${where}.namespaces`, ns, 'must be a namespace name');
      }
      const owner = seen.get(ns);
      if (owner !== undefined) {
        throw new ConfigError(`${where}.namespaces`, ns, `already belongs to tenant ${owner}`);
      }
      seen.set(ns, o.name);
    }
    if (typeof o.maxReplicas !== 'number' || !Number.isInteger(o.maxReplicas) || o.maxReplicas < 1) {
      throw new ConfigError(`${where}.maxReplicas`, o.maxReplicas, 'must be an integer ≥ 1');
    }
    return { name: o.name, namespaces: o.namespaces as string[], maxReplicas: o.maxReplicas };
  });
}

/** Reads and checks the configuration; throws ConfigError naming the first bad variable. */
export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const prometheusUrl = url(env, ENV.prometheusUrl);
  const auth = oneOf<PrometheusAuthKind>(
    env,
    ENV.prometheusAuth,
    ['none', 'bearer', 'aws-sigv4', 'azure'],
    'none',
  );
  const tokenFile = text(env, ENV.prometheusTokenFile);
  const awsRegion = text(env, ENV.prometheusAwsRegion);
  if (prometheusUrl === undefined && auth !== 'none') {
    throw new ConfigError(ENV.prometheusAuth, auth, `needs ${ENV.prometheusUrl}`);
  }
  if (auth === 'bearer' && tokenFile === undefined) {
    throw new ConfigError(
      ENV.prometheusTokenFile,
      tokenFile,
      `is required when ${ENV.prometheusAuth}=bearer`,
    );
  }
  if (auth === 'aws-sigv4' && (awsRegion === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(awsRegion))) {
    throw new ConfigError(
      ENV.prometheusAwsRegion,
      awsRegion,
      `must be an AWS region when ${ENV.prometheusAuth}=aws-sigv4`,
    );
  }
  const prometheus: PrometheusConfig | undefined =
    prometheusUrl === undefined
      ? undefined
      : {
          url: prometheusUrl,
          auth,
          ...(tokenFile === undefined ? {} : { tokenFile }),
          ...(awsRegion === undefined ? {} : { awsRegion }),
          timeoutMs: int(env, ENV.prometheusTimeoutMs, DEFAULTS.prometheusTimeoutMs, 100, 60_000),
        };
  const tokenReviewRaw = oneOf(env, ENV.tokenReview, ['true', 'false'], 'true');
  const optional = (name: string): Record<string, string> => {
    const v = text(env, name);
    return v === undefined ? {} : { [name]: v };
  };
  const files = {
    ...optional(ENV.apiKeysDir),
    ...optional(ENV.webhookSecretFile),
    ...optional(ENV.grpcTlsDir),
    ...optional(ENV.httpTlsDir),
  };
  const kubeApiUrl = url(env, ENV.kubeApiUrl);
  const config: RuntimeConfig = {
    listenHost: listenAddress(env, ENV.listenHost, DEFAULTS.listenHost),
    grpcPort: int(env, ENV.grpcPort, DEFAULTS.grpcPort, 0, 65_535),
    httpPort: int(env, ENV.httpPort, DEFAULTS.httpPort, 0, 65_535),
    ...(prometheus === undefined ? {} : { prometheus }),
    historySeconds: int(env, ENV.historyDays, DEFAULTS.historyDays, 1, 90) * 86_400,
    settleSeconds: int(env, ENV.settleSeconds, DEFAULTS.settleSeconds, 0, 3_600),
    refitEpochSeconds: int(env, ENV.refitEpochSeconds, DEFAULTS.refitEpochSeconds, 60, 7 * 86_400),
    staleAfterSeconds: int(env, ENV.staleAfterSeconds, DEFAULTS.staleAfterSeconds, 0, 86_400),
    readAccess: oneOf<ReadAccess>(env, ENV.readAccess, ['anonymous', 'authenticated'], DEFAULTS.readAccess),
    tokenReview: tokenReviewRaw === 'true',
    tenants: parseTenants(text(env, ENV.tenants)),
    rateLimitPerMinute: int(env, ENV.rateLimitPerMinute, DEFAULTS.rateLimitPerMinute, 1, 1_000_000),
    bodyLimitBytes: int(env, ENV.bodyLimitBytes, DEFAULTS.bodyLimitBytes, 1_024, 10_485_760),
    podName: text(env, ENV.podName) ?? 'elasticai-runtime-local',
    namespace: text(env, ENV.namespace) ?? 'elasticai-system',
    ...(kubeApiUrl === undefined ? {} : { kubeApiUrl }),
    shutdownGraceMs: int(env, ENV.shutdownGraceMs, DEFAULTS.shutdownGraceMs, 0, 300_000),
    timeScale: int(env, ENV.timeScale, 1, 1, 100_000),
  };
  const memoryLimitMiB = text(env, ENV.memoryLimitMiB);
  return {
    ...config,
    ...(memoryLimitMiB === undefined
      ? {}
      : { memoryLimitMiB: int(env, ENV.memoryLimitMiB, 0, 0, 1_048_576) }),
    ...(files[ENV.apiKeysDir] ? { apiKeysDir: files[ENV.apiKeysDir] } : {}),
    ...(files[ENV.webhookSecretFile] ? { webhookSecretFile: files[ENV.webhookSecretFile] } : {}),
    ...(files[ENV.grpcTlsDir] ? { grpcTlsDir: files[ENV.grpcTlsDir] } : {}),
    ...(files[ENV.httpTlsDir] ? { httpTlsDir: files[ENV.httpTlsDir] } : {}),
  };
}
