import { randomBytes } from 'node:crypto';
import type { WebSocketEvent } from '../../functions/chat/websocket-route.ts';

export interface WebSocketEventOptions {
  routeKey: string;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  connectionId?: string;
  userId?: string;
  username?: string;
  /** false: no authoriser context (a connection that never passed $connect). */
  authorized?: boolean;
  domainName?: string;
  stage?: string;
}

/** A connection id shaped like API Gateway's (12 random bytes, base64). */
export const newConnectionId = () => randomBytes(12).toString('base64');

const EVENT_TYPES: Record<string, 'CONNECT' | 'DISCONNECT'> = {
  $connect: 'CONNECT',
  $disconnect: 'DISCONNECT',
};

/**
 * A WebSocket route event as API Gateway sends it after the `$connect` authoriser (the shapes of
 * events/chat-*.json): `$connect` with headers and query string, `$disconnect` with its status, message
 * routes with a body and a message id.
 */
export function webSocketEvent(options: WebSocketEventOptions): WebSocketEvent {
  const eventType = EVENT_TYPES[options.routeKey] ?? 'MESSAGE';
  const userId = options.userId ?? 'user-alice';
  const apiId = 'k3m8q2w7z1';
  const requestId = randomBytes(12).toString('base64');
  const now = Date.now();
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  const event: WebSocketEvent = {
    // @types/aws-lambda declares messageId on every event; API Gateway sends it with MESSAGE events only.
    requestContext: {
      routeKey: options.routeKey,
      ...(eventType === 'MESSAGE' ? { messageId: randomBytes(12).toString('base64') } : {}),
      eventType,
      extendedRequestId: requestId,
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: options.stage ?? 'dev',
      connectedAt: now - 5_000,
      requestTimeEpoch: now,
      requestId,
      domainName: options.domainName ?? `${apiId}.execute-api.eu-west-1.amazonaws.com`,
      connectionId: options.connectionId ?? newConnectionId(),
      apiId,
      ...(options.authorized === false
        ? {}
        : {
            authorizer: {
              principalId: userId,
              userId,
              username: options.username ?? userId,
              integrationLatency: 120,
            },
          }),
    } as WebSocketEvent['requestContext'],
    isBase64Encoded: false,
  };
  if (body !== undefined) event.body = body;
  if (eventType === 'CONNECT') {
    event.headers = { Host: event.requestContext.domainName, 'Sec-WebSocket-Version': '13' };
    event.queryStringParameters = { token: 'eyJ.example.token' };
  }
  if (eventType === 'DISCONNECT') {
    event.headers = { Host: event.requestContext.domainName };
    event.disconnectStatusCode = 1001;
    event.disconnectReason = 'Going away';
  }
  return event;
}
