import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate, type Template } from '../../offline/template/template.ts';
import {
  checkJwtAuthorizers,
  checkRouteAuth,
  checkScopes,
  definedScopes,
  publicRoutes,
  routesOf,
} from './route-auth-rules.ts';
import { broken, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('HTTP API routes', () => {
  it('are found', () => {
    expect(routesOf(template).map((route) => route.routeKey)).toEqual(
      expect.arrayContaining([
        'GET /me',
        'POST /orders',
        'GET /orders',
        'GET /orders/{id}',
        'DELETE /orders/{id}',
        'PUT /products/{id}',
      ]),
    );
  });

  it('sit behind a JWT default authoriser; a route with data access declares scopes', () => {
    expect(checkRouteAuth(template), 'template.yaml breaks the route authorisation rules').toEqual([]);
  });

  it('are public only where the function says why (Metadata.PublicRoute); none is today', () => {
    const unexplained = publicRoutes(template).filter(
      (route) => typeof template.Resources[route.fn.logicalId]?.Metadata?.PublicRoute !== 'string',
    );
    expect(unexplained.map((route) => route.routeKey)).toEqual([]);
  });

  it('trust only the Cognito user pool and app client of this template', () => {
    expect(checkJwtAuthorizers(template)).toEqual([]);
  });

  it('require api/products.write for PUT /products/{id}', () => {
    const route = routesOf(template).find((candidate) => candidate.routeKey === 'PUT /products/{id}');
    expect(route?.auth.AuthorizationScopes).toContain('api/products.write');
  });

  it('use only scopes the resource server defines and the app client allows', () => {
    expect(definedScopes(template).size).toBeGreaterThan(0);
    expect(checkScopes(template), 'template.yaml uses scopes Cognito will never issue').toEqual([]);
  });
});

describe('the authorisation rules catch', () => {
  const httpApiAuth = (copy: Template) => propertiesOf(copy, 'HttpApi').Auth as JsonObject;
  const routeAuth = (copy: Template, id: string) => {
    const events = propertiesOf(copy, id).Events as JsonObject;
    const properties = (events.Api as JsonObject).Properties as JsonObject;
    properties.Auth ??= {};
    return properties.Auth as JsonObject;
  };

  it('an API without a default authoriser', () => {
    const copy = broken(template, (edit) => delete httpApiAuth(edit).DefaultAuthorizer);
    expect(checkRouteAuth(copy).join('\n')).toContain('has no Auth.DefaultAuthorizer of type JWT');
  });

  it('a Lambda authoriser as the default', () => {
    const copy = broken(template, (edit) => {
      (httpApiAuth(edit).Authorizers as JsonObject).CognitoJwt = {
        FunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:authorizer',
      };
    });
    expect(checkRouteAuth(copy).join('\n')).toContain('of type JWT');
  });

  it('a route on the implicit API, which has no authoriser', () => {
    const copy = broken(template, (edit) => {
      const events = propertiesOf(edit, 'GetMeFunction').Events as JsonObject;
      delete ((events.Api as JsonObject).Properties as JsonObject).ApiId;
    });
    expect(checkRouteAuth(copy).join('\n')).toContain('GetMeFunction (GET /me): ServerlessHttpApi has no');
  });

  it('a public route that does not say why, and accepts one that does', () => {
    const open = broken(template, (edit) => {
      routeAuth(edit, 'GetMeFunction').Authorizer = 'NONE';
    });
    expect(checkRouteAuth(open).join('\n')).toContain('without Metadata.PublicRoute');
    const explained = broken(open, (edit) => {
      (edit.Resources.GetMeFunction?.Metadata as JsonObject).PublicRoute =
        'Health probe for the load balancer';
    });
    expect(checkRouteAuth(explained)).toEqual([]);
  });

  it('a route with table access but no scopes', () => {
    const copy = broken(template, (edit) => delete routeAuth(edit, 'ListOrdersFunction').AuthorizationScopes);
    expect(checkRouteAuth(copy)).toEqual([
      'ListOrdersFunction (GET /orders): the function has Policies but the route declares no Auth.AuthorizationScopes',
    ]);
  });

  it('a scope no resource server defines', () => {
    const copy = broken(template, (edit) => {
      routeAuth(edit, 'ListOrdersFunction').AuthorizationScopes = ['api/orders.admin'];
    });
    expect(checkScopes(copy).join('\n')).toContain(
      'scope api/orders.admin: no UserPoolResourceServer defines it',
    );
  });

  it('a scope the app client does not allow', () => {
    const copy = broken(template, (edit) => {
      const client = propertiesOf(edit, 'UserPoolClient');
      client.AllowedOAuthScopes = (client.AllowedOAuthScopes as string[]).filter(
        (scope) => scope !== 'api/products.write',
      );
    });
    expect(checkScopes(copy)).toEqual([
      "PutProductFunction (PUT /products/{id}) scope api/products.write: no app client in the authoriser's audience allows it",
    ]);
  });

  it('an issuer that is not this user pool', () => {
    const copy = broken(template, (edit) => {
      const authorizers = httpApiAuth(edit).Authorizers as JsonObject;
      ((authorizers.CognitoJwt as JsonObject).JwtConfiguration as JsonObject).issuer = 'https://example.com';
    });
    expect(checkJwtAuthorizers(copy).join('\n')).toContain('issuer is not the Cognito issuer URL');
  });
});
