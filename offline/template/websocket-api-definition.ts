import {
  type Json,
  type JsonObject,
  type Resolver,
  type Template,
  UnsupportedTemplateError,
} from './template.ts';

export interface WebSocketIdentitySource {
  in: 'header' | 'querystring';
  name: string;
}

export interface WebSocketAuthorizerConfig {
  /** The authoriser's logical id. */
  name: string;
  functionName: string;
  identitySource: WebSocketIdentitySource[];
}

export interface WebSocketRoute {
  routeKey: string;
  functionName: string;
  authorizer: WebSocketAuthorizerConfig | undefined;
  throttle: { rate: number; burst: number } | undefined;
}

export interface WebSocketApiConfig {
  logicalId: string;
  apiId: string;
  stage: string;
  stageVariables: Record<string, string>;
  /** `$request.body.action` → ['action']. */
  routeSelectionPath: string[];
  routes: WebSocketRoute[];
  region: string;
  accountId: string;
}

const FUNCTION_URI =
  /^arn:aws[\w-]*:apigateway:[^:]*:lambda:path\/2015-03-31\/functions\/arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:/]+)\/invocations$/;

/** Properties the offline cloud honours (or that change nothing offline), per resource type. */
const KNOWN_PROPERTIES: Record<string, Set<string>> = {
  'AWS::ApiGatewayV2::Api': new Set([
    'Name',
    'Description',
    'ProtocolType',
    'RouteSelectionExpression',
    'Tags',
    'Version',
    'DisableExecuteApiEndpoint',
  ]),
  'AWS::ApiGatewayV2::Route': new Set([
    'ApiId',
    'RouteKey',
    'AuthorizationType',
    'AuthorizerId',
    'Target',
    'OperationName',
    'ApiKeyRequired',
  ]),
  'AWS::ApiGatewayV2::Integration': new Set([
    'ApiId',
    'IntegrationType',
    'IntegrationUri',
    'IntegrationMethod',
    'Description',
    'TimeoutInMillis',
    'CredentialsArn',
    'PayloadFormatVersion',
    'ConnectionType',
  ]),
  'AWS::ApiGatewayV2::Authorizer': new Set([
    'ApiId',
    'Name',
    'AuthorizerType',
    'AuthorizerUri',
    'IdentitySource',
    'AuthorizerCredentialsArn',
  ]),
  'AWS::ApiGatewayV2::Stage': new Set([
    'ApiId',
    'StageName',
    'AutoDeploy',
    'DeploymentId',
    'Description',
    'DefaultRouteSettings',
    'RouteSettings',
    'AccessLogSettings',
    'StageVariables',
    'Tags',
  ]),
};

/**
 * Every WebSocket API of the template (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET) with its stage,
 * routes, Lambda proxy integrations and REQUEST authoriser. Anything the offline cloud cannot honour is an
 * UnsupportedTemplateError naming the resource.
 */
export function webSocketApiDefinitions(resolver: Resolver): WebSocketApiConfig[] {
  const template = resolver.template;
  const resourcesOf = (type: string) =>
    Object.entries(template.Resources)
      .filter(([id, resource]) => resource.Type === type && resolver.exists(id))
      .map(([logicalId, resource]) => {
        const where = `Resources.${logicalId}.Properties`;
        const properties = resolver.resolve(resource.Properties ?? {}, where) as JsonObject;
        for (const name of Object.keys(properties)) {
          if (!KNOWN_PROPERTIES[type]?.has(name))
            throw new UnsupportedTemplateError(`${where}.${name}`, `the ${type} property ${name}`);
        }
        return { logicalId, where, properties };
      });
  const functions = new Set(
    Object.entries(template.Resources)
      .filter(([id, resource]) => resource.Type === 'AWS::Serverless::Function' && resolver.exists(id))
      .map(([id]) => id),
  );
  const functionOf = (uri: Json | undefined, where: string): string => {
    const match = FUNCTION_URI.exec(String(uri ?? ''));
    if (!match?.[1] || !functions.has(match[1])) {
      throw new UnsupportedTemplateError(
        where,
        `a URI (${String(uri)}) that is not the invocations URI of an unqualified AWS::Serverless::Function of the template`,
      );
    }
    return match[1];
  };

  const apis = resourcesOf('AWS::ApiGatewayV2::Api');
  const apiIds = new Map(
    apis.map(({ logicalId }) => [String(resolver.resolve({ Ref: logicalId }, logicalId)), logicalId]),
  );
  const apiOf = ({ properties, where }: { properties: JsonObject; where: string }): string => {
    const logicalId = apiIds.get(String(properties.ApiId));
    if (!logicalId)
      throw new UnsupportedTemplateError(
        `${where}.ApiId`,
        'an ApiId naming no AWS::ApiGatewayV2::Api of the template',
      );
    return logicalId;
  };
  const idOf = (logicalId: string) => String(resolver.resolve({ Ref: logicalId }, logicalId));

  const integrations = new Map<string, { api: string; functionName: string }>();
  for (const integration of resourcesOf('AWS::ApiGatewayV2::Integration')) {
    const { properties, where } = integration;
    if (properties.IntegrationType !== 'AWS_PROXY')
      throw new UnsupportedTemplateError(
        `${where}.IntegrationType`,
        `the integration type ${properties.IntegrationType}`,
      );
    if (properties.PayloadFormatVersion !== undefined && String(properties.PayloadFormatVersion) !== '1.0')
      throw new UnsupportedTemplateError(
        `${where}.PayloadFormatVersion`,
        'a WebSocket payload format other than 1.0',
      );
    if (properties.ConnectionType !== undefined && properties.ConnectionType !== 'INTERNET')
      throw new UnsupportedTemplateError(
        `${where}.ConnectionType`,
        `the connection type ${properties.ConnectionType}`,
      );
    integrations.set(idOf(integration.logicalId), {
      api: apiOf(integration),
      functionName: functionOf(properties.IntegrationUri, `${where}.IntegrationUri`),
    });
  }

  const authorizers = new Map<string, { api: string; config: WebSocketAuthorizerConfig }>();
  for (const authorizer of resourcesOf('AWS::ApiGatewayV2::Authorizer')) {
    const { properties, where, logicalId } = authorizer;
    if (properties.AuthorizerType !== 'REQUEST')
      throw new UnsupportedTemplateError(
        `${where}.AuthorizerType`,
        `the WebSocket authoriser type ${properties.AuthorizerType}`,
      );
    const identitySource = ((properties.IdentitySource ?? []) as Json[]).map((source, index) => {
      const match = /^route\.request\.(header|querystring)\.(.+)$/.exec(String(source));
      if (!match?.[1] || !match[2])
        throw new UnsupportedTemplateError(
          `${where}.IdentitySource[${index}]`,
          `the identity source ${String(source)}`,
        );
      return { in: match[1] as 'header' | 'querystring', name: match[2] };
    });
    authorizers.set(idOf(logicalId), {
      api: apiOf(authorizer),
      config: {
        name: logicalId,
        functionName: functionOf(properties.AuthorizerUri, `${where}.AuthorizerUri`),
        identitySource,
      },
    });
  }

  const stages = new Map<
    string,
    { name: string; variables: Record<string, string>; settings: JsonObject; perRoute: JsonObject }
  >();
  for (const stage of resourcesOf('AWS::ApiGatewayV2::Stage')) {
    const api = apiOf(stage);
    if (stages.has(api))
      throw new UnsupportedTemplateError(
        `Resources.${stage.logicalId}`,
        'a second AWS::ApiGatewayV2::Stage of one API',
      );
    const { properties } = stage;
    stages.set(api, {
      name: String(properties.StageName),
      variables: Object.fromEntries(
        Object.entries((properties.StageVariables ?? {}) as JsonObject).map(([name, value]) => [
          name,
          String(value),
        ]),
      ),
      settings: (properties.DefaultRouteSettings ?? {}) as JsonObject,
      perRoute: (properties.RouteSettings ?? {}) as JsonObject,
    });
  }

  const routes = resourcesOf('AWS::ApiGatewayV2::Route').map((route) => {
    const { properties, where } = route;
    const api = apiOf(route);
    const routeKey = String(properties.RouteKey);
    const authorizationType = String(properties.AuthorizationType ?? 'NONE');
    if (authorizationType !== 'NONE' && authorizationType !== 'CUSTOM')
      throw new UnsupportedTemplateError(
        `${where}.AuthorizationType`,
        `the authorization type ${authorizationType}`,
      );
    if (authorizationType === 'CUSTOM' && routeKey !== '$connect')
      throw new UnsupportedTemplateError(
        `${where}.AuthorizationType`,
        'an authoriser on a route other than $connect',
      );
    if (properties.ApiKeyRequired === true)
      throw new UnsupportedTemplateError(`${where}.ApiKeyRequired`, 'API keys on a WebSocket route');
    const authorizer =
      authorizationType === 'CUSTOM' ? authorizers.get(String(properties.AuthorizerId)) : undefined;
    if (authorizationType === 'CUSTOM' && authorizer?.api !== api)
      throw new UnsupportedTemplateError(
        `${where}.AuthorizerId`,
        'an AuthorizerId naming no authoriser of this API',
      );
    const target = /^integrations\/(.+)$/.exec(String(properties.Target ?? ''));
    const integration = target?.[1] ? integrations.get(target[1]) : undefined;
    if (!integration || integration.api !== api)
      throw new UnsupportedTemplateError(
        `${where}.Target`,
        'a route whose Target is not integrations/<an integration of this API>',
      );
    return { api, routeKey, functionName: integration.functionName, authorizer: authorizer?.config, where };
  });

  return apis.map(({ logicalId, properties, where }) => {
    const expression = String(properties.RouteSelectionExpression ?? '');
    const selection = /^\$(?:request\.body\.([\w.-]+)|\{request\.body\.([\w.-]+)\})$/.exec(expression);
    const path = selection?.[1] ?? selection?.[2];
    if (!path)
      throw new UnsupportedTemplateError(
        `${where}.RouteSelectionExpression`,
        `the route selection expression "${expression}"`,
      );
    const stage = stages.get(logicalId);
    if (!stage)
      throw new UnsupportedTemplateError(
        `Resources.${logicalId}`,
        'a WebSocket API without an AWS::ApiGatewayV2::Stage',
      );
    const seen = new Set<string>();
    return {
      logicalId,
      apiId: idOf(logicalId),
      stage: stage.name,
      stageVariables: stage.variables,
      routeSelectionPath: path.split('.'),
      region: resolver.pseudo.region,
      accountId: resolver.pseudo.accountId,
      routes: routes
        .filter((route) => route.api === logicalId)
        .map(({ routeKey, functionName, authorizer, where: routeWhere }): WebSocketRoute => {
          if (seen.has(routeKey))
            throw new UnsupportedTemplateError(routeWhere, `a second route ${routeKey}`);
          seen.add(routeKey);
          const settings = { ...stage.settings, ...((stage.perRoute[routeKey] ?? {}) as JsonObject) };
          const rate = settings.ThrottlingRateLimit;
          const burst = settings.ThrottlingBurstLimit;
          return {
            routeKey,
            functionName,
            authorizer,
            throttle:
              rate !== undefined && burst !== undefined
                ? { rate: Number(rate), burst: Number(burst) }
                : undefined,
          };
        }),
    };
  });
}

/**
 * The logical ids of the template's WebSocket APIs as declared (AWS::ApiGatewayV2::Api with ProtocolType
 * WEBSOCKET), read without resolving anything: what a test checks before it expects one.
 */
export function webSocketApiIdsOf(template: Template): string[] {
  return Object.entries(template.Resources)
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::ApiGatewayV2::Api' && resource.Properties?.ProtocolType === 'WEBSOCKET',
    )
    .map(([logicalId]) => logicalId);
}
