/**
 * Authentication of the event webhook: HMAC-SHA256 with a shared secret over
 * `<timestamp>\n<stream>\n<raw body>`, sent as `X-ElasticAI-Signature: sha256=<hex>` with
 * `X-ElasticAI-Timestamp: <epoch seconds>`. The stream is signed so that a captured request cannot be
 * replayed into another stream (streams hold no line breaks, so the three parts cannot be confused).
 * Requests more than 5 minutes off the runtime's clock are refused (a captured request cannot be replayed
 * later), and a signature already accepted within that window is recognised, so a sender's retry of a
 * delivery that did arrive is not counted twice. Digests are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApiError } from './api-error.js';

export const SIGNATURE_HEADER = 'x-elasticai-signature';
export const TIMESTAMP_HEADER = 'x-elasticai-timestamp';
/** Largest difference between the sender's timestamp and the runtime's clock. */
export const MAX_SKEW_SECONDS = 300;

const CHALLENGE = { 'www-authenticate': 'HMAC-SHA256 realm="elasticai-webhook"' };

/** `sha256=<hex>` of `<timestamp>\n<stream>\n<body>` (what a sender puts in X-ElasticAI-Signature). */
export function signWebhook(
  secret: Buffer | string,
  timestamp: number | string,
  stream: string,
  body: Buffer | string,
): string {
  return `sha256=${webhookDigest(secret, timestamp, stream, body).toString('hex')}`;
}

function webhookDigest(
  secret: Buffer | string,
  timestamp: number | string,
  stream: string,
  body: Buffer | string,
): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}\n${stream}\n`).update(body).digest();
}

function refuse(code: string, message: string): ApiError {
  return new ApiError(401, code, message, CHALLENGE);
}

/**
 * Checks the headers of a webhook call; returns the signature's digest (hex) for replay detection.
 * Throws a 401 ApiError naming what is wrong.
 */
export function verifyWebhook(
  secret: Buffer,
  signature: string | string[] | undefined,
  timestamp: string | string[] | undefined,
  stream: string,
  body: Buffer,
  nowSeconds: number,
): string {
  if (typeof timestamp !== 'string' || !/^\d{1,15}$/.test(timestamp)) {
    throw refuse('missing-timestamp', 'X-ElasticAI-Timestamp: required, epoch seconds');
  }
  if (typeof signature !== 'string') {
    throw refuse('missing-signature', 'X-ElasticAI-Signature: required, "sha256=<hex HMAC-SHA256>"');
  }
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
  if (!m) throw refuse('bad-signature', 'X-ElasticAI-Signature: must be "sha256=<64 hex digits>"');
  const skew = Number(timestamp) - nowSeconds;
  if (Math.abs(skew) > MAX_SKEW_SECONDS) {
    throw refuse(
      'stale-timestamp',
      `X-ElasticAI-Timestamp: ${Math.abs(Math.round(skew))} s ${skew < 0 ? 'old' : 'in the future'}; must be within ${MAX_SKEW_SECONDS} s of the runtime's clock`,
    );
  }
  const given = Buffer.from((m[1] as string).toLowerCase(), 'hex');
  const expected = webhookDigest(secret, timestamp, stream, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refuse(
      'bad-signature',
      'X-ElasticAI-Signature: does not match the timestamp, stream and body (HMAC-SHA256 of "<timestamp>\\n<stream>\\n<raw body>")',
    );
  }
  return given.toString('hex');
}

/** The secret, read from its mounted file and re-read every `ttlMs` (a rotated Secret is picked up). */
export class SecretFile {
  private value: Buffer | undefined;
  private readAt = -Infinity;

  constructor(
    readonly path: string,
    private readonly clock: () => number,
    private readonly ttlMs = 30_000,
  ) {}

  /** The secret without trailing line breaks or spaces; 503 when the file cannot be read or is empty. */
  async get(): Promise<Buffer> {
    const now = this.clock();
    if (this.value && now - this.readAt < this.ttlMs) return this.value;
    let text: Buffer;
    try {
      text = await readFile(this.path);
    } catch (error) {
      if (this.value) return this.value; // keep the last good secret through a remount
      throw Object.assign(new ApiError(503, 'webhook-unavailable', 'the webhook secret cannot be read'), {
        cause: error,
      });
    }
    let end = text.length;
    while (end > 0 && (text[end - 1] === 0x0a || text[end - 1] === 0x0d || text[end - 1] === 0x20)) end--;
    if (end === 0) throw new ApiError(503, 'webhook-unavailable', 'the webhook secret file is empty');
    this.value = text.subarray(0, end);
    this.readAt = now;
    return this.value;
  }
}

/** Signatures accepted within the skew window, so a repeated delivery is recognised. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  has(digest: string, nowSeconds: number): boolean {
    this.prune(nowSeconds);
    return this.seen.has(digest);
  }

  remember(digest: string, nowSeconds: number): void {
    this.seen.set(digest, nowSeconds + 2 * MAX_SKEW_SECONDS);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }

  private prune(nowSeconds: number): void {
    for (const [digest, until] of this.seen) {
      if (until >= nowSeconds) break;
      this.seen.delete(digest);
    }
  }
}
