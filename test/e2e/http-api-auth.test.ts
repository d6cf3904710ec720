import { SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import { createSigningKey, signToken } from '../../local/issuer.ts';
import { call, token } from './client.ts';

const UNAUTHORIZED = { message: 'Unauthorized' };
const FORBIDDEN = { message: 'Forbidden' };

function swapSegment(jwt: string, index: number, replace: (segment: string) => string): string {
  const parts = jwt.split('.');
  parts[index] = replace(parts[index] ?? '');
  return parts.join('.');
}

describe('HTTP API JWT authoriser, through the offline cloud', () => {
  test('a valid token reaches the handler, with or without the Bearer prefix', async () => {
    const jwt = await token({ sub: 'alice-auth' });
    expect((await call('GET', '/me', { token: jwt })).body.sub).toBe('alice-auth');
    const raw = await call('GET', '/me', { headers: { authorization: jwt } });
    expect(raw.status).toBe(200);
  });

  test('no token is 401 Unauthorized with a WWW-Authenticate challenge', async () => {
    const answer = await call('GET', '/me');
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(UNAUTHORIZED);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  test.each([
    ['expired', () => token({ expiresIn: -60 })],
    ['for another audience', () => token({ clientId: 'another-app-client' })],
    [
      'from another issuer',
      () => token({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }),
    ],
    ['signed by another key', async () => signToken(await createSigningKey(), await tokenOptions())],
    ['with a tampered signature', async () => swapSegment(await token(), 2, (s) => `${s.slice(0, -4)}AAAA`)],
    [
      'with a tampered payload',
      async () =>
        swapSegment(await token({ sub: 'mallory' }), 1, (segment) => {
          const payload = JSON.parse(Buffer.from(segment, 'base64url').toString());
          return Buffer.from(JSON.stringify({ ...payload, sub: 'alice' })).toString('base64url');
        }),
    ],
    [
      'with alg none',
      async () => {
        const payload = JSON.parse(Buffer.from((await token()).split('.')[1] ?? '', 'base64url').toString());
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
      },
    ],
    [
      'HS256-signed with the public key',
      async () => {
        const { publicJwk } = await createSigningKey();
        return new SignJWT({ sub: 'mallory', scope: 'api/orders.read' })
          .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid })
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
      },
    ],
    ['that is not a JWT', async () => 'not-a-jwt'],
  ])('a token %s is 401 Unauthorized', async (_case, makeToken) => {
    const answer = await call('GET', '/me', { token: await makeToken() });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(UNAUTHORIZED);
  });

  test('a valid token without any of the route scopes is 403 Forbidden', async () => {
    const readOnly = await token({ scopes: ['api/orders.read'] });
    const answer = await call('POST', '/orders', {
      token: readOnly,
      body: { items: [{ productId: 'x', quantity: 1 }] },
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual(FORBIDDEN);
    expect(answer.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  test('claims reach the handler as strings; list claims as "[a b]"', async () => {
    const jwt = await token({ sub: 'carol', groups: ['admin', 'support'], email: 'carol@example.com' });
    const me = await call('GET', '/me', { token: jwt });
    expect(me.body).toMatchObject({ sub: 'carol', email: 'carol@example.com', groups: ['admin', 'support'] });
  });
});

async function tokenOptions() {
  const jwt = await token();
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString());
  return { issuer: payload.iss, clientId: payload.client_id, sub: payload.sub, scopes: ['api/orders.read'] };
}
