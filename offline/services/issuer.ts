import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

const ALGORITHM = 'RS256';

/** The dev issuer's key, inside the state directory (.local, git-ignored), so tokens survive restarts. */
export const DEV_SIGNING_KEY_FILE = 'issuer-key.json';

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const kid = randomUUID();
  const meta = { kid, alg: ALGORITHM, use: 'sig' };
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
  };
}

export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as SigningKey;
  const key = await createSigningKey();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(key), { mode: 0o600 });
  return key;
}

export interface TokenOptions {
  issuer: string;
  clientId: string;
  sub: string;
  scopes?: readonly string[];
  groups?: readonly string[];
  /** Seconds; negative for an already expired token. */
  expiresIn?: number;
  /** Extra or overriding claims (e.g. `aud` for an ID-token style audience). */
  claims?: Record<string, unknown>;
}

/**
 * Signs a token shaped like a Cognito access token (client_id, scope, cognito:groups), which carries no email
 * (Cognito developer guide, "Understanding the access token").
 */
export async function signToken(key: SigningKey, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: options.sub,
    token_use: 'access',
    client_id: options.clientId,
    username: options.sub,
    scope: (options.scopes ?? []).join(' '),
    auth_time: now,
    jti: randomUUID(),
    ...(options.groups && options.groups.length > 0 ? { 'cognito:groups': options.groups } : {}),
    ...options.claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign(await importJWK(key.privateJwk, ALGORITHM));
}

/**
 * Signs a token shaped like a Cognito access token of the client-credentials grant: the app client is its own
 * subject and there is no user, so no username or groups (Cognito developer guide, "Understanding the access
 * token": machine-to-machine tokens).
 */
export function signClientToken(
  key: SigningKey,
  options: Omit<TokenOptions, 'sub' | 'groups'>,
): Promise<string> {
  return signToken(key, {
    ...options,
    sub: options.clientId,
    claims: { username: undefined, ...options.claims },
  });
}

export interface LocalIssuer {
  /** Where the JWKS is served, for every issuer name the template trusts. */
  jwksUri: string;
  /** Base URL of the issuer server (its discovery documents live under /<issuer path>/.well-known/). */
  url: string;
  key: SigningKey;
  stop(): Promise<void>;
}

/**
 * A local OpenID Connect issuer: discovery document and JWKS on loopback. It signs tokens with the exact
 * issuer names the template's authorisers trust (e.g. the Cognito user pool URL), and the local authorisers
 * fetch its JWKS in place of the real one.
 */
export async function startIssuer(
  key: SigningKey,
  issuers: readonly string[],
  port = 0,
): Promise<LocalIssuer> {
  const jwks = JSON.stringify({ keys: [key.publicJwk] });
  let base = '';
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    // Any path: the Lambda workers send Cognito's `/<user pool id>/.well-known/jwks.json` here (lambda-worker.ts).
    if (path.endsWith('/.well-known/jwks.json')) {
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
        .end(jwks);
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      const document = {
        issuer: issuers[0],
        issuers,
        jwks_uri: `${base}/.well-known/jwks.json`,
        response_types_supported: ['code', 'token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [ALGORITHM],
        token_endpoint_auth_methods_supported: ['none'],
        scopes_supported: ['openid', 'email'],
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url: base,
    jwksUri: `${base}/.well-known/jwks.json`,
    key,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
