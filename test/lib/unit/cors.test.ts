import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { allowOrigin } from '../../../functions/lib/cors.ts';
import { notFound } from '../../../functions/lib/errors.ts';
import { type HttpResult, json, noContent } from '../../../functions/lib/http.ts';
import { httpErrors, httpRoute } from '../../../functions/lib/http-route.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { invoke } from '../../support/unit-invoke.ts';

const ORIGIN = 'https://partners.example.com';
const event = () => restApiEvent({ route: 'GET /products' });

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('httpRoute with CORS_ALLOW_ORIGIN set', () => {
  // httpRoute reads the variable when the handler is built, as a handler module does at cold start.
  const route = (respond: () => Promise<HttpResult>) => {
    vi.stubEnv('CORS_ALLOW_ORIGIN', ORIGIN);
    return httpRoute(async (_event: APIGatewayProxyEvent) => respond());
  };

  test('adds Access-Control-Allow-Origin to a success, keeping its own headers', async () => {
    const response = await invoke(
      route(async () => json(201, { ok: true }, { location: '/things/1' })),
      event(),
    );
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      location: '/things/1',
      'access-control-allow-origin': ORIGIN,
    });
  });

  test('adds it to a response without headers', async () => {
    const response = await invoke(
      route(async () => noContent()),
      event(),
    );
    expect(response.headers).toEqual({ 'access-control-allow-origin': ORIGIN });
  });

  test('adds it to a refusal and to an internal error, both in the one error shape', async () => {
    const refused = await invoke(
      route(async () => {
        throw notFound('Product');
      }),
      event(),
    );
    const failed = await invoke(
      route(async () => {
        throw new Error('boom');
      }),
      event(),
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.headers).toEqual({
      'content-type': 'application/json',
      'access-control-allow-origin': ORIGIN,
    });
    expect(failed.statusCode).toBe(500);
    expect(failed.headers).toEqual({
      'content-type': 'application/json',
      'access-control-allow-origin': ORIGIN,
    });
  });
});

describe('httpRoute without CORS_ALLOW_ORIGIN', () => {
  test.each(['', undefined])('adds no CORS header (variable %j)', async (value) => {
    vi.stubEnv('CORS_ALLOW_ORIGIN', value);
    const ok = httpRoute(async (_event: APIGatewayProxyEvent) => json(200, {}));
    const refused = httpRoute(async (_event: APIGatewayProxyEvent) => {
      throw notFound('Product');
    });
    expect((await invoke(ok, event())).headers).toEqual({ 'content-type': 'application/json' });
    expect((await invoke(refused, event())).headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('allowOrigin', () => {
  test('takes the origin as an argument too', async () => {
    const handler = middy<APIGatewayProxyEvent, HttpResult>()
      .use(allowOrigin('*'))
      .handler(async () => json(200, {}));
    expect((await invoke(handler, event())).headers).toMatchObject({ 'access-control-allow-origin': '*' });
  });

  test('leaves an error alone that nothing has turned into a response', async () => {
    // Used after httpErrors, its onError runs first and finds no response yet: the stack's order matters.
    const handler = middy<APIGatewayProxyEvent, HttpResult>()
      .use(httpErrors())
      .use(allowOrigin(ORIGIN))
      .handler(async () => {
        throw notFound('Product');
      });
    const response = await invoke(handler, event());
    expect(response.statusCode).toBe(404);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
  });

  test('does not change the response object it was given', async () => {
    const result = json(200, {});
    const handler = middy<APIGatewayProxyEvent, HttpResult>()
      .use(allowOrigin(ORIGIN))
      .handler(async () => result);
    await invoke(handler, event());
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
  });
});
