import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { allowOrigin } from './cors.ts';
import { HttpError } from './errors.ts';
import { errorResult, type HttpResult } from './http.ts';
import { API_REQUEST_ID, logRouteError, observability } from './powertools.ts';

/**
 * What the HTTP middleware needs of an API Gateway event, whichever kind of API sent it: the request id, which
 * both the REST API (payload 1.0, `APIGatewayProxyEvent`) and the HTTP API (2.0, `APIGatewayProxyEventV2`)
 * put in `requestContext.requestId`.
 */
export interface ApiEvent {
  readonly requestContext: { readonly requestId: string };
}

/**
 * Turns any error into the one error shape. HttpErrors carry their own status and message; anything else
 * is logged in full and answered with a bare 500, so no internals reach the caller.
 */
export function httpErrors<TEvent extends ApiEvent>(): MiddlewareObj<TEvent, HttpResult> {
  return {
    onError: async (request) => {
      const { error } = request;
      const requestId = request.event?.requestContext?.requestId ?? request.context.awsRequestId;
      logRouteError(error);
      request.response =
        error instanceof HttpError
          ? errorResult(error.statusCode, error, requestId)
          : errorResult(500, { code: 'InternalError', message: 'An internal error occurred' }, requestId);
    },
  };
}

/**
 * The middy stack of every API route, REST API (payload 1.0) or HTTP API (2.0) alike: observability with the API
 * request id (and the tracer's middleware in a function that traces: instrumentation.ts), the error model, and
 * the CORS origin header when the function sets CORS_ALLOW_ORIGIN.
 */
export function httpRoute<TEvent extends ApiEvent>(
  handler: (event: TEvent, context: Context) => Promise<HttpResult>,
) {
  return middy<TEvent, HttpResult>()
    .use(observability(API_REQUEST_ID))
    .use(allowOrigin())
    .use(httpErrors())
    .handler(handler);
}
