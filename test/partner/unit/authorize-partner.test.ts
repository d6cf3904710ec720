import { assertIsJwks } from 'aws-jwt-verify/jwk';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { requireEnv } from '../../../functions/lib/env.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { handler, ORDERS_READ_SCOPE, verifier } from '../../../functions/orders/authorize-partner.ts';
import {
  createSigningKey,
  type LocalIssuer,
  type SigningKey,
  signClientToken,
  signToken,
  startIssuer,
} from '../../../offline/services/issuer.ts';
import { lambdaContext } from '../../support/http-api-event.ts';

// The handler trusts the user pool and the partner app client the template names (offline ids).
const USER_POOL_ID = requireEnv('USER_POOL_ID');
const PARTNER_CLIENT_ID = requireEnv('PARTNER_CLIENT_ID');
const REGION = USER_POOL_ID.split('_')[0];
const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:p4r7n3r8x2/dev/GET/orders';

let key: SigningKey;
let issuer: LocalIssuer;

beforeAll(async () => {
  key = await createSigningKey();
  issuer = await startIssuer(key, [ISSUER]);
  const jwks = (await (await fetch(issuer.jwksUri)).json()) as Parameters<typeof assertIsJwks>[0];
  assertIsJwks(jwks);
  verifier.cacheJwks(jwks);
});

afterAll(() => issuer.stop());

afterEach(() => {
  vi.restoreAllMocks();
});

const partnerToken = (options: Partial<Parameters<typeof signClientToken>[1]> = {}) =>
  signClientToken(key, {
    issuer: ISSUER,
    clientId: PARTNER_CLIENT_ID,
    scopes: [ORDERS_READ_SCOPE],
    ...options,
  });

const authorize = (authorizationToken: string) =>
  handler(
    { type: 'TOKEN', authorizationToken, methodArn: METHOD_ARN } as APIGatewayTokenAuthorizerEvent,
    lambdaContext(),
  );

describe('the partner token authoriser', () => {
  test('allows GET /orders for a client-credentials token with the scope, naming the partner app client', async () => {
    const result = await authorize(`Bearer ${await partnerToken()}`);
    expect(result).toEqual({
      principalId: PARTNER_CLIENT_ID,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { clientId: PARTNER_CLIENT_ID, scope: ORDERS_READ_SCOPE },
    });
  });

  test('denies explicitly a valid token without the scope (API Gateway answers 403 and caches the Deny)', async () => {
    const info = vi.spyOn(logger, 'info');
    const result = await authorize(`Bearer ${await partnerToken({ scopes: ['partner/other.read'] })}`);
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN },
    ]);
    expect(info).toHaveBeenCalledWith('Partner token lacks the scope', {
      clientId: PARTNER_CLIENT_ID,
      tokenId: expect.any(String),
      scope: 'partner/other.read',
    });
  });

  const refused: [string, () => Promise<string>, RegExp][] = [
    ['an empty header', async () => '', /No bearer token/],
    ['a token without the Bearer scheme', async () => partnerToken(), /No bearer token/],
    ['a bearer that is not a JWT', async () => 'Bearer not-a-jwt', /3 parts/],
    ['an expired token', async () => `Bearer ${await partnerToken({ expiresIn: -60 })}`, /expired/i],
    [
      "a user's token of another app client of the pool (the web app's)",
      async () =>
        `Bearer ${await signToken(key, { issuer: ISSUER, clientId: 'web-app-client', sub: 'user-alice', scopes: [ORDERS_READ_SCOPE] })}`,
      /Client ID not allowed/,
    ],
    [
      'a token of another user pool',
      async () =>
        `Bearer ${await partnerToken({ issuer: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_Other` })}`,
      /issuer/i,
    ],
    [
      'a token signed by another key',
      async () => {
        const other = await createSigningKey();
        const impostor = { ...other, kid: key.kid, privateJwk: { ...other.privateJwk, kid: key.kid } };
        return `Bearer ${await signClientToken(impostor, { issuer: ISSUER, clientId: PARTNER_CLIENT_ID, scopes: [ORDERS_READ_SCOPE] })}`;
      },
      /Invalid signature/,
    ],
  ];

  test('logs the id of the token it accepts, never the token', async () => {
    const info = vi.spyOn(logger, 'info');
    const jwt = await partnerToken();
    await authorize(`Bearer ${jwt}`);
    const { jti } = JSON.parse(Buffer.from(String(jwt.split('.')[1]), 'base64url').toString('utf8'));
    expect(info).toHaveBeenCalledWith('Partner token accepted', {
      clientId: PARTNER_CLIENT_ID,
      tokenId: jti,
      scope: ORDERS_READ_SCOPE,
    });
    expect(JSON.stringify(info.mock.calls)).not.toContain(jwt);
  });

  test.each(refused)(
    'refuses %s with Unauthorized (API Gateway answers 401)',
    async (_name, header, reason) => {
      const info = vi.spyOn(logger, 'info');
      await expect(authorize(await header())).rejects.toThrow(new Error('Unauthorized'));
      expect(info).toHaveBeenCalledWith('Partner token refused', { reason: expect.stringMatching(reason) });
    },
  );
});
