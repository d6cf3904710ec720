import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { instrumentClients } from './instrumentation.ts';

/**
 * The Powertools tracer, for the functions that call DynamoDB only. `Tracing: Active` has Lambda record every
 * invocation without it; what it adds is a subsegment per AWS SDK call (and annotations), worth its cost (about
 * 120 KB of bundle and 15-50 ms of cold start: README, Bundle size and cold start) where those calls are what
 * the function spends its time on. Loading this module also traces every AWS SDK client the function builds
 * afterwards through `instrumented` (instrumentation.ts), such as the chat's @connections client.
 */
export const tracer = new Tracer();

instrumentClients((client) => tracer.captureAWSv3Client(client));

/** The middy middleware of a function that traces: a subsegment for the handler, with cold start and errors. */
export const tracing = () => captureLambdaHandler(tracer);
