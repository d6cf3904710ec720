import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { registerTracing } from './instrumentation.ts';

/**
 * The Powertools tracer, for the functions that call DynamoDB only. `Tracing: Active` has Lambda record every
 * invocation without it; what it adds is a subsegment per AWS SDK call (and annotations), worth its cost (about
 * 120 KB of bundle and 15-50 ms of cold start: README, Bundle size and cold start) where those calls are what
 * the function spends its time on. Loading this module is what makes a function trace: it registers the tracer
 * (instrumentation.ts), so that every middy stack adds its handler middleware and every AWS SDK client shared code
 * builds through `instrumented` is captured, such as the chat's @connections client. clients.ts imports it.
 */
export const tracer = new Tracer();

registerTracing({
  captureClient: (client) => tracer.captureAWSv3Client(client),
  handlerMiddleware: () => captureLambdaHandler(tracer),
});
