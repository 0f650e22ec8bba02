/**
 * Workload routes: the list, one workload's detail, and its manual override.
 *
 * Override order of checks: credentials (401, before the body is even read), path (400), `patch` on the
 * ScaledObject (403), body (400), workload known to the runtime (404), tenant cap (422), then the write.
 * A replica count above the tenant's `maxReplicas` is a 422 `over-tenant-cap`: the caller may change the
 * workload, the value is what is refused, and the message says the cap. Overrides are logged with the
 * caller's id.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../auth/authenticator.js';
import type { WorkloadStatus } from '../workload-registry.js';
import type { AccessControl } from './access.js';
import type { ApiServerDeps, OverrideRecord, OverrideStore } from './api-deps.js';
import { ApiError } from './api-error.js';
import { check, emptyBody, emptyQuery, namespaceQuery, overrideBody, workloadParams } from './schemas.js';
import { detail, summarize } from './workload-view.js';

/** Callers authenticated before the body was parsed, for the handler. */
const callers = new WeakMap<FastifyRequest, Caller>();

function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new ApiError(401, 'unauthorized', 'Authorization: required');
  return caller;
}

/**
 * Maps a failed store call (the Kubernetes API) to an answer. The API's message names internal
 * addresses and accounts: it goes to the log (the error handler logs the cause of every 5xx), and the
 * caller gets what failed, with the status and reason.
 */
function storeError(error: unknown, namespace: string, name: string): ApiError {
  const { status, reason } = error as { status?: unknown; reason?: unknown };
  const wrap = (e: ApiError): ApiError => Object.assign(e, { cause: error });
  if (status === 404) {
    return wrap(
      new ApiError(404, 'scaledobject-not-found', `ScaledObject ${namespace}/${name} was not found`),
    );
  }
  if (status === 409) {
    return wrap(new ApiError(409, 'conflict', `ScaledObject ${namespace}/${name} changed meanwhile; retry`));
  }
  if (status === 0) {
    const what =
      reason === 'Timeout'
        ? 'the Kubernetes API did not answer in time'
        : 'the Kubernetes API is unreachable';
    return wrap(new ApiError(503, 'kubernetes-api-unavailable', what));
  }
  const answered = typeof status === 'number' ? ` with HTTP ${status}` : '';
  const why = typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason) ? ` (${reason})` : '';
  return wrap(
    new ApiError(
      502,
      'kubernetes-api-error',
      `the Kubernetes API refused the request on ScaledObject ${namespace}/${name}${answered}${why}`,
    ),
  );
}

export function registerWorkloadRoutes(
  app: FastifyInstance,
  deps: ApiServerDeps,
  access: AccessControl,
): void {
  const clock = deps.clock ?? Date.now;
  const { registry, overrides } = deps;

  const requireOverrides = (): OverrideStore => {
    if (!overrides) {
      throw new ApiError(
        503,
        'overrides-unavailable',
        'overrides need the Kubernetes API, which this runtime has no access to',
      );
    }
    return overrides;
  };

  const known = (namespace: string, name: string): WorkloadStatus => {
    const status = registry.status({ namespace, name });
    if (!status) {
      throw new ApiError(
        404,
        'workload-not-found',
        `no workload ${namespace}/${name} is known to the runtime`,
      );
    }
    return status;
  };

  /**
   * The workload a request's path names, once the path and query are valid, the caller may `verb` it,
   * the request has no body (for `patch`: those routes take none), and the runtime knows it (400, 403,
   * 400, 404 in that order, as for an override's body).
   */
  const authorizedWorkload = async (
    request: FastifyRequest,
    caller: Caller | undefined,
    verb: 'get' | 'patch',
  ): Promise<{ namespace: string; name: string; status: WorkloadStatus }> => {
    const { namespace, name } = check(workloadParams, request.params, 'path');
    check(emptyQuery, request.query, 'query');
    await access.require(caller, { verb, namespace, name });
    if (verb === 'patch') check(emptyBody, request.body, 'body');
    return { namespace, name, status: known(namespace, name) };
  };

  /** The override of each workload, where the store answers (undefined: not known). */
  const overridesOf = async (
    list: readonly WorkloadStatus[],
  ): Promise<(OverrideRecord | null | undefined)[]> => {
    if (!overrides) return list.map(() => undefined);
    const answers = await Promise.allSettled(list.map((w) => overrides.get(w.namespace, w.name)));
    return answers.map((a) => (a.status === 'fulfilled' ? (a.value ?? null) : undefined));
  };

  const authenticateWrite = async (request: FastifyRequest): Promise<void> => {
    callers.set(request, await access.requireCaller(request.headers.authorization));
  };

  app.get('/api/v1/workloads', async (request) => {
    const caller = await access.reader(request.headers.authorization);
    const { namespace } = check(namespaceQuery, request.query, 'query');
    if (namespace !== undefined) await access.require(caller, { verb: 'list', namespace });
    const inScope = (w: { namespace: string }): boolean =>
      namespace === undefined || w.namespace === namespace;
    let list = registry.list().filter(inScope);
    let refused = registry.refused().filter(inScope);
    const visible = await access.listable(caller, [
      ...list.map((w) => w.namespace),
      ...refused.map((r) => r.namespace),
    ]);
    list = list.filter((w) => visible.has(w.namespace));
    refused = refused.filter((r) => visible.has(r.namespace));
    const known = await overridesOf(list);
    // `refused`: workloads KEDA asked about that the runtime would not take (memory); not in `workloads`.
    return { workloads: list.map((w, i) => summarize(w, known[i])), refused };
  });

  app.get('/api/v1/workloads/:namespace/:name', async (request) => {
    const caller = await access.reader(request.headers.authorization);
    const { namespace, name, status } = await authorizedWorkload(request, caller, 'get');
    const [override] = await overridesOf([status]);
    return detail(status, registry.history({ namespace, name }), override);
  });

  app.get('/api/v1/workloads/:namespace/:name/override', async (request) => {
    const caller = await access.reader(request.headers.authorization);
    const { namespace, name } = await authorizedWorkload(request, caller, 'get');
    let record: OverrideRecord | undefined;
    try {
      record = await requireOverrides().get(namespace, name);
    } catch (error) {
      throw error instanceof ApiError ? error : storeError(error, namespace, name);
    }
    if (!record) throw new ApiError(404, 'no-override', `${namespace}/${name} has no override`);
    return { namespace, name, ...record };
  });

  app.post(
    '/api/v1/workloads/:namespace/:name/override',
    { preParsing: authenticateWrite },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = callerOf(request);
      const { namespace, name } = check(workloadParams, request.params, 'path');
      check(emptyQuery, request.query, 'query');
      await access.require(caller, { verb: 'patch', namespace, name });
      const body = check(overrideBody, request.body, 'body');
      known(namespace, name);
      const tenant = deps.config.tenants.find((t) => t.namespaces.includes(namespace));
      if (tenant && body.replicas > tenant.maxReplicas) {
        throw new ApiError(
          422,
          'over-tenant-cap',
          `replicas: ${body.replicas} exceeds tenant ${tenant.name}'s cap of ${tenant.maxReplicas} replicas`,
        );
      }
      const store = requireOverrides();
      const expiresAt =
        body.durationSeconds === undefined ? undefined : new Date(clock() + body.durationSeconds * 1000);
      let previous: OverrideRecord | undefined;
      try {
        previous = await store.get(namespace, name);
        await store.set(namespace, name, body.replicas, {
          by: caller.id,
          ...(expiresAt === undefined ? {} : { expiresAt }),
        });
      } catch (error) {
        throw storeError(error, namespace, name);
      }
      request.log.info(
        {
          audit: 'override-set',
          caller: caller.id,
          via: caller.via,
          namespace,
          name,
          replicas: body.replicas,
          expiresAt: expiresAt?.toISOString() ?? null,
          previous: previous ?? null,
        },
        `override of ${namespace}/${name} set to ${body.replicas} replicas by ${caller.id}`,
      );
      reply.code(previous ? 200 : 201);
      if (!previous) reply.header('location', `/api/v1/workloads/${namespace}/${name}/override`);
      return {
        namespace,
        name,
        replicas: body.replicas,
        expiresAt: expiresAt?.toISOString() ?? null,
        by: caller.id,
        previous: previous ?? null,
      };
    },
  );

  // The scale-to-zero resolver holds a request for a workload at zero: wake it at once (KEDA's
  // StreamIsActive gets `true` now instead of at the next poll). Needs `patch` on the ScaledObject.
  // No body (the resolver sends none): `bodyless` lets an empty one labelled JSON through (api-server.ts).
  app.post(
    '/api/v1/workloads/:namespace/:name/wake',
    { preParsing: authenticateWrite, config: { bodyless: true } },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = callerOf(request);
      const { namespace, name } = await authorizedWorkload(request, caller, 'patch');
      registry.wake({ namespace, name });
      reply.code(202);
      return { namespace, name, woken: true };
    },
  );

  app.delete(
    '/api/v1/workloads/:namespace/:name/override',
    { preParsing: authenticateWrite, config: { bodyless: true } },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = callerOf(request);
      const { namespace, name } = await authorizedWorkload(request, caller, 'patch');
      const store = requireOverrides();
      try {
        await store.clear(namespace, name);
      } catch (error) {
        throw storeError(error, namespace, name);
      }
      request.log.info(
        { audit: 'override-cleared', caller: caller.id, via: caller.via, namespace, name },
        `override of ${namespace}/${name} cleared by ${caller.id}`,
      );
      return reply.code(204).send();
    },
  );
}
