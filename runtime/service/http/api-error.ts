/**
 * The HTTP API's one error shape, `{ "error": { "code", "message" } }`: `code` is a stable machine-readable
 * kebab-case word, `message` a sentence for humans that names the field or header at fault. No stack
 * traces or internal messages ever reach a client (unexpected errors are logged and answered with a
 * generic 500).
 */

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** An error to answer with `statusCode`; `headers` are added to the response (e.g. WWW-Authenticate). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The challenge sent with every 401 of a Bearer-authenticated endpoint (RFC 6750). */
export function bearerChallenge(invalidToken: boolean): Record<string, string> {
  return {
    'www-authenticate': invalidToken
      ? 'Bearer realm="elasticai", error="invalid_token"'
      : 'Bearer realm="elasticai"',
  };
}
