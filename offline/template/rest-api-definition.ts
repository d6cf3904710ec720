import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import {
  caveatKeywordsOf,
  MODEL_KEYWORD_CAVEATS,
  type ParameterRequirement,
  type RequestValidatorSettings,
} from '../gateways/rest/request-validation.ts';
import type { TokenAuthorizer } from '../gateways/rest/rest-authorizer.ts';
import { MAX_MINIMUM_COMPRESSION_SIZE } from '../gateways/rest/rest-compression.ts';
import type { ApiKeyDefinition, Throttle, UsagePlanDefinition } from '../gateways/rest/usage-plans.ts';
import { ApiGatewayImportError, checkImportable, KNOWN_ISSUES } from './rest-api-import.ts';
import type { Json, JsonObject, Resolver } from './template.ts';
import { UnsupportedTemplateError } from './template.ts';

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

export interface RestMethod {
  httpMethod: string;
  /** The resource path as defined, `/orders/{id}`. */
  resourcePath: string;
  apiKeyRequired: boolean;
  /** The method's Lambda TOKEN authoriser, from a security scheme with `x-amazon-apigateway-authorizer`. */
  authorizer: TokenAuthorizer | undefined;
  validator: RequestValidatorSettings;
  requiredParameters: ParameterRequirement[];
  bodySchemas: Record<string, unknown>;
  integration: Integration;
  caching: { enabled: boolean; ttlSeconds: number };
  /** The stage's throttle for this method (its own MethodSettings entry, else the stage-wide one). */
  throttle: Throttle | undefined;
}

export interface GatewayResponse {
  statusCode: number | undefined;
  headers: Record<string, string>;
  templates: Record<string, string>;
}

export interface RestApiConfig {
  logicalId: string;
  apiId: string;
  stage: string;
  accountId: string;
  region: string;
  methods: RestMethod[];
  gatewayResponses: Record<string, GatewayResponse>;
  cacheClusterEnabled: boolean;
  /** `MinimumCompressionSize`: responses of at least this many bytes are compressed; undefined: never. */
  minimumCompressionSize: number | undefined;
  schemas: Record<string, unknown>;
  apiKeys: ApiKeyDefinition[];
  usagePlans: UsagePlanDefinition[];
  /** What the definition relies on that AWS may not do (printed at start-up; README: fidelity). */
  warnings: string[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const DEFAULT_TIMEOUT_MS = 29_000;
/** "When you use response streaming, you can configure the integration timeout up to 15 minutes." */
const MAX_STREAM_TIMEOUT_MS = 900_000;
const DEFAULT_CACHE_TTL = 300;

/** The local value of an API key: its `Value` when the template sets one, else a stable local-only value. */
const localApiKeyValue = (logicalId: string) => `local-${logicalId}-0000000000`;

/**
 * Every AWS::Serverless::Api of the template, from its OpenAPI definition (inline or through AWS::Include,
 * resolved like CloudFormation does), its stage settings, and the usage plans and keys attached to its stage.
 */
export function restApiDefinitions(resolver: Resolver, templateDir: string): RestApiConfig[] {
  const resources = Object.entries(resolver.template.Resources).filter(([id]) => resolver.exists(id));
  return resources
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Api')
    .map(([logicalId, resource]) => {
      const where = `Resources.${logicalId}.Properties`;
      const { DefinitionBody, ...rest } = (resource.Properties ?? {}) as JsonObject;
      if (DefinitionBody === undefined)
        throw new UnsupportedTemplateError(where, 'an AWS::Serverless::Api without a DefinitionBody');
      const properties = resolver.resolve(rest, where) as JsonObject;
      const definition = resolver.resolve(
        included(DefinitionBody, templateDir, `${where}.DefinitionBody`),
        `${where}.DefinitionBody`,
      ) as JsonObject;
      const apiId = String(resolver.resolve({ Ref: logicalId }, where));
      const stage = String(properties.StageName);
      const settings = methodSettings(properties.MethodSettings);
      const importWarnings = checkImportable(
        { properties, definition, included: isIncluded(DefinitionBody) },
        where,
      );
      const cacheClusterEnabled = properties.CacheClusterEnabled === true;
      const methods = methodsOf(definition, settings, cacheClusterEnabled, `${where}.DefinitionBody`);
      const schemas = ((definition.components as JsonObject | undefined)?.schemas ?? {}) as Record<
        string,
        unknown
      >;
      return {
        logicalId,
        apiId,
        stage,
        accountId: resolver.pseudo.accountId,
        region: resolver.pseudo.region,
        methods,
        gatewayResponses: gatewayResponsesOf(definition['x-amazon-apigateway-gateway-responses']),
        cacheClusterEnabled,
        minimumCompressionSize: minimumCompressionSizeOf(properties.MinimumCompressionSize, where),
        schemas,
        ...usagePlansOf(resolver, apiId, stage),
        warnings: [
          ...importWarnings,
          ...overrideWarningsOf(properties.MethodSettings),
          ...methods.flatMap((method) => unreliableValidationOf(method, schemas)),
        ],
      };
    });
}

/**
 * The compression threshold, refused outside the range API Gateway accepts, with its words (recorded against AWS:
 * LocalStack test_apigateway_api.py TestApiGatewayApiRestApi::test_update_rest_api_compression).
 */
function minimumCompressionSizeOf(value: Json | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 0 || size > MAX_MINIMUM_COMPRESSION_SIZE) {
    throw new ApiGatewayImportError(
      `${where}.MinimumCompressionSize`,
      `${JSON.stringify(value)}: "Invalid minimum compression size, must be between 0 and ${MAX_MINIMUM_COMPRESSION_SIZE}"`,
      'LocalStack TestApiGatewayApiRestApi::test_update_rest_api_compression',
    );
  }
  return size;
}

/**
 * A MethodSettings override copies the stage-wide settings it does not name once, when API Gateway creates it,
 * and keeps them: a later deploy that changes the stage-wide entry leaves the override on the old values. An
 * override that states every setting of the stage-wide entry cannot drift.
 */
function overrideWarningsOf(value: Json | undefined): string[] {
  const entries = (value ?? []) as JsonObject[];
  const stageWide = entries.find((entry) => entry.ResourcePath === '/*' && entry.HttpMethod === '*') ?? {};
  return entries
    .filter((entry) => entry.ResourcePath !== '/*' || entry.HttpMethod !== '*')
    .flatMap((entry) => {
      const unstated = Object.keys(stageWide).filter((name) => !(name in entry));
      if (unstated.length === 0) return [];
      const method = `${String(entry.HttpMethod)} ${String(entry.ResourcePath).slice(1).replaceAll('~1', '/')}`;
      return [
        `MethodSettings for ${method} leaves ${unstated.join(', ')} to the stage-wide entry: API Gateway copies ` +
          'them once, when it creates the override, and a later change to the stage-wide entry never reaches it ' +
          '(DianaIonita/serverless-api-gateway-throttling#16). State them in the override.',
      ];
    });
}

/** One warning per model keyword of a validated body whose enforcement in AWS is absent or disputed. */
function unreliableValidationOf(method: RestMethod, schemas: Record<string, unknown>): string[] {
  if (!method.validator.body) return [];
  return Object.values(method.bodySchemas).flatMap((schema) => {
    const ref = (schema as JsonObject).$ref;
    const model = typeof ref === 'string' ? `the ${ref.split('/').at(-1)} model` : 'its model';
    return caveatKeywordsOf(schema, schemas).map((keyword) => {
      const caveat = MODEL_KEYWORD_CAVEATS[keyword];
      const offline = caveat?.enforcedOffline
        ? 'The offline gateway enforces it; the backend must check it too.'
        : 'The offline gateway does not enforce it; the backend must.';
      return `${method.httpMethod} ${method.resourcePath}: ${model} uses ${keyword}, which API Gateway's request validator may not enforce: ${caveat?.aws}. ${offline}`;
    });
  });
}

const isIncluded = (body: Json): boolean =>
  ((body as JsonObject)['Fn::Transform'] as JsonObject | undefined)?.Name === 'AWS::Include';

/** `Fn::Transform: AWS::Include` with a local Location replaced by the file's content. */
function included(body: Json, templateDir: string, where: string): Json {
  const transform = (body as JsonObject)['Fn::Transform'] as JsonObject | undefined;
  if (!transform) return body;
  const location = (transform.Parameters as JsonObject | undefined)?.Location;
  if (transform.Name !== 'AWS::Include' || typeof location !== 'string' || location.startsWith('s3://')) {
    throw new UnsupportedTemplateError(
      where,
      'a DefinitionBody transform other than AWS::Include of a local file',
    );
  }
  return parse(readFileSync(resolve(templateDir, location), 'utf8')) as Json;
}

interface MethodSetting {
  throttle: Throttle | undefined;
  cachingEnabled: boolean | undefined;
  ttlSeconds: number | undefined;
}

/** MethodSettings by `METHOD /path` (`* /*` for the stage); paths come `~1`-encoded, as CloudFormation takes them. */
function methodSettings(value: Json | undefined): Map<string, Partial<MethodSetting>> {
  const settings = new Map<string, Partial<MethodSetting>>();
  for (const entry of (value ?? []) as JsonObject[]) {
    // A JSON-pointer path: `/~1orders~1{id}` is the resource /orders/{id}; `/*` is every resource.
    const pointer = String(entry.ResourcePath ?? '/*');
    const path = pointer === '/*' ? '/*' : pointer.slice(1).replaceAll('~1', '/');
    const rate = entry.ThrottlingRateLimit;
    const burst = entry.ThrottlingBurstLimit;
    settings.set(`${String(entry.HttpMethod ?? '*').toUpperCase()} ${path}`, {
      ...(rate !== undefined && burst !== undefined
        ? { throttle: { rate: Number(rate), burst: Number(burst) } }
        : {}),
      ...(entry.CachingEnabled !== undefined ? { cachingEnabled: entry.CachingEnabled === true } : {}),
      ...(entry.CacheTtlInSeconds !== undefined ? { ttlSeconds: Number(entry.CacheTtlInSeconds) } : {}),
    });
  }
  return settings;
}

function methodsOf(
  definition: JsonObject,
  settings: Map<string, Partial<MethodSetting>>,
  cacheClusterEnabled: boolean,
  where: string,
): RestMethod[] {
  const components = (definition.components ?? {}) as JsonObject;
  const schemes = (components.securitySchemes ?? {}) as Record<string, JsonObject>;
  const validators = (definition['x-amazon-apigateway-request-validators'] ?? {}) as Record<
    string,
    JsonObject
  >;
  const rootValidator = definition['x-amazon-apigateway-request-validator'];
  const methods: RestMethod[] = [];
  for (const [resourcePath, item] of Object.entries((definition.paths ?? {}) as Record<string, JsonObject>)) {
    for (const [name, value] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(name)) continue;
      const operation = value as JsonObject;
      const httpMethod = name.toUpperCase();
      const operationWhere = `${where}.paths.${resourcePath}.${name}`;
      // Only the operation's own `security` counts: API Gateway ignores the root one (checkImportable).
      const security = (operation.security ?? []) as JsonObject[];
      const named = security.flatMap((requirement) => Object.keys(requirement));
      // A scheme with x-amazon-apigateway-authorizer is an authoriser, though its type is apiKey too.
      const apiKeyRequired = named.some(
        (scheme) =>
          schemes[scheme]?.type === 'apiKey' &&
          schemes[scheme]?.['x-amazon-apigateway-authorizer'] === undefined,
      );
      const authorizer = authorizerOf(named, schemes, `${where}.components.securitySchemes`, operationWhere);
      const validatorName = operation['x-amazon-apigateway-request-validator'] ?? rootValidator;
      const validator = validatorName === undefined ? undefined : validators[String(validatorName)];
      const parameters = [
        ...((item.parameters ?? []) as JsonObject[]),
        ...((operation.parameters ?? []) as JsonObject[]),
      ]
        .map((parameter) => dereference(parameter, components))
        .filter((parameter) => parameter.required === true)
        .map(
          (parameter): ParameterRequirement => ({
            in: String(parameter.in) as ParameterRequirement['in'],
            name: String(parameter.name),
          }),
        );
      const content = (dereference((operation.requestBody ?? {}) as JsonObject, components).content ??
        {}) as Record<string, JsonObject>;
      // A method's own entry starts as a copy of the stage-wide one, made when the entry is created, plus the
      // settings it names (recorded against AWS: LocalStack tests/aws/services/apigateway/test_apigateway_common.py
      // TestStages::test_create_update_stages). A later change to the stage-wide entry never reaches it; the
      // offline cloud, which creates the stage afresh at every start, warns instead (overrideWarningsOf).
      const effective = {
        ...(settings.get('* /*') ?? {}),
        ...(settings.get(`${httpMethod} ${resourcePath}`) ?? {}),
      };
      const caching = {
        // Only GET is cached unless a method says otherwise, and nothing is without a cache cluster.
        enabled: cacheClusterEnabled && (effective.cachingEnabled ?? false),
        ttlSeconds: effective.ttlSeconds ?? DEFAULT_CACHE_TTL,
      };
      const integration = checkedAgainstMethodResponses(
        integrationOf(operation['x-amazon-apigateway-integration'], operationWhere),
        methodResponsesOf(operation, operationWhere),
        operationWhere,
      );
      if (integration.responseTransferMode === 'STREAM' && caching.enabled) {
        throw new UnsupportedTemplateError(
          `${where.replace(/\.DefinitionBody$/, '')}.MethodSettings`,
          `CachingEnabled for ${httpMethod} ${resourcePath}, a STREAM integration (endpoint caching is among what ` +
            `response streaming does not support: ${RESPONSE_STREAMING}; set CachingEnabled: false for it)`,
        );
      }
      methods.push({
        httpMethod,
        resourcePath,
        apiKeyRequired,
        authorizer,
        validator: {
          body: validator?.validateRequestBody === true,
          parameters: validator?.validateRequestParameters === true,
        },
        requiredParameters: parameters,
        bodySchemas: Object.fromEntries(
          Object.entries(content)
            .filter(([, media]) => media.schema !== undefined)
            .map(([mediaType, media]) => [mediaType.toLowerCase(), media.schema]),
        ),
        integration,
        caching,
        throttle: effective.throttle,
      });
    }
  }
  return methods;
}

const AUTHORIZERS_PAGE = 'API Gateway developer guide, "x-amazon-apigateway-authorizer object"';
const MAX_AUTHORIZER_TTL = 3600;

/**
 * The method's Lambda authoriser: the one security scheme of its `security` that has an
 * x-amazon-apigateway-authorizer. Only TOKEN authorisers of a Lambda function are emulated (offline/gateways/rest/rest-authorizer.ts);
 * anything else is refused, naming the scheme.
 */
function authorizerOf(
  named: string[],
  schemes: Record<string, JsonObject>,
  schemesWhere: string,
  operationWhere: string,
): TokenAuthorizer | undefined {
  const custom = named.filter((scheme) => schemes[scheme]?.['x-amazon-apigateway-authorizer'] !== undefined);
  if (custom.length === 0) return undefined;
  if (custom.length > 1)
    throw new UnsupportedTemplateError(
      `${operationWhere}.security`,
      `more than one authoriser (${custom.join(', ')}): API Gateway takes one authoriser per method`,
    );
  const name = custom[0] as string;
  const where = `${schemesWhere}.${name}.x-amazon-apigateway-authorizer`;
  const scheme = schemes[name] as JsonObject;
  const settings = scheme['x-amazon-apigateway-authorizer'] as JsonObject;
  const type = String(settings.type ?? '').toLowerCase();
  if (type !== 'token')
    throw new UnsupportedTemplateError(
      `${where}.type`,
      `a ${type || 'typeless'} authoriser (offline: Lambda TOKEN authorisers only)`,
    );
  if (settings.authorizerCredentials !== undefined)
    throw new UnsupportedTemplateError(
      `${where}.authorizerCredentials`,
      "an authoriser invoked through an IAM role (offline: the function's resource-based permission only)",
    );
  const functionName = LAMBDA_URI.exec(String(settings.authorizerUri ?? ''))?.[1];
  if (!functionName)
    throw new UnsupportedTemplateError(
      `${where}.authorizerUri`,
      `the authoriser URI ${String(settings.authorizerUri)} (offline: a Lambda function's 2015-03-31 invocations URI)`,
    );
  const header = /^method\.request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(
    String(settings.identitySource ?? ''),
  )?.[1];
  if (!header)
    throw new ApiGatewayImportError(
      `${where}.identitySource`,
      `${JSON.stringify(settings.identitySource)}: a TOKEN authoriser's identity source is one header, ` +
        'method.request.header.<name>',
      AUTHORIZERS_PAGE,
    );
  if (
    scheme.type !== 'apiKey' ||
    scheme.in !== 'header' ||
    String(scheme.name).toLowerCase() !== header.toLowerCase()
  )
    throw new ApiGatewayImportError(
      `${schemesWhere}.${name}`,
      `a scheme that is not \`type: apiKey, in: header, name: ${header}\`, the header its identity source names`,
      AUTHORIZERS_PAGE,
    );
  const ttlSeconds = Number(settings.authorizerResultTtlInSeconds ?? DEFAULT_CACHE_TTL);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_AUTHORIZER_TTL)
    throw new ApiGatewayImportError(
      `${where}.authorizerResultTtlInSeconds`,
      `${JSON.stringify(settings.authorizerResultTtlInSeconds)}: the TTL is 0 (no caching) to ${MAX_AUTHORIZER_TTL} seconds`,
      'API Gateway API reference, Authorizer.authorizerResultTtlInSeconds',
    );
  const expression = settings.identityValidationExpression;
  return {
    name,
    functionName,
    header,
    validation: expression === undefined ? undefined : new RegExp(`^(?:${String(expression)})$`),
    ttlSeconds,
  };
}

/** The headers each method response declares, by status code; a `$ref` response is refused, as AWS does. */
function methodResponsesOf(operation: JsonObject, where: string): Map<number, Set<string>> {
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
function checkedAgainstMethodResponses(
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

function dereference(value: JsonObject, components: JsonObject): JsonObject {
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
  const target = ((components[section ?? ''] ?? {}) as JsonObject)[name ?? ''];
  if (target === undefined) throw new UnsupportedTemplateError(ref, 'a $ref outside #/components');
  return target as JsonObject;
}

const LAMBDA_URI =
  /:lambda:path\/2015-03-31\/functions\/arn:[\w-]+:lambda:[\w-]+:\d+:function:([\w-]+)\/invocations$/;
/** InvokeWithResponseStream, which a Lambda proxy integration for response streaming calls. */
const LAMBDA_STREAMING_URI =
  /:lambda:path\/2021-11-15\/functions\/arn:[\w-]+:lambda:[\w-]+:\d+:function:([\w-]+)\/response-streaming-invocations$/;
const SQS_URI = /:sqs:path\/\d+\/([\w.-]+)$/;
const DYNAMODB_URI = /:dynamodb:action\/(\w+)$/;

function integrationOf(value: Json | undefined, where: string): Integration {
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

const RESPONSE_STREAMING =
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

function gatewayResponsesOf(value: Json | undefined): Record<string, GatewayResponse> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, JsonObject>).map(([type, response]) => [
      type,
      {
        statusCode: response.statusCode === undefined ? undefined : Number(response.statusCode),
        headers: Object.fromEntries(
          Object.entries((response.responseParameters ?? {}) as Record<string, string>)
            .filter(([name]) => name.startsWith('gatewayresponse.header.'))
            .map(([name, mapped]) => [name.slice('gatewayresponse.header.'.length), staticValue(mapped)]),
        ),
        templates: lowerCaseKeys(response.responseTemplates),
      },
    ]),
  );
}

/** A mapping's static value (`'text'`); other sources (request parameters) are not offered offline. */
export function staticValue(mapped: string): string {
  const quoted = /^'(.*)'$/s.exec(mapped);
  if (!quoted)
    throw new UnsupportedTemplateError(mapped, 'a response parameter other than a quoted static value');
  return quoted[1] ?? '';
}

function lowerCaseKeys(value: Json | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, string>).map(([key, text]) => [key.toLowerCase(), text]),
  );
}

/** The API keys and usage plans bound to this API's stage (AWS::ApiGateway::UsagePlan ApiStages). */
function usagePlansOf(
  resolver: Resolver,
  apiId: string,
  stage: string,
): { apiKeys: ApiKeyDefinition[]; usagePlans: UsagePlanDefinition[] } {
  const resources = Object.entries(resolver.template.Resources).filter(([id]) => resolver.exists(id));
  const of = (type: string) =>
    resources
      .filter(([, resource]) => resource.Type === type)
      .map(([logicalId, resource]) => ({
        logicalId,
        id: String(resolver.resolve({ Ref: logicalId }, `Resources.${logicalId}`)),
        properties: resolver.resolve(
          resource.Properties ?? {},
          `Resources.${logicalId}.Properties`,
        ) as JsonObject,
      }));
  const apiKeys = of('AWS::ApiGateway::ApiKey').map(
    ({ logicalId, id, properties }): ApiKeyDefinition => ({
      logicalId,
      id,
      value: properties.Value === undefined ? localApiKeyValue(logicalId) : String(properties.Value),
      // CloudFormation creates keys disabled unless told otherwise.
      enabled: properties.Enabled === true,
    }),
  );
  const planKeys = of('AWS::ApiGateway::UsagePlanKey').map(({ properties }) => ({
    planId: String(properties.UsagePlanId),
    keyId: String(properties.KeyId),
  }));
  const usagePlans: UsagePlanDefinition[] = [];
  for (const { logicalId, id, properties } of of('AWS::ApiGateway::UsagePlan')) {
    const apiStage = ((properties.ApiStages ?? []) as JsonObject[]).find(
      (candidate) => String(candidate.ApiId) === apiId && String(candidate.Stage) === stage,
    );
    if (!apiStage) continue;
    const throttle = properties.Throttle as JsonObject | undefined;
    const quota = properties.Quota as JsonObject | undefined;
    usagePlans.push({
      logicalId,
      name: String(properties.UsagePlanName ?? logicalId),
      ...(throttle ? { throttle: throttleOf(throttle) } : {}),
      ...(quota
        ? {
            quota: {
              limit: Number(quota.Limit),
              period: String(quota.Period) as 'DAY' | 'WEEK' | 'MONTH',
              offset: Number(quota.Offset ?? 0),
            },
          }
        : {}),
      methodThrottle: Object.fromEntries(
        Object.entries((apiStage.Throttle ?? {}) as Record<string, JsonObject>).map(([method, settings]) => [
          method,
          throttleOf(settings),
        ]),
      ),
      keyIds: planKeys.filter((planKey) => planKey.planId === id).map((planKey) => planKey.keyId),
    });
  }
  return { apiKeys, usagePlans };
}

function throttleOf(settings: JsonObject): Throttle {
  return { rate: Number(settings.RateLimit), burst: Number(settings.BurstLimit) };
}
