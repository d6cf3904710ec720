import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { NodeSha256 } from '../../../offline/gateways/rest/sigv4.ts';
import { type Answer, call, eventually, partnerCall, token } from '../../support/client.ts';

/**
 * The partner REST API through the offline cloud: API keys and tiers, the stage cache, request validation,
 * gateway responses, the Lambda catalogue routes and the two direct integrations (VTL → SQS, VTL → DynamoDB)
 * all as template.yaml and openapi/partner-api.yaml define them.
 */
const cloud = inject('offlineCloud');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region: cloud.region, credentials }),
);
const productsTable = cloud.tables.ProductsTable as string;
const ordersTable = cloud.tables.OrdersTable as string;
const enterprise = cloud.apiKeys.PartnerEnterprisePlan as string;
const standard = cloud.apiKeys.PartnerStandardPlan as string;
const free = cloud.apiKeys.PartnerFreePlan as string;
const ORIGIN = 'http://localhost:5173';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const category = `e2e-${randomUUID().slice(0, 8)}`;
const productIds = [`${category}-a`, `${category}-b`];

beforeAll(async () => {
  expect(cloud.restApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev$/);
  expect([enterprise, standard, free].every(Boolean)).toBe(true);
  const admin = await token({ sub: 'admin-partner', scopes: ['api/products.write'], groups: ['admin'] });
  for (const [index, productId] of productIds.entries()) {
    const put = await call('PUT', `/products/${productId}`, {
      token: admin,
      body: { name: `Sencha ${index}, 100 g`, category, price: { amount: 500 + index, currency: 'EUR' } },
    });
    expect(put.status).toBe(200);
  }
});

afterAll(() => dynamo.destroy());

/** The one error shape, as both the handlers and API Gateway's gateway responses send it. */
function expectError(answer: Answer, status: number, code: string, message?: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ error: { code }, requestId: expect.stringMatching(UUID) });
  if (message !== undefined) expect(answer.body.error.message).toBe(message);
}

// Missing, unknown, disabled and planless keys are refused in auth-attacks.test.ts.
describe('gateway behaviour', () => {
  test('GET /health is a keyless MOCK answered by API Gateway itself', async () => {
    const health = await partnerCall('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', stage: 'dev', requestId: expect.stringMatching(UUID) });
    expect(health.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  test('an unknown path or method is 403 Missing Authentication Token, in the one error shape with CORS', async () => {
    for (const [method, path] of [
      ['GET', '/nothing-here'],
      ['DELETE', '/products'],
      ['POST', '/health'],
    ] as const) {
      const answer = await partnerCall(method, path, { apiKey: enterprise });
      expectError(answer, 403, 'MissingAuthenticationToken', 'Missing Authentication Token');
      expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    }
  });
});

describe('catalogue (Lambda proxy, payload format 1.0)', () => {
  test('GET /products lists a category a page at a time', async () => {
    const first = await partnerCall('GET', `/products?category=${category}&limit=1`, { apiKey: enterprise });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0]).toMatchObject({ productId: productIds[0], category });
    expect(first.body.items[0].updatedBy).toBeUndefined();
    const second = await partnerCall(
      'GET',
      `/products?category=${category}&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { apiKey: enterprise },
    );
    expect(second.body.items.map((item: { productId: string }) => item.productId)).toEqual([productIds[1]]);
  });

  test('GET /products/{id}: the product, 404 when absent, 400 for an invalid id', async () => {
    const found = await partnerCall('GET', `/products/${productIds[1]}`, { apiKey: enterprise });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ productId: productIds[1], price: { amount: 501, currency: 'EUR' } });
    expect(found.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expectError(
      await partnerCall('GET', `/products/${category}-none`, { apiKey: enterprise }),
      404,
      'NotFound',
    );
    expectError(
      await partnerCall('GET', '/products/NOT_VALID', { apiKey: enterprise }),
      400,
      'ValidationError',
    );
  });
});

/** A GET with Cache-Control: max-age=0, SigV4-signed for execute-api as an operator's SDK would sign it. */
async function signedGet(path: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  const url = new URL(`${cloud.restApiUrl}${path}`);
  const signer = new SignatureV4({
    credentials,
    region: cloud.region,
    service: 'execute-api',
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'cache-control': 'max-age=0', 'x-api-key': enterprise },
  });
  const response = await fetch(url, { headers: signed.headers });
  return { status: response.status, body: (await response.json()) as { name?: string } };
}

describe('stage cache', () => {
  const rename = (productId: string, name: string) =>
    dynamo.send(
      new UpdateCommand({
        TableName: productsTable,
        Key: { productId },
        UpdateExpression: 'SET #name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': name },
      }),
    );

  test('GET /products/{id} is cached per id: a hit serves the old value, another id is its own entry', async () => {
    const [a, b] = productIds as [string, string];
    const before = await partnerCall('GET', `/products/${a}`, { apiKey: enterprise });
    const otherBefore = await partnerCall('GET', `/products/${b}`, { apiKey: standard });
    await rename(a, 'Renamed behind the cache');
    await rename(b, 'Also renamed');
    const after = await partnerCall('GET', `/products/${a}`, { apiKey: standard });
    expect(after.body.name).toBe(before.body.name);
    expect(after.headers.get('x-amzn-requestid')).not.toBe(before.headers.get('x-amzn-requestid'));
    // The id is a cache-key parameter: b was cached under its own key, never served a's entry.
    const other = await partnerCall('GET', `/products/${b}`, { apiKey: enterprise });
    expect(other.body).toEqual(otherBefore.body);
    expect(other.body.productId).toBe(b);
    // A Cache-Control: max-age=0 from a caller without InvalidateCache permission is ignored.
    const ignored = await partnerCall('GET', `/products/${a}`, {
      apiKey: enterprise,
      headers: { 'cache-control': 'max-age=0' },
    });
    expect(ignored.body.name).toBe(before.body.name);
    const wrongSecret = await signedGet(`/products/${a}`, { accessKeyId: 'local', secretAccessKey: 'guess' });
    expect(wrongSecret.body.name).toBe(before.body.name);
    // Signed by the local operator credentials (SigV4, execute-api): the entry is refreshed from the handler.
    const refreshed = await signedGet(`/products/${a}`, { accessKeyId: 'local', secretAccessKey: 'local' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.name).toBe('Renamed behind the cache');
    // … and the refreshed entry is what everyone gets from now on.
    expect((await partnerCall('GET', `/products/${a}`, { apiKey: standard })).body.name).toBe(
      'Renamed behind the cache',
    );
  });

  test('GET /products is cached per category, limit and cursor; an unknown query string is not in the key', async () => {
    const listed = await partnerCall('GET', `/products?category=${category}&limit=5`, { apiKey: enterprise });
    const other = await partnerCall('GET', `/products?category=${category}-x&limit=5`, {
      apiKey: enterprise,
    });
    expect(listed.body.items).toHaveLength(2);
    expect(other.body.items).toHaveLength(0);
    const withNoise = await partnerCall('GET', `/products?category=${category}&limit=5&utm=1`, {
      apiKey: enterprise,
    });
    // Served from the entry above (utm is not a cache-key parameter), so the handler never saw the unknown key.
    expect(withNoise.status).toBe(200);
    expect(withNoise.body).toEqual(listed.body);
  });

  test("a client's x-amzn-RequestId in UUID form becomes the request id; x-amz-apigw-id is the gateway's own", async () => {
    const chosen = randomUUID();
    const answers = [
      await partnerCall('GET', '/health', { headers: { 'x-amzn-requestid': chosen } }),
      await partnerCall('GET', '/health', { headers: { 'X-Amzn-RequestId': chosen } }),
    ];
    for (const answer of answers) {
      expect(answer.body.requestId).toBe(chosen);
      expect(answer.headers.get('x-amzn-requestid')).toBe(chosen);
      // The extended request id, as AWS shapes it: 11 bytes of base64 (16 characters, one pad).
      expect(answer.headers.get('x-amz-apigw-id')).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    }
    expect(answers[0]?.headers.get('x-amz-apigw-id')).not.toBe(answers[1]?.headers.get('x-amz-apigw-id'));
    // A gateway response carries the chosen id too.
    const refused = await partnerCall('GET', '/products', { headers: { 'x-amzn-requestid': chosen } });
    expectError(refused, 403, 'Forbidden');
    expect(refused.body.requestId).toBe(chosen);
    // Anything but a UUID is not taken (what AWS makes of it is undocumented; README: fidelity).
    const notUuid = await partnerCall('GET', '/health', { headers: { 'x-amzn-requestid': 'order-1' } });
    expect(notUuid.body.requestId).toMatch(UUID);
    expect(notUuid.headers.get('x-amzn-requestid')).toBe(notUuid.body.requestId);
  });

  test('orders are never cached', async () => {
    const orderId = randomUUID();
    const missing = await partnerCall('GET', `/orders/${orderId}`, { apiKey: enterprise });
    expect(missing.status).toBe(404);
    expect(missing.body.requestId).not.toBe(
      (await partnerCall('GET', `/orders/${orderId}`, { apiKey: enterprise })).body.requestId,
    );
  });
});

describe('orders: POST → SQS (VTL) → consumer → GET ← DynamoDB (VTL)', () => {
  const order = (note?: string) => ({
    items: [{ productId: productIds[0], quantity: 3 }],
    ...(note === undefined ? {} : { note }),
  });

  async function placed(apiKey: string, orderId: string) {
    return eventually(
      async () => {
        const answer = await partnerCall('GET', `/orders/${orderId}`, { apiKey });
        return answer.status === 200 ? answer : undefined;
      },
      15_000,
      `order ${orderId} readable`,
    );
  }

  test('a queued order is placed by the consumer and read back through the DynamoDB integration', async () => {
    const queued = await partnerCall('POST', '/orders', { apiKey: standard, body: order('dock 7') });
    expect(queued.status).toBe(202);
    // The order's id is the queued message's MessageId, never the request id.
    expect(queued.body).toEqual({ orderId: expect.stringMatching(UUID), status: 'queued' });
    expect(queued.body.orderId).not.toBe(queued.headers.get('x-amzn-requestid'));
    expect(queued.headers.get('access-control-allow-origin')).toBe(ORIGIN);

    const read = await placed(standard, queued.body.orderId);
    expect(read.body).toEqual({
      orderId: queued.body.orderId,
      status: 'PLACED',
      items: [
        { productId: productIds[0], name: expect.any(String), quantity: 3, unitPrice: expect.any(Object) },
      ],
      total: { amount: read.body.items[0].unitPrice.amount * 3, currency: 'EUR' },
      note: 'dock 7',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    // Another partner's key sees nothing, exactly as if the order did not exist.
    expectError(
      await partnerCall('GET', `/orders/${queued.body.orderId}`, { apiKey: enterprise }),
      404,
      'NotFound',
    );
  });

  test('two orders sent with one chosen request id are two orders, each with an id the client did not choose', async () => {
    const chosen = randomUUID();
    const headers = { 'x-amzn-requestid': chosen };
    // Enterprise: the Standard key's daily quota is counted out by the usage-plan tests below.
    const first = await partnerCall('POST', '/orders', { apiKey: enterprise, body: order('first'), headers });
    const second = await partnerCall('POST', '/orders', {
      apiKey: enterprise,
      body: order('second'),
      headers,
    });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.headers.get('x-amzn-requestid')).toBe(chosen);
    expect(first.body.orderId).not.toBe(second.body.orderId);
    expect([first.body.orderId, second.body.orderId]).not.toContain(chosen);
    expect((await placed(enterprise, first.body.orderId)).body.note).toBe('first');
    expect((await placed(enterprise, second.body.orderId)).body.note).toBe('second');
  });

  test('JSON breakers, quotes, backslashes, unicode and form smuggling in the note are stored verbatim', async () => {
    // Characters beyond the BMP too: SQS takes #x10000–#x10FFFF (SendMessage API reference).
    const note = `"}, "x": {"S": "y"} \\" \\\\ ' &Action=DeleteQueue&MessageBody=x %26 + é 漢字 🍵😀 \n\t</s>`;
    const queued = await partnerCall('POST', '/orders', { apiKey: standard, body: order(note) });
    expect(queued.status).toBe(202);
    const read = await placed(standard, queued.body.orderId);
    expect(read.body.note).toBe(note);
    const stored = await dynamo.send(
      new GetCommand({ TableName: ordersTable, Key: { orderId: queued.body.orderId } }),
    );
    expect(stored.Item?.note).toBe(note);
  });

  test('GET /orders/{id} with ids that try to break the DynamoDB request is a plain 404', async () => {
    for (const id of ['"}', "x'y", 'a\\"b', '","TableName":"x', '../../etc', 'é', `${randomUUID()}"}`]) {
      const answer = await partnerCall('GET', `/orders/${encodeURIComponent(id)}`, { apiKey: standard });
      expectError(answer, 404, 'NotFound');
    }
  });

  test('a body that fails the model is 400 with the reason, and nothing is queued', async () => {
    const cases: [unknown, string][] = [
      [{}, 'missing items'],
      [{ items: [{ productId: 'tea', quantity: 0 }] }, 'quantity below 1'],
      [{ ...order(), extra: true }, 'unknown field'],
      [{ ...order(), note: 'x'.repeat(1024 * 1024) }, 'a 1 MB note'],
      ['{"items": [', 'truncated JSON'],
    ];
    for (const [body, what] of cases) {
      const answer = await partnerCall('POST', '/orders', { apiKey: standard, body });
      expectError(answer, 400, 'ValidationError', 'Invalid request body');
      expect(answer.body.error.details?.[0]?.path, what).toBe('body');
    }
  });

  test('an order the model lets through but the consumer can never accept is REJECTED, and its partner reads why', async () => {
    // No lines: minItems is not part of API Gateway's simple request validation, so the consumer checks it.
    const queued = await partnerCall('POST', '/orders', { apiKey: enterprise, body: { items: [] } });
    expect(queued.status).toBe(202);
    const read = await eventually(
      async () => {
        const answer = await partnerCall('GET', `/orders/${queued.body.orderId}`, { apiKey: enterprise });
        return answer.status === 200 ? answer : undefined;
      },
      15_000,
      `order ${queued.body.orderId} readable`,
    );
    expect(read.body).toEqual({
      orderId: queued.body.orderId,
      status: 'REJECTED',
      reasons: [{ path: 'body.items', message: expect.stringContaining('>=1') }],
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
  });

  test('a body of another content type is 415, never forwarded to SQS', async () => {
    const answer = await partnerCall('POST', '/orders', {
      apiKey: standard,
      body: 'Action=SendMessage&MessageBody=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(answer, 415, 'UnsupportedMediaType');
  });
});

describe('usage plans', () => {
  /** Sends `count` requests at once; answers by status. */
  async function burst(count: number, send: () => Promise<Answer>) {
    const answers = await Promise.all(Array.from({ length: count }, send));
    return answers;
  }

  test('Free: POST /orders has its own 2-request bucket; the plan admits its burst of 10; the quota of 30 is exact', async () => {
    const orders = await burst(6, () =>
      partnerCall('POST', '/orders', {
        apiKey: free,
        body: { items: [{ productId: productIds[0], quantity: 1 }] },
      }),
    );
    expect(orders.filter((answer) => answer.status === 202)).toHaveLength(2);
    for (const answer of orders.filter((candidate) => candidate.status !== 202))
      expectError(answer, 429, 'Throttled', 'Too Many Requests');

    const reads = await burst(20, () => partnerCall('GET', `/products/${productIds[1]}`, { apiKey: free }));
    const admitted = reads.filter((answer) => answer.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(11);

    // Keep calling, at the plan's rate, until the day's quota is used up: exactly 30 requests got through.
    let through = 2 + admitted;
    let last: Answer | undefined;
    while (through < 40) {
      last = await partnerCall('GET', `/products/${productIds[1]}`, { apiKey: free });
      if (last.status === 429 && last.body.error.code === 'QuotaExceeded') break;
      if (last.status === 200) through += 1;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(through).toBe(30);
    expectError(last as Answer, 429, 'QuotaExceeded', 'Limit Exceeded');
    // The tier's limits are per key: the other tiers are untouched.
    expect((await partnerCall('GET', `/products/${productIds[1]}`, { apiKey: standard })).status).toBe(200);
  }, 30_000);

  test('Standard: a burst of 100, then the quota of 150', async () => {
    const reads = await burst(130, () =>
      partnerCall('GET', `/products/${productIds[0]}`, { apiKey: standard }),
    );
    const admitted = reads.filter((answer) => answer.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThan(130);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const rest = await burst(100, () =>
      partnerCall('GET', `/products/${productIds[0]}`, { apiKey: standard }),
    );
    expect(rest.some((answer) => answer.status === 429 && answer.body.error.code === 'QuotaExceeded')).toBe(
      true,
    );
  }, 30_000);

  test('Enterprise has no plan limits of its own: a burst of 150 all gets through (the stage allows 200)', async () => {
    const reads = await burst(150, () =>
      partnerCall('GET', `/products/${productIds[0]}`, { apiKey: enterprise }),
    );
    expect(reads.filter((answer) => answer.status !== 200)).toEqual([]);
  });

  test('the stage throttle bounds even Enterprise: past its burst of 200 per method, 429 Too Many Requests', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const reads = await burst(300, () =>
      partnerCall('GET', `/products/${productIds[1]}`, { apiKey: enterprise }),
    );
    const admitted = reads.filter((answer) => answer.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThan(300);
    for (const answer of reads.filter((candidate) => candidate.status !== 200))
      expectError(answer, 429, 'Throttled', 'Too Many Requests');
  });
});
