import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createResolver } from './resolver.ts';
import { restApiDefinitions } from './rest-api-definition.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from './template.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A REST API whose inline definition has one GET /things method with the given integration. */
const restTemplate = (integration: string, extra = '') =>
  parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      MethodSettings:
        - ResourcePath: /*
          HttpMethod: "*"
          ThrottlingRateLimit: 5
          ThrottlingBurstLimit: 10
        - ResourcePath: /~1things
          HttpMethod: GET
          ThrottlingRateLimit: 1
          ThrottlingBurstLimit: 2
          CachingEnabled: true
          CacheTtlInSeconds: 60
${extra}
      DefinitionBody:
        openapi: 3.0.3
        paths:
          /things:
            get:
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
${integration.replace(/^/gm, '                ')}
`);

describe('restApiDefinitions', () => {
  test("reads the template's partner API through its AWS::Include, with its keys bound to their plans", () => {
    const resolver = createResolver(loadTemplate(resolve(ROOT, 'template.yaml')), {});
    // What createQueues binds when the offline cloud starts.
    resolver.bind('OrdersQueue', { attributes: { QueueName: 'OrdersQueue' } });
    const [api] = restApiDefinitions(resolver, ROOT);
    expect(api?.stage).toBe('dev');
    expect(api?.methods.map((method) => `${method.httpMethod} ${method.resourcePath}`)).toContain(
      'GET /orders/{id}',
    );
    const getOrder = api?.methods.find(
      (method) => method.resourcePath === '/orders/{id}' && method.httpMethod === 'GET',
    );
    expect(getOrder?.integration.target).toEqual({ service: 'dynamodb', action: 'GetItem' });
    // Fn::Sub put the local table name into the mapping template.
    expect(getOrder?.integration.requestTemplates['application/json']).toContain('"TableName":"OrdersTable"');
    expect(api?.usagePlans.map((plan) => [plan.logicalId, plan.keyIds])).toEqual([
      ['PartnerFreePlan', ['partnerfreeapikey']],
      ['PartnerStandardPlan', ['partnerstandardapikey']],
      ['PartnerEnterprisePlan', ['partnerenterpriseapikey']],
    ]);
    expect(api?.cacheClusterEnabled).toBe(false);
  });

  test('applies MethodSettings per method over the stage-wide entry; caching needs a cache cluster', () => {
    const mock = 'type: mock\nresponses:\n  default:\n    statusCode: "200"';
    const [withoutCluster] = restApiDefinitions(createResolver(restTemplate(mock), {}), ROOT);
    expect(withoutCluster?.methods[0]).toMatchObject({
      throttle: { rate: 1, burst: 2 },
      caching: { enabled: false, ttlSeconds: 60 },
    });
    const [withCluster] = restApiDefinitions(
      createResolver(restTemplate(mock, '      CacheClusterEnabled: true'), {}),
      ROOT,
    );
    expect(withCluster?.methods[0]?.caching).toEqual({ enabled: true, ttlSeconds: 60 });
  });

  test('copies the stage-wide settings an override leaves out, and warns that AWS copies them only once', () => {
    const mock = 'type: mock\nresponses:\n  default:\n    statusCode: "200"';
    const template = restTemplate(mock);
    (template.Resources.Api?.Properties as Record<string, unknown>).MethodSettings = [
      { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      { ResourcePath: '/~1things', HttpMethod: 'GET', CachingEnabled: true },
    ];
    const [api] = restApiDefinitions(createResolver(template, {}), ROOT);
    expect(api?.methods[0]?.throttle).toEqual({ rate: 5, burst: 10 });
    expect(api?.warnings).toEqual([
      expect.stringMatching(
        /^MethodSettings for GET \/things leaves ThrottlingRateLimit, ThrottlingBurstLimit to the stage-wide entry: API Gateway copies them once, when it creates the override/,
      ),
    ]);
  });

  test("warns for what AWS's validator may not enforce, naming the method, the parameter or model and the source", () => {
    const resolver = createResolver(loadTemplate(resolve(ROOT, 'template.yaml')), {});
    resolver.bind('OrdersQueue', { attributes: { QueueName: 'OrdersQueue' } });
    const [api] = restApiDefinitions(resolver, ROOT);
    expect(api?.warnings).toEqual([
      expect.stringMatching(
        /^GET \/products: the query parameter limit declares minimum, maximum, which API Gateway ignores/,
      ),
      expect.stringMatching(
        /^GET \/orders\/\{id\}: the path parameter id declares format, which API Gateway ignores/,
      ),
      expect.stringMatching(
        /^POST \/orders: the CreateOrderInput model uses additionalProperties, .*disputed\. The offline gateway enforces it; the backend must check it too\.$/,
      ),
      expect.stringMatching(
        /^POST \/orders: the CreateOrderInput model uses maxItems, .*"not included in simple request validation".*The offline gateway does not enforce it; the backend must\.$/,
      ),
      expect.stringMatching(/^POST \/orders: the CreateOrderInput model uses minItems, /),
    ]);
  });

  test('refuses what the OpenAPI import refuses or ignores, naming the place and the AWS source', () => {
    /** GET /things with a 200 mapping the CORS header; `responses` is its method responses, as YAML. */
    const importing =
      (responses: string, root = '') =>
      () =>
        restApiDefinitions(
          createResolver(
            parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      DefinitionBody:
        openapi: 3.0.3
${root.replace(/^/gm, '        ')}
        paths:
          /things:
            get:
              responses:
${responses.replace(/^/gm, '                ')}
              x-amazon-apigateway-integration:
                type: mock
                responses:
                  default:
                    statusCode: "200"
                    responseParameters:
                      method.response.header.Access-Control-Allow-Origin: "'https://a.example'"
`),
            {},
          ),
          ROOT,
        );
    const declared =
      '"200":\n  description: ok\n  headers:\n    Access-Control-Allow-Origin:\n      schema:\n        type: string';
    expect(importing(declared)).not.toThrow();
    expect(importing(declared, 'security:\n  - apiKey: []')).toThrow(
      /DefinitionBody\.security: a root-level `security` requirement, which API Gateway ignores.*known-issues/,
    );
    expect(importing('"200":\n  $ref: "#/components/responses/Ok"')).toThrow(
      /paths\.\/things\.get\.responses\.200: a response given by `\$ref`/,
    );
    expect(importing('"200":\n  description: ok')).toThrow(
      /the mapping method\.response\.header\.Access-Control-Allow-Origin, a header the 200 method response/,
    );
    expect(importing('"201":\n  description: created')).toThrow(
      /an integration response with status 200 and header mappings, which has no method response \("No method response exists for method\."\)/,
    );
  });

  test('refuses an integration it cannot run, naming the method', () => {
    const resolver = createResolver(restTemplate('type: http_proxy\nuri: https://example.com/things'), {});
    expect(() => restApiDefinitions(resolver, ROOT)).toThrow(UnsupportedTemplateError);
    expect(() => restApiDefinitions(resolver, ROOT)).toThrow(
      /DefinitionBody\.paths\.\/things\.get\.x-amazon-apigateway-integration: a http_proxy integration/,
    );
  });
});
