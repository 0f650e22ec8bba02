/**
 * Who may do what through the HTTP API. State-changing requests always need a caller (401 otherwise,
 * with a Bearer challenge) and `patch` on the ScaledObject (403). Read requests follow `readAccess`:
 * `anonymous` lets anyone read (credentials, when sent, are still checked and scope what is shown),
 * `authenticated` needs a caller allowed to `get` / `list` ScaledObjects. A caller limited to some
 * namespaces (a tenant's API key) never sees or changes anything outside them, whatever `authorize` says.
 */
import type { Action, Authenticator, Caller } from '../auth/authenticator.js';
import type { ReadAccess } from '../config.js';
import { ApiError, bearerChallenge } from './api-error.js';

export class AccessControl {
  constructor(
    private readonly authenticator: Authenticator | undefined,
    private readonly readAccess: ReadAccess,
  ) {}

  /** The authenticated caller; 401 when the header is missing or its credentials are invalid. */
  async requireCaller(authorization: string | undefined): Promise<Caller> {
    const caller = await this.authenticate(authorization);
    if (caller) return caller;
    throw new ApiError(
      401,
      'unauthorized',
      authorization === undefined
        ? 'Authorization: required, "Bearer <API key or Kubernetes token>"'
        : 'Authorization: the credentials are not valid',
      bearerChallenge(authorization !== undefined),
    );
  }

  /** The caller of a read request: undefined for an anonymous read where those are allowed. */
  async reader(authorization: string | undefined): Promise<Caller | undefined> {
    if (this.readAccess === 'anonymous' && authorization === undefined) return undefined;
    return this.requireCaller(authorization);
  }

  /** 403 unless `caller` may do `action`; an anonymous reader (undefined) may read anything. */
  async require(caller: Caller | undefined, action: Action): Promise<void> {
    if (caller === undefined && action.verb !== 'patch' && this.readAccess === 'anonymous') return;
    if (caller !== undefined && (await this.allows(caller, action))) return;
    const what = action.name === undefined ? 'scaledobjects' : `scaledobject ${action.name}`;
    const where =
      action.namespace === undefined ? 'across all namespaces' : `in namespace ${action.namespace}`;
    throw new ApiError(
      403,
      'forbidden',
      `${caller?.id ?? 'anonymous'} may not ${action.verb} ${what} ${where}`,
    );
  }

  /** Which of `namespaces` the reader may list. */
  async listable(caller: Caller | undefined, namespaces: Iterable<string>): Promise<Set<string>> {
    const all = new Set(namespaces);
    if (caller === undefined) return this.readAccess === 'anonymous' ? all : new Set();
    if (caller.namespaces === undefined && (await this.allows(caller, { verb: 'list' }))) return all;
    const candidates = [...all];
    const allowed = await Promise.all(
      candidates.map((namespace) => this.allows(caller, { verb: 'list', namespace })),
    );
    return new Set(candidates.filter((_, i) => allowed[i]));
  }

  private async allows(caller: Caller, action: Action): Promise<boolean> {
    if (caller.namespaces !== undefined) {
      if (action.namespace === undefined || !caller.namespaces.includes(action.namespace)) return false;
    }
    if (!this.authenticator) return false;
    try {
      return await this.authenticator.authorize(caller, action);
    } catch (error) {
      throw Object.assign(
        new ApiError(503, 'authorization-unavailable', 'authorization could not be checked'),
        {
          cause: error,
        },
      );
    }
  }

  private async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    if (!this.authenticator || authorization === undefined) return undefined;
    try {
      return await this.authenticator.authenticate(authorization);
    } catch (error) {
      throw Object.assign(
        new ApiError(503, 'authentication-unavailable', 'the credentials could not be checked'),
        { cause: error },
      );
    }
  }
}
