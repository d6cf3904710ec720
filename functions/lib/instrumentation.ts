import type { MiddlewareObj } from '@middy/core';

/**
 * What the Powertools tracer adds to a function that traces. tracing.ts registers it here when it is loaded; in
 * the other functions nothing is registered, and they never bundle the tracer, because shared code imports this
 * module and never the tracer (test/template/bundle-budgets.test.ts checks which functions bundle it).
 */
export interface Tracing {
  /** Wraps an AWS SDK client so that its calls are traced (the tracer's captureAWSv3Client): the same client. */
  readonly captureClient: <Client>(client: Client) => Client;
  /** The handler's middy middleware (captureLambdaHandler): a subsegment for the handler, cold start and errors. */
  readonly handlerMiddleware: () => MiddlewareObj;
}

let registered: Tracing | undefined;

/**
 * Called by tracing.ts when a function loads it; clients.ts imports it, so every function that calls DynamoDB
 * traces and no other does. ESM evaluates all of a module's imports before its body, so a handler that imports the
 * DynamoDB client (directly or through a store module) has registered the tracer before its body builds its middy
 * stack (`httpRoute(...)`, `webSocketRoute(...)`, `observability()`): that stack, and every client built through
 * `instrumented` afterwards, is traced. Build stacks in handler modules' bodies, never at a shared module's top level.
 */
export function registerTracing(tracing: Tracing): void {
  registered = tracing;
}

/** Shared code builds its AWS SDK clients through this: traced in the functions that trace, plain in the others. */
export const instrumented = <Client>(client: Client): Client => registered?.captureClient(client) ?? client;

/** The tracer's handler middleware in a function that traces; none in the others. */
export const tracingMiddleware = (): MiddlewareObj[] => (registered ? [registered.handlerMiddleware()] : []);
