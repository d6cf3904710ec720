import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RestApiConfig } from '../../template/rest-api-definition.ts';
import type { RestMethod } from '../../template/rest-api-methods.ts';
import { clfTime, headerValue, type queryParameters, TEXT_CONTENT } from '../gateway-http.ts';
import type { CompiledPath } from '../route-path.ts';
import type { TokenBucket } from '../token-bucket.ts';

/**
 * A REST API request as the offline gateway carries it through its stages, the buffered reply they end in, and
 * what the integrations see of it: `$context`, the mapping templates' input and the Lambda proxy event.
 */

export type Reply = {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** Made by API Gateway itself (a gateway response), which is never compressed (rest-compression.ts). */
  gatewayResponse?: true;
};

export interface Route extends CompiledPath {
  method: RestMethod;
  bucket: TokenBucket | undefined;
}

export interface RequestState {
  /** `$context.requestId`: the client's own when it sent one (see requestIdOf). */
  requestId: string;
  /** `$context.extendedRequestId`: always API Gateway's own. */
  extendedRequestId: string;
  now: Date;
  route: Route | undefined;
  pathParameters: Record<string, string>;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: URLSearchParams;
  /** Payload format 1.0's view of the query string: the last value of a repeated key, and all of them. */
  querystring: ReturnType<typeof queryParameters>;
  body: Buffer;
  apiKey: string | undefined;
  apiKeyId: string | undefined;
  /** What the method's Lambda authoriser returned: principalId and its context, every value a string. */
  authorizer: Record<string, string> | undefined;
  sourceIp: string;
  path: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `$context.requestId`, which the CLIENT can choose: "Clients can override the value in the x-amzn-RequestId
 * header with a value in the format of a universally unique identifier (UUID). API Gateway returns this request
 * ID in the x-amzn-RequestId response header" (API Gateway developer guide, set-up-access-logging.html; the
 * context variable reference adds "Use $context.extendedRequestId for a unique request ID that API Gateway
 * generates"). Emulated so that a definition using it as an id shows the collisions locally. What a value
 * that is not a UUID becomes is undocumented: the same page says only that access logs replace it
 * (`UUID_REPLACED_INVALID_REQUEST_ID`), while older demonstrations against AWS saw one echoed in the response
 * header (awsdocs/amazon-api-gateway-developer-guide#71, 2020). Offline it is ignored: API Gateway's own id.
 */
export function requestIdOf(headers: Record<string, string>): string {
  const chosen = headerValue(headers, 'x-amzn-requestid');
  return chosen !== undefined && UUID.test(chosen) ? chosen : randomUUID();
}

/**
 * `$context.extendedRequestId`, also sent as `x-amz-apigw-id`, which "an API caller can't provide or override"
 * (set-up-access-logging.html). Its format is not documented beyond "XxxXXXxx=" (AWS re:Post knowledge
 * center, "collect API Gateway extended request IDs"); AWS's examples and observed ones are 16 characters of
 * base64 ending in a pad (`LIxCyGd7SK4FjEg=` in awsdocs/amazon-api-gateway-developer-guide#71): 11 bytes.
 */
export const extendedRequestId = () => randomBytes(11).toString('base64');

/** Header names as the client sent them, every value kept (payload format 1.0's multiValueHeaders). */
export function headersOf(request: IncomingMessage): Record<string, string[]> {
  // A Map, not an object: a header named `__proto__` or `constructor` must not meet Object.prototype.
  const headers = new Map<string, string[]>();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const existing = [...headers.keys()].find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;
    headers.set(existing, [...(headers.get(existing) ?? []), raw[index + 1] ?? '']);
  }
  return Object.fromEntries(headers);
}

export function contextVariables(config: RestApiConfig, state: RequestState): Record<string, unknown> {
  const route = state.route;
  return {
    accountId: config.accountId,
    apiId: config.apiId,
    domainName: headerValue(state.headers, 'host') ?? 'localhost',
    extendedRequestId: state.extendedRequestId,
    httpMethod: route?.method.httpMethod ?? '',
    identity: {
      apiKey: state.apiKeyId ? state.apiKey : undefined,
      apiKeyId: state.apiKeyId,
      sourceIp: state.sourceIp,
      userAgent: headerValue(state.headers, 'user-agent') ?? '',
    },
    path: `/${config.stage}${state.path}`,
    protocol: 'HTTP/1.1',
    requestId: state.requestId,
    requestTime: clfTime(state.now),
    requestTimeEpoch: state.now.getTime(),
    resourceId: route ? resourceIdOf(route.method.resourcePath) : '',
    resourcePath: route?.method.resourcePath ?? '',
    stage: config.stage,
  };
}

export function mappingInput(config: RestApiConfig, state: RequestState, body: string) {
  return {
    body,
    params: {
      path: state.pathParameters,
      querystring: state.querystring.queryStringParameters ?? {},
      header: state.headers,
    },
    context: contextVariables(config, state),
    stageVariables: {},
  };
}

export function proxyEvent(config: RestApiConfig, state: RequestState): APIGatewayProxyEvent {
  const route = state.route as Route;
  const context = contextVariables(config, state);
  const contentType = headerValue(state.headers, 'content-type') ?? '';
  const isText = TEXT_CONTENT.test(contentType);
  const hasPath = route.parameters.length > 0;
  return {
    resource: route.method.resourcePath,
    path: state.path,
    httpMethod: route.method.httpMethod,
    headers: state.headers,
    multiValueHeaders: state.multiValueHeaders,
    queryStringParameters: state.querystring.queryStringParameters ?? null,
    multiValueQueryStringParameters: state.querystring.multiValueQueryStringParameters ?? null,
    pathParameters: hasPath ? state.pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: config.accountId,
      apiId: config.apiId,
      authorizer: state.authorizer ?? null,
      domainName: String(context.domainName),
      domainPrefix: String(context.domainName).split('.')[0] ?? '',
      extendedRequestId: state.extendedRequestId,
      httpMethod: route.method.httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: state.apiKeyId ? (state.apiKey ?? null) : null,
        apiKeyId: state.apiKeyId ?? null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: state.sourceIp,
        user: null,
        userAgent: headerValue(state.headers, 'user-agent') ?? null,
        userArn: null,
      },
      path: String(context.path),
      protocol: 'HTTP/1.1',
      requestId: state.requestId,
      requestTime: String(context.requestTime),
      requestTimeEpoch: state.now.getTime(),
      resourceId: String(context.resourceId),
      resourcePath: route.method.resourcePath,
      stage: config.stage,
    },
    body: state.body.length > 0 ? state.body.toString(isText ? 'utf8' : 'base64') : null,
    isBase64Encoded: state.body.length > 0 && !isText,
  };
}

export function requestIdHeaders(state: RequestState): Record<string, string> {
  return { 'x-amzn-requestid': state.requestId, 'x-amz-apigw-id': state.extendedRequestId };
}

function resourceIdOf(resourcePath: string): string {
  return Buffer.from(resourcePath).toString('base64url').slice(0, 10).toLowerCase();
}
