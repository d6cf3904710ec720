import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj } from '@middy/core';
import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
  Context,
} from 'aws-lambda';
import { forbidden, HttpError } from '../lib/errors.ts';
import { API_REQUEST_ID, logger, metrics, observability } from '../lib/powertools.ts';
import { reply } from './management.ts';
import { errorFrame } from './protocol.ts';

/** What the `$connect` authoriser put in its `context`, as API Gateway hands it to every route. */
export interface ChatAuthorizerContext {
  principalId?: string;
  userId?: string;
  username?: string;
  integrationLatency?: number;
}

/** A WebSocket route event (`$connect`, `$disconnect`, a message route) after the `$connect` authoriser. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2WithRequestContext<
  APIGatewayEventWebsocketRequestContextV2 & { authorizer?: ChatAuthorizerContext }
> & {
  headers?: Record<string, string | undefined>;
  disconnectStatusCode?: number;
  disconnectReason?: string;
};

/** A WebSocket route's answer: 2xx accepts (a `$connect` otherwise fails the handshake with this status). */
export interface WebSocketResult {
  statusCode: number;
}

export const ok = (): WebSocketResult => ({ statusCode: 200 });

export interface Caller {
  readonly userId: string;
  readonly username: string;
}

/** The user the `$connect` authoriser verified; a connection without one never got past `$connect`. */
export function callerOf(event: WebSocketEvent): Caller {
  const { userId, username } = event.requestContext.authorizer ?? {};
  if (typeof userId !== 'string' || userId === '') throw forbidden('The connection has no authorised user');
  return { userId, username: typeof username === 'string' && username !== '' ? username : userId };
}

/**
 * The error model of the WebSocket routes. Nothing reaches the client through a route response (there are
 * none): refusals (HttpErrors) are sent to the caller as an error frame and answered with their status;
 * anything else is logged in full and the caller gets a bare InternalError frame and a 500.
 */
function webSocketErrors(replies: boolean): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    onError: async (request) => {
      const { error } = request;
      const refusal = error instanceof HttpError ? error : undefined;
      if (refusal) {
        logger.info('Request refused', {
          statusCode: refusal.statusCode,
          code: refusal.code,
          reason: refusal.message,
        });
      } else {
        logger.error('Unhandled error', error as Error);
        metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
      }
      const context = request.event?.requestContext;
      if (replies && context) {
        try {
          await reply(context, errorFrame(refusal));
        } catch (failure) {
          logger.warn('Could not send the error to the caller', failure as Error);
        }
      }
      request.response = { statusCode: refusal?.statusCode ?? 500 };
    },
  };
}

/** Adds the connection and route to every log line of this invocation. */
const connectionKeys: MiddlewareObj<WebSocketEvent, WebSocketResult> = {
  before: async ({ event }) => {
    logger.appendKeys({
      connectionId: event.requestContext?.connectionId,
      routeKey: event.requestContext?.routeKey,
    });
  },
};

/**
 * The middy stack of every WebSocket route: Powertools logger (Lambda context, the API request id as the
 * correlation id, the connection id), the tracer's middleware for a route that traces (`tracing()` from
 * functions/lib/tracing.ts, passed by the routes that call DynamoDB), metrics (with a cold-start metric) and the
 * error model. `replies: false` for `$connect`/`$disconnect`, whose connection cannot receive messages.
 */
export function webSocketRoute(
  handler: (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>,
  { replies = true, tracing }: { replies?: boolean; tracing?: MiddlewareObj } = {},
) {
  return middy<WebSocketEvent, WebSocketResult>()
    .use(observability(API_REQUEST_ID, tracing))
    .use(connectionKeys)
    .use(webSocketErrors(replies))
    .handler(handler);
}
