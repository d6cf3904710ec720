import type { FunctionRegistry } from '../../runtime/lambda.ts';
import type { Json, JsonObject } from '../../template/template.ts';
import type {
  WebSocketApiConfig,
  WebSocketAuthorizerConfig,
} from '../../template/websocket-api-definition.ts';
import { headerValue, queryParameters } from '../gateway-http.ts';
import {
  CONNECT,
  connectionOf,
  type Handshake,
  invokeFunction,
  requestContextOf,
} from './websocket-events.ts';

/** The WebSocket API's REQUEST authoriser on `$connect`, and the IAM policy it returns. */

type AuthorizerResult =
  | { ok: true; authorizer: Record<string, unknown> | undefined }
  | { ok: false; status: number; message: string };

/** The REQUEST authoriser: identity sources first (none missing), then the function's policy. */
export async function authorizeConnection(
  config: WebSocketApiConfig,
  functions: FunctionRegistry,
  authorizer: WebSocketAuthorizerConfig,
  handshake: Handshake,
): Promise<AuthorizerResult> {
  for (const source of authorizer.identitySource) {
    const value =
      source.in === 'header'
        ? headerValue(handshake.headers, source.name)
        : (handshake.query.getAll(source.name).at(-1) ?? undefined);
    if (!value) return { ok: false, status: 401, message: 'Unauthorized' };
  }
  const { region, accountId, apiId, stage } = config;
  const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/$connect`;
  const query = queryParameters(handshake.query);
  const event = {
    type: 'REQUEST',
    methodArn,
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    queryStringParameters: query.queryStringParameters ?? {},
    multiValueQueryStringParameters: query.multiValueQueryStringParameters ?? {},
    stageVariables: config.stageVariables,
    requestContext: requestContextOf(config, connectionOf(handshake, undefined), CONNECT),
  };
  const started = performance.now();
  const outcome = await invokeFunction(functions, authorizer.functionName, event);
  const integrationLatency = Math.round(performance.now() - started);
  if (!outcome.ok) {
    // A function that fails with exactly "Unauthorized" is API Gateway's way to say 401.
    return outcome.error?.message === 'Unauthorized'
      ? { ok: false, status: 401, message: 'Unauthorized' }
      : { ok: false, status: 500, message: 'Internal server error' };
  }
  const response = outcome.result as { principalId?: unknown; policyDocument?: unknown; context?: unknown };
  const context = response?.context ?? {};
  if (
    response === null ||
    typeof response !== 'object' ||
    typeof response.policyDocument !== 'object' ||
    response.policyDocument === null ||
    typeof context !== 'object' ||
    context === null ||
    // The context map takes strings, numbers and booleans only; anything else is a 500 on AWS too.
    Object.values(context).some((value) => value !== null && typeof value === 'object')
  ) {
    return { ok: false, status: 500, message: 'Internal server error' };
  }
  if (!policyAllows(response.policyDocument as JsonObject, methodArn)) {
    return { ok: false, status: 403, message: 'Forbidden' };
  }
  return {
    ok: true,
    authorizer: {
      principalId: response.principalId === undefined ? '' : String(response.principalId),
      ...(context as Record<string, unknown>),
      integrationLatency,
    },
  };
}

/** Whether an IAM policy from an authoriser allows execute-api:Invoke on the method (an explicit Deny wins). */
export function policyAllows(policy: JsonObject, methodArn: string): boolean {
  const list = (value: Json | undefined): Json[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  let allowed = false;
  for (const statement of list(policy.Statement) as JsonObject[]) {
    const action = list(statement.Action).some((pattern) =>
      wildcard(String(pattern), 'execute-api:Invoke', 'i'),
    );
    const resource = list(statement.Resource).some((pattern) => wildcard(String(pattern), methodArn));
    if (!action || !resource) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function wildcard(pattern: string, value: string, flags = ''): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, flags).test(value);
}
