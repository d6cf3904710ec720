import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpError } from './errors.ts';
import { errorResult, type HttpResult } from './http.ts';
import { logger, metrics, tracer } from './powertools.ts';

type HttpEvent = Pick<APIGatewayProxyEventV2, 'requestContext'>;

/**
 * Turns any error into the one error shape. HttpErrors carry their own status and message; anything else
 * is logged in full and answered with a bare 500, so no internals reach the caller.
 */
export function httpErrors<TEvent extends HttpEvent>(): MiddlewareObj<TEvent, HttpResult> {
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

/** The middy stack of every HTTP API route: observability with the API request id, and the error model. */
export function httpRoute<TEvent extends HttpEvent>(
  handler: (event: TEvent, context: Context) => Promise<HttpResult>,
) {
  return middy<TEvent, HttpResult>().use(observability(API_REQUEST_ID)).use(httpErrors()).handler(handler);
}
