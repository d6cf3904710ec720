import {
  functionsOf,
  type Json,
  type JsonObject,
  type Resolver,
  UnsupportedTemplateError,
} from './template.ts';

/** A JWT authoriser of an HTTP API (`Auth.Authorizers.<name>.JwtConfiguration`). */
export interface HttpAuthorizerDefinition {
  name: string;
  issuer: string;
  audience: string[];
  /** e.g. `$request.header.Authorization` */
  identitySource: string;
  /** The authoriser's `AuthorizationScopes`: a route's own list replaces them. */
  scopes: string[];
}

export interface CorsConfiguration {
  allowOrigins: readonly string[];
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAge: number | undefined;
  allowCredentials: boolean;
}

/** One route of an HTTP API, from a function's HttpApi event. */
export interface HttpRouteDefinition {
  method: string;
  path: string;
  functionName: string;
  /** The name of the route's JWT authoriser; undefined for NONE. */
  authorizer: string | undefined;
  scopes: string[];
  throttle: { rate: number; burst: number } | undefined;
}

export interface HttpApiDefinition {
  logicalId: string;
  apiId: string;
  stage: string;
  routes: HttpRouteDefinition[];
  authorizers: HttpAuthorizerDefinition[];
  cors: CorsConfiguration | undefined;
  accountId: string;
}

/**
 * Every HTTP API of the template (AWS::Serverless::HttpApi) with its routes (from the functions' HttpApi
 * events), its JWT authorisers and its CORS settings. Anything the offline cloud cannot honour is an
 * UnsupportedTemplateError naming the template path.
 */
export function httpApiDefinitions(resolver: Resolver): HttpApiDefinition[] {
  const template = resolver.template;
  const apis = Object.entries(template.Resources).filter(
    ([id, resource]) => resource.Type === 'AWS::Serverless::HttpApi' && resolver.exists(id),
  );
  const declared = new Set(apis.map(([logicalId]) => logicalId.toLowerCase()));
  for (const fn of functionsOf(template)) {
    for (const [eventName, event] of Object.entries(
      (fn.properties.Events ?? {}) as Record<string, JsonObject>,
    )) {
      const apiId = (event.Properties as JsonObject | undefined)?.ApiId;
      if (
        event.Type === 'HttpApi' &&
        (apiId === undefined || !declared.has(String(resolver.resolve(apiId, fn.logicalId))))
      ) {
        throw new UnsupportedTemplateError(
          `Resources.${fn.logicalId}.Properties.Events.${eventName}`,
          'an HttpApi event without an ApiId naming an AWS::Serverless::HttpApi of the template (the implicit API)',
        );
      }
    }
  }
  return apis.map(([logicalId, resource]) => {
    const where = `Resources.${logicalId}.Properties`;
    const properties = resolver.resolve(resource.Properties ?? {}, where) as JsonObject;
    const auth = (properties.Auth ?? {}) as JsonObject;
    const authorizers = Object.entries((auth.Authorizers ?? {}) as Record<string, JsonObject>).map(
      ([name, definition]): HttpAuthorizerDefinition => {
        const jwt = definition.JwtConfiguration as JsonObject | undefined;
        if (!jwt)
          throw new UnsupportedTemplateError(
            `${where}.Auth.Authorizers.${name}`,
            'an authoriser other than JWT',
          );
        return {
          name,
          issuer: String(jwt.issuer),
          audience: ((jwt.audience ?? []) as Json[]).map(String),
          identitySource: String(definition.IdentitySource ?? '$request.header.Authorization'),
          scopes: ((definition.AuthorizationScopes ?? []) as Json[]).map(String),
        };
      },
    );
    const byName = new Map(authorizers.map((authorizer) => [authorizer.name, authorizer]));
    const defaultAuthorizer =
      auth.DefaultAuthorizer === undefined ? undefined : String(auth.DefaultAuthorizer);
    const routeSettings = (properties.DefaultRouteSettings ?? {}) as JsonObject;
    const routes: HttpRouteDefinition[] = [];
    for (const fn of functionsOf(template)) {
      if (!resolver.exists(fn.logicalId)) continue;
      for (const [eventName, event] of Object.entries(
        (fn.properties.Events ?? {}) as Record<string, JsonObject>,
      )) {
        if (event.Type !== 'HttpApi') continue;
        const eventWhere = `Resources.${fn.logicalId}.Properties.Events.${eventName}`;
        const eventProperties = resolver.resolve(event.Properties ?? {}, eventWhere) as JsonObject;
        if (String(eventProperties.ApiId) !== logicalId.toLowerCase()) continue;
        if (
          eventProperties.PayloadFormatVersion !== undefined &&
          eventProperties.PayloadFormatVersion !== '2.0'
        ) {
          throw new UnsupportedTemplateError(
            eventWhere,
            `PayloadFormatVersion ${eventProperties.PayloadFormatVersion}`,
          );
        }
        const routeAuth = (eventProperties.Auth ?? {}) as JsonObject;
        const authorizerName =
          routeAuth.Authorizer === undefined ? defaultAuthorizer : String(routeAuth.Authorizer);
        const chosen =
          authorizerName === undefined || authorizerName === 'NONE' ? undefined : byName.get(authorizerName);
        if (authorizerName !== undefined && authorizerName !== 'NONE' && !chosen) {
          throw new UnsupportedTemplateError(eventWhere, `the undefined authoriser ${authorizerName}`);
        }
        const settings = { ...routeSettings, ...((eventProperties.RouteSettings ?? {}) as JsonObject) };
        const rate = settings.ThrottlingRateLimit;
        const burst = settings.ThrottlingBurstLimit;
        routes.push({
          method: String(eventProperties.Method ?? 'ANY').toUpperCase(),
          path: String(eventProperties.Path ?? '$default'),
          functionName: fn.logicalId,
          authorizer: chosen?.name,
          scopes: chosen ? ((routeAuth.AuthorizationScopes ?? chosen.scopes) as Json[]).map(String) : [],
          throttle:
            rate !== undefined && burst !== undefined
              ? { rate: Number(rate), burst: Number(burst) }
              : undefined,
        });
      }
    }
    return {
      logicalId,
      apiId: logicalId.toLowerCase(),
      stage: String(properties.StageName ?? '$default'),
      routes,
      authorizers,
      cors: corsOf(properties.CorsConfiguration),
      accountId: resolver.pseudo.accountId,
    };
  });
}

function corsOf(value: Json | undefined): CorsConfiguration | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  const cors = value === true ? {} : (value as JsonObject);
  const list = (item: Json | undefined, fallback: string[]) =>
    item === undefined ? fallback : (item as Json[]).map(String);
  return {
    allowOrigins: list(cors.AllowOrigins, ['*']),
    allowMethods: list(cors.AllowMethods, ['*']).map((method) => method.toUpperCase()),
    allowHeaders: list(cors.AllowHeaders, []),
    exposeHeaders: list(cors.ExposeHeaders, []),
    maxAge: cors.MaxAge === undefined ? undefined : Number(cors.MaxAge),
    allowCredentials: cors.AllowCredentials === true,
  };
}
