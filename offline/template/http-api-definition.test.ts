import { describe, expect, test } from 'vitest';
import { httpApiDefinitions } from './http-api-definition.ts';
import { createResolver } from './resolver.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from './template.ts';

/** A template with one HTTP API and one function whose HttpApi event has the given properties. */
const apiTemplate = (eventProperties: string) =>
  parseTemplate(`
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Jwt:
            JwtConfiguration:
              issuer: !GetAtt Pool.ProviderURL
              audience: [client-1]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Route:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: get
            Path: /things
${eventProperties.replace(/^/gm, '            ')}
`);

describe('httpApiDefinitions of template.yaml', () => {
  const [api, ...others] = httpApiDefinitions(createResolver(loadTemplate(), undefined));

  test('yields the one HTTP API with its six routes and scopes', () => {
    expect(others).toEqual([]);
    const routes = api?.routes.map((route) => ({
      route: `${route.method} ${route.path}`,
      functionName: route.functionName,
      scopes: route.scopes,
      throttle: route.throttle,
    }));
    const throttle = { rate: 100, burst: 200 };
    expect(routes).toEqual([
      { route: 'GET /me', functionName: 'GetMeFunction', scopes: [], throttle },
      { route: 'POST /orders', functionName: 'CreateOrderFunction', scopes: ['api/orders.write'], throttle },
      { route: 'GET /orders', functionName: 'ListOrdersFunction', scopes: ['api/orders.read'], throttle },
      { route: 'GET /orders/{id}', functionName: 'GetOrderFunction', scopes: ['api/orders.read'], throttle },
      {
        route: 'DELETE /orders/{id}',
        functionName: 'DeleteOrderFunction',
        scopes: ['api/orders.write'],
        throttle,
      },
      {
        route: 'PUT /products/{id}',
        functionName: 'PutProductFunction',
        scopes: ['api/products.write'],
        throttle,
      },
    ]);
  });

  test("the CognitoJwt authoriser trusts the user pool's issuer and the client as audience", () => {
    expect(api?.authorizers).toEqual([
      {
        name: 'CognitoJwt',
        issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool',
        audience: ['localUserPoolClient'],
        identitySource: '$request.header.Authorization',
        scopes: [],
      },
    ]);
  });

  test('the API runs on the $default stage with the CORS settings of the template', () => {
    expect(api).toMatchObject({ logicalId: 'HttpApi', apiId: 'httpapi', stage: '$default' });
    expect(api?.cors).toEqual({
      allowOrigins: ['http://localhost:5173'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      exposeHeaders: ['location'],
      maxAge: 600,
      allowCredentials: false,
    });
  });

  test('an AllowedOrigins override reaches the CORS configuration', () => {
    const resolver = createResolver(loadTemplate(), {
      AllowedOrigins: 'https://app.example,https://b.example',
    });
    expect(httpApiDefinitions(resolver)[0]?.cors?.allowOrigins).toEqual([
      'https://app.example',
      'https://b.example',
    ]);
  });
});

describe('httpApiDefinitions of other templates', () => {
  const definitionsOf = (eventProperties: string) =>
    httpApiDefinitions(createResolver(apiTemplate(eventProperties), undefined));

  test('a route names its authoriser and scopes; the method is upper-cased', () => {
    const [api] = definitionsOf('Auth: { Authorizer: Jwt, AuthorizationScopes: [things.read] }');
    expect(api?.authorizers[0]?.issuer).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool');
    expect(api?.routes).toMatchObject([{ method: 'GET', path: '/things', scopes: ['things.read'] }]);
  });

  test('a route without an authoriser has no scopes and no throttle', () => {
    const [api] = definitionsOf('');
    expect(api?.routes).toMatchObject([{ authorizer: undefined, scopes: [], throttle: undefined }]);
  });

  test('refuses payload format 1.0, naming the event', () => {
    expect(() => definitionsOf('PayloadFormatVersion: "1.0"')).toThrow(
      new UnsupportedTemplateError('Resources.Fn.Properties.Events.Route', 'PayloadFormatVersion 1.0'),
    );
  });

  test('refuses an HttpApi event without an ApiId (the implicit API), naming the event', () => {
    const template = parseTemplate(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Route:
          Type: HttpApi
          Properties: { Method: get, Path: /things }
`);
    expect(() => httpApiDefinitions(createResolver(template, undefined))).toThrow(
      /^Resources\.Fn\.Properties\.Events\.Route: an HttpApi event without an ApiId/,
    );
  });

  test('refuses a route naming an undefined authoriser', () => {
    expect(() => definitionsOf('Auth: { Authorizer: Missing }')).toThrow(
      new UnsupportedTemplateError(
        'Resources.Fn.Properties.Events.Route',
        'the undefined authoriser Missing',
      ),
    );
  });
});
