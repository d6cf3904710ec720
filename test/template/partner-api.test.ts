import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFINITION_PATH, withGeneratedModels } from '../../offline/cli/openapi-models.ts';
import { type Json, type JsonObject, loadTemplate, type Template } from '../../offline/template/template.ts';
import { propertiesOf, ROOT, referencedNames, refOf } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));
const definitionText = readFileSync(DEFINITION_PATH, 'utf8');
const definition = parse(definitionText) as JsonObject;

type Operation = { path: string; method: string; operation: JsonObject; integration: JsonObject };

function operationsOf(openapi: JsonObject): Operation[] {
  return Object.entries(openapi.paths as Record<string, JsonObject>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, operation]) => ({
        path,
        method: method.toUpperCase(),
        operation: operation as JsonObject,
        integration: ((operation as JsonObject)['x-amazon-apigateway-integration'] ?? {}) as JsonObject,
      })),
  );
}

const GATEWAY_RESPONSES = [
  'DEFAULT_4XX',
  'DEFAULT_5XX',
  'THROTTLED',
  'QUOTA_EXCEEDED',
  'INVALID_API_KEY',
  'BAD_REQUEST_BODY',
  'MISSING_AUTHENTICATION_TOKEN',
  // The partner-token authoriser's outcomes (checkAuthorizers).
  'UNAUTHORIZED',
  'ACCESS_DENIED',
  'AUTHORIZER_CONFIGURATION_ERROR',
  'AUTHORIZER_FAILURE',
];

/** The partner API rules a reviewer checks, over template.yaml and openapi/partner-api.yaml together. */
function checkPartnerApi(copy: Template, openapi: JsonObject): string[] {
  const violations: string[] = [];
  const api = propertiesOf(copy, 'PartnerApi');
  const include = ((api.DefinitionBody as JsonObject)['Fn::Transform'] as JsonObject | undefined)
    ?.Parameters as JsonObject | undefined;
  if (include?.Location !== 'openapi/partner-api.yaml')
    violations.push('PartnerApi: definition not included from openapi/');

  const responses = (openapi['x-amazon-apigateway-gateway-responses'] ?? {}) as Record<string, JsonObject>;
  for (const type of GATEWAY_RESPONSES) {
    const response = responses[type];
    const template = String(
      (response?.responseTemplates as JsonObject | undefined)?.['application/json'] ?? '',
    );
    if (!template.includes('"error":{"code":') || !template.includes('"requestId":"$context.requestId"'))
      violations.push(`gateway response ${type}: not the one error shape`);
    if (
      !(response?.responseParameters as JsonObject | undefined)?.[
        'gatewayresponse.header.Access-Control-Allow-Origin'
      ]
    )
      violations.push(`gateway response ${type}: no CORS header`);
  }
  violations.push(...checkRetryAfter(copy, responses));
  violations.push(...checkAuthorizers(copy, openapi));

  const role = propertiesOf(copy, 'PartnerApiIntegrationRole');
  const statements = ((role.Policies as JsonObject[]).flatMap(
    (policy) => (policy.PolicyDocument as JsonObject).Statement as JsonObject[],
  ) ?? []) as JsonObject[];
  const granted = statements.map(
    (statement) => `${String(statement.Action)} ${[...referencedNames(statement.Resource)].join(',')}`,
  );
  const needed: string[] = [];

  for (const { path, method, operation, integration } of operationsOf(openapi)) {
    const where = `${method} ${path}`;
    // Only the operation's own `security` counts: API Gateway ignores a root-level one on import.
    const keyed = ((operation.security ?? []) as JsonObject[]).some((requirement) => 'apiKey' in requirement);
    if (!keyed && path !== '/health') violations.push(`${where}: no API key required`);
    const type = String(integration.type);
    const uri = JSON.stringify(integration.uri ?? '');
    if (type === 'aws') {
      if (!referencedNames(integration.credentials).has('PartnerApiIntegrationRole'))
        violations.push(`${where}: not run as PartnerApiIntegrationRole`);
      if (uri.includes(':sqs:')) needed.push('sqs:SendMessage OrdersQueue');
      if (uri.includes(':dynamodb:')) needed.push('dynamodb:GetItem OrdersTable');
      const responsesOf = (integration.responses ?? {}) as Record<string, JsonObject>;
      if (
        !Object.entries(responsesOf).some(
          ([pattern, response]) => pattern.includes('4') && String(response.statusCode).startsWith('5'),
        )
      )
        violations.push(`${where}: a service error does not become a 5xx`);
      if (/"TableName":"[A-Za-z]/.test(JSON.stringify(integration.requestTemplates).replaceAll('\\"', '"')))
        violations.push(`${where}: hard-coded table name`);
      // Clients can override $context.requestId (x-amzn-RequestId, REST API context variable reference): an id
      // a service stores or keys on must come from something no client sets.
      if (/\$\{?context\.requestId\b/.test(JSON.stringify(integration.requestTemplates ?? {})))
        violations.push(`${where}: $context.requestId, which clients can override, reaches the service`);
    }
    if (type === 'aws_proxy') {
      const [fn] = [...referencedNames(integration.uri)].filter((name) => name.endsWith('Function'));
      const permitted = Object.values(copy.Resources).some(
        (resource) =>
          resource.Type === 'AWS::Lambda::Permission' &&
          refOfFunction(resource.Properties?.FunctionName) === fn &&
          JSON.stringify(resource.Properties?.SourceArn).includes(
            `/${method}${path.replace(/\{[^}]+\}/g, '*')}`,
          ),
      );
      if (!permitted) violations.push(`${where}: ${fn} has no invoke permission scoped to this route`);
    }
    const parameters = ((operation.parameters ?? []) as JsonObject[]).map((parameter) =>
      parameter.$ref
        ? (((openapi.components as JsonObject).parameters as JsonObject)[
            String(parameter.$ref).split('/').at(-1) ?? ''
          ] as JsonObject)
        : parameter,
    );
    if (method === 'GET' && path.startsWith('/products')) {
      const keys = ((integration.cacheKeyParameters ?? []) as Json[]).map(String);
      for (const parameter of parameters) {
        const location = parameter.in === 'query' ? 'querystring' : String(parameter.in);
        if (!keys.includes(`method.request.${location}.${parameter.name}`))
          violations.push(`${where}: ${parameter.name} is not part of the cache key`);
      }
    }
  }
  for (const need of needed)
    if (!granted.includes(need)) violations.push(`PartnerApiIntegrationRole: lacks ${need}`);
  for (const grant of granted)
    if (!needed.includes(grant)) violations.push(`PartnerApiIntegrationRole: ${grant} is not needed`);

  if (openapi.security !== undefined)
    violations.push('root-level security: API Gateway ignores it; declare it per operation');
  violations.push(...checkPreflights(openapi));

  const settings = (api.MethodSettings ?? []) as JsonObject[];
  violations.push(...checkMethodSettingOverrides(settings));
  const cached = settings.filter(
    (setting) => setting.CachingEnabled !== false && setting.CachingEnabled !== undefined,
  );
  for (const setting of cached) {
    const path = String(setting.ResourcePath).slice(1).replaceAll('~1', '/');
    if (!path.startsWith('/products') || setting.HttpMethod !== 'GET')
      violations.push(`${setting.HttpMethod} ${path}: cached`);
    if (setting.CacheDataEncrypted !== true)
      violations.push(`${setting.HttpMethod} ${path}: cache not encrypted`);
  }

  const plans = Object.entries(copy.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::ApiGateway::UsagePlan',
  );
  if (plans.length < 3) violations.push('fewer than three usage plans');
  if (!plans.some(([, plan]) => !plan.Properties?.Throttle && !plan.Properties?.Quota))
    violations.push('no unlimited tier');
  const attached = new Set(
    Object.values(copy.Resources)
      .filter((resource) => resource.Type === 'AWS::ApiGateway::UsagePlanKey')
      .map((resource) => [...referencedNames(resource.Properties?.KeyId)][0]),
  );
  for (const [id, resource] of Object.entries(copy.Resources)) {
    if (resource.Type === 'AWS::ApiGateway::ApiKey' && !attached.has(id))
      violations.push(`${id}: in no usage plan`);
  }
  return violations;
}

/**
 * Browsers preflight every keyed route (x-api-key is not a CORS-safelisted header), and API Gateway answers a
 * preflight only where an OPTIONS method exists: each keyed path needs a keyless MOCK OPTIONS method that allows
 * the key header, JSON bodies, the path's methods and PartnerAllowedOrigin only.
 */
function checkPreflights(openapi: JsonObject): string[] {
  const violations: string[] = [];
  for (const [path, item] of Object.entries(openapi.paths as Record<string, JsonObject>)) {
    const methods = operationsOf({ paths: { [path]: item } }).map(({ method }) => method);
    if (path === '/health') continue;
    const options = item.options as JsonObject | undefined;
    if (!options) {
      violations.push(`${path}: no OPTIONS method for the browser's preflight`);
      continue;
    }
    const integration = (options['x-amazon-apigateway-integration'] ?? {}) as JsonObject;
    const responses = (integration.responses ?? {}) as Record<string, JsonObject>;
    const mapped = (responses.default?.responseParameters ?? {}) as Record<string, Json>;
    const header = (name: string) => String(mapped[`method.response.header.${name}`] ?? '');
    if (String(integration.type) !== 'mock') violations.push(`OPTIONS ${path}: not a MOCK integration`);
    if (!Array.isArray(options.security) || options.security.length > 0)
      violations.push(`OPTIONS ${path}: requires a key, which a preflight never carries`);
    const allowedHeaders = header('Access-Control-Allow-Headers').toLowerCase();
    for (const needed of ['x-api-key', 'content-type'])
      if (!allowedHeaders.includes(needed)) violations.push(`OPTIONS ${path}: does not allow ${needed}`);
    const allowedMethods = header('Access-Control-Allow-Methods');
    for (const method of methods)
      if (!allowedMethods.includes(method)) violations.push(`OPTIONS ${path}: does not allow ${method}`);
    if (
      !referencedNames(mapped['method.response.header.Access-Control-Allow-Origin']).has(
        'PartnerAllowedOrigin',
      )
    )
      violations.push(`OPTIONS ${path}: allows an origin other than PartnerAllowedOrigin`);
  }
  return violations;
}

/** The security schemes that are Lambda authorisers (x-amazon-apigateway-authorizer), by name. */
function authorizerSchemesOf(openapi: JsonObject): Record<string, JsonObject> {
  const schemes = ((openapi.components as JsonObject | undefined)?.securitySchemes ?? {}) as Record<
    string,
    JsonObject
  >;
  return Object.fromEntries(
    Object.entries(schemes).filter(([, scheme]) => scheme['x-amazon-apigateway-authorizer'] !== undefined),
  );
}

/**
 * The partner's order history needs the partner token as well as the key: both in ONE security requirement (two
 * requirement objects would let either alone through, OpenAPI's OR). Each authoriser caches its answer, may be
 * invoked by API Gateway (a Lambda::Permission on the API's authorizers), and its header passes the preflight.
 */
function checkAuthorizers(copy: Template, openapi: JsonObject): string[] {
  const violations: string[] = [];
  const schemes = authorizerSchemesOf(openapi);
  for (const [name, scheme] of Object.entries(schemes)) {
    const settings = scheme['x-amazon-apigateway-authorizer'] as JsonObject;
    const ttl = Number(settings.authorizerResultTtlInSeconds ?? 300);
    if (!(ttl > 0))
      violations.push(`authoriser ${name}: results not cached (authorizerResultTtlInSeconds 0)`);
    const [fn] = [...referencedNames(settings.authorizerUri)].filter((ref) => ref.endsWith('Function'));
    const permitted = Object.values(copy.Resources).some(
      (resource) =>
        resource.Type === 'AWS::Lambda::Permission' &&
        refOfFunction(resource.Properties?.FunctionName) === fn &&
        resource.Properties?.Principal === 'apigateway.amazonaws.com' &&
        /\$\{PartnerApi\}\/authorizers\//.test(JSON.stringify(resource.Properties?.SourceArn)),
    );
    if (!permitted)
      violations.push(`authoriser ${name}: ${fn} has no invoke permission on PartnerApi's authorizers`);
  }
  const history = operationsOf(openapi).find(({ path, method }) => path === '/orders' && method === 'GET');
  const requirements = (history?.operation.security ?? []) as JsonObject[];
  const both =
    requirements.length > 0 &&
    requirements.every(
      (requirement) => 'apiKey' in requirement && Object.keys(requirement).some((key) => key in schemes),
    );
  if (!both) violations.push('GET /orders: the key and the partner token are not required together');
  for (const [path, item] of Object.entries(openapi.paths as Record<string, JsonObject>)) {
    const used = operationsOf({ paths: { [path]: item } }).flatMap(({ operation }) =>
      ((operation.security ?? []) as JsonObject[]).flatMap((requirement) => Object.keys(requirement)),
    );
    const mapped = ((
      (
        (item.options as JsonObject | undefined)?.['x-amazon-apigateway-integration'] as
          | JsonObject
          | undefined
      )?.responses as Record<string, JsonObject> | undefined
    )?.default?.responseParameters ?? {}) as JsonObject;
    const allowed = String(mapped['method.response.header.Access-Control-Allow-Headers'] ?? '').toLowerCase();
    for (const name of new Set(used.filter((scheme) => scheme in schemes))) {
      const header = String(schemes[name]?.name).toLowerCase();
      if (!allowed.includes(header)) violations.push(`OPTIONS ${path}: does not allow ${header}`);
    }
  }
  return violations;
}

const DAY_SECONDS = 86_400;
const QUOTA_PERIOD_SECONDS: Record<string, number> = {
  DAY: DAY_SECONDS,
  WEEK: 7 * DAY_SECONDS,
  MONTH: 28 * DAY_SECONDS,
};

/** A throttle's rate, or for a `!Ref` the lowest rate the parameter lets a deploy choose (0 when unbounded). */
function rateOf(copy: Template, value: Json | undefined): number {
  const parameter = refOf(value);
  if (parameter === undefined) return Number(value);
  return Number(((copy.Parameters ?? {}) as Record<string, JsonObject>)[parameter]?.MinValue ?? 0);
}

/**
 * A throttled or quota-exhausted partner is told when to retry, in seconds (RFC 9110 §10.2.3), and a browser may
 * read it (Retry-After is not a CORS-safelisted response header). A gateway response's header can only be a
 * static value or a request parameter (x-amazon-apigateway-gateway-responses.responseParameters), so each value is
 * a bound: THROTTLED waits long enough for the slowest bucket that can refuse (a usage plan's, a plan's method
 * throttle, the stage's or a method's MethodSettings) to refill one request; QUOTA_EXCEEDED no longer than the
 * shortest quota period, so an obeying partner never sleeps through a whole period.
 */
function checkRetryAfter(copy: Template, responses: Record<string, JsonObject>): string[] {
  const violations: string[] = [];
  const retryAfter = (type: string): number | undefined => {
    const parameters = (responses[type]?.responseParameters ?? {}) as JsonObject;
    const exposed = String(parameters['gatewayresponse.header.Access-Control-Expose-Headers'] ?? '');
    if (!/^'(.*,\s*)?retry-after(\s*,.*)?'$/i.test(exposed))
      violations.push(`gateway response ${type}: Retry-After not exposed to browsers`);
    const value = /^'(\d+)'$/.exec(String(parameters['gatewayresponse.header.Retry-After'] ?? ''))?.[1];
    if (value === undefined) violations.push(`gateway response ${type}: no static Retry-After in seconds`);
    return value === undefined ? undefined : Number(value);
  };

  const plans = Object.values(copy.Resources).filter(
    (resource) => resource.Type === 'AWS::ApiGateway::UsagePlan',
  );
  const rates = [
    ...plans.flatMap((plan) => {
      const properties = (plan.Properties ?? {}) as JsonObject;
      const methodThrottles = ((properties.ApiStages ?? []) as JsonObject[]).flatMap((stage) =>
        Object.values((stage.Throttle ?? {}) as Record<string, JsonObject>),
      );
      return [properties.Throttle as JsonObject | undefined, ...methodThrottles]
        .filter((throttle) => throttle !== undefined)
        .map((throttle) => rateOf(copy, throttle.RateLimit));
    }),
    ...((propertiesOf(copy, 'PartnerApi').MethodSettings ?? []) as JsonObject[])
      .filter((setting) => setting.ThrottlingRateLimit !== undefined)
      .map((setting) => rateOf(copy, setting.ThrottlingRateLimit)),
  ];
  const slowest = Math.min(...rates);
  const throttled = retryAfter('THROTTLED');
  if (throttled !== undefined && throttled * slowest < 1)
    violations.push(
      `gateway response THROTTLED: Retry-After ${throttled} s is shorter than the slowest throttle (${slowest} requests/s) takes to refill a request`,
    );

  const periods = plans.flatMap((plan) => {
    const quota = ((plan.Properties ?? {}) as JsonObject).Quota as JsonObject | undefined;
    return quota ? [QUOTA_PERIOD_SECONDS[String(quota.Period)] ?? 0] : [];
  });
  const quotaExceeded = retryAfter('QUOTA_EXCEEDED');
  if (quotaExceeded !== undefined && quotaExceeded > Math.min(...periods))
    violations.push(
      `gateway response QUOTA_EXCEEDED: Retry-After ${quotaExceeded} s is longer than a quota period (${Math.min(...periods)} s)`,
    );
  return violations;
}

/**
 * A method's MethodSettings entry copies the stage-wide one only once, when API Gateway creates it, so each
 * override must state every setting the stage-wide entry states, or drift from it on a later deploy
 * (DianaIonita/serverless-api-gateway-throttling#16; LocalStack TestStages recording).
 */
function checkMethodSettingOverrides(settings: JsonObject[]): string[] {
  const stageWide = settings.find((setting) => setting.ResourcePath === '/*' && setting.HttpMethod === '*');
  const overrides = settings.filter((setting) => setting !== stageWide);
  return overrides.flatMap((setting) =>
    Object.keys(stageWide ?? {})
      .filter((name) => !(name in setting))
      .map(
        (name) =>
          `${setting.HttpMethod} ${String(setting.ResourcePath).slice(1).replaceAll('~1', '/')}: override without ${name}, which would not follow the stage-wide value`,
      ),
  );
}

function refOfFunction(value: Json | undefined): string | undefined {
  return [...referencedNames(value)][0];
}

const brokenTemplate = (change: (copy: Template) => void): Template => {
  const copy = structuredClone(template);
  change(copy);
  return copy;
};
const brokenDefinition = (change: (copy: JsonObject) => void): JsonObject => {
  const copy = structuredClone(definition);
  change(copy);
  return copy;
};
const gatewayResponseParameters = (copy: JsonObject, type: string) =>
  ((copy['x-amazon-apigateway-gateway-responses'] as Record<string, JsonObject>)[type] as JsonObject)
    .responseParameters as JsonObject;
const operation = (copy: JsonObject, path: string, method: string) =>
  (copy.paths as Record<string, JsonObject>)[path]?.[method] as JsonObject;

describe('the partner REST API', () => {
  it('keeps its rules', () => {
    expect(checkPartnerApi(template, definition)).toEqual([]);
  });

  it('has its request models generated from the zod schemas (npm run openapi:models)', () => {
    expect(withGeneratedModels(definitionText)).toBe(definitionText);
  });

  it.each([
    [
      'a keyless order route',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            operation(copy, '/orders', 'post').security = [];
          }),
        ),
      'POST /orders: no API key required',
    ],
    [
      'a gateway response without CORS',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            delete ((copy['x-amazon-apigateway-gateway-responses'] as JsonObject).THROTTLED as JsonObject)
              .responseParameters;
          }),
        ),
      'gateway response THROTTLED: no CORS header',
    ],
    [
      'the product id left out of the cache key',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            (
              operation(copy, '/products/{id}', 'get')['x-amazon-apigateway-integration'] as JsonObject
            ).cacheKeyParameters = [];
          }),
        ),
      'GET /products/{id}: id is not part of the cache key',
    ],
    [
      'a hard-coded table name',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            (
              operation(copy, '/orders/{id}', 'get')['x-amazon-apigateway-integration'] as JsonObject
            ).requestTemplates = {
              'application/json': '{"TableName":"Orders","Key":{}}',
            };
          }),
        ),
      'GET /orders/{id}: hard-coded table name',
    ],
    [
      'the request id as the order id',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            const integration = operation(copy, '/orders', 'post')[
              'x-amazon-apigateway-integration'
            ] as JsonObject;
            const templates = integration.requestTemplates as JsonObject;
            templates['application/json'] =
              `${templates['application/json']}&MessageAttribute.3.Name=orderId&MessageAttribute.3.Value.DataType=String&MessageAttribute.3.Value.StringValue=$context.requestId`;
          }),
        ),
      'POST /orders: $context.requestId, which clients can override, reaches the service',
    ],
    [
      'a broader integration role',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            const policy = (
              propertiesOf(copy, 'PartnerApiIntegrationRole').Policies as JsonObject[]
            )[0] as JsonObject;
            ((policy.PolicyDocument as JsonObject).Statement as JsonObject[]).push({
              Effect: 'Allow',
              Action: 'dynamodb:PutItem',
              Resource: { 'Fn::GetAtt': ['OrdersTable', 'Arn'] },
            });
          }),
          definition,
        ),
      'PartnerApiIntegrationRole: dynamodb:PutItem OrdersTable is not needed',
    ],
    [
      'orders cached',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            (propertiesOf(copy, 'PartnerApi').MethodSettings as JsonObject[]).push({
              ResourcePath: '/~1orders~1{id}',
              HttpMethod: 'GET',
              CachingEnabled: true,
              CacheDataEncrypted: true,
            });
          }),
          definition,
        ),
      'GET /orders/{id}: cached',
    ],
    [
      'a key in no plan',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            delete copy.Resources.PartnerFreePlanKey;
          }),
          definition,
        ),
      'PartnerFreeApiKey: in no usage plan',
    ],
    [
      'a Lambda route without its permission',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            delete copy.Resources.GetProductPermission;
          }),
          definition,
        ),
      'GET /products/{id}: GetProductFunction has no invoke permission scoped to this route',
    ],
    [
      'an order route keyed only by a root-level security requirement',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            copy.security = [{ apiKey: [] }];
            delete operation(copy, '/orders', 'post').security;
          }),
        ),
      'POST /orders: no API key required',
    ],
    [
      'a keyed path without a preflight',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            delete (copy.paths as Record<string, JsonObject>)['/orders']?.options;
          }),
        ),
      "/orders: no OPTIONS method for the browser's preflight",
    ],
    [
      'a preflight that does not allow the key header',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            const integration = operation(copy, '/products', 'options')['x-amazon-apigateway-integration'];
            const mapped = ((integration as JsonObject).responses as Record<string, JsonObject>).default
              ?.responseParameters as JsonObject;
            mapped['method.response.header.Access-Control-Allow-Headers'] = "'content-type'";
          }),
        ),
      'OPTIONS /products: does not allow x-api-key',
    ],
    [
      'a method override that relies on inheriting the stage throttle',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            const [, products] = propertiesOf(copy, 'PartnerApi').MethodSettings as JsonObject[];
            delete products?.ThrottlingRateLimit;
          }),
          definition,
        ),
      'GET /products: override without ThrottlingRateLimit, which would not follow the stage-wide value',
    ],
    [
      'a throttled partner not told when to retry',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            delete gatewayResponseParameters(copy, 'THROTTLED')['gatewayresponse.header.Retry-After'];
          }),
        ),
      'gateway response THROTTLED: no static Retry-After in seconds',
    ],
    [
      'a Retry-After copied from a request header instead of a number of seconds',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            gatewayResponseParameters(copy, 'QUOTA_EXCEEDED')['gatewayresponse.header.Retry-After'] =
              'method.request.header.x-retry';
          }),
        ),
      'gateway response QUOTA_EXCEEDED: no static Retry-After in seconds',
    ],
    [
      'a Retry-After that browsers cannot read',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            delete gatewayResponseParameters(copy, 'QUOTA_EXCEEDED')[
              'gatewayresponse.header.Access-Control-Expose-Headers'
            ];
          }),
        ),
      'gateway response QUOTA_EXCEEDED: Retry-After not exposed to browsers',
    ],
    [
      'a plan throttle slower than THROTTLED says (one order every 2 s)',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            const [stage] = propertiesOf(copy, 'PartnerFreePlan').ApiStages as [JsonObject];
            ((stage.Throttle as JsonObject)['/orders/POST'] as JsonObject).RateLimit = 0.5;
          }),
          definition,
        ),
      'gateway response THROTTLED: Retry-After 1 s is shorter than the slowest throttle (0.5 requests/s) takes to refill a request',
    ],
    [
      'a stage rate parameter that lets a deploy choose no rate at all',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            delete (copy.Parameters as Record<string, JsonObject>).PartnerApiRateLimit?.MinValue;
          }),
          definition,
        ),
      'gateway response THROTTLED: Retry-After 1 s is shorter than the slowest throttle (0 requests/s) takes to refill a request',
    ],
    [
      'a quota Retry-After longer than the daily quota period',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            gatewayResponseParameters(copy, 'QUOTA_EXCEEDED')['gatewayresponse.header.Retry-After'] =
              "'172800'";
          }),
        ),
      'gateway response QUOTA_EXCEEDED: Retry-After 172800 s is longer than a quota period (86400 s)',
    ],
    [
      'the partner token as an alternative to the key',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            operation(copy, '/orders', 'get').security = [{ apiKey: [] }, { partnerToken: [] }];
          }),
        ),
      'GET /orders: the key and the partner token are not required together',
    ],
    [
      'an authoriser that caches nothing',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            (
              authorizerSchemesOf(copy).partnerToken?.['x-amazon-apigateway-authorizer'] as JsonObject
            ).authorizerResultTtlInSeconds = 0;
          }),
        ),
      'authoriser partnerToken: results not cached (authorizerResultTtlInSeconds 0)',
    ],
    [
      'an authoriser API Gateway may not invoke',
      () =>
        checkPartnerApi(
          brokenTemplate((copy) => {
            delete copy.Resources.PartnerAuthorizerPermission;
          }),
          definition,
        ),
      "authoriser partnerToken: PartnerAuthorizerFunction has no invoke permission on PartnerApi's authorizers",
    ],
    [
      "a preflight that refuses the token's header",
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            const preflight = operation(copy, '/orders', 'options')[
              'x-amazon-apigateway-integration'
            ] as JsonObject;
            const mapped = ((preflight.responses as JsonObject).default as JsonObject)
              .responseParameters as JsonObject;
            mapped['method.response.header.Access-Control-Allow-Headers'] = "'content-type,x-api-key'";
          }),
        ),
      'OPTIONS /orders: does not allow authorization',
    ],
    [
      'an authoriser outcome outside the error shape',
      () =>
        checkPartnerApi(
          template,
          brokenDefinition((copy) => {
            delete (copy['x-amazon-apigateway-gateway-responses'] as JsonObject).ACCESS_DENIED;
          }),
        ),
      'gateway response ACCESS_DENIED: not the one error shape',
    ],
  ])('catches %s', (_what, check, violation) => {
    expect(check()).toContain(violation);
  });
});
