import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';

export interface EventOptions {
  routeKey: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  sub?: string;
  groups?: string[];
  scopes?: string[];
}

/**
 * An HTTP API (payload 2.0) event as API Gateway sends it after the JWT authoriser: claims as strings,
 * lists such as cognito:groups flattened to "[a b]". Objects given as `body` are sent as JSON.
 */
export function httpApiEvent(options: EventOptions): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method = 'GET', template = '/'] = options.routeKey.split(' ');
  const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => options.pathParameters?.[name] ?? '');
  const sub = options.sub ?? 'user-alice';
  const scopes = options.scopes ?? ['api/orders.read', 'api/orders.write'];
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const claims: Record<string, string> = {
    sub,
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
    client_id: 'exampleclientid',
    token_use: 'access',
    scope: scopes.join(' '),
    username: sub,
    auth_time: '1763700000',
    exp: '1763703600',
    iat: '1763700000',
  };
  if (options.groups) claims['cognito:groups'] = `[${options.groups.join(' ')}]`;
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.queryStringParameters).toString(),
    headers,
    queryStringParameters: options.queryStringParameters,
    pathParameters: options.pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes } },
      domainName: headers.host ?? '',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'vitest' },
      requestId,
      routeKey: options.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

export function lambdaContext(functionName = 'test-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
