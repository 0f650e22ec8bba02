/**
 * Wakes a target through the decision runtime: `POST /api/v1/workloads/{ns}/{scaledObject}/wake` on
 * every ready runtime pod, not just one behind the Service. KEDA keeps one StreamIsActive per
 * ScaledObject on one runtime replica (its gRPC connection is pooled per address), and a replica only
 * streams to its own callers — so a wake-up sent to a single replica reaches KEDA only half the time
 * with two. Telling all of them makes `IsActive=true` reach KEDA at once, whichever replica it holds.
 *
 * The caller is authenticated with the resolver's ServiceAccount token (the runtime checks it with a
 * TokenReview and a SubjectAccessReview for `patch` on that ScaledObject).
 */
import http from 'node:http';
import https from 'node:https';
import type { Route, RuntimeRef } from './config.js';

export interface WakeResult {
  /** Runtime replicas that accepted (202). */
  readonly accepted: number;
  /** One line per replica that did not. */
  readonly errors: readonly string[];
}

export interface WakerOptions {
  /** Ready runtime endpoints (`http://ip:port` bases) of a runtime, or undefined when none are known. */
  readonly runtimeBases: (runtime: RuntimeRef) => readonly string[] | undefined;
  /** Bearer token to present. */
  readonly token: () => Promise<string | undefined>;
  /** Use this base for every wake-up instead (tests, out-of-cluster use). */
  readonly staticBase?: string;
  /** @default 2000 */
  readonly timeoutMs?: number;
}

export class Waker {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly options: WakerOptions) {}

  /** Tells every known runtime replica; resolves with how many accepted (never rejects). */
  async wake(route: Route): Promise<WakeResult> {
    const bases = this.options.staticBase
      ? [this.options.staticBase]
      : (this.options.runtimeBases(route.runtime) ?? [route.runtime.url]);
    const targets = bases.length > 0 ? bases : [route.runtime.url];
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch (error) {
      return { accepted: 0, errors: [`no token to present: ${(error as Error).message}`] };
    }
    const path = `/api/v1/workloads/${encodeURIComponent(route.namespace)}/${encodeURIComponent(route.scaledObject)}/wake`;
    const answers = await Promise.all(targets.map((base) => this.post(base, path, token)));
    const errors = answers.filter((a): a is string => a !== true);
    return { accepted: answers.length - errors.length, errors };
  }

  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
  }

  /** true when accepted, else a one-line reason. */
  private post(base: string, path: string, token: string | undefined): Promise<true | string> {
    const url = new URL(base.replace(/\/+$/, '') + path);
    const timeoutMs = this.options.timeoutMs ?? 2_000;
    const headers: Record<string, string> = { 'content-length': '0', 'user-agent': 'elasticai-resolver' };
    if (token) headers.authorization = `Bearer ${token}`;
    const tls = url.protocol === 'https:';
    return new Promise((resolve) => {
      const req = (tls ? https : http).request(
        url,
        { method: 'POST', headers, agent: tls ? this.tlsAgent : this.agent, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (chunks.length < 16) chunks.push(c);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 202 || status === 200) return resolve(true);
            let detail = Buffer.concat(chunks).toString('utf8').slice(0, 300);
            try {
              // The runtime's error shape: {"error": {"code", "message"}}.
              const body = JSON.parse(detail) as { error?: { message?: unknown } };
              if (typeof body.error?.message === 'string') detail = body.error.message;
            } catch {
              // not JSON: keep the text
            }
            resolve(`${url.host}: HTTP ${status}: ${detail}`);
          });
          res.on('error', (e) => resolve(`${url.host}: ${e.message}`));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => resolve(`${url.host}: ${e.message}`));
      req.end();
    });
  }
}
