/**
 * The runtime's HTTP API (fastify): probes, Prometheus metrics, the workload and recommendation API for
 * the dashboard and operators, manual overrides, and the signed event webhook.
 *
 * | route | answers |
 * |---|---|
 * | `GET /healthz` | 200 while the process runs |
 * | `GET /readyz` | 200 when the readiness callback says so; 503 with the reason otherwise and from shutdown on |
 * | `GET /metrics` | the prom-client registry in the Prometheus text format |
 * | `GET /api/v1/workloads[?namespace=]` | the workloads the caller may list |
 * | `GET /api/v1/workloads/:namespace/:name` | status, chart, decision log and full explanation; 404 unknown |
 * | `GET /api/v1/workloads/:namespace/:name/override` | the override; 404 when none |
 * | `POST /api/v1/workloads/:namespace/:name/override` | `{replicas, durationSeconds?}`: 201 set, 200 replaced |
 * | `DELETE /api/v1/workloads/:namespace/:name/override` | no body: 204 cleared |
 * | `POST /api/v1/workloads/:namespace/:name/wake` | no body: 202 woken (the scale-to-zero resolver) |
 * | `GET /api/v1/recommendations[?namespace=]` | container right-sizing |
 * | `POST /api/v1/events/<stream>` | signed events: 202 |
 * | `GET /api/v1/stream[?namespace=]` | decisions as server-sent events (routes-stream.ts) |
 * | `GET /dashboard/` (`/` redirects) | the dashboard's page, script and stylesheet (routes-dashboard.ts) |
 *
 * Errors are `{ "error": { "code", "message" } }`, fastify's and Node's own refusals included: 400
 * invalid input (the message names the field; also a malformed path or request), 401 no or bad
 * credentials (`WWW-Authenticate: Bearer`; the webhook's: bad or stale signature), 403 not allowed,
 * 404 unknown, 408 a request not received in time, 413 body over `bodyLimitBytes`, 414 a path parameter
 * over 253 characters, 415 a body that is not JSON, 422 an override above the tenant's cap, 429 over
 * `rateLimitPerMinute` per client address (`Retry-After`), 431 headers over Node's limit, 502/503 a
 * dependency (Kubernetes API, usage source, authenticator) failed, 503 while the server closes.
 * Probes and `/metrics` are never rate limited or authenticated (the NetworkPolicy decides who reaches
 * them). Every answer is counted in `elasticai_http_requests_total{route="<METHOD> <pattern>",status}`.
 */
import { readFile, stat } from 'node:fs/promises';
import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import { AccessControl } from './access.js';
import type { ApiServerDeps } from './api-deps.js';
import { ApiError } from './api-error.js';
import { registerDashboardRoutes } from './routes-dashboard.js';
import { registerEventRoutes } from './routes-events.js';
import { registerRecommendationRoutes } from './routes-recommendations.js';
import { registerStreamRoutes } from './routes-stream.js';
import { registerWorkloadRoutes } from './routes-workloads.js';
import { MAX_NAME_LENGTH, MAX_NAMESPACE_LENGTH } from './schemas.js';

export type {
  ApiServerDeps,
  DecisionFeed,
  OverrideRecord,
  OverrideStore,
  Readiness,
  StreamOptions,
} from './api-deps.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes no body: an empty one labelled JSON is let through to its check. */
    bodyless?: boolean;
  }
}

/** TLS material of an HTTPS server. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface CreateOptions {
  /** Serve HTTPS with this certificate and key. */
  readonly https?: TlsMaterial;
}

/**
 * Longest path parameter the router passes on (fastify's default is 100). find-my-way measures the
 * decoded value, so a percent-encoded name needs no more.
 */
export const MAX_PARAM_LENGTH = Math.max(MAX_NAME_LENGTH, MAX_NAMESPACE_LENGTH);

/** Routes that are never rate limited nor authenticated. */
const OPEN = { config: { rateLimit: false } } as const;

/** What fastify's own errors become. */
function fromFastifyError(error: FastifyError, bodyLimit: number, perMinute: number): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'body-too-large', `body: larger than the limit of ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported-media-type', 'Content-Type: must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'invalid-json', 'body: not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid-json', 'body: empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'bad-request', 'Content-Length: does not match the body');
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'invalid-path', 'path: malformed percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(
        414,
        'uri-too-long',
        `path: a parameter is longer than ${MAX_PARAM_LENGTH} characters`,
      );
    default:
      break;
  }
  if (error.statusCode === 429) {
    return new ApiError(
      429,
      'rate-limited',
      `too many requests: at most ${perMinute} per minute per client; see Retry-After`,
    );
  }
  return undefined;
}

/** Headers of every answer, the API's own and the ones written before fastify sees a request. */
const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

/** What a request Node's HTTP parser refused becomes (it never reaches fastify). */
function fromClientError(error: NodeJS.ErrnoException & { reason?: string }): ApiError {
  const why = `${error.code ?? 'unknown'}${error.reason ? `: ${error.reason}` : ''}`;
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'request-timeout', 'request: not received within the time limit');
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'headers-too-large', `headers: larger than ${maxHeaderSize} bytes`);
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new ApiError(400, 'bad-request', `Content-Length: not valid (${why})`);
    case 'HPE_INVALID_METHOD':
    case 'HPE_CLOSED_CONNECTION':
      // What follows a body longer than its Content-Length is parsed as the next request.
      return new ApiError(
        400,
        'bad-request',
        `request: bytes after the end of a request (${why}); is the body longer than its Content-Length?`,
      );
    default:
      return new ApiError(400, 'bad-request', `request: not valid HTTP/1.1 (${why})`);
  }
}

/** An answer in the API's shape written straight to a socket: no request object exists. */
function rawAnswer(answer: ApiError): string {
  const body = JSON.stringify(answer.body);
  const headers = {
    ...COMMON_HEADERS,
    ...answer.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ''}\r\n${lines.join('')}\r\n${body}`;
}

/**
 * Fastify's lines for every request and every 404 off: they would drown the audit lines (overrides set
 * and cleared, webhook deliveries). Its error and warning lines stay.
 */
class QuietRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) super.requestCompleted(error, request, reply);
  }

  override routeNotFound(): void {}
}

/** Builds the API server (not listening; use `inject` in tests or `startApiServer`). */
export function createApiServer(deps: ApiServerDeps, options: CreateOptions = {}): FastifyInstance {
  const { config, metrics } = deps;
  if (config.webhookSecretFile !== undefined && !deps.events) {
    throw new Error(
      'createApiServer: config.webhookSecretFile is set but no EventStore (deps.events) was given',
    );
  }
  const requestTimeout = deps.requestTimeoutMs ?? 30_000;
  const timeouts = {
    requestTimeout,
    connectionsCheckingInterval: Math.min(5_000, Math.max(50, requestTimeout / 4)),
  };
  const app = Fastify({
    logger: deps.logger ?? false,
    logController: new QuietRequestLog(),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout,
    // Node 20 only applies a request timeout given to createServer (fastify sets it afterwards), and
    // looks for timed-out requests every 30 s by default: a quarter of the timeout, at most 5 s.
    http: timeouts,
    // Answered by the onRequest hook below in the API's shape.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's refusals (bad percent-encoding, an over-long parameter) bypass the error handler
    // and the hooks: answered here in the API's shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const answer =
        fromFastifyError(error, config.bodyLimitBytes, config.rateLimitPerMinute) ??
        new ApiError(500, 'internal', 'internal error (logged by the runtime)');
      if (answer.statusCode >= 500) reply.log.error({ err: error }, 'unexpected router error');
      metrics.httpRequests.inc({ route: 'unmatched', status: String(answer.statusCode) });
      void reply
        .code(answer.statusCode)
        .headers({ ...COMMON_HEADERS, ...answer.headers })
        .send(answer.body);
    },
    // Requests Node's HTTP parser refuses never become requests: answered on the socket.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket: Socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const answer = fromClientError(error);
      metrics.httpRequests.inc({ route: 'unmatched', status: String(answer.statusCode) });
      if (socket.writable) socket.write(rawAnswer(answer));
      socket.destroy(error);
    },
    ...(options.https
      ? {
          https: {
            cert: options.https.cert,
            key: options.https.key,
            minVersion: 'TLSv1.2',
            ...timeouts,
          },
        }
      : {}),
  }) as unknown as FastifyInstance;
  const access = new AccessControl(deps.authenticator, config.readAccess);

  // JSON only: every other media type is a 415. The raw bytes are kept for the webhook's signature.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  // fastify's own parser (secure-json-parse: refuses __proto__ / constructor poisoning) takes buffers too.
  const jsonParser = app.getDefaultJsonParser('error', 'error') as unknown as (
    request: FastifyRequest,
    body: Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => void;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer);
    // A route that takes no body takes an empty one labelled JSON too (no body at all is never parsed).
    if (request.routeOptions.config.bodyless === true && (body as Buffer).length === 0) {
      return done(null, undefined);
    }
    jsonParser(request, body as Buffer, done);
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let answer =
      error instanceof ApiError
        ? error
        : fromFastifyError(error, config.bodyLimitBytes, config.rateLimitPerMinute);
    if (
      !answer &&
      typeof error.statusCode === 'number' &&
      error.statusCode >= 400 &&
      error.statusCode < 500
    ) {
      answer = new ApiError(error.statusCode, 'bad-request', error.message);
    }
    if (!answer) {
      request.log.error({ err: error }, 'unexpected error');
      answer = new ApiError(500, 'internal', 'internal error (logged by the runtime)');
    } else if (answer.statusCode >= 500) {
      request.log.warn({ err: answer.cause ?? answer, code: answer.code }, answer.message);
    }
    void reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.slice(0, 200) ?? '';
    void reply.code(404).send(new ApiError(404, 'not-found', `no route ${request.method} ${path}`).body);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(COMMON_HEADERS);
    return payload;
  });

  // Requests that arrive while the server closes (on a kept-alive connection) are refused.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ApiError(503, 'shutting-down', 'the runtime is shutting down');
  });

  app.addHook('onResponse', async (request, reply) => {
    const pattern = request.routeOptions.url;
    const route = pattern === undefined ? 'unmatched' : `${request.method} ${pattern}`;
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
  });

  void app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    // Fastify throws what this returns; the error handler turns it into the API's error shape.
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`rate limit exceeded, retry in ${context.after}`), {
        statusCode: context.statusCode,
      }),
  });

  void app.register(async (scope) => {
    scope.get('/healthz', OPEN, async () => ({ status: 'ok' }));

    scope.get('/readyz', OPEN, async (_request, reply) => {
      if (deps.shutdown?.aborted) {
        return reply.code(503).send(new ApiError(503, 'shutting-down', 'the runtime is shutting down').body);
      }
      const readiness = deps.readiness?.() ?? { ready: true };
      if (!readiness.ready) {
        return reply.code(503).send(new ApiError(503, 'not-ready', readiness.reason).body);
      }
      return { status: 'ready' };
    });

    scope.get('/metrics', OPEN, async (_request, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.registry.contentType).send(text);
    });

    registerWorkloadRoutes(scope, deps, access);
    registerRecommendationRoutes(scope, deps, access);
    registerEventRoutes(scope, deps, (request) => rawBodies.get(request));
    registerStreamRoutes(scope, deps, access);
    registerDashboardRoutes(scope);
  });

  return app;
}

export interface StartOptions {
  readonly host: string;
  readonly port: number;
  /** Folder with `tls.crt` and `tls.key` (a kubernetes.io/tls Secret): serve HTTPS. */
  readonly tlsDir?: string;
  /** How often the TLS files are checked for a renewed certificate. @default 60000 */
  readonly tlsReloadMs?: number;
}

export interface RunningApiServer {
  readonly app: FastifyInstance;
  /** `http(s)://host:port` actually bound (port 0 resolved). */
  readonly url: string;
  /** Stops accepting connections and waits for requests in flight. */
  close(): Promise<void>;
}

async function readTls(dir: string): Promise<TlsMaterial & { stamp: string }> {
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  const [cert, key, certStat, keyStat] = await Promise.all([
    readFile(certPath),
    readFile(keyPath),
    stat(certPath),
    stat(keyPath),
  ]);
  return { cert, key, stamp: `${certStat.mtimeMs}/${keyStat.mtimeMs}/${cert.length}/${key.length}` };
}

/**
 * Creates the server and listens. With `tlsDir`, serves HTTPS and picks up a renewed certificate
 * (cert-manager rewrites the Secret's files) without a restart.
 */
export async function startApiServer(deps: ApiServerDeps, options: StartOptions): Promise<RunningApiServer> {
  const tls = options.tlsDir === undefined ? undefined : await readTls(options.tlsDir);
  const app = createApiServer(deps, tls ? { https: tls } : {});
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let timer: NodeJS.Timeout | undefined;
  if (tls && options.tlsDir !== undefined) {
    const dir = options.tlsDir;
    let stamp = tls.stamp;
    timer = setInterval(() => {
      readTls(dir)
        .then((next) => {
          if (next.stamp === stamp) return;
          // Throws on a key that does not match the certificate (a half-written Secret): retried next time.
          (app.server as unknown as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
          stamp = next.stamp;
          app.log.info({ dir }, 'reloaded the HTTPS certificate');
        })
        .catch((error: unknown) =>
          app.log.warn({ err: error, dir }, 'cannot load the HTTPS certificate; keeping the current one'),
        );
    }, options.tlsReloadMs ?? 60_000);
    timer.unref();
  }
  return {
    app,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    async close() {
      if (timer) clearInterval(timer);
      await app.close();
    },
  };
}
