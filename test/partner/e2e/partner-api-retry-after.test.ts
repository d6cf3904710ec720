import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalRestApi } from '../../../offline/gateways/rest/rest-api.ts';
import { createResolver } from '../../../offline/template/resolver.ts';
import { restApiDefinitions } from '../../../offline/template/rest-api-definition.ts';
import { loadTemplate } from '../../../offline/template/template.ts';

/**
 * A throttled or quota-exhausted partner is told when to retry (the THROTTLED and QUOTA_EXCEEDED gateway
 * responses of openapi/partner-api.yaml). The shared offline cloud's keys have their quotas counted by
 * partner-api.test.ts, so this runs its own instance of the template's partner API (as auth-attacks.test.ts does)
 * with a Standard quota of 2 a day, and reads orders that do not exist: each is a 404 from the real DynamoDB
 * Local, metered like any other call.
 */
const cloud = inject('offlineCloud');
/** Never sent to: only GET /orders/{id} (DynamoDB) is called. */
const sqs = new SQSClient({
  endpoint: cloud.sqsEndpoint,
  region: cloud.region,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

describe('partner REST API: a 429 says when to retry', () => {
  let partnerApi: LocalRestApi;
  let partnerApiUrl: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const template = loadTemplate(fileURLToPath(new URL('../../../template.yaml', import.meta.url)));
    const resolver = createResolver(template, {
      PartnerFreeDailyQuota: '1000',
      PartnerStandardDailyQuota: '2',
    });
    resolver.bind('OrdersTable', { ref: cloud.tables.OrdersTable });
    // The queue POST /orders would send to, as the offline cloud binds it; no test here places an order.
    resolver.bind('OrdersQueue', { attributes: { QueueName: 'OrdersQueue' } });
    const [config] = restApiDefinitions(resolver, fileURLToPath(new URL('../../..', import.meta.url)));
    if (!config) throw new Error('The template has no REST API');
    for (const key of config.apiKeys) keys[key.logicalId] = key.value;
    partnerApi = new LocalRestApi(config, {
      functions: new Map(),
      sqs,
      queueUrls: () => ({}),
      dynamodbEndpoint: cloud.dynamoEndpoint,
    });
    partnerApiUrl = await partnerApi.listen(0);
  });

  afterAll(async () => {
    await partnerApi?.stop();
    sqs.destroy();
  });

  const readOrder = (apiKey: string | undefined) =>
    fetch(`${partnerApiUrl}/orders/${randomUUID()}`, { headers: { 'x-api-key': apiKey ?? '' } });

  async function expectRetryAfter(response: Response, code: string, seconds: string) {
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { code } });
    expect(response.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(response.headers.get('retry-after')).toBe(seconds);
    // A browser reads it only when it is exposed: Retry-After is not a CORS-safelisted response header.
    expect(response.headers.get('access-control-expose-headers')).toBe('Retry-After');
  }

  test("past the Free plan's burst of 10, THROTTLED says: retry in 1 second", async () => {
    const answers = await Promise.all(Array.from({ length: 13 }, () => readOrder(keys.PartnerFreeApiKey)));
    const throttled = answers.filter((answer) => answer.status === 429);
    // 10, or 11 if the bucket's 5 requests/s refilled one while the burst was sent.
    expect(answers.length - throttled.length).toBeGreaterThanOrEqual(10);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    for (const answer of answers.filter((candidate) => candidate.status !== 429)) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get('retry-after')).toBeNull();
    }
    for (const answer of throttled) await expectRetryAfter(answer, 'Throttled', '1');
  });

  test("past the Standard plan's quota of 2, QUOTA_EXCEEDED says: retry in an hour", async () => {
    expect((await readOrder(keys.PartnerStandardApiKey)).status).toBe(404);
    expect((await readOrder(keys.PartnerStandardApiKey)).status).toBe(404);
    await expectRetryAfter(await readOrder(keys.PartnerStandardApiKey), 'QuotaExceeded', '3600');
  });
});
