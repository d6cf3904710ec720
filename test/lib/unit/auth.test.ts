import { describe, expect, test } from 'vitest';
import { httpCallerOf, requireGroup } from '../../../functions/lib/auth.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { refusal } from '../../support/unit-invoke.ts';

const event = (options: { groups?: string[]; scopes?: string[] } = {}) =>
  httpApiEvent({ routeKey: 'GET /me', sub: 'user-alice', ...options });

describe('httpCallerOf', () => {
  test('reads the verified claims, which API Gateway passes as strings', () => {
    const request = event({ scopes: ['api/orders.read', 'openid'] });
    expect(httpCallerOf(request)).toEqual({
      sub: 'user-alice',
      username: 'user-alice',
      scopes: ['api/orders.read', 'openid'],
      groups: [],
    });
  });

  test('reads no email: a Cognito access token has none, so a claim of that name is not the user pool attribute', () => {
    const request = event();
    request.requestContext.authorizer.jwt.claims.email = 'alice@example.com';
    expect(httpCallerOf(request)).not.toHaveProperty('email');
  });

  test('parses the flattened group list "[admin editors]"', () => {
    expect(httpCallerOf(event({ groups: ['admin', 'editors'] })).groups).toEqual(['admin', 'editors']);
  });

  test.each([
    ['a single group', '[admin]', ['admin']],
    ['an empty list', '[]', []],
    ['a comma-separated list', 'admin,editors', ['admin', 'editors']],
  ])('parses %s', (_name, claim, groups) => {
    const request = event();
    request.requestContext.authorizer.jwt.claims['cognito:groups'] = claim;
    expect(httpCallerOf(request).groups).toEqual(groups);
  });

  test('accepts groups that arrive as a real list', () => {
    const request = event();
    request.requestContext.authorizer.jwt.claims['cognito:groups'] = ['admin', 'editors'];
    expect(httpCallerOf(request).groups).toEqual(['admin', 'editors']);
  });

  test('falls back to cognito:username and to the scope claim', () => {
    const request = event();
    const { jwt } = request.requestContext.authorizer;
    delete jwt.claims.username;
    jwt.claims['cognito:username'] = 'alice';
    jwt.claims.scope = 'api/orders.read api/orders.write';
    Object.assign(jwt, { scopes: null });
    const caller = httpCallerOf(request);
    expect(caller.username).toBe('alice');
    expect(caller.scopes).toEqual(['api/orders.read', 'api/orders.write']);
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
  ])('refuses a token whose subject is %s with 403', (_name, sub) => {
    const request = event();
    if (sub === undefined) delete request.requestContext.authorizer.jwt.claims.sub;
    else request.requestContext.authorizer.jwt.claims.sub = sub;
    expect(refusal(() => httpCallerOf(request))).toMatchObject({ statusCode: 403, code: 'Forbidden' });
  });
});

describe('requireGroup', () => {
  test('lets a member of the group through', () => {
    expect(() => requireGroup(httpCallerOf(event({ groups: ['editors', 'admin'] })), 'admin')).not.toThrow();
  });

  test.each([
    ['no groups', undefined],
    ['other groups', ['editors']],
    ['a group whose name merely contains it', ['administrators']],
  ])('refuses a caller with %s with 403', (_name, groups) => {
    const caller = httpCallerOf(event(groups ? { groups } : {}));
    const error = refusal(() => requireGroup(caller, 'admin'));
    expect(error).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect(error.message).toContain('admin');
  });
});
