import type { FieldIssue } from './errors.ts';

/**
 * What every route answers: a Lambda proxy result that API Gateway takes from both kinds of API, the REST API
 * (payload 1.0, `APIGatewayProxyResult`, which requires a body) and the HTTP API (payload 2.0,
 * `APIGatewayProxyStructuredResultV2`). Nothing that only one of them knows (cookies, multiValueHeaders).
 */
export interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(): HttpResult {
  return { statusCode: 204, body: '' };
}

/** The one error shape every route answers with. */
export function errorResult(
  statusCode: number,
  error: { code: string; message: string; details?: readonly FieldIssue[] | undefined },
  requestId: string,
): HttpResult {
  const { code, message, details } = error;
  return json(statusCode, { error: details ? { code, message, details } : { code, message }, requestId });
}
