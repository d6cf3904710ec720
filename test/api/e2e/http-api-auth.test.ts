import { describe, expect, test } from 'vitest';
import { call, token } from '../../support/client.ts';

/** What the HTTP API JWT authoriser lets through; every refusal is in auth-attacks.test.ts. */
describe('HTTP API JWT authoriser, through the offline cloud', () => {
  test('a valid token reaches the handler, with or without the Bearer prefix', async () => {
    const jwt = await token({ sub: 'alice-auth' });
    expect((await call('GET', '/me', { token: jwt })).body.sub).toBe('alice-auth');
    const raw = await call('GET', '/me', { headers: { authorization: jwt } });
    expect(raw.status).toBe(200);
  });

  test('claims reach the handler as strings; list claims as "[a b]"', async () => {
    const jwt = await token({ sub: 'carol', groups: ['admin', 'support'] });
    const me = await call('GET', '/me', { token: jwt });
    expect(me.body).toEqual({
      sub: 'carol',
      username: 'carol',
      scopes: expect.any(Array),
      groups: ['admin', 'support'],
    });
  });
});
