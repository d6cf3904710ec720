import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { instrumented } from '../lib/instrumentation.ts';
import { logger } from '../lib/powertools.ts';
import type { ServerFrame } from './protocol.ts';

/** The part of a WebSocket event's requestContext that locates the API's @connections endpoint. */
export interface ConnectionLocation {
  domainName: string;
  stage: string;
}

type Environment = Record<string, string | undefined>;

/**
 * The @connections endpoint for messages to the API's clients:
 * - the SDK's own AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, when set (offline), wins: undefined is returned
 *   and the client is built without an endpoint, so the SDK reads that variable;
 * - on the default domain (`<api-id>.execute-api.<region>.amazonaws.com`) the stage is part of the path;
 * - on a custom domain the API mapping's base path replaces the stage (WEBSOCKET_BASE_PATH; empty for none).
 */
export function managementEndpoint(
  location: ConnectionLocation,
  environment: Environment = process.env,
): string | undefined {
  if (environment.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI) return undefined;
  if (location.domainName.endsWith('.amazonaws.com')) {
    return `https://${location.domainName}/${location.stage}`;
  }
  const basePath = (environment.WEBSOCKET_BASE_PATH ?? '').replace(/^\/+|\/+$/g, '');
  return `https://${location.domainName}${basePath ? `/${basePath}` : ''}`;
}

const clients = new Map<string, ApiGatewayManagementApiClient>();

/**
 * One client per endpoint, built on first use and reused while the container is warm; traced in the functions
 * that trace (instrumentation.ts), so `$default` posts its replies without bundling the tracer.
 */
export function managementClient(location: ConnectionLocation): ApiGatewayManagementApiClient {
  const endpoint = managementEndpoint(location);
  const key = endpoint ?? '';
  let client = clients.get(key);
  if (!client) {
    client = instrumented(new ApiGatewayManagementApiClient(endpoint ? { endpoint } : {}));
    clients.set(key, client);
  }
  return client;
}

export type Send = (connectionId: string, data: Uint8Array) => Promise<unknown>;

/** Posts raw bytes to one connection of the API the event came through. */
export function sender(location: ConnectionLocation): Send {
  const client = managementClient(location);
  return (connectionId, data) =>
    client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
}

export const encodeFrame = (frame: ServerFrame): Uint8Array => Buffer.from(JSON.stringify(frame));

/**
 * Whether a post failed because the connection no longer exists. SDK v3 throws a GoneException (HTTP 410);
 * the name and status are checked too, for errors that crossed a module boundary (two SDK copies).
 */
export function isGone(error: unknown): boolean {
  if (error instanceof GoneException) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return name === 'GoneException' || $metadata?.httpStatusCode === 410;
}

/**
 * Sends one frame to the caller's own connection. A caller that has already gone is not an error: there is
 * nobody left to tell. Any other failure propagates.
 */
export async function reply(
  location: ConnectionLocation & { connectionId: string },
  frame: ServerFrame,
): Promise<boolean> {
  try {
    await sender(location)(location.connectionId, encodeFrame(frame));
    return true;
  } catch (error) {
    if (!isGone(error)) throw error;
    logger.info('The caller disconnected before the reply', { type: frame.type });
    return false;
  }
}
