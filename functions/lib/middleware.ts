import type { Context } from 'aws-lambda';
import type { HttpResult } from './http.ts';
import { type ApiEvent, httpRoute as untracedHttpRoute } from './http-route.ts';
import { observability as untracedObservability } from './powertools.ts';
import { tracing } from './tracing.ts';

export { type ApiEvent, httpErrors } from './http-route.ts';

/**
 * The middy stacks of the functions that call DynamoDB, which trace (tracing.ts): those of powertools.ts and
 * http-route.ts with the tracer's middleware. A function that does not trace uses those modules directly, and so
 * never bundles the tracer (test/template/bundle-budgets.test.ts checks which functions bundle it).
 */
export function observability(correlationIdPath?: string) {
  return untracedObservability(correlationIdPath, tracing());
}

export function httpRoute<TEvent extends ApiEvent>(
  handler: (event: TEvent, context: Context) => Promise<HttpResult>,
) {
  return untracedHttpRoute(handler, tracing());
}
