import { describe, expect, test } from 'vitest';
import { createResolver } from './resolver.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from './template.ts';
import { webSocketApiDefinitions, webSocketApiIdsOf } from './websocket-api-definition.ts';

/** A small WebSocket API in the shape of the chat one: authorised $connect, $disconnect, one action, $default. */
const TEMPLATE = `
Parameters:
  Stage: { Type: String, Default: dev }
Resources:
  AuthorizerFn: { Type: AWS::Serverless::Function }
  ConnectFn: { Type: AWS::Serverless::Function }
  DisconnectFn: { Type: AWS::Serverless::Function }
  JoinFn: { Type: AWS::Serverless::Function }
  DefaultFn: { Type: AWS::Serverless::Function }
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: { Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }
  Authorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: auth
      AuthorizerType: REQUEST
      IdentitySource: [route.request.querystring.token, route.request.header.X-Client]
      AuthorizerUri: !Sub arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${AuthorizerFn.Arn}/invocations
  ConnectIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${ConnectFn.Arn}/invocations
  DisconnectIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Join ['', ['arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/', !GetAtt DisconnectFn.Arn, /invocations]]
  JoinIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${JoinFn.Arn}/invocations
  DefaultIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${DefaultFn.Arn}/invocations
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Authorizer
      Target: !Join [/, [integrations, !Ref ConnectIntegration]]
  DisconnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: $disconnect, Target: !Join [/, [integrations, !Ref DisconnectIntegration]] }
  JoinRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: joinroom, Target: !Join [/, [integrations, !Ref JoinIntegration]] }
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: $default, Target: !Join [/, [integrations, !Ref DefaultIntegration]] }
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: !Ref Stage
      AutoDeploy: true
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, DetailedMetricsEnabled: true }
      RouteSettings:
        joinroom: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }
      AccessLogSettings: { DestinationArn: !GetAtt Logs.Arn, Format: '{"requestId":"$context.requestId"}' }
  Logs: { Type: AWS::Logs::LogGroup }
  Deployment:
    Type: AWS::ApiGatewayV2::Deployment
    Properties: { ApiId: !Ref Api }
  ConnectPermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref ConnectFn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub arn:aws:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${Api}/*
`;

/** The template with `search` replaced by `replacement` (each must occur). */
function variant(search: string, replacement: string) {
  if (!TEMPLATE.includes(search)) throw new Error(`not in the template: ${search}`);
  return parseTemplate(TEMPLATE.replace(search, replacement));
}

const definitionsOf = (template = parseTemplate(TEMPLATE), parameters?: Record<string, string>) =>
  webSocketApiDefinitions(createResolver(template, parameters));

describe('webSocketApiDefinitions', () => {
  test('reads the API, its stage, routes, integrations, authoriser and throttling from the template', () => {
    expect(definitionsOf()).toEqual([
      {
        logicalId: 'Api',
        apiId: 'api',
        stage: 'dev',
        stageVariables: {},
        routeSelectionPath: ['action'],
        region: 'us-east-1',
        accountId: '000000000000',
        routes: [
          {
            routeKey: '$connect',
            functionName: 'ConnectFn',
            authorizer: {
              name: 'Authorizer',
              functionName: 'AuthorizerFn',
              identitySource: [
                { in: 'querystring', name: 'token' },
                { in: 'header', name: 'X-Client' },
              ],
            },
            throttle: { rate: 50, burst: 100 },
          },
          {
            routeKey: '$disconnect',
            functionName: 'DisconnectFn',
            authorizer: undefined,
            throttle: { rate: 50, burst: 100 },
          },
          {
            routeKey: 'joinroom',
            functionName: 'JoinFn',
            authorizer: undefined,
            throttle: { rate: 5, burst: 10 },
          },
          {
            routeKey: '$default',
            functionName: 'DefaultFn',
            authorizer: undefined,
            throttle: { rate: 50, burst: 100 },
          },
        ],
      },
    ]);
  });

  test('the stage name follows its parameter; ${request.body.x.y} selects a nested value', () => {
    const [api] = definitionsOf(
      variant(
        'RouteSelectionExpression: $request.body.action',
        'RouteSelectionExpression: "${request.body.msg.kind}"',
      ),
      { Stage: 'prod' },
    );
    expect(api?.stage).toBe('prod');
    expect(api?.routeSelectionPath).toEqual(['msg', 'kind']);
  });

  test('binds the local identities: API id and endpoint, function ARNs, stage name, ids of the rest', () => {
    const resolver = createResolver(parseTemplate(TEMPLATE), undefined);
    expect(resolver.resolve({ Ref: 'Api' }, 'test')).toBe('api');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Api', 'ApiEndpoint'] }, 'test')).toBe(
      'wss://api.execute-api.us-east-1.amazonaws.com',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['ConnectFn', 'Arn'] }, 'test')).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:ConnectFn',
    );
    expect(resolver.resolve({ Ref: 'ConnectFn' }, 'test')).toBe('ConnectFn');
    expect(resolver.resolve({ Ref: 'Stage' }, 'test')).toBe('dev');
    expect(resolver.resolve({ Ref: 'Authorizer' }, 'test')).toBe('authorizer');
    expect(resolver.resolve({ Ref: 'Deployment' }, 'test')).toBe('deployment');
    expect(resolver.resolve({ Ref: 'ConnectPermission' }, 'test')).toBe('ConnectPermission');
  });

  test.each([
    [
      'a raw HTTP API',
      () => variant('ProtocolType: WEBSOCKET', 'ProtocolType: HTTP'),
      'Resources.Api.Properties.ProtocolType: an AWS::ApiGatewayV2::Api with ProtocolType HTTP',
    ],
    [
      'a route selection expression other than $request.body.<path>',
      () => variant('$request.body.action', '$request.header.action'),
      'Resources.Api.Properties.RouteSelectionExpression: the route selection expression "$request.header.action"',
    ],
    [
      'an integration other than AWS_PROXY',
      () => variant('IntegrationType: AWS_PROXY', 'IntegrationType: HTTP_PROXY'),
      'Resources.ConnectIntegration.Properties.IntegrationType: the integration type HTTP_PROXY',
    ],
    [
      'an integration URI that is not a function of the template',
      () => variant('${ConnectFn.Arn}', 'arn:aws:lambda:us-east-1:1:function:elsewhere'),
      'Resources.ConnectIntegration.Properties.IntegrationUri: a URI',
    ],
    [
      'an identity source from stage variables',
      () => variant('route.request.header.X-Client', 'stageVariables.client'),
      'Resources.Authorizer.Properties.IdentitySource[1]: the identity source stageVariables.client',
    ],
    [
      'IAM authorisation',
      () => variant('AuthorizationType: CUSTOM', 'AuthorizationType: AWS_IAM'),
      'Resources.ConnectRoute.Properties.AuthorizationType: the authorization type AWS_IAM',
    ],
    [
      'route responses',
      () => variant('RouteKey: joinroom,', 'RouteKey: joinroom, RouteResponseSelectionExpression: $default,'),
      'Resources.JoinRoute.Properties.RouteResponseSelectionExpression: the AWS::ApiGatewayV2::Route property',
    ],
    [
      'a route whose target is not an integration of the template',
      () => variant('[integrations, !Ref JoinIntegration]', '[integrations, nowhere]'),
      'Resources.JoinRoute.Properties.Target: a route whose Target',
    ],
    [
      'a JWT authoriser',
      () => variant('AuthorizerType: REQUEST', 'AuthorizerType: JWT'),
      'Resources.Authorizer.Properties.AuthorizerType: the WebSocket authoriser type JWT',
    ],
  ])('refuses %s, naming the resource', (_name, template, message) => {
    const error = (() => {
      try {
        definitionsOf(template());
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedTemplateError);
    expect((error as Error).message).toContain(message);
  });

  test('a WebSocket API without a stage is refused', () => {
    const template = parseTemplate(TEMPLATE);
    delete template.Resources.Stage;
    expect(() => definitionsOf(template)).toThrow(
      new UnsupportedTemplateError('Resources.Api', 'a WebSocket API without an AWS::ApiGatewayV2::Stage'),
    );
  });
});

describe('webSocketApiIdsOf', () => {
  test('names the WebSocket APIs as declared, not an HTTP one', () => {
    const template = parseTemplate(TEMPLATE);
    template.Resources.Http = { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'HTTP' } };
    expect(webSocketApiIdsOf(template)).toEqual(['Api']);
    delete template.Resources.Api;
    expect(webSocketApiIdsOf(template)).toEqual([]);
  });
});

// The starter's chat is its only WebSocket API; the README's "Remove the WebSocket chat" takes it out.
const HAS_WEBSOCKET_API = webSocketApiIdsOf(loadTemplate()).length > 0;

describe('webSocketApiDefinitions of template.yaml', () => {
  test.runIf(HAS_WEBSOCKET_API)(
    'the chat API: six routes, $connect behind the query-string token authoriser, the stage throttle',
    () => {
      const [chat, ...others] = webSocketApiDefinitions(createResolver(loadTemplate(), undefined));
      expect(others).toEqual([]);
      expect(chat).toMatchObject({
        logicalId: 'ChatApi',
        apiId: 'chatapi',
        stage: 'dev',
        routeSelectionPath: ['action'],
      });
      expect(
        chat?.routes.map((route) => [
          route.routeKey,
          route.functionName,
          route.authorizer?.functionName ?? null,
        ]),
      ).toEqual([
        ['$connect', 'ChatConnectFunction', 'ChatAuthorizerFunction'],
        ['$disconnect', 'ChatDisconnectFunction', null],
        ['joinroom', 'ChatJoinRoomFunction', null],
        ['leaveroom', 'ChatLeaveRoomFunction', null],
        ['sendmessage', 'ChatSendMessageFunction', null],
        ['$default', 'ChatDefaultFunction', null],
      ]);
      expect(chat?.routes[0]?.authorizer?.identitySource).toEqual([{ in: 'querystring', name: 'token' }]);
      for (const route of chat?.routes ?? [])
        expect(route.throttle).toEqual({ rate: expect.any(Number), burst: expect.any(Number) });
    },
  );

  test.skipIf(HAS_WEBSOCKET_API)('without the chat: no WebSocket API, and nothing refused', () => {
    expect(webSocketApiDefinitions(createResolver(loadTemplate(), undefined))).toEqual([]);
  });
});
