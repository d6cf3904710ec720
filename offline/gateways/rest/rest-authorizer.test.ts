import { resolve } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { LambdaError } from '../../runtime/lambda.ts';
import { createResolver } from '../../template/resolver.ts';
import { restApiDefinitions } from '../../template/rest-api-definition.ts';
import { ApiGatewayImportError } from '../../template/rest-api-import.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from '../../template/template.ts';
import { LocalRestApi } from './rest-api.ts';
import { EXPLICIT_DENY, IMPLICIT_DENY, type TokenAuthorizer, TokenAuthorizers } from './rest-authorizer.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:api/live/GET/things';
const AUTHORIZER: TokenAuthorizer = {
  name: 'token',
  functionName: 'Authorize',
  header: 'Authorization',
  validation: /^(?:Bearer \w+)$/,
  ttlSeconds: 300,
};

const policy = (statements: object[], context: object = {}) => ({
  principalId: 'partner-1',
  policyDocument: { Version: '2012-10-17', Statement: statements },
  context,
});
const allow = (resource = METHOD_ARN) => ({
  Action: 'execute-api:Invoke',
  Effect: 'Allow',
  Resource: resource,
});
const deny = (resource = METHOD_ARN) => ({
  Action: 'execute-api:Invoke',
  Effect: 'Deny',
  Resource: resource,
});

describe('TokenAuthorizers', () => {
  let clock = 0;
  const invoke = vi.fn<(functionName: string, event: unknown) => Promise<unknown>>();
  const authorizers = () => new TokenAuthorizers(invoke, () => clock);
  const bearer = { Authorization: 'Bearer abc' };

  beforeEach(() => {
    clock = 1_000_000;
    invoke.mockReset();
  });

  test('sends the TOKEN event and passes principalId and the context, every value a string', async () => {
    invoke.mockResolvedValue(policy([allow()], { clientId: 'c1', count: 3, premium: true }));
    const outcome = await authorizers().authorize(AUTHORIZER, { authorization: 'Bearer abc' }, METHOD_ARN);
    expect(invoke).toHaveBeenCalledWith('Authorize', {
      type: 'TOKEN',
      authorizationToken: 'Bearer abc',
      methodArn: METHOD_ARN,
    });
    expect(outcome).toEqual({
      allowed: true,
      authorizer: { principalId: 'partner-1', clientId: 'c1', count: '3', premium: 'true' },
    });
  });

  test.each([
    ['no header', {}],
    ['an empty header', { Authorization: '' }],
    ['a token the validation expression refuses', { Authorization: 'Basic abc' }],
  ])('%s is a 401 without invoking', async (_name, headers) => {
    const outcome = await authorizers().authorize(AUTHORIZER, headers, METHOD_ARN);
    expect(outcome).toEqual({ allowed: false, responseType: 'UNAUTHORIZED', message: 'Unauthorized' });
    expect(invoke).not.toHaveBeenCalled();
  });

  test('a thrown Unauthorized is a 401, and is not cached', async () => {
    invoke.mockRejectedValue(new LambdaError('Error', 'Unauthorized'));
    const running = authorizers();
    for (let round = 0; round < 2; round++) {
      expect(await running.authorize(AUTHORIZER, bearer, METHOD_ARN)).toMatchObject({
        responseType: 'UNAUTHORIZED',
      });
    }
    expect(invoke).toHaveBeenCalledTimes(2);
  });

  test.each([
    ['another error', new LambdaError('Error', 'JWKS unreachable')],
    ['a timeout', new LambdaError('Sandbox.Timedout', 'Task timed out after 10 seconds')],
  ])('%s is a 500 AUTHORIZER_CONFIGURATION_ERROR with a null message', async (_name, error) => {
    invoke.mockRejectedValue(error);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await authorizers().authorize(AUTHORIZER, bearer, METHOD_ARN)).toEqual({
      allowed: false,
      responseType: 'AUTHORIZER_CONFIGURATION_ERROR',
      message: null,
    });
  });

  test.each([
    ['nothing', undefined],
    ['no principalId', { policyDocument: { Statement: [allow()] } }],
    ['no policyDocument', { principalId: 'p' }],
    ['an Effect that is neither Allow nor Deny', policy([{ ...allow(), Effect: 'Maybe' }])],
    ['a context value that is an object', policy([allow()], { nested: { a: 1 } })],
    ['a context value that is an array', policy([allow()], { list: [1] })],
  ])('a result with %s is a 500, and is not cached', async (_name, result) => {
    invoke.mockResolvedValue(result);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const running = authorizers();
    for (let round = 0; round < 2; round++) {
      expect(await running.authorize(AUTHORIZER, bearer, METHOD_ARN)).toMatchObject({
        responseType: 'AUTHORIZER_CONFIGURATION_ERROR',
      });
    }
    expect(invoke).toHaveBeenCalledTimes(2);
  });

  test('an explicit Deny is a 403 with AWS message, and wins over an Allow', async () => {
    invoke.mockResolvedValue(policy([allow(), deny()]));
    expect(await authorizers().authorize(AUTHORIZER, bearer, METHOD_ARN)).toEqual({
      allowed: false,
      responseType: 'ACCESS_DENIED',
      message: EXPLICIT_DENY,
    });
  });

  test.each([
    ['* across stage, method and path', 'arn:aws:execute-api:eu-west-1:123456789012:api/*', 'Allow'],
    ['* for the method', 'arn:aws:execute-api:eu-west-1:123456789012:api/live/*/things', 'Allow'],
    ['? for one character', 'arn:aws:execute-api:eu-west-1:123456789012:api/liv?/GET/thing?', 'Allow'],
    [
      '? that needs a character',
      'arn:aws:execute-api:eu-west-1:123456789012:api/live/GET/things?',
      undefined,
    ],
    ['another method', 'arn:aws:execute-api:eu-west-1:123456789012:api/live/POST/things', undefined],
    ['a dot taken literally', 'arn:aws:execute-api:eu-west-1:123456789012:api/live/GET.things', undefined],
  ])('an Allow with %s', async (_name, resource, verdict) => {
    invoke.mockResolvedValue(policy([allow(resource)]));
    const outcome = await authorizers().authorize(AUTHORIZER, bearer, METHOD_ARN);
    if (verdict === 'Allow') expect(outcome.allowed).toBe(true);
    else expect(outcome).toEqual({ allowed: false, responseType: 'ACCESS_DENIED', message: IMPLICIT_DENY });
  });

  test('a statement about another action allows nothing', async () => {
    invoke.mockResolvedValue(policy([{ ...allow(), Action: 'execute-api:ManageConnections' }]));
    expect(await authorizers().authorize(AUTHORIZER, bearer, METHOD_ARN)).toMatchObject({
      message: IMPLICIT_DENY,
    });
  });

  test('caches the policy per token for the TTL, then asks again', async () => {
    invoke.mockResolvedValue(policy([allow()]));
    const running = authorizers();
    await running.authorize(AUTHORIZER, bearer, METHOD_ARN);
    clock += 299_999;
    await running.authorize(AUTHORIZER, bearer, METHOD_ARN);
    expect(invoke).toHaveBeenCalledTimes(1);
    await running.authorize(AUTHORIZER, { Authorization: 'Bearer other' }, METHOD_ARN);
    expect(invoke).toHaveBeenCalledTimes(2);
    clock += 1;
    await running.authorize(AUTHORIZER, bearer, METHOD_ARN);
    expect(invoke).toHaveBeenCalledTimes(3);
  });

  test('a cached Deny stays a Deny, and a cached policy is evaluated against each method ARN', async () => {
    invoke.mockResolvedValueOnce(policy([deny()])).mockResolvedValue(policy([allow()]));
    const running = authorizers();
    for (let round = 0; round < 2; round++) {
      expect(await running.authorize(AUTHORIZER, bearer, METHOD_ARN)).toMatchObject({
        message: EXPLICIT_DENY,
      });
    }
    const other = 'arn:aws:execute-api:eu-west-1:123456789012:api/live/GET/others';
    expect(await running.authorize(AUTHORIZER, bearer, other)).toMatchObject({ message: IMPLICIT_DENY });
    expect(invoke).toHaveBeenCalledTimes(1);
  });

  test('a TTL of 0 invokes the function for every request', async () => {
    invoke.mockResolvedValue(policy([allow()]));
    const running = authorizers();
    for (let round = 0; round < 3; round++) {
      await running.authorize({ ...AUTHORIZER, ttlSeconds: 0 }, bearer, METHOD_ARN);
    }
    expect(invoke).toHaveBeenCalledTimes(3);
  });
});

// ------------------------------------------------------------------------------------------ in the REST API

const AUTHORIZE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:Authorize';
const THINGS_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:Things';
const lambdaUri = (arn: string) =>
  `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations`;

const DEFAULT_AUTHORIZER = `type: token
authorizerUri: ${lambdaUri(AUTHORIZE_ARN)}
identitySource: method.request.header.Authorization
authorizerResultTtlInSeconds: 300`;

/** A REST API with one GET /things behind the `token` scheme, whose x-amazon-apigateway-authorizer is `settings`. */
const template = (settings = DEFAULT_AUTHORIZER, scheme = 'type: apiKey\nname: Authorization\nin: header') =>
  parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      DefinitionBody:
        openapi: 3.0.3
        x-amazon-apigateway-gateway-responses:
          ACCESS_DENIED:
            responseTemplates:
              application/json: '{"code":"$context.error.responseType","message":$context.error.messageString}'
        components:
          securitySchemes:
            token:
${`${scheme}\nx-amazon-apigateway-authtype: custom\nx-amazon-apigateway-authorizer:\n${settings.replace(/^/gm, '  ')}`.replace(/^/gm, '              ')}
        paths:
          /things:
            get:
              security:
                - token: []
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: ${lambdaUri(THINGS_ARN)}
`);

const definitionOf = (settings?: string, scheme?: string) =>
  restApiDefinitions(createResolver(template(settings, scheme), {}), ROOT)[0];

describe('a TOKEN authoriser in the definition', () => {
  test('is parsed from the security scheme, and is no API key', () => {
    const method = definitionOf()?.methods[0];
    expect(method?.apiKeyRequired).toBe(false);
    expect(method?.authorizer).toMatchObject({
      name: 'token',
      functionName: 'Authorize',
      header: 'Authorization',
      ttlSeconds: 300,
    });
  });

  test.each([
    [
      'a REQUEST authoriser',
      DEFAULT_AUTHORIZER.replace('type: token', 'type: request'),
      UnsupportedTemplateError,
      /request authoriser/,
    ],
    [
      'a Cognito authoriser',
      DEFAULT_AUTHORIZER.replace('type: token', 'type: cognito_user_pools'),
      UnsupportedTemplateError,
      /cognito_user_pools/,
    ],
    [
      'an IAM role to invoke it',
      `${DEFAULT_AUTHORIZER}\nauthorizerCredentials: arn:aws:iam::123456789012:role/x`,
      UnsupportedTemplateError,
      /IAM role/,
    ],
    [
      'a query-string identity source',
      DEFAULT_AUTHORIZER.replace('method.request.header.Authorization', 'method.request.querystring.token'),
      ApiGatewayImportError,
      /one header/,
    ],
    [
      'a TTL over an hour',
      DEFAULT_AUTHORIZER.replace('300', '3601'),
      ApiGatewayImportError,
      /0 \(no caching\) to 3600/,
    ],
  ])('refuses %s, naming the scheme', (_name, settings, kind, message) => {
    expect(() => definitionOf(settings)).toThrow(kind);
    expect(() => definitionOf(settings)).toThrow(/securitySchemes\.token/);
    expect(() => definitionOf(settings)).toThrow(message);
  });

  test('refuses a scheme whose header is not the identity source', () => {
    expect(() => definitionOf(DEFAULT_AUTHORIZER, 'type: apiKey\nname: X-Token\nin: header')).toThrow(
      /name: Authorization/,
    );
  });
});

describe('a TOKEN authoriser on a REST method', () => {
  let api: LocalRestApi;
  let url: string;
  const authorize = vi.fn<(event: unknown) => Promise<unknown>>();
  const things = vi.fn(async (event: { requestContext: { authorizer: unknown } }) => ({
    statusCode: 200,
    body: JSON.stringify(event.requestContext.authorizer),
  }));

  beforeAll(async () => {
    const config = definitionOf();
    if (!config) throw new Error('no REST API');
    api = new LocalRestApi(config, {
      functions: new Map([
        ['Authorize', { invoke: authorize }],
        ['Things', { invoke: things as (event: unknown) => Promise<unknown> }],
      ]),
      sqs: {} as SQSClient,
      queueUrls: () => ({}),
      dynamodbEndpoint: 'http://127.0.0.1:1',
    });
    url = await api.listen(0);
  });

  afterAll(() => api.stop());

  beforeEach(() => {
    authorize.mockReset();
    things.mockClear();
  });

  const get = async (headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}/things`, { headers });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  test('hands principalId and the context to the integration in requestContext.authorizer', async () => {
    authorize.mockResolvedValue(
      policy([allow('arn:aws:execute-api:*:*:api/live/GET/things')], { scope: 'a b', n: 1 }),
    );
    const answer = await get({ Authorization: 'Bearer one' });
    expect(answer).toMatchObject({ status: 200, body: { principalId: 'partner-1', scope: 'a b', n: '1' } });
    expect(authorize).toHaveBeenCalledWith({
      type: 'TOKEN',
      authorizationToken: 'Bearer one',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/live/GET/things',
    });
  });

  test('without the header: 401 UnauthorizedException, no function invoked', async () => {
    const answer = await get();
    expect(answer.status).toBe(401);
    expect(answer.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
    expect(answer.body).toEqual({ message: 'Unauthorized' });
    expect(authorize).not.toHaveBeenCalled();
    expect(things).not.toHaveBeenCalled();
  });

  test('an explicit Deny: 403 through the ACCESS_DENIED gateway response, the integration never invoked', async () => {
    authorize.mockResolvedValue(policy([deny('*')]));
    const answer = await get({ Authorization: 'Bearer two' });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(answer.body).toEqual({ code: 'ACCESS_DENIED', message: EXPLICIT_DENY });
    expect(things).not.toHaveBeenCalled();
  });

  test('a failing authoriser: 500 AuthorizerConfigurationException with a null message', async () => {
    authorize.mockRejectedValue(new LambdaError('Sandbox.Timedout', 'Task timed out after 10 seconds'));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const answer = await get({ Authorization: 'Bearer three' });
    expect(answer.status).toBe(500);
    expect(answer.headers.get('x-amzn-errortype')).toBe('AuthorizerConfigurationException');
    expect(answer.body).toEqual({ message: null });
    expect(things).not.toHaveBeenCalled();
  });

  test('the same token within the TTL invokes the authoriser once', async () => {
    authorize.mockResolvedValue(policy([allow('*')]));
    await get({ Authorization: 'Bearer four' });
    await get({ Authorization: 'Bearer four' });
    expect(authorize).toHaveBeenCalledTimes(1);
    expect(things).toHaveBeenCalledTimes(2);
  });
});

describe("the partner API's GET /orders when its authoriser fails", () => {
  let api: LocalRestApi;
  let url: string;
  const authorize = vi.fn<(event: unknown) => Promise<unknown>>();
  const stream = vi.fn();

  beforeAll(async () => {
    const resolver = createResolver(loadTemplate(resolve(ROOT, 'template.yaml')), {});
    // What the offline cloud binds when it creates the queue.
    resolver.bind('OrdersQueue', { attributes: { QueueName: 'OrdersQueue' } });
    const config = restApiDefinitions(resolver, ROOT).find(
      (candidate) => candidate.logicalId === 'PartnerApi',
    );
    if (!config) throw new Error('template.yaml has no PartnerApi');
    api = new LocalRestApi(config, {
      functions: new Map([
        ['PartnerAuthorizerFunction', { invoke: authorize }],
        ['StreamPartnerOrdersFunction', { invoke: stream, invokeWithResponseStream: stream }],
      ]),
      sqs: {} as SQSClient,
      queueUrls: () => ({}),
      dynamodbEndpoint: 'http://127.0.0.1:1',
    });
    url = await api.listen(0);
  });

  afterAll(() => api.stop());

  test.each([
    ['times out', new LambdaError('Sandbox.Timedout', 'Task timed out after 10 seconds')],
    ['fails', new LambdaError('Error', 'getaddrinfo ENOTFOUND cognito-idp.us-east-1.amazonaws.com')],
  ])('%s: 500 in the one error shape with CORS, and the stream never starts', async (_name, error) => {
    authorize.mockRejectedValue(error);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const response = await fetch(`${url}/orders`, {
      headers: { authorization: 'Bearer aaa.bbb.ccc', 'x-api-key': config().apiKeys[0]?.value ?? '' },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(await response.json()).toEqual({
      error: { code: 'AuthorizerError', message: 'The partner token could not be checked; retry later' },
      requestId: response.headers.get('x-amzn-requestid'),
    });
    expect(stream).not.toHaveBeenCalled();
  });

  const config = () => api.config;
});
