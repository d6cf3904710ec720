import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, expectTypeOf, test, vi } from 'vitest';
import { badRequest, forbidden, HttpError, notFound } from '../../../functions/lib/errors.ts';
import { type HttpResult, json, noContent } from '../../../functions/lib/http.ts';
import { httpRoute } from '../../../functions/lib/http-route.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { type ErrorBody, invoke } from '../../support/unit-invoke.ts';

const failingWith = (error: unknown) =>
  httpRoute(async () => {
    throw error;
  });

// These tests are about the error model: CORS headers (CORS_ALLOW_ORIGIN) have test/lib/unit/cors.test.ts.
beforeEach(() => {
  vi.stubEnv('CORS_ALLOW_ORIGIN', '');
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('httpRoute', () => {
  test('passes a successful result through unchanged', async () => {
    const handler = httpRoute(async () => json(201, { ok: true }, { location: '/things/1' }));
    const response = await invoke(handler, httpApiEvent({ routeKey: 'POST /things' }));
    expect(response).toMatchObject({
      statusCode: 201,
      headers: { 'content-type': 'application/json', location: '/things/1' },
      json: { ok: true },
    });
  });

  test.each([
    { status: 400, error: badRequest('Bad cursor', [{ path: 'query.cursor', message: 'Invalid cursor' }]) },
    { status: 403, error: forbidden('Only members of the admin group may do this') },
    { status: 404, error: notFound('Order') },
    { status: 422, error: new HttpError(422, 'UnknownProduct', 'No such product') },
  ])(
    'answers an HttpError with its status, code, message and details ($status)',
    async ({ error, status }) => {
      const event = httpApiEvent({ routeKey: 'GET /orders' });
      const response = await invoke(failingWith(error), event);
      expect(response.statusCode).toBe(status);
      expect(response.headers).toEqual({ 'content-type': 'application/json' });
      const expected = { code: error.code, message: error.message };
      expect(response.json).toStrictEqual({
        error: error.details ? { ...expected, details: error.details } : expected,
        requestId: event.requestContext.requestId,
      });
    },
  );

  test('answers any other error with a bare 500 that leaks nothing, and logs the error in full', async () => {
    const logged = vi.spyOn(logger, 'error');
    const secret = new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    const event = httpApiEvent({ routeKey: 'GET /orders' });
    const response = await invoke(failingWith(secret), event);

    expect(response.statusCode).toBe(500);
    expect(response.json).toStrictEqual({
      error: { code: 'InternalError', message: 'An internal error occurred' },
      requestId: event.requestContext.requestId,
    });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('ECONNREFUSED');
    expect(response.body).not.toContain('middleware.test');
    expect(logged).toHaveBeenCalledWith(expect.any(String), secret);
  });

  test('does not log refusals as errors', async () => {
    const logged = vi.spyOn(logger, 'error');
    await invoke(failingWith(notFound('Order')), httpApiEvent({ routeKey: 'GET /orders/{id}' }));
    expect(logged).not.toHaveBeenCalled();
  });

  test('answers a thrown non-Error value with the same bare 500', async () => {
    const event = httpApiEvent({ routeKey: 'GET /orders' });
    const response = await invoke(failingWith('boom'), event);
    expect(response.statusCode).toBe(500);
    expect((response.json as ErrorBody).error.code).toBe('InternalError');
    expect(response.body).not.toContain('boom');
  });
});

describe('httpRoute on both kinds of API', () => {
  test('every result is one that a REST API (payload 1.0) and an HTTP API (2.0) both accept', () => {
    expectTypeOf<HttpResult>().toExtend<APIGatewayProxyResult>();
    expectTypeOf<HttpResult>().toExtend<APIGatewayProxyStructuredResultV2>();
    expectTypeOf(
      httpRoute(async (_event: APIGatewayProxyEvent) => noContent()),
    ).returns.resolves.toExtend<APIGatewayProxyResult>();
    expectTypeOf(
      httpRoute(async (_event: APIGatewayProxyEventV2WithJWTAuthorizer) => noContent()),
    ).returns.resolves.toExtend<APIGatewayProxyStructuredResultV2>();
    // The REST API refuses a proxy result without a body ("Malformed Lambda proxy response").
    expect(noContent()).toEqual({ statusCode: 204, body: '' });
  });

  test('answers a REST API event with the one error shape and its request id', async () => {
    const event = restApiEvent({ route: 'GET /products/{id}', pathParameters: { id: 'mug' } });
    const response = await invoke(failingWith(notFound('Product')), event);
    expect(response.statusCode).toBe(404);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(response.json).toStrictEqual({
      error: { code: 'NotFound', message: 'Product not found' },
      requestId: event.requestContext.requestId,
    });
  });

  test('hands a REST API handler its event as it came, a null query string included', async () => {
    const handler = httpRoute(async (event: APIGatewayProxyEvent) =>
      json(200, { query: event.queryStringParameters, resource: event.resource }),
    );
    const response = await invoke(handler, restApiEvent({ route: 'GET /products' }));
    expect(response.json).toEqual({ query: null, resource: '/products' });
  });

  test('falls back to the Lambda request id for an event without a request context', async () => {
    const response = await invoke(failingWith(notFound('Order')), {} as APIGatewayProxyEvent);
    expect(response.statusCode).toBe(404);
    expect((response.json as ErrorBody).requestId).toEqual(expect.any(String));
  });
});
