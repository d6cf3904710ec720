import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

export interface JwtAuthorizerConfig {
  name: string;
  issuer: string;
  audience: readonly string[];
  /** e.g. `$request.header.Authorization` */
  identitySource: string;
}

export type AuthorizerOutcome =
  | { allowed: true; claims: Record<string, string>; scopes: string[] | null }
  | { allowed: false; statusCode: 401 | 403; message: 'Unauthorized' | 'Forbidden'; wwwAuthenticate: string };

const CACHE_LIMIT = 1000;

/**
 * The `www-authenticate` challenge of a 401: fixed text, never a library's message, which quotes the token and
 * can carry characters Node refuses in a header (ERR_INVALID_CHAR: `Bearer not.a.jwt` turned a 401 into a 500).
 * AWS documents one description, for a wrong audience ("Troubleshooting issues with HTTP API JWT authorizers");
 * what it sends for any other refusal is undocumented, so every other refusal gets one fixed wording in the same
 * shape. The reason itself goes to the log only.
 */
export const WRONG_AUDIENCE_CHALLENGE =
  'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"';
export const INVALID_TOKEN_CHALLENGE =
  'Bearer scope="" error="invalid_token" error_description="the token is not valid"';

/** Thrown by the audience check, so that its refusal can get AWS's documented challenge. */
class WrongAudienceError extends Error {}

/**
 * HTTP API JWT authoriser semantics (AWS docs "Controlling access to HTTP APIs with JWT authorizers"):
 * signature against the issuer's JWKS, `iss`, `aud` (`client_id` when there is no `aud`) in the audience list,
 * `exp`/`nbf`, then at least one of the route's scopes (401 before, 403 for scopes). Claims reach the integration
 * as strings.
 */
export class JwtAuthorizer {
  readonly config: JwtAuthorizerConfig;
  readonly #verifier;
  readonly #header: string;
  // A token's signature, issuer and audience do not change: verified payloads are remembered by token
  // text (times are still checked on every request), which keeps the signature check off the hot path.
  readonly #verified = new Map<string, JwtPayload>();

  constructor(config: JwtAuthorizerConfig, jwksUri: string) {
    this.config = config;
    const match = /^\$request\.header\.(.+)$/i.exec(config.identitySource);
    if (!match?.[1])
      throw new Error(`Authorizer ${config.name}: identity source ${config.identitySource} is not supported`);
    this.#header = match[1].toLowerCase();
    const audience = new Set(config.audience);
    this.#verifier = JwtVerifier.create(
      {
        issuer: config.issuer,
        audience: null,
        jwksUri,
        // API Gateway reads client_id only when the token has no aud: a wrong aud is not rescued by client_id.
        customJwtCheck: ({ payload }) => {
          const audiences = [payload.aud === undefined ? payload.client_id : payload.aud]
            .flat()
            .filter((value) => typeof value === 'string');
          if (!audiences.some((value) => audience.has(value as string)))
            throw new WrongAudienceError(
              `aud/client_id ${JSON.stringify(audiences)} is not an allowed audience`,
            );
        },
      },
      { jwksCache: new SimpleJwksCache({ fetcher: loopbackFetcher }) },
    );
  }

  async authorize(
    headers: Record<string, string | undefined>,
    requiredScopes: readonly string[],
  ): Promise<AuthorizerOutcome> {
    const value = headers[this.#header];
    if (!value) return this.#unauthorized('the identity source is missing');
    const token = value.replace(/^bearer\s+/i, '').trim();

    let payload = this.#verified.get(token);
    if (!payload) {
      try {
        payload = await this.#verifier.verify(token);
      } catch (error) {
        return this.#unauthorized(
          (error as Error).message,
          error instanceof WrongAudienceError ? WRONG_AUDIENCE_CHALLENGE : INVALID_TOKEN_CHALLENGE,
        );
      }
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.clear();
      this.#verified.set(token, payload);
    }
    const now = Date.now() / 1000;
    if (typeof payload.exp !== 'number' || payload.exp <= now)
      return this.#unauthorized('the token has expired');
    if (typeof payload.nbf === 'number' && payload.nbf > now)
      return this.#unauthorized('the token is not valid yet');

    const granted = scopesOf(payload);
    if (requiredScopes.length > 0 && !requiredScopes.some((scope) => granted?.includes(scope))) {
      return {
        allowed: false,
        statusCode: 403,
        message: 'Forbidden',
        wwwAuthenticate: `Bearer scope="${requiredScopes.join(' ')}" error="insufficient_scope" error_description="expected scopes: [${requiredScopes.join(' ')}]"`,
      };
    }
    return { allowed: true, claims: stringifyClaims(payload), scopes: granted };
  }

  /** A 401 whose detailed reason is logged (JSON-quoted: it quotes the token) and never sent. */
  #unauthorized(reason: string, challenge = INVALID_TOKEN_CHALLENGE): AuthorizerOutcome {
    console.warn(`[${this.config.name}] JWT authoriser refused the request: ${JSON.stringify(reason)}`);
    return { allowed: false, statusCode: 401, message: 'Unauthorized', wwwAuthenticate: challenge };
  }
}

/** aws-jwt-verify fetches JWKS over https only; the local issuer serves it over plain http on loopback. */
const loopbackFetcher = {
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    const response = await fetch(uri);
    if (!response.ok) throw new Error(`JWKS request to ${uri} failed with ${response.status}`);
    return response.arrayBuffer();
  },
};

function scopesOf(payload: JwtPayload): string[] | null {
  const scope = payload.scope ?? payload.scp;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scope)) return scope.map(String);
  return null;
}

/** API Gateway hands claims over as strings, lists and maps printed the way Go prints them: "[a b]", "map[k:v]". */
export function stringifyClaims(payload: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, goString(value)]));
}

function goString(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `map[${entries.map(([key, item]) => `${key}:${goString(item)}`).join(' ')}]`;
  }
  return String(value);
}
