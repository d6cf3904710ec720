import type { FunctionDefinition, Json, JsonObject, Template } from '../../offline/template/template.ts';
import { functionsOf } from '../../offline/template/template.ts';
import { webSocketApiIdsOf } from '../../offline/template/websocket-api-definition.ts';
import { asList, isObject, policiesOf, refOf, resourcesOfType } from './rules.ts';

/** The rules over the WebSocket APIs: routes, authoriser, permissions, connections, stages. */

/** One AWS::ApiGatewayV2::Route of a WebSocket API, with what it leads to. */
export interface WebSocketRoute {
  logicalId: string;
  api: string;
  routeKey: string;
  authorizationType: string;
  /** The AWS::ApiGatewayV2::Authorizer named by AuthorizerId. */
  authorizer: string | undefined;
  /** The AWS::ApiGatewayV2::Integration named by Target (`integrations/<id>`). */
  integration: string | undefined;
  /** The function the integration invokes. */
  fn: string | undefined;
}

const LAMBDA_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);

/** The WebSocket APIs of the template (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET). */
// An API Gateway → Lambda invocation URI, as Fn::Sub text: `${Fn.Arn}` names the function.
const INVOCATION_URI =
  /^arn:(?:\$\{AWS::Partition\}|aws):apigateway:\$\{AWS::Region\}:lambda:path\/2015-03-31\/functions\/\$\{(\w+)\.Arn\}\/invocations$/;

/** The function of this template that an IntegrationUri/AuthorizerUri invokes, if it is in the usual form. */
export function invokedFunction(template: Template, uri: Json | undefined): string | undefined {
  const text = isObject(uri) ? uri['Fn::Sub'] : undefined;
  const name = typeof text === 'string' ? INVOCATION_URI.exec(text)?.[1] : undefined;
  return name !== undefined && LAMBDA_TYPES.has(template.Resources[name]?.Type ?? '') ? name : undefined;
}

/** The integration a route's Target names: `!Join ['/', [integrations, !Ref X]]` or `!Sub integrations/${X}`. */
function targetIntegration(target: Json | undefined): string | undefined {
  if (!isObject(target)) return undefined;
  const join = target['Fn::Join'];
  if (Array.isArray(join) && join[0] === '/' && Array.isArray(join[1]) && join[1].length === 2) {
    return join[1][0] === 'integrations' ? refOf(join[1][1]) : undefined;
  }
  const sub = target['Fn::Sub'];
  return typeof sub === 'string' ? /^integrations\/\$\{(\w+)\}$/.exec(sub)?.[1] : undefined;
}

export function webSocketRoutesOf(template: Template): WebSocketRoute[] {
  const apis = new Set(webSocketApiIdsOf(template));
  return resourcesOfType(template, 'AWS::ApiGatewayV2::Route').flatMap((logicalId) => {
    const properties = template.Resources[logicalId]?.Properties ?? {};
    const api = refOf(properties.ApiId);
    if (!api || !apis.has(api)) return [];
    const integration = targetIntegration(properties.Target);
    const integrationProperties = template.Resources[integration ?? '']?.Properties ?? {};
    return [
      {
        logicalId,
        api,
        routeKey: String(properties.RouteKey),
        authorizationType: String(properties.AuthorizationType ?? 'NONE'),
        authorizer: refOf(properties.AuthorizerId),
        integration,
        fn: invokedFunction(template, integrationProperties.IntegrationUri),
      },
    ];
  });
}

/** The functions API Gateway invokes for a WebSocket API: route integrations and authorisers. */
export function webSocketInvocations(template: Template): { api: string; fn: string; via: string }[] {
  const apis = new Set(webSocketApiIdsOf(template));
  const invocations = webSocketRoutesOf(template).flatMap((route) =>
    route.fn ? [{ api: route.api, fn: route.fn, via: route.logicalId }] : [],
  );
  for (const id of resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')) {
    const properties = template.Resources[id]?.Properties ?? {};
    const api = refOf(properties.ApiId);
    const fn = invokedFunction(template, properties.AuthorizerUri);
    if (api && apis.has(api) && fn) invocations.push({ api, fn, via: id });
  }
  return invocations;
}

/** The template's functions that serve a WebSocket API (as a route or as its authoriser). */
export function webSocketFunctions(template: Template): FunctionDefinition[] {
  const ids = new Set(webSocketInvocations(template).map((invocation) => invocation.fn));
  return functionsOf(template).filter((fn) => ids.has(fn.logicalId));
}

export function checkWebSocketRoutes(template: Template): string[] {
  const violations: string[] = [];
  const routes = webSocketRoutesOf(template);
  for (const api of webSocketApiIdsOf(template)) {
    const properties = template.Resources[api]?.Properties ?? {};
    if (typeof properties.RouteSelectionExpression !== 'string') {
      violations.push(`${api}: has no RouteSelectionExpression`);
    }
    const keys = routes.filter((route) => route.api === api).map((route) => route.routeKey);
    if (!keys.includes('$connect'))
      violations.push(`${api}: has no $connect route, so nothing authorises it`);
    for (const key of new Set(keys)) {
      if (keys.filter((other) => other === key).length > 1)
        violations.push(`${api}: route ${key} is defined twice`);
    }
  }
  for (const route of routes) {
    const where = `${route.logicalId} (${route.api} ${route.routeKey})`;
    if (route.routeKey === '$connect') {
      if (route.authorizationType !== 'CUSTOM') {
        violations.push(
          `${where}: AuthorizationType is ${route.authorizationType}, not CUSTOM (a Lambda authoriser)`,
        );
      }
      const authorizer = template.Resources[route.authorizer ?? ''];
      const settings = authorizer?.Properties ?? {};
      if (!route.authorizer || authorizer?.Type !== 'AWS::ApiGatewayV2::Authorizer') {
        violations.push(
          `${where}: AuthorizerId is not !Ref of an AWS::ApiGatewayV2::Authorizer of this template`,
        );
      } else {
        if (refOf(settings.ApiId) !== route.api) {
          violations.push(`${where}: the authoriser ${route.authorizer} belongs to another API`);
        }
        if (settings.AuthorizerType !== 'REQUEST') {
          violations.push(`${where}: the authoriser ${route.authorizer} is not of type REQUEST`);
        }
        if (!invokedFunction(template, settings.AuthorizerUri)) {
          violations.push(
            `${where}: the authoriser ${route.authorizer} does not invoke a function of this template`,
          );
        }
        if (asList(settings.IdentitySource).length === 0) {
          violations.push(`${where}: the authoriser ${route.authorizer} has no IdentitySource`);
        }
      }
    } else if (route.authorizationType !== 'NONE') {
      violations.push(
        `${where}: AuthorizationType ${route.authorizationType}; WebSocket APIs authorise $connect only`,
      );
    }
    const integration = template.Resources[route.integration ?? ''];
    if (!route.integration || integration?.Type !== 'AWS::ApiGatewayV2::Integration') {
      violations.push(`${where}: Target does not name an AWS::ApiGatewayV2::Integration of this template`);
      continue;
    }
    const settings = integration.Properties ?? {};
    if (refOf(settings.ApiId) !== route.api) {
      violations.push(`${where}: the integration ${route.integration} belongs to another API`);
    }
    if (settings.IntegrationType !== 'AWS_PROXY') {
      violations.push(`${where}: the integration ${route.integration} is not AWS_PROXY`);
    }
    if (!route.fn) {
      violations.push(
        `${where}: the integration ${route.integration} does not invoke a function of this template`,
      );
    }
  }
  return violations;
}

// The literal Fn::Sub prefix of an execute-api ARN in this account and region.
const EXECUTE_API_PREFIX = 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:';

/** The API an execute-api ARN (Fn::Sub) starts with: `…:${Api}/…`; undefined for `*` or anything else. */
function executeApiOf(arn: Json | undefined): string | undefined {
  const text = isObject(arn) ? arn['Fn::Sub'] : undefined;
  if (typeof text !== 'string' || !text.startsWith(EXECUTE_API_PREFIX)) return undefined;
  return /^\$\{(\w+)\}\//.exec(text.slice(EXECUTE_API_PREFIX.length))?.[1];
}

const functionOf = (value: Json | undefined): string | undefined => {
  const ref = refOf(value);
  if (ref) return ref;
  const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
};

/**
 * Every function a WebSocket API invokes has a Lambda::Permission for API Gateway whose SourceArn is that
 * API's own execute-api ARN; no permission lets API Gateway in without naming an API of this template.
 */
export function checkWebSocketPermissions(template: Template): string[] {
  const violations: string[] = [];
  const apis = new Set(
    [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGateway::RestApi',
      'AWS::Serverless::Api',
      'AWS::Serverless::HttpApi',
    ].flatMap((type) => resourcesOfType(template, type)),
  );
  const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map((id) => {
    const properties = template.Resources[id]?.Properties ?? {};
    return {
      id,
      fn: functionOf(properties.FunctionName),
      principal: properties.Principal,
      action: properties.Action,
      api: executeApiOf(properties.SourceArn),
      sourceArn: properties.SourceArn,
    };
  });
  for (const permission of permissions) {
    if (permission.principal !== 'apigateway.amazonaws.com') continue;
    if (permission.sourceArn === undefined) {
      violations.push(`${permission.id}: lets any API Gateway API invoke ${permission.fn} (no SourceArn)`);
    } else if (!permission.api || !apis.has(permission.api)) {
      violations.push(`${permission.id}: SourceArn is not the execute-api ARN of an API of this template`);
    }
  }
  for (const { api, fn, via } of webSocketInvocations(template)) {
    const granted = permissions.some(
      (permission) =>
        permission.fn === fn &&
        permission.principal === 'apigateway.amazonaws.com' &&
        permission.action === 'lambda:InvokeFunction' &&
        permission.api === api,
    );
    if (!granted) {
      violations.push(
        `${fn} (invoked by ${via}): no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it with a SourceArn on ${api}`,
      );
    }
  }
  return violations;
}

// `<api>/<stage>/<method>/@connections/*` after the execute-api prefix.
const CONNECTIONS_ARN = /^\$\{(\w+)\}\/([^/*]+)\/(POST|GET|DELETE)\/@connections\/\*$/;

/**
 * `execute-api:ManageConnections` names one WebSocket API of this template and one stage (never `*`), and only
 * functions that serve a route of that API hold it.
 */
export function checkManageConnections(template: Template): string[] {
  const violations: string[] = [];
  const apis = new Set(webSocketApiIdsOf(template));
  const routeFunctions = webSocketRoutesOf(template);
  for (const { owner, statement } of policiesOf(template).statements) {
    const actions = asList(statement.Action).map(String);
    if (!actions.some((action) => /^execute-api:(ManageConnections|\*)$/.test(action))) continue;
    for (const resource of asList(statement.Resource)) {
      const text = isObject(resource) ? resource['Fn::Sub'] : resource;
      const match =
        typeof text === 'string' && text.startsWith(EXECUTE_API_PREFIX)
          ? CONNECTIONS_ARN.exec(text.slice(EXECUTE_API_PREFIX.length))
          : null;
      const api = match?.[1];
      if (!match || !api || !apis.has(api)) {
        violations.push(
          `${owner}: execute-api:ManageConnections on ${JSON.stringify(resource)}, not <WebSocket API of this template>/<stage>/POST/@connections/*`,
        );
      } else if (!routeFunctions.some((route) => route.api === api && route.fn === owner)) {
        violations.push(`${owner}: may manage connections of ${api} but serves none of its routes`);
      }
    }
  }
  return violations;
}

/** Each WebSocket API has a stage with throttling and JSON access logs to a log group that expires. */
export function checkWebSocketStages(template: Template): string[] {
  const violations: string[] = [];
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  for (const api of webSocketApiIdsOf(template)) {
    const own = stages.filter((id) => refOf(template.Resources[id]?.Properties?.ApiId) === api);
    if (own.length === 0) violations.push(`${api}: has no AWS::ApiGatewayV2::Stage`);
    for (const stage of own) {
      const properties = template.Resources[stage]?.Properties ?? {};
      const settings = (properties.DefaultRouteSettings ?? {}) as JsonObject;
      if (settings.ThrottlingRateLimit === undefined || settings.ThrottlingBurstLimit === undefined) {
        violations.push(`${stage}: DefaultRouteSettings lack ThrottlingRateLimit/ThrottlingBurstLimit`);
      }
      const logs = properties.AccessLogSettings;
      const destination = isObject(logs) ? logs.DestinationArn : undefined;
      const getAtt = isObject(destination) ? destination['Fn::GetAtt'] : undefined;
      const group = Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
      const groupResource = template.Resources[group ?? ''];
      if (!group || groupResource?.Type !== 'AWS::Logs::LogGroup') {
        violations.push(
          `${stage}: AccessLogSettings.DestinationArn is not !GetAtt <LogGroup>.Arn of this template`,
        );
      } else if (groupResource.Properties?.RetentionInDays === undefined) {
        violations.push(`${stage}: the access log group ${group} keeps logs forever (no RetentionInDays)`);
      }
      let format: unknown;
      try {
        format = JSON.parse(String(isObject(logs) ? logs.Format : ''));
      } catch {
        format = undefined;
      }
      if (
        !isObject(format as Json) ||
        !String(isObject(logs) ? logs.Format : '').includes('$context.requestId')
      ) {
        violations.push(`${stage}: AccessLogSettings.Format is not a JSON object with $context.requestId`);
      }
    }
  }
  return violations;
}
