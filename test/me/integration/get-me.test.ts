import { describe, expect, test } from 'vitest';
import { handler } from '../../../functions/me/get-me.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { expectError, invoke, newSub } from '../../support/tables.ts';

describe('GET /me', () => {
  test("returns the caller's subject, username, scopes and groups from the verified access token", async () => {
    const sub = newSub();
    const event = httpApiEvent({
      routeKey: 'GET /me',
      sub,
      scopes: ['openid', 'api/orders.read'],
      groups: ['admin', 'editors'],
    });

    const response = await invoke(handler, event);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual({
      sub,
      username: sub,
      scopes: ['openid', 'api/orders.read'],
      groups: ['admin', 'editors'],
    });
  });

  test('answers no email, even for a token that carries that claim', async () => {
    // Cognito access tokens have no email claim ("Understanding the access token"); the user pool attribute is
    // only in the ID token, so GET /me does not pretend to know it.
    const event = httpApiEvent({ routeKey: 'GET /me', sub: newSub() });
    event.requestContext.authorizer.jwt.claims.email = 'alice@example.com';
    const response = await invoke<Record<string, unknown>>(handler, event);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toHaveProperty('email');
  });

  test('answers each caller with their own identity', async () => {
    const [alice, bob] = [newSub(), newSub()];
    const first = await invoke<{ sub: string }>(handler, httpApiEvent({ routeKey: 'GET /me', sub: alice }));
    const second = await invoke<{ sub: string }>(handler, httpApiEvent({ routeKey: 'GET /me', sub: bob }));
    expect([first.body.sub, second.body.sub]).toEqual([alice, bob]);
  });

  test('refuses a token without a subject with 403 in the error shape', async () => {
    const event = httpApiEvent({ routeKey: 'GET /me' });
    delete event.requestContext.authorizer.jwt.claims.sub;
    expectError(await invoke(handler, event), event, 403, 'Forbidden');
  });
});
