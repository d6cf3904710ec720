import type { FunctionDefinition, Json, JsonObject, Template } from '../../offline/template/template.ts';
import { functionsOf } from '../../offline/template/template.ts';
import {
  asList,
  effectiveProperties,
  functionProperties,
  globalsOf,
  isObject,
  referencedNames,
  refOf,
  resourcesOfType,
} from './rules.ts';

/** The rules over the HTTP API routes and their authorisation: JWT authorisers, public routes, scopes. */

export interface Route {
  fn: FunctionDefinition;
  event: string;
  method: string;
  path: string;
  /** `METHOD /path`, as API Gateway names the route (`$default` for a catch-all). */
  routeKey: string;
  /** The HttpApi resource the route belongs to; `ServerlessHttpApi` is SAM's implicit one. */
  api: string;
  auth: JsonObject;
}

export function routesOf(template: Template): Route[] {
  return functionsOf(template).flatMap((fn) =>
    Object.entries((functionProperties(template, fn).Events ?? {}) as JsonObject)
      .filter(([, event]) => isObject(event) && event.Type === 'HttpApi')
      .map(([name, event]) => {
        const properties = ((event as JsonObject).Properties ?? {}) as JsonObject;
        const method = String(properties.Method ?? 'ANY').toUpperCase();
        const path = properties.Path === undefined ? undefined : String(properties.Path);
        return {
          fn,
          event: name,
          method,
          path: path ?? '',
          routeKey: path === undefined ? '$default' : `${method} ${path}`,
          api: refOf(properties.ApiId) ?? 'ServerlessHttpApi',
          auth: (properties.Auth ?? {}) as JsonObject,
        };
      }),
  );
}

/** An HttpApi's properties (Globals.HttpApi applied); the implicit API has only the Globals. */
export function httpApiProperties(template: Template, api: string): JsonObject | undefined {
  if (api === 'ServerlessHttpApi' && !template.Resources[api]) return globalsOf(template, 'HttpApi');
  if (template.Resources[api]?.Type !== 'AWS::Serverless::HttpApi') return undefined;
  return effectiveProperties(template, api, 'HttpApi');
}

interface JwtAuthorizer {
  name: string;
  issuer: Json | undefined;
  audience: Json[];
}

function jwtAuthorizer(api: JsonObject, name: string | undefined): JwtAuthorizer | undefined {
  if (name === undefined) return undefined;
  const authorizer = ((api.Auth as JsonObject | undefined)?.Authorizers as JsonObject | undefined)?.[name];
  if (!isObject(authorizer) || authorizer.FunctionArn !== undefined) return undefined;
  const config = authorizer.JwtConfiguration;
  if (!isObject(config)) return undefined;
  return { name, issuer: config.issuer, audience: asList(config.audience) };
}

/** The JWT authoriser that guards a route, or undefined when the route is public or not JWT-guarded. */
export function routeAuthorizer(template: Template, route: Route): JwtAuthorizer | undefined {
  const api = httpApiProperties(template, route.api);
  if (!api) return undefined;
  const name = route.auth.Authorizer ?? (api.Auth as JsonObject | undefined)?.DefaultAuthorizer;
  return jwtAuthorizer(api, typeof name === 'string' ? name : undefined);
}

const scopesOf = (route: Route): string[] => asList(route.auth.AuthorizationScopes).map(String);

export function checkRouteAuth(template: Template): string[] {
  const violations: string[] = [];
  for (const route of routesOf(template)) {
    const where = `${route.fn.logicalId} (${route.routeKey})`;
    const api = httpApiProperties(template, route.api);
    if (!api) {
      violations.push(`${where}: ApiId ${route.api} is not an AWS::Serverless::HttpApi of this template`);
      continue;
    }
    const defaultName = (api.Auth as JsonObject | undefined)?.DefaultAuthorizer;
    if (!jwtAuthorizer(api, typeof defaultName === 'string' ? defaultName : undefined)) {
      violations.push(`${where}: ${route.api} has no Auth.DefaultAuthorizer of type JWT`);
    }
    const chosen = route.auth.Authorizer;
    if (chosen === 'NONE') {
      const reason = template.Resources[route.fn.logicalId]?.Metadata?.PublicRoute;
      if (typeof reason !== 'string' || reason.trim() === '') {
        violations.push(
          `${where}: public route (Auth.Authorizer NONE) without Metadata.PublicRoute saying why`,
        );
      }
    } else if (chosen !== undefined && !jwtAuthorizer(api, String(chosen))) {
      violations.push(`${where}: Auth.Authorizer ${String(chosen)} is not a JWT authoriser of ${route.api}`);
    }
    const policies = asList(functionProperties(template, route.fn).Policies);
    if (chosen !== 'NONE' && policies.length > 0 && scopesOf(route).length === 0) {
      violations.push(
        `${where}: the function has Policies but the route declares no Auth.AuthorizationScopes`,
      );
    }
  }
  return violations;
}

/** Routes that opt out of the authoriser. */
export const publicRoutes = (template: Template): Route[] =>
  routesOf(template).filter((route) => route.auth.Authorizer === 'NONE');

// The literal Fn::Sub text of the Cognito issuer URL.
const COGNITO_ISSUER_PREFIX = 'https://cognito-idp.${AWS::Region}.amazonaws.com/';

export function checkJwtAuthorizers(template: Template): string[] {
  const violations: string[] = [];
  const pools = new Set(resourcesOfType(template, 'AWS::Cognito::UserPool'));
  const clients = new Set(resourcesOfType(template, 'AWS::Cognito::UserPoolClient'));
  for (const route of routesOf(template)) {
    const authorizer = routeAuthorizer(template, route);
    if (!authorizer) continue;
    const where = `${route.api}.${authorizer.name}`;
    const issuer = authorizer.issuer;
    const sub = isObject(issuer) ? issuer['Fn::Sub'] : undefined;
    const pool = [...referencedNames(issuer)].find((name) => pools.has(name));
    if (typeof sub !== 'string' || !sub.startsWith(COGNITO_ISSUER_PREFIX) || !pool) {
      violations.push(`${where}: issuer is not the Cognito issuer URL of a user pool in this template`);
    }
    const audience = authorizer.audience.map(refOf);
    if (audience.length === 0 || audience.some((client) => client === undefined || !clients.has(client))) {
      violations.push(`${where}: audience must be !Ref of app clients in this template`);
    }
  }
  return [...new Set(violations)];
}

/** `identifier/scope` for every scope the template's Cognito resource servers define. */
export function definedScopes(template: Template): Set<string> {
  const scopes = new Set<string>();
  for (const id of resourcesOfType(template, 'AWS::Cognito::UserPoolResourceServer')) {
    const properties = template.Resources[id]?.Properties ?? {};
    for (const scope of asList(properties.Scopes)) {
      if (isObject(scope)) scopes.add(`${String(properties.Identifier)}/${String(scope.ScopeName)}`);
    }
  }
  return scopes;
}

export function checkScopes(template: Template): string[] {
  const violations: string[] = [];
  const defined = definedScopes(template);
  for (const route of routesOf(template)) {
    const audience = (routeAuthorizer(template, route)?.audience ?? []).map(refOf);
    const allowed = new Set(
      audience.flatMap((client) =>
        asList(template.Resources[client ?? '']?.Properties?.AllowedOAuthScopes).map(String),
      ),
    );
    for (const scope of scopesOf(route)) {
      const where = `${route.fn.logicalId} (${route.routeKey}) scope ${scope}`;
      if (!defined.has(scope)) violations.push(`${where}: no UserPoolResourceServer defines it`);
      if (!allowed.has(scope))
        violations.push(`${where}: no app client in the authoriser's audience allows it`);
    }
  }
  return violations;
}
