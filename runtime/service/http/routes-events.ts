/**
 * `POST /api/v1/events/<stream>`: the signed event webhook feeding the `webhook` history source.
 * Signature (over timestamp, stream and raw body) and timestamp are checked before the body or the
 * stream's form is looked at (401), then the body (400), then the events are added to the EventStore
 * (202 with what was stored), or, when the stream's buckets would have to grow past the runtime's memory
 * guard, none of them (503 with Retry-After: the batch can be sent again as it is). A repeated
 * delivery of an already accepted request (same signature within the replay window) is answered 202 with
 * `duplicate: true` and counted once. Without a configured secret the route answers 404.
 *
 * The stream is the rest of the path, so `ns/name` streams (the default stream of a workload) are posted
 * to `/api/v1/events/ns/name`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiServerDeps } from './api-deps.js';
import { ApiError } from './api-error.js';
import { check, emptyQuery, eventsBody, streamParams } from './schemas.js';
import {
  MAX_SKEW_SECONDS,
  ReplayGuard,
  SIGNATURE_HEADER,
  SecretFile,
  TIMESTAMP_HEADER,
  verifyWebhook,
} from './webhook-auth.js';

/** Retry-After of a batch refused for memory: the guard's picture changes as workloads settle or go. */
const NO_MEMORY_RETRY_SECONDS = 30;

export function registerEventRoutes(
  app: FastifyInstance,
  deps: ApiServerDeps,
  rawBodyOf: (request: FastifyRequest) => Buffer | undefined,
): void {
  const clock = deps.clock ?? Date.now;
  const secretFile = deps.config.webhookSecretFile;
  const events = deps.events;
  const secret = secretFile === undefined ? undefined : new SecretFile(secretFile, clock);
  const replays = new ReplayGuard();

  app.post('/api/v1/events/*', async (request, reply) => {
    if (!secret || !events) {
      throw new ApiError(
        404,
        'webhook-disabled',
        'the event webhook is disabled: no webhook secret is configured',
      );
    }
    const now = clock() / 1000;
    const raw = rawBodyOf(request) ?? Buffer.alloc(0);
    const path = (request.params as Record<string, unknown>)['*'];
    const digest = verifyWebhook(
      await secret.get(),
      request.headers[SIGNATURE_HEADER],
      request.headers[TIMESTAMP_HEADER],
      typeof path === 'string' ? path : '',
      raw,
      now,
    );
    const { stream } = check(streamParams, { stream: path }, 'path');
    check(emptyQuery, request.query, 'query');
    const body = check(eventsBody, request.body, 'body');
    const latest = Math.floor(now) + MAX_SKEW_SECONDS;
    body.events.forEach((e, i) => {
      if (e.timestamp > latest) {
        throw new ApiError(
          400,
          'invalid-body',
          `events[${i}].timestamp: ${e.timestamp} is more than ${MAX_SKEW_SECONDS} s in the future`,
        );
      }
    });
    // From here on nothing awaits: the replay check and the additions happen as one step.
    if (replays.has(digest, now)) {
      return reply.code(202).send({ stream, accepted: 0, tooOld: 0, duplicate: true });
    }
    if (!events.roomFor(stream, body.events.length)) {
      throw new ApiError(
        503,
        'no-memory',
        `not enough memory to store more events for ${stream}: nothing was stored; send them again later, ` +
          "or raise the runtime's memory limit",
        { 'retry-after': String(NO_MEMORY_RETRY_SECONDS) },
      );
    }
    let accepted = 0;
    let tooOld = 0;
    for (const e of body.events) {
      if (events.add(stream, e.timestamp, e.count) === 'stored') accepted++;
      else tooOld++;
    }
    replays.remember(digest, now);
    request.log.info(
      { audit: 'webhook-events', stream, accepted, tooOld },
      `webhook: ${accepted} events for ${stream}`,
    );
    return reply.code(202).send({ stream, accepted, tooOld, duplicate: false });
  });
}
