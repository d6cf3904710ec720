import { describe, expect, test } from 'vitest';
import { httpApiDefinitions } from './cloud.ts';
import { JwtAuthorizer } from './gateways/http/jwt-authorizer.ts';
import { createResolver } from './template/resolver.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from './template/template.ts';

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

describe('createResolver', () => {
  test('refuses a resource type the offline cloud does not run, naming the resource', () => {
    const template = parseTemplate('Resources:\n  Box:\n    Type: AWS::EC2::Instance\n');
    expect(() => createResolver(template, undefined)).toThrow(UnsupportedTemplateError);
    expect(() => createResolver(template, undefined)).toThrow(
      'Resources.Box: the resource type AWS::EC2::Instance is not supported by the offline cloud',
    );
  });

  test('binds the local identities of Cognito, the HTTP API and cloud-only resources', () => {
    const resolver = createResolver(loadTemplate(), undefined);
    expect(resolver.resolve({ Ref: 'UserPool' }, 'test')).toBe('us-east-1_UserPool');
    expect(resolver.resolve({ Ref: 'UserPoolClient' }, 'test')).toBe('localUserPoolClient');
    expect(resolver.resolve({ Ref: 'HttpApi' }, 'test')).toBe('httpapi');
    expect(resolver.resolve({ 'Fn::GetAtt': ['HttpApiAccessLogs', 'Arn'] }, 'test')).toBe(
      'arn:aws:logs:us-east-1:000000000000:log-group:HttpApiAccessLogs',
    );
    expect(resolver.resolve({ Ref: 'AlarmTopic' }, 'test')).toBe(
      'arn:aws:sns:us-east-1:000000000000:AlarmTopic',
    );
  });
});

describe('httpApiDefinitions of template.yaml', () => {
  const [api, ...others] = httpApiDefinitions(createResolver(loadTemplate(), undefined));

  test('yields the one HTTP API with its six routes and scopes', () => {
    expect(others).toEqual([]);
    const routes = api?.config.routes.map((route) => ({
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
    expect(api?.config).toMatchObject({ logicalId: 'HttpApi', apiId: 'httpapi', stage: '$default' });
    expect(api?.config.cors).toEqual({
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
    expect(httpApiDefinitions(resolver)[0]?.config.cors?.allowOrigins).toEqual([
      'https://app.example',
      'https://b.example',
    ]);
  });

  test('with a JWKS URI every route gets a JWT authoriser for the default authoriser', () => {
    const [withJwks] = httpApiDefinitions(
      createResolver(loadTemplate(), undefined),
      'http://127.0.0.1:9/jwks',
    );
    for (const route of withJwks?.config.routes ?? []) {
      expect(route.authorizer).toBeInstanceOf(JwtAuthorizer);
      expect(route.authorizer?.config.name).toBe('CognitoJwt');
    }
  });
});

describe('httpApiDefinitions of other templates', () => {
  const definitionsOf = (eventProperties: string) =>
    httpApiDefinitions(createResolver(apiTemplate(eventProperties), undefined));

  test('a route names its authoriser and scopes; the method is upper-cased', () => {
    const [api] = definitionsOf('Auth: { Authorizer: Jwt, AuthorizationScopes: [things.read] }');
    expect(api?.authorizers[0]?.issuer).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool');
    expect(api?.config.routes).toMatchObject([{ method: 'GET', path: '/things', scopes: ['things.read'] }]);
  });

  test('a route without an authoriser has no scopes and no throttle', () => {
    const [api] = definitionsOf('');
    expect(api?.config.routes).toMatchObject([{ authorizer: undefined, scopes: [], throttle: undefined }]);
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
