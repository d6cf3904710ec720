import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertIsJwks } from 'aws-jwt-verify/jwk';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  handler,
  verifier,
  type WebSocketAuthorizerEvent,
} from '../../../functions/chat/authorize-connection.ts';
import { requireEnv } from '../../../functions/lib/env.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import {
  createSigningKey,
  type LocalIssuer,
  type SigningKey,
  signToken,
  startIssuer,
  type TokenOptions,
} from '../../../offline/services/issuer.ts';
import { lambdaContext } from '../../support/http-api-event.ts';

// The handler trusts the user pool and app client the template names (offline ids, see lambda-environment.ts).
const USER_POOL_ID = requireEnv('USER_POOL_ID');
const CLIENT_ID = requireEnv('USER_POOL_CLIENT_ID');
const REGION = USER_POOL_ID.split('_')[0];
const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;

const sample = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../../events/chat-authorize-connection.json'), 'utf8'),
) as WebSocketAuthorizerEvent;

let key: SigningKey;
let issuer: LocalIssuer;

beforeAll(async () => {
  key = await createSigningKey();
  issuer = await startIssuer(key, [ISSUER]);
  // The verifier would download the pool's JWKS from cognito-idp over HTTPS; here it gets the local issuer's,
  // fetched from the local issuer's own JWKS endpoint.
  const jwks = (await (await fetch(issuer.jwksUri)).json()) as Parameters<typeof assertIsJwks>[0];
  assertIsJwks(jwks);
  verifier.cacheJwks(jwks);
});

afterAll(() => issuer.stop());

afterEach(() => {
  vi.restoreAllMocks();
});

const token = (options: Partial<TokenOptions> = {}, signingKey = key) =>
  signToken(signingKey, { issuer: ISSUER, clientId: CLIENT_ID, sub: 'user-alice', ...options });

function connectEvent(query: Record<string, string> | null): WebSocketAuthorizerEvent {
  return {
    ...structuredClone(sample),
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]]))
      : null,
  };
}

const authorize = (query: Record<string, string> | null) => handler(connectEvent(query), lambdaContext());

describe('the $connect authoriser', () => {
  test('allows a valid access token for this connection and hands the user to every route', async () => {
    const result = await authorize({ token: await token({ claims: { username: 'alice' } }) });
    expect(result).toEqual({
      principalId: 'user-alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: sample.methodArn }],
      },
      context: { userId: 'user-alice', username: 'alice' },
    });
  });

  test('scopes the Allow policy to the methodArn of this very $connect', async () => {
    const event = connectEvent({ token: await token() });
    event.methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:otherapi42/prod/$connect';
    const result = await handler(event, lambdaContext());
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn },
    ]);
  });

  test('uses the subject as the user name when the token has none', async () => {
    const result = await authorize({ token: await token({ claims: { username: undefined } }) });
    expect(result.context).toEqual({ userId: 'user-alice', username: 'user-alice' });
  });

  const tamper = (jwt: string, part: 1 | 2) => {
    const pieces = jwt.split('.');
    if (part === 1) {
      const payload = JSON.parse(Buffer.from(String(pieces[1]), 'base64url').toString('utf8'));
      pieces[1] = Buffer.from(JSON.stringify({ ...payload, sub: 'user-mallory' })).toString('base64url');
    } else {
      const signature = Buffer.from(String(pieces[2]), 'base64url');
      signature[0] = (signature[0] ?? 0) ^ 0xff;
      pieces[2] = signature.toString('base64url');
    }
    return pieces.join('.');
  };

  const refused: [string, () => Promise<Record<string, string> | null>, RegExp][] = [
    ['no query string at all', async () => null, /No token/],
    ['no token parameter', async () => ({ other: 'x' }), /No token/],
    ['an empty token', async () => ({ token: '' }), /No token/],
    ['a token that is not a JWT', async () => ({ token: 'not-a-jwt' }), /3 parts/],
    ['an expired token', async () => ({ token: await token({ expiresIn: -60 }) }), /expired/i],
    [
      'a token for another app client',
      async () => ({ token: await token({ clientId: 'someone-elses-client' }) }),
      /Client ID not allowed/,
    ],
    [
      'a token of another user pool',
      async () => ({
        token: await token({ issuer: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_Other` }),
      }),
      /issuer/i,
    ],
    [
      'an ID token instead of an access token',
      async () => ({ token: await token({ claims: { token_use: 'id' } }) }),
      /Token use not allowed/,
    ],
    ['a tampered payload', async () => ({ token: tamper(await token(), 1) }), /Invalid signature/],
    ['a tampered signature', async () => ({ token: tamper(await token(), 2) }), /Invalid signature/],
    [
      'a token signed by another key under the same key id',
      async () => {
        const other = await createSigningKey();
        const impostor: SigningKey = {
          ...other,
          kid: key.kid,
          privateJwk: { ...other.privateJwk, kid: key.kid },
        };
        return { token: await token({}, impostor) };
      },
      /Invalid signature/,
    ],
    [
      'an unsigned token (alg none)',
      async () => {
        const [, payload] = (await token()).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url');
        return { token: `${header}.${payload}.c2lnbmF0dXJl` };
      },
      /alg/i,
    ],
  ];

  test.each(refused)(
    'refuses %s with Unauthorized (API Gateway answers 401)',
    async (_name, query, reason) => {
      const info = vi.spyOn(logger, 'info');
      await expect(authorize(await query())).rejects.toThrow(new Error('Unauthorized'));
      expect(info).toHaveBeenCalledWith('Connection refused', { reason: expect.stringMatching(reason) });
    },
  );

  test('never logs the token it refuses', async () => {
    const info = vi.spyOn(logger, 'info');
    const expired = await token({ expiresIn: -60 });
    await expect(authorize({ token: expired })).rejects.toThrow('Unauthorized');
    expect(JSON.stringify(info.mock.calls)).not.toContain(expired);
  });
});
