import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { HttpError } from './errors.ts';
import { tracingMiddleware } from './instrumentation.ts';

/**
 * How injectLambdaContext's correlationIdPath finds the correlation id in the event: a dotted property path,
 * such as API_REQUEST_ID. Powertools' own `search` takes any JMESPath expression but bundles a JMESPath engine
 * (23 KB, nearly half the budget of a function that does not touch AWS), and a property path is all we use.
 */
export function propertyAt(path: string, data: unknown): unknown {
  let value = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// Service name (one per function), namespace and log level come from the POWERTOOLS_* variables in template.yaml.
export const logger = new Logger({ correlationIdSearchFn: propertyAt });

// Most requests of a read route add no business metric; Metrics would then warn on every invocation.
// Its own diagnostics go through a child logger that only passes errors.
export const metrics = new Metrics({ logger: logger.createChild({ logLevel: 'ERROR' }) });

/** API Gateway's request id, in every kind of API event: the correlation id of the logs. */
export const API_REQUEST_ID = 'requestContext.requestId';

/**
 * Powertools around every function: the logger with the Lambda context (and the correlation id found at
 * `correlationIdPath`, if the event has one), the tracer's middleware in a function that traces (the one that
 * instrumentation.ts has registered, if any: this module never imports the tracer, so that the functions that do
 * not trace never bundle it), and metrics with a cold-start metric.
 */
export function observability(correlationIdPath?: string) {
  return [
    injectLambdaContext(logger, { ...(correlationIdPath ? { correlationIdPath } : {}), resetKeys: true }),
    ...tracingMiddleware(),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ];
}

/**
 * Logs the error a route ended with, the same way on every kind of route (HTTP and WebSocket): a refusal (an
 * HttpError, which the caller is told of) at info, with its status, code and reason; anything else in full, as an
 * error, counted in the UnhandledError metric.
 */
export function logRouteError(error: unknown): void {
  if (error instanceof HttpError) {
    logger.info('Request refused', { statusCode: error.statusCode, code: error.code, reason: error.message });
    return;
  }
  logger.error('Unhandled error', error as Error);
  metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
}
