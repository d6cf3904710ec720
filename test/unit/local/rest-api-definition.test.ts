import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createResolver } from '../../../local/resolver.ts';
import { restApiDefinitions } from '../../../local/rest-api-definition.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from '../../../local/template.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

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
    const getOrder = api?.methods.find((method) => method.resourcePath === '/orders/{id}');
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

  test('refuses an integration it cannot run, naming the method', () => {
    const resolver = createResolver(restTemplate('type: http_proxy\nuri: https://example.com/things'), {});
    expect(() => restApiDefinitions(resolver, ROOT)).toThrow(UnsupportedTemplateError);
    expect(() => restApiDefinitions(resolver, ROOT)).toThrow(
      /DefinitionBody\.paths\.\/things\.get\.x-amazon-apigateway-integration: a http_proxy integration/,
    );
  });
});
