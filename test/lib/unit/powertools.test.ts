import { describe, expect, test } from 'vitest';
import { json } from '../../../functions/lib/http.ts';
import { httpRoute } from '../../../functions/lib/http-route.ts';
import { API_REQUEST_ID, logger, propertyAt } from '../../../functions/lib/powertools.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { invoke } from '../../support/unit-invoke.ts';

describe('propertyAt (the correlation id lookup)', () => {
  test('follows a dotted property path', () => {
    expect(propertyAt('requestContext.requestId', { requestContext: { requestId: 'r-1' } })).toBe('r-1');
    expect(propertyAt('a', { a: 0 })).toBe(0);
  });

  test.each([
    ['a missing key', 'requestContext.requestId', { requestContext: {} }],
    ['a missing parent', 'requestContext.requestId', {}],
    ['a parent that is not an object', 'requestContext.requestId', { requestContext: 'r-1' }],
    ['a null event', 'requestContext.requestId', null],
    ['an inherited property', 'requestContext.constructor', { requestContext: {} }],
    ['the prototype', '__proto__', {}],
  ])('finds nothing at %s', (_name, path, data) => {
    expect(propertyAt(path, data)).toBeUndefined();
  });
});

describe('the logger of an API route', () => {
  test.each([
    ['HTTP API (payload 2.0)', httpApiEvent({ routeKey: 'GET /me' })],
    ['REST API (payload 1.0)', restApiEvent({ route: 'GET /products' })],
  ])('takes the API request id of a %s event as its correlation id', async (_api, event) => {
    let during: unknown;
    const handler = httpRoute(async () => {
      during = logger.getCorrelationId();
      return json(200, {});
    });
    await invoke(handler, event);
    expect(during).toBe(propertyAt(API_REQUEST_ID, event));
    expect(during).toBe(event.requestContext.requestId);
  });
});
