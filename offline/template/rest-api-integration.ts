import { ApiGatewayImportError, KNOWN_ISSUES } from './rest-api-import.ts';
import type { Json, JsonObject } from './template.ts';
import { UnsupportedTemplateError } from './template.ts';

/**
 * A REST API method's `x-amazon-apigateway-integration`: its target (Lambda proxy, SQS, DynamoDB, mock), its
 * templates and responses (checked against the method responses the operation declares), and its transfer mode.
 */

export type IntegrationTarget =
  | { service: 'lambda'; functionName: string }
  | { service: 'sqs'; queueName: string }
  | { service: 'dynamodb'; action: string }
  | { service: 'mock' };

export interface IntegrationResponse {
  /** Matched against the integration's status code (whole string); undefined for the default response. */
  selectionPattern: RegExp | undefined;
  statusCode: number;
  responseParameters: Record<string, string>;
  responseTemplates: Record<string, string>;
}

export interface Integration {
  type: 'aws' | 'aws_proxy' | 'mock';
  target: IntegrationTarget;
  requestTemplates: Record<string, string>;
  requestParameters: Record<string, string>;
  passthroughBehavior: 'when_no_match' | 'when_no_templates' | 'never';
  responses: IntegrationResponse[];
  cacheKeyParameters: string[];
  timeoutMs: number;
  /** BUFFERED (the default) answers once the integration has answered; STREAM forwards it as it arrives. */
  responseTransferMode: 'BUFFERED' | 'STREAM';
}

const DEFAULT_TIMEOUT_MS = 29_000;
/** "When you use response streaming, you can configure the integration timeout up to 15 minutes." */
const MAX_STREAM_TIMEOUT_MS = 900_000;

/** The headers each method response declares, by status code; a `$ref` response is refused, as AWS does. */
export function methodResponsesOf(operation: JsonObject, where: string): Map<number, Set<string>> {
  const declared = new Map<number, Set<string>>();
  for (const [status, response] of Object.entries(
    (operation.responses ?? {}) as Record<string, JsonObject>,
  )) {
    if (response.$ref !== undefined) {
      throw new ApiGatewayImportError(
        `${where}.responses.${status}`,
        `a response given by \`$ref\` (${String(response.$ref)}), which the import does not support: write it inline`,
        KNOWN_ISSUES,
      );
    }
    const headers = Object.keys((response.headers ?? {}) as JsonObject).map((name) => name.toLowerCase());
    declared.set(Number(status), new Set(headers));
  }
  return declared;
}

/**
 * An integration response that maps headers must answer with a status the method declares, and may map only
 * the headers that method response declares: the import refuses the definition otherwise.
 */
export function checkedAgainstMethodResponses(
  integration: Integration,
  declared: Map<number, Set<string>>,
  where: string,
): Integration {
  for (const response of integration.responses) {
    const responseWhere = `${where}.x-amazon-apigateway-integration.responses`;
    const headers = declared.get(response.statusCode);
    // Without mappings, an integration response needs no method response (recorded against AWS: LocalStack
    // test_apigateway_api.py TestApigatewayIntegrationResponse::test_lifecycle_integration_response).
    if (Object.keys(response.responseParameters).length === 0) continue;
    if (headers === undefined) {
      throw new ApiGatewayImportError(
        responseWhere,
        `an integration response with status ${response.statusCode} and header mappings, which has no method ` +
          `response ("No method response exists for method."): declare "${response.statusCode}" under the ` +
          "operation's responses",
        'amazon-archives/aws-apigateway-importer#121',
      );
    }
    for (const name of Object.keys(response.responseParameters)) {
      const header = /^method\.response\.header\.(.+)$/.exec(name)?.[1];
      if (header !== undefined && !headers.has(header.toLowerCase())) {
        throw new ApiGatewayImportError(
          responseWhere,
          `the mapping ${name}, a header the ${response.statusCode} method response does not declare ` +
            '("Invalid mapping expression parameter specified"): add it to ' +
            `responses."${response.statusCode}".headers`,
          'amazon-archives/aws-apigateway-importer#209; awslabs/aws-solutions-constructs#1130',
        );
      }
    }
  }
  return integration;
}

export const LAMBDA_URI =
  /:lambda:path\/2015-03-31\/functions\/arn:[\w-]+:lambda:[\w-]+:\d+:function:([\w-]+)\/invocations$/;
/** InvokeWithResponseStream, which a Lambda proxy integration for response streaming calls. */
const LAMBDA_STREAMING_URI =
  /:lambda:path\/2021-11-15\/functions\/arn:[\w-]+:lambda:[\w-]+:\d+:function:([\w-]+)\/response-streaming-invocations$/;
const SQS_URI = /:sqs:path\/\d+\/([\w.-]+)$/;
const DYNAMODB_URI = /:dynamodb:action\/(\w+)$/;

export function integrationOf(value: Json | undefined, where: string): Integration {
  if (value === undefined)
    throw new UnsupportedTemplateError(where, 'a method without x-amazon-apigateway-integration');
  const integration = value as JsonObject;
  const type = String(integration.type).toLowerCase();
  const uri = String(integration.uri ?? '');
  let target: IntegrationTarget | undefined;
  if (type === 'mock') target = { service: 'mock' };
  else if (type === 'aws_proxy' && LAMBDA_URI.test(uri))
    target = { service: 'lambda', functionName: LAMBDA_URI.exec(uri)?.[1] ?? '' };
  else if (type === 'aws_proxy' && LAMBDA_STREAMING_URI.test(uri))
    target = { service: 'lambda', functionName: LAMBDA_STREAMING_URI.exec(uri)?.[1] ?? '' };
  else if (type === 'aws' && SQS_URI.test(uri))
    target = { service: 'sqs', queueName: SQS_URI.exec(uri)?.[1] ?? '' };
  else if (type === 'aws' && DYNAMODB_URI.test(uri))
    target = { service: 'dynamodb', action: DYNAMODB_URI.exec(uri)?.[1] ?? '' };
  if (!target) {
    throw new UnsupportedTemplateError(
      `${where}.x-amazon-apigateway-integration`,
      `a ${type} integration with the URI ${uri} (offline: mock, Lambda proxy, SQS path and DynamoDB action)`,
    );
  }
  const timeoutMs = Number(integration.timeoutInMillis ?? DEFAULT_TIMEOUT_MS);
  const responseTransferMode = transferModeOf(
    integration,
    type,
    uri,
    timeoutMs,
    `${where}.x-amazon-apigateway-integration`,
  );
  return {
    type: type as Integration['type'],
    target,
    requestTemplates: lowerCaseKeys(integration.requestTemplates),
    requestParameters: (integration.requestParameters ?? {}) as Record<string, string>,
    passthroughBehavior: String(
      integration.passthroughBehavior ?? 'when_no_match',
    ).toLowerCase() as Integration['passthroughBehavior'],
    responses: Object.entries((integration.responses ?? {}) as Record<string, JsonObject>).map(
      ([pattern, response]): IntegrationResponse => ({
        selectionPattern: pattern === 'default' ? undefined : new RegExp(`^(?:${pattern})$`),
        statusCode: Number(response.statusCode),
        responseParameters: (response.responseParameters ?? {}) as Record<string, string>,
        responseTemplates: lowerCaseKeys(response.responseTemplates),
      }),
    ),
    cacheKeyParameters: ((integration.cacheKeyParameters ?? []) as Json[]).map(String),
    timeoutMs,
    responseTransferMode,
  };
}

export const RESPONSE_STREAMING =
  'API Gateway developer guide, "Stream the integration response for your proxy integrations"';
const LAMBDA_STREAMING =
  'API Gateway developer guide, "Set up a Lambda proxy integration with payload response streaming"';

/**
 * The integration's responseTransferMode (BUFFERED unless it says STREAM). Refused: a value API Gateway does not
 * have, STREAM where it cannot apply or beyond its limits, and pairings of mode and Lambda URI whose outcome AWS
 * does not document.
 */
function transferModeOf(
  integration: JsonObject,
  type: string,
  uri: string,
  timeoutMs: number,
  where: string,
): Integration['responseTransferMode'] {
  const mode = String(integration.responseTransferMode ?? 'BUFFERED');
  const refuse = (problem: string, source: string) => {
    throw new ApiGatewayImportError(`${where}.responseTransferMode`, problem, source);
  };
  if (mode !== 'BUFFERED' && mode !== 'STREAM')
    refuse(`"${mode}": the transfer mode is BUFFERED or STREAM`, 'API Gateway API reference, Integration');
  const streamingUri = LAMBDA_STREAMING_URI.test(uri);
  if (mode === 'BUFFERED') {
    if (streamingUri)
      throw new UnsupportedTemplateError(
        `${where}.uri`,
        'a response-streaming-invocations URI without responseTransferMode: STREAM (what API Gateway does with ' +
          `it is undocumented; ${LAMBDA_STREAMING})`,
      );
    return 'BUFFERED';
  }
  if (type !== 'aws_proxy' && type !== 'http_proxy')
    refuse(
      `STREAM on a ${type} integration: response streaming is only for HTTP_PROXY and AWS_PROXY integrations`,
      RESPONSE_STREAMING,
    );
  if (!streamingUri)
    throw new UnsupportedTemplateError(
      `${where}.uri`,
      'responseTransferMode: STREAM with the buffered Invoke URI (API Gateway streams a Lambda function through ' +
        'InvokeWithResponseStream, arn:aws:apigateway:<region>:lambda:path/2021-11-15/functions/<function ARN>/' +
        `response-streaming-invocations; what it does with the Invoke URI is undocumented; ${LAMBDA_STREAMING})`,
    );
  if (timeoutMs > MAX_STREAM_TIMEOUT_MS)
    refuse(
      `timeoutInMillis ${timeoutMs}: a response is streamed for at most 15 minutes (${MAX_STREAM_TIMEOUT_MS} ms)`,
      RESPONSE_STREAMING,
    );
  const responses = (integration.responses ?? {}) as Record<string, JsonObject>;
  if (Object.values(responses).some((response) => response.responseTemplates !== undefined))
    refuse(
      'response templates on a STREAM integration: response transformations with VTL are not supported with ' +
        'response streaming',
      RESPONSE_STREAMING,
    );
  return 'STREAM';
}

export function lowerCaseKeys(value: Json | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, string>).map(([key, text]) => [key.toLowerCase(), text]),
  );
}
