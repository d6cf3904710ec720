import { beforeAll, describe, expect, inject, test } from 'vitest';
import { createResolver } from '../../../offline/template/resolver.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { type Answer, logLines, partnerCall, partnerToken, token } from '../../support/client.ts';

/**
 * The partner token of GET /orders through the offline cloud: the real TOKEN authoriser
 * (functions/orders/authorize-partner.ts) in its worker, behind the REST emulator's authoriser cache
 * (offline/gateways/rest/rest-authorizer.ts), with the partner API's gateway responses.
 */
const cloud = inject('offlineCloud');
const resolver = createResolver(loadTemplate(), undefined);
const ORIGIN = String(resolver.resolve({ Ref: 'PartnerAllowedOrigin' }, 'Parameters.PartnerAllowedOrigin'));
const enterprise = cloud.apiKeys.PartnerEnterprisePlan as string;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A window no order reaches: the stream is exercised, and empty. */
const EMPTY = '/orders?since=3999-01-01T00:00:00Z';
const AUTHORIZER = 'PartnerAuthorizerFunction';

const jtiOf = (jwt: string): string =>
  JSON.parse(Buffer.from(String(jwt.split('.')[1]), 'base64url').toString('utf8')).jti;

const orders = (authorization?: string) =>
  partnerCall('GET', EMPTY, { apiKey: enterprise, headers: authorization ? { authorization } : {} });

function expectError(answer: Answer, status: number, code: string, message: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: { code, message }, requestId: expect.stringMatching(UUID) });
  expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
}

let accepted: string;

beforeAll(async () => {
  accepted = await partnerToken();
});

describe('GET /orders requires a partner token', () => {
  test('a client-credentials token with partner/orders.read gets the stream', async () => {
    const answer = await orders(`Bearer ${accepted}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/x-ndjson');
  });

  test('the same token again within the TTL is answered from the authoriser cache: one invocation', async () => {
    const jwt = await partnerToken();
    for (let round = 0; round < 3; round++) expect((await orders(`Bearer ${jwt}`)).status).toBe(200);
    expect(await logLines(AUTHORIZER, jtiOf(jwt))).toBe(1);
  });

  // That the authoriser is not invoked is shown in offline/gateways/rest/rest-authorizer.test.ts: other suites call it
  // meanwhile, so a count here could not tell.
  test('no Authorization header: 401 in the error shape', async () => {
    expectError(await orders(), 401, 'Unauthorized', 'Unauthorized');
  });

  test.each([
    ['not a bearer token', async () => `Basic ${Buffer.from('partner:secret').toString('base64')}`],
    ['a bearer that is not a JWT', async () => 'Bearer not-a-jwt'],
    ['an expired token', async () => `Bearer ${await partnerToken({ expiresIn: -60 })}`],
    [
      "a user's token of the web app, scope and all",
      async () => `Bearer ${await token({ scopes: ['partner/orders.read'] })}`,
    ],
  ])('%s: 401 in the error shape', async (_name, authorization) => {
    expectError(await orders(await authorization()), 401, 'Unauthorized', 'Unauthorized');
  });

  test('a valid token without the scope: 403 explicit deny, cached like an Allow', async () => {
    const jwt = await partnerToken({ scopes: [] });
    for (let round = 0; round < 2; round++) {
      expectError(
        await orders(`Bearer ${jwt}`),
        403,
        'AccessDenied',
        'User is not authorized to access this resource with an explicit deny',
      );
    }
    expect(await logLines(AUTHORIZER, jtiOf(jwt))).toBe(1);
  });
});
