import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalRestApi } from '../../../offline/gateways/rest/rest-api.ts';
import { createResolver } from '../../../offline/template/resolver.ts';
import { restApiDefinitions } from '../../../offline/template/rest-api-definition.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { ALL_ORDER_SCOPES, type Answer, call, token } from '../../support/client.ts';
import { forgedTokens, idToken, tokenOfSize } from '../../support/forged-tokens.ts';

/**
 * The authentication attack suite (issue #7): every attack on the HTTP and REST APIs, each denied with the status
 * API Gateway gives (README "Wire behaviour"), through the offline cloud and its real parts — tokens signed with
 * real keys, DynamoDB Local and fauxqs. A partner reading another partner's order is covered with the order flow
 * in partner-api.test.ts.
 */
const cloud = inject('offlineCloud');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region: cloud.region, credentials }),
);
const sqs = new SQSClient({ endpoint: cloud.sqsEndpoint, region: cloud.region, credentials });

const UNAUTHORIZED = { message: 'Unauthorized' };
const FORBIDDEN = { message: 'Forbidden' };
const forged = forgedTokens();

afterAll(() => {
  dynamo.destroy();
  sqs.destroy();
});

describe('HTTP API JWT authoriser: 401 Unauthorized before any function runs, 403 Forbidden without the scope', () => {
  /** API Gateway's quota on the request line and header values together (README "Wire behaviour"). */
  const HEADER_QUOTA_BYTES = 10_240;

  const bearer = (make: () => Promise<string>) => async () => `Bearer ${await make()}`;
  type HttpAttack = [
    attack: string,
    status: 401 | 403 | 431,
    route: string,
    authorization: () => Promise<string | undefined>,
  ];
  const attacks: HttpAttack[] = [
    ['no Authorization header', 401, 'GET /me', async () => undefined],
    ['an empty bearer token', 401, 'GET /me', async () => 'Bearer '],
    [
      'Basic credentials',
      401,
      'GET /me',
      async () => `Basic ${Buffer.from('alice:secret').toString('base64')}`,
    ],
    ...forged.map(([attack, make]): HttpAttack => [`a token ${attack}`, 401, 'GET /me', bearer(make)]),
    [
      "a token whose aud names another app (API Gateway reads this app's client_id only when there is no aud)",
      401,
      'GET /me',
      bearer(() => token({ claims: { aud: 'another-app-client' } })),
    ],
    [
      'a token over the 10,240-byte quota on the request line and header values',
      431,
      'GET /me',
      bearer(() => tokenOfSize(HEADER_QUOTA_BYTES + 1_000)),
    ],
    [
      "a token without the route's scope",
      403,
      'GET /orders',
      bearer(() => token({ scopes: ['api/orders.write'] })),
    ],
    ['an ID token (no scopes) on a route with scopes', 403, 'GET /orders', bearer(() => idToken())],
  ];

  test.each(attacks)('%s → %i (%s)', async (_attack, status, route, authorization) => {
    const [method = 'GET', path = '/'] = route.split(' ');
    const value = await authorization();
    const answer = await call(method, path, { headers: value === undefined ? {} : { authorization: value } });
    expect(answer.status).toBe(status);
    if (status === 401) {
      expect(answer.body).toEqual(UNAUTHORIZED);
      expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } else if (status === 403) {
      expect(answer.body).toEqual(FORBIDDEN);
      expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    } else {
      expect(answer.body).toEqual({ message: 'Request Header Fields Too Large' });
    }
  });

  test('controls: a large token within the quota, and an ID token where no scope is required, are let through', async () => {
    const large = await tokenOfSize(HEADER_QUOTA_BYTES - 1_500);
    expect((await call('GET', '/me', { token: large })).status).toBe(200);
    expect((await call('GET', '/me', { token: await idToken() })).status).toBe(200);
  });
});

/**
 * The partner REST API's keys. The template's example keys are all enabled and their quotas are shared with
 * partner-api.test.ts, so this runs its own instance of the template's partner API (LocalRestApi, built exactly
 * as the offline cloud builds it) with two more keys — one disabled in the Enterprise plan, one enabled in no
 * plan — and fresh buckets and quotas for every key. Orders go to a queue of its own in the shared fauxqs, so
 * what a refused request would have queued can be counted; the consumer never sees them.
 */
describe('partner REST API keys: 403 Forbidden, and a tier held to its own limits', () => {
  const queueName = `auth-attacks-${randomUUID().slice(0, 8)}`;
  const order = { items: [{ productId: 'green-tea', quantity: 1 }] };
  let queueUrl: string;
  let partnerApi: LocalRestApi;
  let partnerApiUrl: string;
  const keys: Record<string, { id: string; value: string }> = {};

  beforeAll(async () => {
    queueUrl = String((await sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl);
    const template = loadTemplate(fileURLToPath(new URL('../../../template.yaml', import.meta.url)));
    Object.assign(template.Resources, {
      DisabledEnterpriseApiKey: {
        Type: 'AWS::ApiGateway::ApiKey',
        Properties: { Enabled: false, Value: `disabled-${randomUUID()}` },
      },
      DisabledEnterprisePlanKey: {
        Type: 'AWS::ApiGateway::UsagePlanKey',
        Properties: {
          KeyId: { Ref: 'DisabledEnterpriseApiKey' },
          KeyType: 'API_KEY',
          UsagePlanId: { Ref: 'PartnerEnterprisePlan' },
        },
      },
      PlanlessApiKey: {
        Type: 'AWS::ApiGateway::ApiKey',
        Properties: { Enabled: true, Value: `planless-${randomUUID()}` },
      },
    });
    const resolver = createResolver(template, {
      PartnerApiCacheSize: '0.5',
      PartnerFreeDailyQuota: '30',
      PartnerStandardDailyQuota: '150',
    });
    resolver.bind('OrdersQueue', { ref: queueUrl, attributes: { QueueName: queueName, QueueUrl: queueUrl } });
    const [config] = restApiDefinitions(resolver, fileURLToPath(new URL('../../..', import.meta.url)));
    if (!config) throw new Error('The template has no REST API');
    for (const key of config.apiKeys) keys[key.logicalId] = { id: key.id, value: key.value };
    partnerApi = new LocalRestApi(config, {
      functions: new Map(),
      sqs,
      queueUrls: () => ({ [queueName]: queueUrl }),
      dynamodbEndpoint: cloud.dynamoEndpoint,
    });
    partnerApiUrl = await partnerApi.listen(0);
  });

  afterAll(async () => {
    await partnerApi?.stop();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  const key = (logicalId: string) => keys[logicalId] ?? { id: '', value: '' };

  async function placeOrder(headers: Record<string, string>, query = ''): Promise<Answer> {
    const response = await fetch(`${partnerApiUrl}/orders${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(order),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  async function queuedMessages(): Promise<Message[]> {
    const messages: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 60,
        }),
      );
      if (Messages.length === 0) return messages;
      messages.push(...Messages);
    }
  }

  type KeyAttack = [attack: string, request: () => { headers: Record<string, string>; query?: string }];
  const attacks: KeyAttack[] = [
    ['no x-api-key header', () => ({ headers: {} })],
    ['an unknown key', () => ({ headers: { 'x-api-key': `unknown-${randomUUID()}` } })],
    [
      'a disabled key of the Enterprise plan',
      () => ({ headers: { 'x-api-key': key('DisabledEnterpriseApiKey').value } }),
    ],
    ['an enabled key in no usage plan', () => ({ headers: { 'x-api-key': key('PlanlessApiKey').value } })],
    [
      "the Enterprise key's id instead of its value",
      () => ({ headers: { 'x-api-key': key('PartnerEnterpriseApiKey').id } }),
    ],
    [
      'the Enterprise key in upper case',
      () => ({ headers: { 'x-api-key': key('PartnerEnterpriseApiKey').value.toUpperCase() } }),
    ],
    [
      'the Enterprise key as a bearer token',
      () => ({ headers: { authorization: `Bearer ${key('PartnerEnterpriseApiKey').value}` } }),
    ],
    [
      'the Enterprise key in the query string',
      () => ({
        headers: {},
        query: `?x-api-key=${key('PartnerEnterpriseApiKey').value}&api_key=${key('PartnerEnterpriseApiKey').value}`,
      }),
    ],
  ];

  test.each(attacks)(
    'POST /orders with %s → 403 Forbidden, and nothing is queued',
    async (_attack, request) => {
      const { headers, query } = request();
      const answer = await placeOrder(headers, query);
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: 'Forbidden', message: 'Forbidden' } });
      expect(answer.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
    },
  );

  test("a Free key is held to Free's POST /orders burst of 2; the Enterprise key, sent alike, is not", async () => {
    const burst = (apiKey: string) =>
      Promise.all(Array.from({ length: 6 }, () => placeOrder({ 'x-api-key': apiKey })));
    const [free, enterprise] = await Promise.all([
      burst(key('PartnerFreeApiKey').value),
      burst(key('PartnerEnterpriseApiKey').value),
    ]);
    expect(enterprise.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202, 202]);
    const admitted = free.filter((answer) => answer.status === 202).length;
    // 2, or 3 if the bucket's 1 request/s refilled while the burst was sent.
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(admitted).toBeLessThanOrEqual(3);
    for (const refused of free.filter((answer) => answer.status !== 202)) {
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: { code: 'Throttled', message: 'Too Many Requests' } });
    }
    // Exactly the admitted orders were queued, each under its own key's id.
    const partnerIds = (await queuedMessages()).map(
      (message) => message.MessageAttributes?.partnerId?.StringValue,
    );
    expect(partnerIds.filter((id) => id === key('PartnerFreeApiKey').id)).toHaveLength(admitted);
    expect(partnerIds.filter((id) => id === key('PartnerEnterpriseApiKey').id)).toHaveLength(6);
    expect(partnerIds).toHaveLength(admitted + 6);
  });
});

describe("ownership and roles: another user's order, a product write without both scope and admin group", () => {
  const ordersTable = cloud.tables.OrdersTable as string;
  const productsTable = cloud.tables.ProductsTable as string;
  const ownerSub = `owner-${randomUUID()}`;
  let orderId: string;
  let storedOrder: Record<string, unknown> | undefined;

  const storedItem = async (table: string, key: Record<string, string>) =>
    (await dynamo.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    const productId = `auth-${randomUUID().slice(0, 8)}`;
    const admin = await token({ scopes: ['api/products.write'], groups: ['admin'] });
    const product = await call('PUT', `/products/${productId}`, {
      token: admin,
      body: { name: 'Hojicha, 100 g', category: 'tea', price: { amount: 590, currency: 'EUR' } },
    });
    expect(product.status).toBe(200);
    const owner = await token({ sub: ownerSub });
    const created = await call('POST', '/orders', {
      token: owner,
      body: { items: [{ productId, quantity: 2 }] },
    });
    expect(created.status).toBe(201);
    orderId = created.body.orderId;
    // Control: the owner reads it, so a 404 to anyone else is about ownership, not the id.
    expect((await call('GET', `/orders/${orderId}`, { token: owner })).status).toBe(200);
    storedOrder = await storedItem(ordersTable, { orderId });
    expect(storedOrder).toMatchObject({ orderId, customerId: ownerSub });
  });

  const productBody = { name: 'Counterfeit', category: 'tea', price: { amount: 1, currency: 'EUR' } };
  type OwnershipAttack = [
    attack: string,
    status: 403 | 404,
    answer: object,
    request: { method: 'GET' | 'DELETE' | 'PUT'; target: 'order' | 'product' },
    caller: () => Promise<string>,
  ];
  const NOT_FOUND = { error: { code: 'NotFound' } };
  const REFUSED_BY_HANDLER = { error: { code: 'Forbidden' } };
  const attacks: OwnershipAttack[] = [
    [
      "another user reads the owner's order",
      404,
      NOT_FOUND,
      { method: 'GET', target: 'order' },
      () => token(),
    ],
    [
      "another user deletes the owner's order",
      404,
      NOT_FOUND,
      { method: 'DELETE', target: 'order' },
      () => token(),
    ],
    [
      "another user whose username claims name the owner deletes the owner's order",
      404,
      NOT_FOUND,
      { method: 'DELETE', target: 'order' },
      () => token({ claims: { username: ownerSub, 'cognito:username': ownerSub } }),
    ],
    [
      'a non-admin with the products.write scope writes a product',
      403,
      REFUSED_BY_HANDLER,
      { method: 'PUT', target: 'product' },
      () => token({ scopes: ['api/products.write'] }),
    ],
    [
      "a non-admin whose look-alike claims say admin ('administrators' group, groups, custom:role)",
      403,
      REFUSED_BY_HANDLER,
      { method: 'PUT', target: 'product' },
      () =>
        token({
          scopes: ['api/products.write'],
          groups: ['administrators'],
          claims: { groups: ['admin'], 'custom:role': 'admin' },
        }),
    ],
    [
      'an admin without the products.write scope writes a product',
      403,
      FORBIDDEN,
      { method: 'PUT', target: 'product' },
      () => token({ groups: ['admin'], scopes: ALL_ORDER_SCOPES }),
    ],
    [
      "an admin's ID token (no scopes) writes a product",
      403,
      FORBIDDEN,
      { method: 'PUT', target: 'product' },
      () => idToken({ groups: ['admin'] }),
    ],
  ];

  test.each(attacks)(
    '%s → %i, and nothing changes',
    async (_attack, status, answer, { method, target }, caller) => {
      const productId = `auth-${randomUUID().slice(0, 8)}`;
      const path = target === 'order' ? `/orders/${orderId}` : `/products/${productId}`;
      const refused = await call(method, path, {
        token: await caller(),
        ...(method === 'PUT' ? { body: productBody } : {}),
      });
      expect(refused.status).toBe(status);
      expect(refused.body).toMatchObject(answer);
      if (target === 'order') expect(await storedItem(ordersTable, { orderId })).toEqual(storedOrder);
      else expect(await storedItem(productsTable, { productId })).toBeUndefined();
    },
  );
});
