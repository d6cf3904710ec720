import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayAuthorizerWithContextResult } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { API_REQUEST_ID, logger, metrics, observability } from '../lib/powertools.ts';

/** The REQUEST authoriser event of a WebSocket `$connect` (no HTTP method, path or path parameters). */
export interface WebSocketAuthorizerEvent {
  type: 'REQUEST';
  methodArn: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  stageVariables?: Record<string, string | undefined> | null;
  requestContext: {
    routeKey: string;
    eventType: 'CONNECT';
    connectionId: string;
    requestId: string;
    apiId: string;
    stage: string;
    domainName: string;
    [key: string]: unknown;
  };
}

/** What every route of the connection sees in `requestContext.authorizer`. */
export type ConnectionContext = { userId: string; username: string };
export type AuthorizerResult = APIGatewayAuthorizerWithContextResult<ConnectionContext>;

/**
 * Verifies Cognito access tokens of this template's user pool and app client. Created once per container,
 * so the JWKS it downloads is cached across invocations. Exported so tests can prime the cache (cacheJwks).
 */
export const verifier = CognitoJwtVerifier.create({
  userPoolId: requireEnv('USER_POOL_ID'),
  clientId: requireEnv('USER_POOL_CLIENT_ID'),
  tokenUse: 'access',
});

/**
 * The `$connect` authoriser. Browsers cannot set headers on a WebSocket handshake, so the access token comes
 * as the `token` query-string parameter. A valid token allows this connection and names its user; anything
 * else throws `Unauthorized`, which API Gateway answers with 401 and no connection.
 */
export const handler = middy<WebSocketAuthorizerEvent, AuthorizerResult>()
  .use(observability(API_REQUEST_ID))
  .handler(async (event) => {
    const token = event.queryStringParameters?.token;
    let claims: { sub: string; username?: unknown };
    try {
      if (!token) throw new Error('No token query-string parameter');
      claims = await verifier.verify(token);
    } catch (error) {
      logger.info('Connection refused', { reason: (error as Error).message });
      metrics.addMetric('ConnectionsRefused', MetricUnit.Count, 1);
      throw new Error('Unauthorized');
    }
    const userId = claims.sub;
    const username = typeof claims.username === 'string' && claims.username !== '' ? claims.username : userId;
    return {
      principalId: userId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: { userId, username },
    };
  });
