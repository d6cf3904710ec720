import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { caveatKeywordsOf, MODEL_KEYWORD_CAVEATS } from '../gateways/rest/request-validation.ts';
import { MAX_MINIMUM_COMPRESSION_SIZE } from '../gateways/rest/rest-compression.ts';
import type { ApiKeyDefinition, Throttle, UsagePlanDefinition } from '../gateways/rest/usage-plans.ts';
import { ApiGatewayImportError, checkImportable } from './rest-api-import.ts';
import { lowerCaseKeys } from './rest-api-integration.ts';
import { methodSettings, methodsOf, type RestMethod } from './rest-api-methods.ts';
import type { Json, JsonObject, Resolver } from './template.ts';
import { UnsupportedTemplateError } from './template.ts';

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
