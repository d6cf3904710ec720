import middy, { type MiddlewareObj } from '@middy/core';
import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
  Context,
} from 'aws-lambda';
import { forbidden, HttpError } from '../lib/errors.ts';
import { API_REQUEST_ID, logger, logRouteError, observability } from '../lib/powertools.ts';
import { reply } from './management.ts';
import { type ErrorFrame, errorFrame } from './protocol.ts';

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

/**
 * A WebSocket route's answer. The chat has no route responses, so API Gateway does not pass it to the client
 * ("Set up route responses for WebSocket APIs in API Gateway"); it only counts it: a 4XX/5XX is an
 * IntegrationError ("Monitor WebSocket API execution with CloudWatch metrics"), and a non-2xx from `$connect`
 * also fails the handshake (the Lambda example of "Use WebSocket subprotocols", websocket-connect-route-subprotocol).
 */
export interface WebSocketResult {
  statusCode: number;
}

export const ok = (): WebSocketResult => ({ statusCode: 200 });

export interface ConnectionCaller {
  readonly userId: string;
  readonly username: string;
}

/** The user the `$connect` authoriser verified; a connection without one never got past `$connect`. */
export function connectionCallerOf(event: WebSocketEvent): ConnectionCaller {
  const { userId, username } = event.requestContext.authorizer ?? {};
  if (typeof userId !== 'string' || userId === '') throw forbidden('The connection has no authorised user');
  return { userId, username: typeof username === 'string' && username !== '' ? username : userId };
}

/**
 * The error model of the WebSocket routes. Nothing reaches the client through a route response (there are
 * none), so the caller of a message route is told by an error frame: the refusal (an HttpError) or, for anything
 * else, a bare InternalError. The status only feeds the IntegrationError metric and the chat's error alarm:
 * - a refusal the caller has been told of is the client's mistake, not a failure: 200;
 * - an unexpected error, or a refusal whose frame could not be posted, is a failure: 500;
 * - `$connect`/`$disconnect` (`replies: false`) answer a refusal with its status: on `$connect` that status
 *   fails the handshake, as intended, and counts as an IntegrationError.
 */
function webSocketErrors(replies: boolean): MiddlewareObj<WebSocketEvent, WebSocketResult> {
  return {
    onError: async (request) => {
      const { error } = request;
      logRouteError(error);
      const refusal = error instanceof HttpError ? error : undefined;
      if (!replies) {
        request.response = { statusCode: refusal?.statusCode ?? 500 };
        return;
      }
      const told = await tellCaller(request.event?.requestContext, errorFrame(refusal));
      request.response = { statusCode: refusal && told ? 200 : 500 };
    },
  };
}

/**
 * Posts the error frame to the caller: true once it is sent, or when the caller has already gone (nobody is
 * left to tell); false when the post failed, so the caller never heard of its mistake.
 */
async function tellCaller(
  context: WebSocketEvent['requestContext'] | undefined,
  frame: ErrorFrame,
): Promise<boolean> {
  if (!context) return false;
  try {
    await reply(context, frame);
    return true;
  } catch (failure) {
    logger.warn('Could not send the error to the caller', failure as Error);
    return false;
  }
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
 * correlation id, the connection id), the tracer's middleware in a route that traces (one that calls DynamoDB:
 * functions/lib/instrumentation.ts), metrics (with a cold-start metric) and the error model. `replies: false` for
 * `$connect`/`$disconnect`, whose connection cannot receive messages.
 */
export function webSocketRoute(
  handler: (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>,
  { replies = true }: { replies?: boolean } = {},
) {
  return middy<WebSocketEvent, WebSocketResult>()
    .use(observability(API_REQUEST_ID))
    .use(connectionKeys)
    .use(webSocketErrors(replies))
    .handler(handler);
}
