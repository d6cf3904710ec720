import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { allowOrigin } from './cors.ts';
import { HttpError } from './errors.ts';
import { errorResult, type HttpResult } from './http.ts';
import { logger, metrics, tracer } from './powertools.ts';

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
      if (error instanceof HttpError) {
        logger.info('Request refused', {
          statusCode: error.statusCode,
          code: error.code,
          reason: error.message,
        });
        request.response = errorResult(error.statusCode, error, requestId);
        return;
      }
      logger.error('Unhandled error', error as Error);
      metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
      request.response = errorResult(
        500,
        { code: 'InternalError', message: 'An internal error occurred' },
        requestId,
      );
    },
  };
}

/** API Gateway's request id, in every kind of API event: the correlation id of the logs. */
export const API_REQUEST_ID = 'requestContext.requestId';

/**
 * Powertools around every function: the logger with the Lambda context (and the correlation id found at
 * `correlationIdPath`, if the event has one), the tracer, and metrics with a cold-start metric.
 */
export function observability(correlationIdPath?: string) {
  return [
    injectLambdaContext(logger, { ...(correlationIdPath ? { correlationIdPath } : {}), resetKeys: true }),
    captureLambdaHandler(tracer),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ];
}

/**
 * The middy stack of every API route, REST API (payload 1.0) or HTTP API (2.0) alike: observability with the API
 * request id, the error model, and the CORS origin header when the function sets CORS_ALLOW_ORIGIN.
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
