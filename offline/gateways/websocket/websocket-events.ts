import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type FunctionRegistry, LambdaError } from '../../runtime/lambda.ts';
import type { WebSocketApiConfig } from '../../template/websocket-api-definition.ts';
import { clfTime } from '../gateway-http.ts';

/**
 * What the offline WebSocket API sends its functions: the connection each event repeats, the request context
 * and stage variables of an event, payload format 1.0 headers, and the invocation itself.
 */

/** What every event of a connection repeats. */
export interface ConnectionInfo {
  id: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  /** principalId, the authoriser's context and integrationLatency, on every event of the connection. */
  authorizer: Record<string, unknown> | undefined;
}

export interface Handshake {
  connectionId: string;
  connectedAt: number;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: URLSearchParams;
  sourceIp: string;
  userAgent: string;
  domainName: string;
}

export const CONNECT = { routeKey: '$connect', eventType: 'CONNECT' } as const;

/** The connection a handshake opens; the authoriser sees it before any authoriser context exists. */
export function connectionOf(handshake: Handshake, authorizer: ConnectionInfo['authorizer']): ConnectionInfo {
  const { connectionId: id, connectedAt, sourceIp, userAgent, domainName } = handshake;
  return { id, connectedAt, sourceIp, userAgent, domainName, authorizer };
}

export function requestContextOf(
  config: WebSocketApiConfig,
  connection: ConnectionInfo,
  details: {
    routeKey: string;
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    messageId?: string;
    requestId?: string;
  },
): Record<string, unknown> {
  const now = new Date();
  return {
    routeKey: details.routeKey,
    ...(details.messageId ? { messageId: details.messageId } : {}),
    eventType: details.eventType,
    extendedRequestId: awsId(),
    requestTime: clfTime(now),
    messageDirection: 'IN',
    stage: config.stage,
    connectedAt: connection.connectedAt,
    requestTimeEpoch: now.getTime(),
    identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
    requestId: details.requestId ?? awsId(),
    domainName: connection.domainName,
    connectionId: connection.id,
    apiId: config.apiId,
    ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
  };
}

export function stageVariablesOf(config: WebSocketApiConfig): { stageVariables?: Record<string, string> } {
  return Object.keys(config.stageVariables).length > 0 ? { stageVariables: config.stageVariables } : {};
}

export async function invokeFunction(
  functions: FunctionRegistry,
  functionName: string,
  event: unknown,
): Promise<{ ok: true; result: unknown } | { ok: false; error: LambdaError | undefined }> {
  const fn = functions.get(functionName);
  if (!fn) return { ok: false, error: undefined };
  try {
    return { ok: true, result: await fn.invoke(event) };
  } catch (error) {
    if (error instanceof LambdaError) return { ok: false, error };
    throw error;
  }
}

/** An id shaped like API Gateway's connection, request and message ids: 'L0SM9cOFvHcCIhw='. */
export function awsId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** Payload format 1.0 headers: names as sent, the last value of a repeated header, all of them in multiValue. */
export function payloadHeaders(request: IncomingMessage): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  // Maps, not objects: a header named `__proto__` or `constructor` must not meet Object.prototype.
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const value = raw[index + 1] ?? '';
    headers.set(name, value);
    multiValueHeaders.set(name, [...(multiValueHeaders.get(name) ?? []), value]);
  }
  return { headers: Object.fromEntries(headers), multiValueHeaders: Object.fromEntries(multiValueHeaders) };
}
