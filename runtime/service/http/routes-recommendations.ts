/**
 * `GET /api/v1/recommendations[?namespace=]`: right-sizing of container requests from usage history
 * (see ../recommendations.ts for the arithmetic). Reads follow `readAccess`; a caller sees the namespaces
 * it may list. Without a usage source the route answers 404.
 */
import type { FastifyInstance } from 'fastify';
import { SourceError } from '../history/history-source.js';
import type { ContainerUsage } from '../recommendations.js';
import { RECOMMENDER_DEFAULTS, recommend } from '../recommendations.js';
import type { AccessControl } from './access.js';
import type { ApiServerDeps } from './api-deps.js';
import { ApiError } from './api-error.js';
import { check, namespaceQuery } from './schemas.js';

/** Longest wait for the usage source. */
const USAGE_TIMEOUT_MS = 20_000;

export function registerRecommendationRoutes(
  app: FastifyInstance,
  deps: ApiServerDeps,
  access: AccessControl,
): void {
  const clock = deps.clock ?? Date.now;
  const options = { ...RECOMMENDER_DEFAULTS, ...deps.recommender };

  app.get('/api/v1/recommendations', async (request) => {
    const caller = await access.reader(request.headers.authorization);
    const { namespace } = check(namespaceQuery, request.query, 'query');
    if (!deps.usage) {
      throw new ApiError(
        404,
        'recommendations-disabled',
        'recommendations need a usage source (container CPU and memory history from Prometheus), and none is configured',
      );
    }
    if (namespace !== undefined) await access.require(caller, { verb: 'list', namespace });
    let usage: ContainerUsage[];
    try {
      usage = await deps.usage.containers(namespace, AbortSignal.timeout(USAGE_TIMEOUT_MS));
    } catch (error) {
      // The source's message names Prometheus' address: logged (the cause of a 5xx), not answered.
      const message = error instanceof SourceError ? `Prometheus: ${error.kind}` : 'the usage source failed';
      throw Object.assign(new ApiError(502, 'usage-source-error', `usage history unavailable (${message})`), {
        cause: error,
      });
    }
    if (namespace !== undefined) usage = usage.filter((u) => u.namespace === namespace);
    const visible = await access.listable(
      caller,
      usage.map((u) => u.namespace),
    );
    usage = usage.filter((u) => visible.has(u.namespace));
    return {
      generatedAt: Math.floor(clock() / 1000),
      method: options,
      recommendations: recommend(usage, options),
    };
  });
}
