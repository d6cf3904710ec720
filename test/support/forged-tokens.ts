import { createPublicKey, randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, inject } from 'vitest';
import {
  createSigningKey,
  type LocalIssuer,
  type SigningKey,
  signToken,
  startIssuer,
  type TokenOptions,
} from '../../offline/services/issuer.ts';
import { ALL_ORDER_SCOPES, token } from './client.ts';

/** The tokens of the authentication attack suites (issue #7): forged, foreign, mistimed, oversized, ID tokens. */
const cloud = inject('offlineCloud');
const ANOTHER_POOL_ISSUER = cloud.issuer.replace(/[^/]+$/, `${cloud.region}_AnotherPool`);

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString());

/** Options for a token that would be valid if the template's issuer had signed it. */
const validOptions = (): TokenOptions => ({
  issuer: cloud.issuer,
  clientId: cloud.audience,
  sub: `mallory-${randomUUID()}`,
  scopes: ALL_ORDER_SCOPES,
});

/** The claims of a valid access token, signed by `key` under a header of the attacker's choosing. */
async function signedWithHeader(key: SigningKey, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(claimsOf(await token()))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header })
    .sign(await importJWK(key.privateJwk, 'RS256'));
}

/** An ID token as Cognito issues it: `aud` is the app client, no `client_id`, no scopes. */
export const idToken = (options: Partial<TokenOptions> = {}) =>
  token({
    ...options,
    claims: { token_use: 'id', aud: cloud.audience, client_id: undefined, scope: undefined },
  });

/** A valid token padded with a claim until it is about `bytes` long. */
export async function tokenOfSize(bytes: number): Promise<string> {
  const unpadded = await token({ claims: { padding: '' } });
  // base64url: 4 characters per 3 bytes of the payload.
  return token({ claims: { padding: 'x'.repeat(Math.ceil(((bytes - unpadded.length) * 3) / 4)) } });
}

/** An attack by token: what the token is, and how to make it. */
export type ForgedToken = [attack: string, make: () => Promise<string>];

/**
 * Forged, stolen-from-elsewhere or mistimed tokens: every authoriser of the user pool's access tokens must refuse
 * every one. Call it at the top of a test file: the attacker's own issuer runs for that file's tests.
 */
export function forgedTokens(): ForgedToken[] {
  /** The attacker's own key pair, published by the attacker's own issuer (another user pool's URL). */
  let attackerKey: SigningKey;
  let attackerIssuer: LocalIssuer;

  beforeAll(async () => {
    attackerKey = await createSigningKey();
    attackerIssuer = await startIssuer(attackerKey, [ANOTHER_POOL_ISSUER]);
  });

  afterAll(() => attackerIssuer?.stop());

  return [
    ['that is not a JWT', async () => 'not-a-jwt'],
    [
      'unsigned (alg none)',
      async () =>
        `${segment({ alg: 'none', typ: 'JWT', kid: cloud.signingKey.kid })}.${segment(claimsOf(await token()))}.`,
    ],
    [
      "HS256-signed with the issuer's public key as the secret",
      async () => {
        const publicPem = createPublicKey({ key: cloud.signingKey.publicJwk, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        return new SignJWT(claimsOf(await token()))
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: cloud.signingKey.kid })
          .sign(new TextEncoder().encode(String(publicPem)));
      },
    ],
    ['that has expired', () => token({ expiresIn: -60 })],
    [
      'that is not valid yet (nbf an hour ahead)',
      () => token({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
    ],
    ['naming another issuer', () => token({ issuer: ANOTHER_POOL_ISSUER })],
    ['for another app client', () => token({ clientId: 'another-app-client' })],
    [
      'signed by a key the issuer does not publish (unknown kid)',
      () => signToken(attackerKey, validOptions()),
    ],
    [
      "signed by another key under the issuer's kid",
      () => signToken({ ...attackerKey, kid: cloud.signingKey.kid }, validOptions()),
    ],
    [
      'carrying its own verification key (embedded jwk header)',
      () =>
        signedWithHeader(attackerKey, {
          jwk: { kty: 'RSA', n: attackerKey.publicJwk.n, e: attackerKey.publicJwk.e },
        }),
    ],
    [
      "pointing at the attacker's JWKS (jku header)",
      () => signedWithHeader(attackerKey, { jku: attackerIssuer.jwksUri }),
    ],
    [
      'with a tampered signature',
      async () => {
        const [header, payload, signature = ''] = (await token()).split('.');
        const flipped = signature[20] === 'A' ? 'B' : 'A';
        return `${header}.${payload}.${signature.slice(0, 20)}${flipped}${signature.slice(21)}`;
      },
    ],
    [
      'whose payload was edited to add the admin group and every scope',
      async () => {
        const [header, payload, signature] = (await token()).split('.');
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
        const escalated = {
          ...claims,
          'cognito:groups': ['admin'],
          scope: `${claims.scope} api/products.write`,
        };
        return `${header}.${segment(escalated)}.${signature}`;
      },
    ],
    [
      "from another user pool (that pool's own key and issuer, this app's client id)",
      () => signToken(attackerKey, { ...validOptions(), issuer: ANOTHER_POOL_ISSUER }),
    ],
  ];
}
