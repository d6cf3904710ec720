import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface RestEventOptions {
  /** The method and the API Gateway resource, as the OpenAPI definition names it: `GET /products/{id}`. */
  route: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  /** Extra headers, as the client spelled them (a REST API passes header names on as they arrive). */
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  /** The id of the partner's API key (`$context.identity.apiKeyId`). */
  apiKeyId?: string;
  stage?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: CLF, `21/Nov/2025:10:05:18 +0000`. */
function requestTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const day = `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  return `${day}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

const multiValue = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [value]]));

/**
 * A REST API Lambda proxy event (payload 1.0) as API Gateway sends it for a request with an API key (the shape
 * of events/products-*.json): headers and query parameters in both the single- and multi-value form, `null`
 * (not `{}`) where a request has none, the resource template next to the concrete path, the request id a UUID,
 * and the caller's API key in `requestContext.identity`. No authoriser, so no `requestContext.authorizer`.
 */
export function restApiEvent(options: RestEventOptions): APIGatewayProxyEvent {
  const [httpMethod = 'GET', resource = '/'] = options.route.split(' ');
  const path = resource.replace(
    /\{(\w+)\+?\}/g,
    (_match, name: string) => options.pathParameters?.[name] ?? '',
  );
  const stage = options.stage ?? 'v1';
  const apiId = 'p4r7n3r8x2';
  const domainName = `${apiId}.execute-api.eu-west-1.amazonaws.com`;
  const apiKey = randomBytes(30).toString('base64url');
  const body =
    options.body === undefined || options.body === null
      ? null
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Host: domainName,
    'User-Agent': 'vitest',
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    'X-Forwarded-For': '198.51.100.23',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    'x-api-key': apiKey,
    ...(body !== null ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  const query = options.queryStringParameters;
  const hasQuery = query !== undefined && Object.keys(query).length > 0;
  const now = new Date();
  return {
    resource,
    path,
    httpMethod,
    headers,
    multiValueHeaders: multiValue(headers),
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValue(query) : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      resourceId: 'k2v9q1',
      resourcePath: resource,
      httpMethod,
      extendedRequestId: randomBytes(12).toString('base64'),
      requestTime: requestTime(now),
      path: `/${stage}${path}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage,
      domainPrefix: apiId,
      requestTimeEpoch: now.getTime(),
      requestId: randomUUID(),
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        apiKey,
        apiKeyId: options.apiKeyId ?? 'k7x2m9q4r1',
        sourceIp: '198.51.100.23',
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: 'vitest',
        user: null,
        clientCert: null,
      },
      domainName,
      apiId,
      authorizer: undefined,
    },
    body,
    isBase64Encoded: false,
  };
}
