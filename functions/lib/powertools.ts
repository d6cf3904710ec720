import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

// Service name, namespace and log level come from the POWERTOOLS_* variables set in template.yaml Globals.
// The search function lets injectLambdaContext's correlationIdPath pick the API request id out of the event.
export const logger = new Logger({ correlationIdSearchFn: search });

// Most requests of a read route add no business metric; Metrics would then warn on every invocation.
// Its own diagnostics go through a child logger that only passes errors.
export const metrics = new Metrics({ logger: logger.createChild({ logLevel: 'ERROR' }) });

export const tracer = new Tracer();
