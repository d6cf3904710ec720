import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { FieldIssue } from './errors.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(): HttpResult {
  return { statusCode: 204 };
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
