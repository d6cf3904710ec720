import { request, STATUS_CODES } from 'node:http';
import { describe, expect, inject, test } from 'vitest';
import { INVALID_TOKEN_CHALLENGE } from '../../../offline/gateways/http/jwt-authorizer.ts';
import { rawRequest, unthrottled } from '../../support/hostile.ts';
import { HUGE_TOKEN_MIN_CHARACTERS, randomTokens } from '../../support/random-tokens.ts';

/**
 * Random tokens of every shape (test/support/random-tokens.ts) through the offline cloud's HTTP API, on a route
 * with the template's JWT authoriser. A token is never a 5xx: it is 401 with the fixed challenge, 431 past
 * API Gateway's 10,240-byte quota on the request line and header values, or — for a control character, which
 * an HTTP field value cannot carry (RFC 9110 §5.5) — the HTTP parser's 400 before the gateway sees it.
 */
const cloud = inject('offlineCloud');
const ROUTE = '/me';
const SEED = 20_261_204;
const tokens = randomTokens(SEED, 300, {
  kid: cloud.signingKey.kid,
  issuer: cloud.issuer,
  audience: cloud.audience,
});

/** What a client puts on the wire for a header value: its UTF-8 bytes (one Latin-1 character per byte). */
const wireValue = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
/** C0 controls and DEL, except the horizontal tab: the one control character a field value may carry. */
const hasControlCharacter = (value: string) =>
  [...value].some((character) => {
    const code = character.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  });

interface Answer {
  status: number;
  statusText: string;
  wwwAuthenticate: string | undefined;
}

/** A GET with the header as given, through node:http, which keeps the status text a fetch would hide. */
function get(authorization: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(`${cloud.httpApiUrl}${ROUTE}`, { headers: { authorization } }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          wwwAuthenticate: response.headers['www-authenticate'],
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

describe(`the JWT authoriser under ${tokens.length} random tokens (seed ${SEED})`, () => {
  test('header-safe tokens: 401 with the fixed challenge and a whole status line (431 past the quota)', async () => {
    const safe = tokens.filter(({ value }) => !hasControlCharacter(value));
    expect(safe.length).toBeGreaterThan(150);
    for (const { label, value } of safe) {
      const answer = await unthrottled(() => get(wireValue(value)));
      const huge = value.length >= HUGE_TOKEN_MIN_CHARACTERS;
      expect(answer.status, label).toBe(huge ? 431 : 401);
      expect(answer.statusText, label).toBe(STATUS_CODES[answer.status]);
      if (!huge) expect(answer.wwwAuthenticate, label).toBe(INVALID_TOKEN_CHALLENGE);
    }
  });

  test('tokens with control characters, CR/LF included, sent raw: 400 from the HTTP parser or 401, never 5xx', async () => {
    const raw = tokens.filter(({ value }) => hasControlCharacter(value));
    expect(raw.length).toBeGreaterThan(30);
    for (const { label, value } of raw) {
      const answer = await unthrottled(() =>
        rawRequest(cloud.httpApiUrl, {
          method: 'GET',
          path: ROUTE,
          headers: [`Authorization: ${wireValue(value)}`],
        }),
      );
      expect([400, 401], label).toContain(answer.status);
      if (answer.status === 401)
        expect(answer.headers.get('www-authenticate'), label).toBe(INVALID_TOKEN_CHALLENGE);
    }
  });
});
