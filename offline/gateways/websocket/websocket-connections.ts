import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import { readBody, safeDecode } from '../gateway-http.ts';
import { awsId, type ConnectionInfo } from './websocket-events.ts';

/**
 * The connections the offline WebSocket API holds open, and the `@connections` management API on them, on the
 * same port as the clients: POST sends a message, GET describes the connection, DELETE closes it.
 */

export interface Connection extends ConnectionInfo {
  socket: WebSocket;
  lastActiveAt: number;
  idleTimer: NodeJS.Timeout;
  lifetimeTimer: NodeJS.Timeout;
  /** Set when the gateway closes the connection itself: the code and reason the $disconnect event reports. */
  closing?: { code: number; reason: string };
}

/** The gateway closes a connection (idle, too old, DELETE @connections). */
export function closeConnection(connection: Connection, code: number, reason: string): void {
  connection.closing ??= { code, reason };
  connection.socket.close(code, reason);
  // A client that does not answer the closing handshake is cut off, as API Gateway would.
  setTimeout(() => connection.socket.terminate(), 1000).unref();
}

export async function serveConnectionsApi(
  request: IncomingMessage,
  response: ServerResponse,
  connections: ReadonlyMap<string, Connection>,
  stage: string,
  maxMessageBytes: number,
): Promise<void> {
  const body = await readBody(request, maxMessageBytes);
  const url = new URL(request.url ?? '/', 'http://localhost');
  const prefix = `/${stage}/@connections/`;
  if (!url.pathname.startsWith(prefix)) return sendJson(response, 403, { message: 'Forbidden' });
  const connectionId = safeDecode(url.pathname.slice(prefix.length));
  const method = (request.method ?? 'GET').toUpperCase();
  if (!['POST', 'GET', 'DELETE'].includes(method)) return sendJson(response, 403, { message: 'Forbidden' });
  const connection = connections.get(connectionId);
  if (!connection || connection.socket.readyState !== WebSocket.OPEN) {
    return sendJson(response, 410, {}, 'GoneException');
  }
  switch (method) {
    case 'POST': {
      if (body === undefined) {
        return sendJson(response, 413, { message: 'Message too long' }, 'PayloadTooLargeException');
      }
      const sent = await new Promise<boolean>((resolve) =>
        connection.socket.send(body, { binary: false }, (error) => resolve(!error)),
      );
      return sent ? sendJson(response, 200) : sendJson(response, 410, {}, 'GoneException');
    }
    case 'GET':
      return sendJson(response, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    default:
      closeConnection(connection, 1000, '');
      return sendJson(response, 204);
  }
}

export function sendJson(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response
    .writeHead(status, {
      ...(text ? { 'content-type': 'application/json' } : {}),
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-RequestId': awsId(),
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    })
    .end(text);
}
