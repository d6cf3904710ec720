import { validateHeaderValue } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { randomTokens } from '../../../test/support/random-tokens.ts';
import {
  createSigningKey,
  type LocalIssuer,
  type SigningKey,
  signToken,
  startIssuer,
  type TokenOptions,
} from '../../services/issuer.ts';
import { INVALID_TOKEN_CHALLENGE, JwtAuthorizer } from './jwt-authorizer.ts';

const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool';
const CLIENT_ID = 'client-web';

let key: SigningKey;
let issuer: LocalIssuer;
let authorizer: JwtAuthorizer;

beforeAll(async () => {
  key = await createSigningKey();
  issuer = await startIssuer(key, [ISSUER]);
});

afterAll(() => issuer.stop());

// A new authoriser per test: each one remembers the tokens it verified. Its refusals' log lines are kept quiet.
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  authorizer = new JwtAuthorizer(
    { name: 'Jwt', issuer: ISSUER, audience: [CLIENT_ID], identitySource: '$request.header.Authorization' },
    issuer.jwksUri,
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

const token = (options: Partial<TokenOptions> = {}, signingKey = key) =>
  signToken(signingKey, { issuer: ISSUER, clientId: CLIENT_ID, sub: 'user-1', ...options });

const authorize = (authorization: string | undefined, scopes: string[] = []) =>
  authorizer.authorize({ authorization }, scopes);

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const refusedWith401 = { allowed: false, statusCode: 401, message: 'Unauthorized' };

describe('JwtAuthorizer with a local issuer', () => {
  test('allows a valid token and hands its claims over as strings, Go-style for lists and maps', async () => {
    const outcome = await authorize(
      `Bearer ${await token({
        scopes: ['api/orders.read', 'api/orders.write'],
        groups: ['admin', 'editors'],
        claims: { count: 123, verified: true, nested: { b: 'x', a: 1 } },
      })}`,
      ['api/orders.read'],
    );
    expect(outcome).toMatchObject({ allowed: true, scopes: ['api/orders.read', 'api/orders.write'] });
    if (!outcome.allowed) throw new Error('refused');
    expect(outcome.claims).toMatchObject({
      sub: 'user-1',
      client_id: CLIENT_ID,
      iss: ISSUER,
      count: '123',
      verified: 'true',
      'cognito:groups': '[admin editors]',
      nested: 'map[a:1 b:x]',
      scope: 'api/orders.read api/orders.write',
    });
    expect(outcome.claims.exp).toMatch(/^\d+$/);
    for (const value of Object.values(outcome.claims)) expect(typeof value).toBe('string');
  });

  test('the Bearer prefix is optional', async () => {
    expect(await authorize(await token())).toMatchObject({ allowed: true });
  });

  test('reads the identity source header it is configured with', async () => {
    const custom = new JwtAuthorizer(
      { name: 'Jwt', issuer: ISSUER, audience: [CLIENT_ID], identitySource: '$request.header.X-Token' },
      issuer.jwksUri,
    );
    const valid = await token();
    expect(await custom.authorize({ 'x-token': valid }, [])).toMatchObject({ allowed: true });
    expect(await custom.authorize({ authorization: valid }, [])).toMatchObject(refusedWith401);
  });

  test('refuses a request without the header with 401', async () => {
    const outcome = await authorize(undefined);
    expect(outcome).toMatchObject(refusedWith401);
    expect(outcome).toHaveProperty('wwwAuthenticate', expect.stringContaining('error="invalid_token"'));
  });

  test.each<[string, Partial<TokenOptions>]>([
    ['an expired token', { expiresIn: -10 }],
    ['a token not valid yet', { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }],
    [
      'a token from another issuer',
      { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' },
    ],
    ['a token for another client', { clientId: 'client-other' }],
  ])('refuses %s with 401', async (_name, options) => {
    expect(await authorize(`Bearer ${await token(options)}`)).toMatchObject(refusedWith401);
  });

  test('allows an ID-token style token whose aud is the client id and that has no client_id', async () => {
    const idToken = await token({ clientId: undefined, claims: { aud: CLIENT_ID, token_use: 'id' } });
    const outcome = await authorize(`Bearer ${idToken}`);
    expect(outcome).toMatchObject({ allowed: true });
    if (outcome.allowed) expect(outcome.claims).not.toHaveProperty('client_id');
  });

  test('refuses a token with none of the route scopes with 403 insufficient_scope', async () => {
    const outcome = await authorize(`Bearer ${await token({ scopes: ['api/orders.read'] })}`, [
      'api/orders.write',
      'api/admin',
    ]);
    expect(outcome).toMatchObject({ allowed: false, statusCode: 403, message: 'Forbidden' });
    expect(outcome).toHaveProperty('wwwAuthenticate', expect.stringContaining('error="insufficient_scope"'));
    expect(outcome).toHaveProperty(
      'wwwAuthenticate',
      expect.stringContaining('scope="api/orders.write api/admin"'),
    );
  });

  test('one of the route scopes is enough', async () => {
    const outcome = await authorize(`Bearer ${await token({ scopes: ['api/admin'] })}`, [
      'api/orders.write',
      'api/admin',
    ]);
    expect(outcome).toMatchObject({ allowed: true, scopes: ['api/admin'] });
  });

  test('a route without scopes allows a token without scopes', async () => {
    expect(await authorize(`Bearer ${await token({ scopes: [] })}`)).toMatchObject({ allowed: true });
  });
});

describe('JwtAuthorizer refuses forged tokens with 401', () => {
  test('a payload changed after signing', async () => {
    const [header, payload, signature] = (await token()).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${base64url({ ...claims, sub: 'user-2' })}.${signature}`;
    expect(await authorize(`Bearer ${forged}`)).toMatchObject(refusedWith401);
  });

  test('a payload with one character changed', async () => {
    const [header, payload = '', signature] = (await token()).split('.');
    const changed = `${payload.slice(0, 10)}${payload[10] === 'A' ? 'B' : 'A'}${payload.slice(11)}`;
    expect(await authorize(`Bearer ${header}.${changed}.${signature}`)).toMatchObject(refusedWith401);
  });

  test('an unsigned token (alg none)', async () => {
    const [, payload] = (await token()).split('.');
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    expect(await authorize(`Bearer ${unsigned}`)).toMatchObject(refusedWith401);
    const unsignedWithKid = `${base64url({ alg: 'none', kid: key.kid })}.${payload}.`;
    expect(await authorize(`Bearer ${unsignedWithKid}`)).toMatchObject(refusedWith401);
  });

  test('a token signed by another key claiming the same kid', async () => {
    const impostor = { ...(await createSigningKey()), kid: key.kid };
    expect(await authorize(`Bearer ${await token({}, impostor)}`)).toMatchObject(refusedWith401);
  });

  test('a token signed by a key the issuer does not publish', async () => {
    const stranger = await createSigningKey();
    expect(await authorize(`Bearer ${await token({}, stranger)}`)).toMatchObject(refusedWith401);
  });

  test.each([
    ['the public key JWK', () => new TextEncoder().encode(JSON.stringify(key.publicJwk))],
    ['the public key modulus', () => Buffer.from(String(key.publicJwk.n), 'base64url')],
  ])('an HS256 token with %s as the secret', async (_name, secret) => {
    const now = Math.floor(Date.now() / 1000);
    const confused = await new SignJWT({ sub: 'user-1', client_id: CLIENT_ID, scope: '' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new Uint8Array(secret()));
    expect(await authorize(`Bearer ${confused}`)).toMatchObject(refusedWith401);
  });

  test('garbage', async () => {
    expect(await authorize('Bearer not-a-token')).toMatchObject(refusedWith401);
  });
});

describe('JwtAuthorizer over time', () => {
  test('a token it verified earlier is refused once it expires', async () => {
    const shortLived = `Bearer ${await token({ expiresIn: 60 })}`;
    expect(await authorize(shortLived)).toMatchObject({ allowed: true });
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect(await authorize(shortLived)).toMatchObject(refusedWith401);
  });

  test('a token refused as not valid yet is allowed once its nbf has passed', async () => {
    const notBefore = Math.floor(Date.now() / 1000) + 30;
    const early = `Bearer ${await token({ claims: { nbf: notBefore } })}`;
    expect(await authorize(early)).toMatchObject(refusedWith401);
    vi.spyOn(Date, 'now').mockReturnValue((notBefore + 1) * 1000);
    expect(await authorize(early)).toMatchObject({ allowed: true });
  });
});

describe('JwtAuthorizer challenges: fixed text, the reason in the log only', () => {
  /** AWS's one documented description ("Troubleshooting issues with HTTP API JWT authorizers"). */
  const WRONG_AUDIENCE =
    'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"';

  test('Bearer not.a.jwt: 401 with the fixed challenge, which Node can send; the parser error is only logged', async () => {
    const outcome = await authorize('Bearer not.a.jwt');
    expect(outcome).toMatchObject({ ...refusedWith401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE });
    if (outcome.allowed) throw new Error('allowed');
    expect(() => validateHeaderValue('www-authenticate', outcome.wwwAuthenticate)).not.toThrow();
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('Header is not a valid JSON object'));
  });

  test('a token for another client gets the documented wrong-audience challenge', async () => {
    const outcome = await authorize(`Bearer ${await token({ clientId: 'client-other' })}`);
    expect(outcome).toMatchObject({ ...refusedWith401, wwwAuthenticate: WRONG_AUDIENCE });
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('client-other'));
  });

  test.each<[string, () => Promise<string | undefined>]>([
    ['no header', async () => undefined],
    ['an expired token', async () => `Bearer ${await token({ expiresIn: -10 })}`],
    [
      'a token of another issuer',
      async () => `Bearer ${await token({ issuer: 'https://x.example/"\u{1F600}' })}`,
    ],
  ])('%s gets the fixed invalid-token challenge', async (_name, authorization) => {
    expect(await authorize(await authorization())).toMatchObject({
      ...refusedWith401,
      wwwAuthenticate: INVALID_TOKEN_CHALLENGE,
    });
  });

  test('fuzz: 640 random tokens of every shape are each refused with 401 and the fixed challenge', async () => {
    const tokens = randomTokens(20_261_203, 640, { kid: key.kid, issuer: ISSUER, audience: CLIENT_ID });
    for (const { label, value } of tokens) {
      const outcome = await authorize(value);
      expect(outcome, label).toMatchObject({ ...refusedWith401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE });
    }
    expect(() => validateHeaderValue('www-authenticate', INVALID_TOKEN_CHALLENGE)).not.toThrow();
  });
});
