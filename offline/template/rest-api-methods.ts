import type { ParameterRequirement, RequestValidatorSettings } from '../gateways/rest/request-validation.ts';
import type { TokenAuthorizer } from '../gateways/rest/rest-authorizer.ts';
import type { Throttle } from '../gateways/rest/usage-plans.ts';
import { ApiGatewayImportError } from './rest-api-import.ts';
import {
  checkedAgainstMethodResponses,
  type Integration,
  integrationOf,
  LAMBDA_URI,
  methodResponsesOf,
  RESPONSE_STREAMING,
} from './rest-api-integration.ts';
import type { Json, JsonObject } from './template.ts';
import { UnsupportedTemplateError } from './template.ts';

/**
 * A REST API's methods from its OpenAPI definition: each operation's API key, Lambda authoriser, request
 * validation and integration, with the stage's MethodSettings (throttle, caching) that apply to it.
 */

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

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const DEFAULT_CACHE_TTL = 300;

interface MethodSetting {
  throttle: Throttle | undefined;
  cachingEnabled: boolean | undefined;
  ttlSeconds: number | undefined;
}

/** MethodSettings by `METHOD /path` (`* /*` for the stage); paths come `~1`-encoded, as CloudFormation takes them. */
export function methodSettings(value: Json | undefined): Map<string, Partial<MethodSetting>> {
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

export function methodsOf(
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
      // offline cloud, which creates the stage afresh at every start, warns instead (overrideWarningsOf in
      // rest-api-definition.ts).
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

function dereference(value: JsonObject, components: JsonObject): JsonObject {
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
  const target = ((components[section ?? ''] ?? {}) as JsonObject)[name ?? ''];
  if (target === undefined) throw new UnsupportedTemplateError(ref, 'a $ref outside #/components');
  return target as JsonObject;
}
