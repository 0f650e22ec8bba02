/**
 * Authorisation of requests to the Prometheus HTTP API, one scheme per `PrometheusConfig.auth`:
 *
 * - `none`: no header.
 * - `bearer`: `Authorization: Bearer <token>`, the token read from `tokenFile` on every request (trimmed),
 *   so rotated projected service-account tokens are picked up without a restart.
 * - `aws-sigv4`: Amazon Managed Prometheus. SigV4 (service `aps`, the configured region) over the method,
 *   host, path, query and the exact body sent; credentials from the AWS default provider chain (which
 *   covers IRSA web identity) unless injected.
 * - `azure`: Azure Monitor workspace. An Entra token for `https://prometheus.monitor.azure.com/.default`
 *   from `DefaultAzureCredential` (workload identity on AKS) unless injected, cached until shortly before
 *   it expires.
 *
 * Nothing here puts a token, key or signature in an error message.
 */
import { readFile } from 'node:fs/promises';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { PrometheusAuthKind, PrometheusConfig } from '../config.js';

/** The Entra scope of the Azure Monitor workspace query API. */
export const AZURE_PROMETHEUS_SCOPE = 'https://prometheus.monitor.azure.com/.default';

/** The SigV4 service name of Amazon Managed Prometheus. */
export const AMP_SIGNING_SERVICE = 'aps';

/** A request about to be sent: what a scheme may need to sign. The body is sent exactly as given. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; sent as they are (the scheme's headers are added on top). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Adds authorisation to requests. */
export interface RequestAuthorizer {
  readonly kind: PrometheusAuthKind;
  /** The headers to add to `request` (lower-case names). Throws AuthError when it cannot authorise. */
  headersFor(request: OutgoingRequest, signal?: AbortSignal): Promise<Record<string, string>>;
}

/** The request could not be authorised (missing token file, no credentials). Never holds a secret. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** AWS credentials as the SigV4 signer takes them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Resolves AWS credentials; expected to cache and refresh them itself (the default chain does). */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export interface PrometheusAuthOptions {
  /** @default the AWS SDK's `defaultProvider()` (environment, IRSA web identity, profiles, IMDS) */
  readonly awsCredentials?: AwsCredentialProvider;
  /** @default `new DefaultAzureCredential()` */
  readonly azureCredential?: TokenCredential;
  /** Epoch milliseconds: the SigV4 signing date and the Azure token expiry check. @default Date.now */
  readonly clock?: () => number;
  /** How long before an Azure token's expiry a new one is fetched. @default 5 minutes */
  readonly azureRefreshMarginMs?: number;
}

/** Builds the authorizer for `config.auth`; throws when the config lacks what the scheme needs. */
export function createPrometheusAuthorizer(
  config: PrometheusConfig,
  options: PrometheusAuthOptions = {},
): RequestAuthorizer {
  const clock = options.clock ?? Date.now;
  switch (config.auth) {
    case 'none':
      return { kind: 'none', headersFor: () => Promise.resolve({}) };
    case 'bearer':
      if (config.tokenFile === undefined) throw new AuthError('bearer authorisation needs a token file');
      return new BearerFileAuthorizer(config.tokenFile);
    case 'aws-sigv4':
      if (config.awsRegion === undefined) throw new AuthError('aws-sigv4 authorisation needs an AWS region');
      return new SigV4Authorizer(config.awsRegion, options.awsCredentials ?? defaultAwsCredentials(), clock);
    case 'azure':
      return new AzureTokenAuthorizer(
        options.azureCredential ?? lazyDefaultAzureCredential(),
        clock,
        options.azureRefreshMarginMs ?? 5 * 60_000,
      );
  }
}

/** `Authorization: Bearer` with the token file's content, read on every request. */
export class BearerFileAuthorizer implements RequestAuthorizer {
  readonly kind = 'bearer';

  constructor(private readonly tokenFile: string) {}

  async headersFor(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.tokenFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
      throw new AuthError(`bearer token file ${this.tokenFile} ${why}`);
    }
    const token = text.trim();
    if (token === '') throw new AuthError(`bearer token file ${this.tokenFile} is empty`);
    // Visible ASCII only: anything else cannot go in a header (and a stray newline would split it).
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new AuthError(`bearer token file ${this.tokenFile} holds characters not allowed in a token`);
    }
    return { authorization: `Bearer ${token}` };
  }
}

/** SigV4 for Amazon Managed Prometheus: signs method, host, path, query, headers and the exact body. */
export class SigV4Authorizer implements RequestAuthorizer {
  readonly kind = 'aws-sigv4';
  private readonly signer: SignatureV4;

  constructor(
    region: string,
    credentials: AwsCredentialProvider,
    private readonly clock: () => number = Date.now,
  ) {
    this.signer = new SignatureV4({
      service: AMP_SIGNING_SERVICE,
      region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: true,
      applyChecksum: true,
    });
  }

  async headersFor(request: OutgoingRequest): Promise<Record<string, string>> {
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    let signed: { headers: Record<string, string> };
    try {
      signed = await this.signer.sign(
        {
          method: request.method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port === '' ? {} : { port: Number(url.port) }),
          path: url.pathname,
          query,
          // fetch sends Host as url.host (the port only when it is not the scheme's default)
          headers: { ...request.headers, host: url.host },
          body: request.body,
        },
        { signingDate: new Date(this.clock()) },
      );
    } catch (e) {
      throw new AuthError(`cannot sign the request with AWS credentials: ${describe(e)}`);
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // Host comes from the URL; the request's own headers are already there.
      if (name.toLowerCase() === 'host' || name in request.headers) continue;
      out[name.toLowerCase()] = value;
    }
    return out;
  }
}

/** An Entra bearer token for the Azure Monitor workspace, cached until shortly before expiry. */
export class AzureTokenAuthorizer implements RequestAuthorizer {
  readonly kind = 'azure';
  private cached: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;

  constructor(
    private readonly credential: TokenCredential,
    private readonly clock: () => number = Date.now,
    private readonly refreshMarginMs = 5 * 60_000,
  ) {}

  async headersFor(_request: OutgoingRequest, signal?: AbortSignal): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.token(signal)}` };
  }

  private async token(signal?: AbortSignal): Promise<string> {
    const now = this.clock();
    const cached = this.cached;
    if (cached !== undefined && now < this.refreshAt(cached)) return cached.token;
    // One fetch at a time, shared by concurrent requests; a caller's abort only stops its own wait.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    try {
      return (await abortable(this.pending, signal)).token;
    } catch (e) {
      // A failed refresh is no reason to stop using a token that has not expired yet.
      if (!signal?.aborted && cached !== undefined && this.clock() < cached.expiresOnTimestamp) {
        return cached.token;
      }
      throw e;
    }
  }

  private refreshAt(token: AccessToken): number {
    return Math.min(token.refreshAfterTimestamp ?? Infinity, token.expiresOnTimestamp - this.refreshMarginMs);
  }

  private async fetchToken(): Promise<AccessToken> {
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(AZURE_PROMETHEUS_SCOPE);
    } catch (e) {
      throw new AuthError(`cannot get an Entra token for ${AZURE_PROMETHEUS_SCOPE}: ${describe(e)}`);
    }
    if (token === null || typeof token.token !== 'string' || token.token === '') {
      throw new AuthError(`the Azure credential returned no token for ${AZURE_PROMETHEUS_SCOPE}`);
    }
    this.cached = token;
    return token;
  }
}

/** The AWS default credential chain, loaded on first use (the SDK is only needed for aws-sigv4). */
function defaultAwsCredentials(): AwsCredentialProvider {
  let provider: AwsCredentialProvider | undefined;
  return async () => {
    if (provider === undefined) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      provider = defaultProvider();
    }
    return provider();
  };
}

/** `DefaultAzureCredential`, created on first use (the SDK is only needed for azure). */
function lazyDefaultAzureCredential(): TokenCredential {
  let credential: TokenCredential | undefined;
  return {
    async getToken(scopes, options) {
      if (credential === undefined) {
        const { DefaultAzureCredential } = await import('@azure/identity');
        credential = new DefaultAzureCredential();
      }
      return credential.getToken(scopes, options);
    },
  };
}

/** Waits for `p` unless `signal` aborts first (then rejects with the signal's reason). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A credential library's error as one short line (their messages name providers, not secrets). */
function describe(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
