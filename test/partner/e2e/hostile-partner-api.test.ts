import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createResolver } from '../../../offline/template/resolver.ts';
import { restApiDefinitions } from '../../../offline/template/rest-api-definition.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { type Answer, call, eventually, partnerCall, partnerToken, token } from '../../support/client.ts';
import {
  dynamo,
  expectNoLeak,
  itemOf,
  ordersOf,
  type RawRequest,
  rawRequest,
  unthrottled,
} from '../../support/hostile.ts';

/**
 * Hostile input against every method of the partner REST API (openapi/partner-api.yaml), through the offline
 * cloud (issue #7). Gateway refusals answer in the definition's gateway-response shape, the catalogue
 * handlers in theirs (`{"error":{…},"requestId"}` with CORS, both), and another partner's order stays as it
 * was. JSON breakers go into every user-controlled field a mapping template renders: the order's note, the
 * product names of its lines and the reasons of a rejected order.
 */
const cloud = inject('offlineCloud');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const sqs = new SQSClient({ endpoint: cloud.sqsEndpoint, region: cloud.region, credentials });

/** The partner API as the offline cloud reads it: its queues bound as the cloud binds them when it starts. */
const resolver = createResolver(loadTemplate(), undefined);
for (const [logicalId, url] of Object.entries(cloud.queues)) {
  const name = url.slice(url.lastIndexOf('/') + 1);
  const arn = `arn:aws:sqs:${cloud.region}:${resolver.pseudo.accountId}:${name}`;
  resolver.bind(logicalId, { ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } });
}
const [partnerApi] = restApiDefinitions(resolver, fileURLToPath(new URL('../../..', import.meta.url)));
if (!partnerApi) throw new Error('The template has no REST API');
const methods = partnerApi.methods.map((method) => ({
  ...method,
  key: `${method.httpMethod} ${method.resourcePath}`,
}));
const ORIGIN = String(resolver.resolve({ Ref: 'PartnerAllowedOrigin' }, 'Parameters.PartnerAllowedOrigin'));
/** The attacker: the tier without limits of its own, so that only the gateway's protections stand in the way. */
const enterprise = cloud.apiKeys.PartnerEnterprisePlan as string;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** API Gateway's payload quota for REST APIs (10 MB), from the AWS quotas page, not from the emulator. */
const PAYLOAD_QUOTA = 10 * 1024 * 1024;

let productId: string;
let victim: { partnerId: string; orderId: string };
/** The attacker's partner id (its key's id), as the integration puts it on a queued order. */
const attackerId = partnerApi.apiKeys.find((key) => key.value === enterprise)?.id ?? '';

beforeAll(async () => {
  productId = `hostile-${randomUUID().slice(0, 8)}`;
  await putProduct(productId, 'Bancha, 100 g');
  // Another partner's order, placed through the queue as the integration would (its key is not ours to spend).
  const partnerId = `victim-${randomUUID().slice(0, 8)}`;
  victim = {
    partnerId,
    orderId: await queueOrder(
      partnerId,
      JSON.stringify({ items: [{ productId, quantity: 1 }], note: 'victim' }),
    ),
  };
  await eventually(
    () => itemOf('OrdersTable', { orderId: victim.orderId }),
    20_000,
    "the victim partner's order placed",
  );
});

afterAll(() => {
  sqs.destroy();
  dynamo.destroy();
});

/** Puts an order on the queue as the integration would; answers its id, the MessageId SQS gave it. */
async function queueOrder(partnerId: string, body: string): Promise<string> {
  const { MessageId } = await sqs.send(
    new SendMessageCommand({
      QueueUrl: cloud.queues.OrdersQueue,
      MessageBody: body,
      MessageAttributes: {
        partnerId: { DataType: 'String', StringValue: partnerId },
        receivedAt: { DataType: 'Number', StringValue: String(Date.now()) },
      },
    }),
  );
  return String(MessageId);
}

async function putProduct(id: string, name: string) {
  const admin = await token({ scopes: ['api/products.write'], groups: ['admin'] });
  const put = await call('PUT', `/products/${id}`, {
    token: admin,
    body: { name, category: 'tea', price: { amount: 480, currency: 'EUR' } },
  });
  expect(put.status).toBe(200);
}

let lastOrderPost = 0;
/**
 * POST /orders shares the stage's 10 requests/s with every suite: this suite keeps under it, so that it
 * neither throttles the tier tests nor is throttled itself.
 */
async function pacedForOrders(method: string) {
  if (method !== 'POST') return;
  const wait = lastOrderPost + 150 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  lastOrderPost = Date.now();
}

/**
 * The attacker's partner token, valid and with the orders scope: GET /orders requires it next to the key, and the
 * methods without an authoriser ignore it, as API Gateway does.
 */
let bearer = '';
beforeAll(async () => {
  bearer = `Bearer ${await partnerToken()}`;
});

/** A call with the attacker's key and token, paced and retried past other suites' throttling. */
const partner = async (
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) =>
  unthrottled(async () => {
    await pacedForOrders(method);
    return partnerCall(method, path, {
      apiKey: enterprise,
      ...options,
      headers: { authorization: bearer, ...options.headers },
    });
  });

/** A request as fetch cannot send it, with the attacker's key and token, paced and retried like `partner`. */
const raw = (request: RawRequest) =>
  unthrottled(async () => {
    await pacedForOrders(request.method);
    return rawRequest(cloud.restApiUrl, {
      ...request,
      headers: [`x-api-key: ${enterprise}`, `authorization: ${bearer}`, ...(request.headers ?? [])],
    });
  });

/** The one error shape of gateway responses and handlers alike, exactly, with CORS and nothing internal. */
function expectError(answer: Answer, status: number, code: string, message?: string) {
  expect({ status: answer.status, code: answer.body?.error?.code }, JSON.stringify(answer.body)).toEqual({
    status,
    code,
  });
  const { error, requestId, ...rest } = answer.body;
  expect(rest).toEqual({});
  expect(requestId).toMatch(UUID);
  expect(requestId).toBe(answer.headers.get('x-amzn-requestid'));
  const { code: _code, message: text, details, ...more } = error;
  expect(more).toEqual({});
  expect(text).toEqual(message ?? expect.any(String));
  if (details !== undefined) {
    for (const detail of details)
      expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  expectNoLeak(JSON.stringify(answer.body));
}

/** A refused order: the model's 400 (or `status`/`code`). */
function expectOrderRefused(answer: Answer, status = 400, code = 'ValidationError') {
  expectError(answer, status, code, status === 400 ? 'Invalid request body' : undefined);
}

const order = (extra: Record<string, unknown> = {}) => ({ items: [{ productId, quantity: 1 }], ...extra });

/** A request each method answers normally, and what it answers. */
const baselines: Record<string, { path: () => string; body?: unknown; status: number }> = {
  'GET /health': { path: () => '/health', status: 200 },
  'GET /products': { path: () => '/products?category=tea&limit=1', status: 200 },
  'GET /products/{id}': { path: () => `/products/${productId}`, status: 200 },
  // A body the model refuses: the method is exercised without placing an order.
  'POST /orders': { path: () => '/orders', body: {}, status: 400 },
  'GET /orders/{id}': { path: () => `/orders/${randomUUID()}`, status: 404 },
  // A window no order reaches: the stream is exercised, and empty.
  'GET /orders': { path: () => '/orders?since=3999-01-01T00:00:00Z', status: 200 },
  'OPTIONS /products': { path: () => '/products', status: 200 },
  'OPTIONS /products/{id}': { path: () => `/products/${productId}`, status: 200 },
  'OPTIONS /orders': { path: () => '/orders', status: 200 },
  'OPTIONS /orders/{id}': { path: () => `/orders/${randomUUID()}`, status: 200 },
};

/**
 * A preflight is answered by the MOCK integration from the definition alone: whatever origin, method, headers,
 * key or body the caller sends, it allows PartnerAllowedOrigin only, and nothing reaches a backend.
 */
async function hostilePreflight(path: string, allowedHeaders = 'content-type,x-api-key'): Promise<void> {
  const answer = await raw({
    method: 'OPTIONS',
    path,
    headers: [
      'Origin: https://attacker.example',
      'Access-Control-Request-Method: DELETE',
      'Access-Control-Request-Headers: x-api-key, authorization, x-evil',
      'X-Api-Key: not-a-key',
      'Content-Type: application/json',
    ],
    body: '{"statusCode": 500}',
  });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  expect(answer.headers.get('access-control-allow-headers')).toBe(allowedHeaders);
  expect(answer.headers.get('access-control-allow-methods')).not.toContain('DELETE');
  expect(answer.text).toBe('');
}

/** Method-specific hostile cases; the generic ones below run for every method. */
const methodCases: Record<string, () => Promise<void>> = {
  'OPTIONS /products': () => hostilePreflight('/products'),
  'OPTIONS /products/{id}': () => hostilePreflight('/products/%2e%2e%2f'),
  // GET /orders takes the partner token in Authorization.
  'OPTIONS /orders': () => hostilePreflight('/orders?__proto__=x', 'authorization,content-type,x-api-key'),
  'OPTIONS /orders/{id}': () => hostilePreflight(`/orders/${'a'.repeat(4096)}`),
  'GET /health': async () => {
    // Nothing the caller sends can change what the MOCK integration's template renders.
    const answer = await raw({
      method: 'GET',
      path: '/health?stage=prod&requestId=%22%7D%2C%22x%22%3A%22&status=down',
      headers: ['X-Amzn-RequestId: "},"status":"down', 'Content-Type: application/json'],
      body: '{"statusCode": 500, "stage": "prod"}',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: 'ok',
      stage: partnerApi.stage,
      requestId: expect.stringMatching(UUID),
    });
    expect(answer.body.requestId).toBe(answer.headers.get('x-amzn-requestid'));
  },

  'GET /products': async () => {
    const cursor = (key: object | string) =>
      Buffer.from(typeof key === 'string' ? key : JSON.stringify(key)).toString('base64url');
    for (const [query, code] of [
      ['limit=1&limit=500', 'ValidationError'],
      ['__proto__=x', 'ValidationError'],
      ['constructor=x&limit=1', 'ValidationError'],
      ['category=..%2F..%2Fetc', 'ValidationError'],
      [`category=${'a'.repeat(4096)}`, 'ValidationError'],
      [`category=tea&cursor=${cursor({ category: 'coffee', productId })}`, 'BadRequest'],
      [`category=tea&cursor=${cursor({ category: 'tea', productId, price: 0 })}`, 'BadRequest'],
      [`cursor=${cursor('{"__proto__":{"productId":"x"}}')}`, 'BadRequest'],
    ]) {
      expectError(await partner('GET', `/products?${query}`), 400, code as string);
    }
    // The last of a repeated key is the one both the handler and the cache key use.
    const lastWins = await partner('GET', '/products?category=tea&limit=500&limit=1');
    expect(lastWins.status).toBe(200);
    expect(lastWins.body.items.length).toBeLessThanOrEqual(1);
  },

  'GET /products/{id}': async () => {
    // A hostile id never becomes a cache entry: a 4xx is not cached, so each answer is the handler's own.
    const first = await partner('GET', '/products/..%2F..%2Fetc');
    const second = await partner('GET', '/products/..%2F..%2Fetc');
    expectError(first, 400, 'ValidationError');
    expect(second.body.requestId).not.toBe(first.body.requestId);
  },

  'POST /orders': async () => {
    for (const malformed of [
      '{"items": [',
      '{',
      '[',
      'nul',
      '{"items":[{"productId":"x","quantity":1,}]}',
      "{'items':[]}",
      '',
    ]) {
      expectOrderRefused(
        await partner('POST', '/orders', {
          body: malformed,
          headers: { 'content-type': 'application/json' },
        }),
      );
    }
    for (const contentType of [
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json-patch+json',
      // SQS's own JSON protocol: no way around the template, which alone speaks to the queue.
      'application/x-amz-json-1.0',
      'text/json',
    ]) {
      const answer = await partner('POST', '/orders', {
        body: JSON.stringify(order()),
        headers: { 'content-type': contentType },
      });
      expectOrderRefused(answer, 415, 'UnsupportedMediaType');
      expect(answer.body.error.message).toBe(
        'The body must be application/json, sent as is or gzip- or deflate-encoded',
      );
    }
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const nested of [`{"items":${deep}}`, `{"items":[{"productId":"x","quantity":1}],"note":${deep}}`]) {
      expectOrderRefused(await partner('POST', '/orders', { body: nested }));
    }
    const text = JSON.stringify(order());
    for (const polluted of [
      `{"__proto__":{"polluted":true},${text.slice(1)}`,
      `{"\\u005f_proto__":{"polluted":true},${text.slice(1)}`,
      `{"prototype":{"polluted":true},${text.slice(1)}`,
      text.replace('{"productId"', '{"constructor":{"prototype":{"polluted":true}},"productId"'),
    ]) {
      const answer = await partner('POST', '/orders', { body: polluted });
      expectOrderRefused(answer);
      expect(answer.body.error.details[0].message).toMatch(
        /not allowed by the schema: \["(__proto__|prototype|constructor)"\]/,
      );
    }
    // Duplicate keys: the value the model checks is the value the template would queue (the last one).
    for (const duplicated of [
      `{"items":[{"productId":"${productId}","quantity":1,"quantity":1000}]}`,
      `{"items":[{"productId":"${productId}","quantity":1}],"items":[{"productId":"${productId}","quantity":0}]}`,
    ]) {
      expectOrderRefused(await partner('POST', '/orders', { body: duplicated }));
    }
    // Invalid UTF-8 reaches the model as U+FFFD, which the model (generated from the zod schema) refuses.
    const invalidUtf8 = await raw({
      method: 'POST',
      path: '/orders',
      headers: ['Content-Type: application/json'],
      body: Buffer.concat([
        Buffer.from(text.replace(/}$/, ',"note":"tea ')),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    });
    expectOrderRefused(invalidUtf8);
    expect(invalidUtf8.body.error.details[0].message).toContain('uFFFD');
    // The model's reasons quote the input: JSON breakers there still give a parseable answer, verbatim.
    const breaker = '"}],\\ \u0000\n</x>';
    const quoted = await partner('POST', '/orders', {
      body: { items: [{ productId: breaker, quantity: 1 }] },
    });
    expectOrderRefused(quoted);
    expect(quoted.body.error.details[0].message).toContain(`input string "${breaker}"`);
    // A Content-Length shorter than the body: the JSON arrives cut short (the rest is a malformed second request).
    const short = await raw({
      method: 'POST',
      path: '/orders',
      headers: ['Content-Type: application/json'],
      body: text,
      contentLength: text.length - 5,
    });
    expect(short.status).toBe(400);
    // Past 10 MB, AWS's own fixed answer (a REQUEST_TOO_LARGE gateway response cannot change it): plain text.
    const oversized = await partner('POST', '/orders', { body: text.padEnd(PAYLOAD_QUOTA + 1, ' ') });
    expect(oversized.status).toBe(413);
    expect(oversized.body).toBe(`HTTP content length exceeded ${PAYLOAD_QUOTA} bytes.`);
  },

  'GET /orders': async () => {
    // Without a valid partner token, whatever else the request holds, the authoriser refuses it before any
    // integration runs: 401 for a missing, malformed or foreign token.
    const [, payload] = (await partnerToken()).split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    for (const authorization of [
      '',
      bearer.replace('Bearer', 'bearer'),
      bearer.slice(7),
      `Bearer ${unsigned}`,
      `Bearer ${'a'.repeat(4096)}.b.c`,
      `Bearer ${await partnerToken({ expiresIn: -60 })}`,
      `Bearer ${await token({ scopes: ['partner/orders.read'] })}`,
      `${bearer}, ${bearer}`,
    ]) {
      const answer = await partner('GET', '/orders?since=3999-01-01T00:00:00Z', {
        headers: { authorization },
      });
      expectError(answer, 401, 'Unauthorized', 'Unauthorized');
    }
    // Nothing in the query reaches the key condition but a valid date-time; anything else is the handler's 400.
    for (const query of [
      `since=${encodeURIComponent("2025-11-21T10:00:00Z' OR customerId <> '")}`,
      'since=2025-02-30T00:00:00Z',
      `since=${'9'.repeat(4096)}`,
      'since=',
      'since[]=2025-11-21T10:00:00Z',
      '__proto__=x',
      'constructor=x&since=2025-11-21T10:00:00Z',
      'customerId=partner%23victim',
    ]) {
      expectError(await partner('GET', `/orders?${query}`), 400, 'ValidationError');
    }
    // The last of a repeated key is the one the handler reads (payload 1.0's single-value map).
    const lastWins = await partner('GET', '/orders?since=yesterday&since=3999-01-01T00:00:00Z');
    expect(lastWins.status).toBe(200);
    // The partner is the key's id, which no header, query or body can change: the attacker's whole stream holds
    // none of the victim's orders, whatever it claims to be.
    // A GET with a body, as fetch refuses to send one; the answer's chunked framing does not matter here.
    const claimed = await raw({
      method: 'GET',
      path: '/orders',
      headers: [`X-Api-Key-Id: ${victim.partnerId}`, 'Content-Type: application/json'],
      body: JSON.stringify({ partnerId: victim.partnerId, customerId: `partner#${victim.partnerId}` }),
    });
    expect(claimed.status).toBe(200);
    expect(claimed.headers.get('content-type')).toBe('application/x-ndjson');
    expect(claimed.text).not.toContain(victim.orderId);
    expectNoLeak(claimed.text);
  },

  'GET /orders/{id}': async () => {
    // Breakers in both fields its response template renders from the caller's input: a product name (set
    // through the HTTP API by an admin) and the partner's note, VTL directives included.
    const hostileProduct = `hostile-${randomUUID().slice(0, 8)}`;
    const name = `Tea "}],"total":{"amount":0},"x":[{" \\ \\" ' \\' / </script> \u2028 \u0001 😀 #set($context.responseOverride.status = 500) $context.requestId #end`;
    const note = `"},"status":"CANCELLED","x":"\\" ' \\' #set($context.responseOverride.status = 500)#end $context.identity.apiKeyId \${context.requestId} $!{item} #foreach($i in [1..3])$i#end \u2028 </script>`;
    await putProduct(hostileProduct, name);
    const queued = await partner('POST', '/orders', {
      body: { items: [{ productId: hostileProduct, quantity: 2 }], note },
    });
    expect(queued.status).toBe(202);
    const orderId: string = queued.body.orderId;
    const read = await eventually(
      async () => {
        const answer = await partner('GET', `/orders/${orderId}`);
        return answer.status === 200 ? answer : undefined;
      },
      20_000,
      `order ${orderId} readable`,
    );
    expect(read.body).toMatchObject({
      orderId,
      status: 'PLACED',
      items: [{ productId: hostileProduct, name, quantity: 2, unitPrice: { amount: 480, currency: 'EUR' } }],
      total: { amount: 960, currency: 'EUR' },
      note,
    });
    expect(Object.keys(read.body).sort()).toEqual([
      'createdAt',
      'items',
      'note',
      'orderId',
      'status',
      'total',
    ]);

    // A rejected order's reasons quote the message: a key full of breakers comes back verbatim, in valid JSON.
    // Straight onto the queue under the attacker's own partner id, since the gateway's model refuses the key.
    const breakerKey = `"}],"status":"PLACED","x":[{" \\ \\" ' \\' </script> \u2028 #set($context.responseOverride.status = 500) $context.requestId #end`;
    const rejectedId = await queueOrder(attackerId, JSON.stringify({ ...order(), [breakerKey]: 1 }));
    const rejected = await eventually(
      async () => {
        const answer = await partner('GET', `/orders/${rejectedId}`);
        return answer.status === 200 ? answer : undefined;
      },
      20_000,
      `rejected order ${rejectedId} readable`,
    );
    expect(rejected.body).toEqual({
      orderId: rejectedId,
      status: 'REJECTED',
      reasons: [{ path: 'body', message: `Unrecognized key: "${breakerKey}"` }],
      createdAt: expect.any(String),
    });

    // $input.params('id') takes the path parameter first: a query string or header `id` cannot steer the lookup.
    expect((await partner('GET', `/orders/${orderId}?id=${victim.orderId}`)).body.orderId).toBe(orderId);
    for (const path of [`/orders/not-an-order?id=${orderId}`, `/orders/${victim.orderId}?id=${orderId}`]) {
      expectError(
        await partner('GET', path, { headers: { id: orderId } }),
        404,
        'NotFound',
        'Order not found',
      );
    }
  },
};

test('every method of the partner API has hostile cases and a baseline here', () => {
  const keys = methods.map((method) => method.key).sort();
  expect(Object.keys(methodCases).sort()).toEqual(keys);
  expect(Object.keys(baselines).sort()).toEqual(keys);
});

describe.each(methods)('$key', (method) => {
  test('its own hostile cases', async () => {
    await methodCases[method.key]?.();
  });

  test('headers named __proto__, constructor or toString are headers like any other', async () => {
    const baseline = baselines[method.key];
    if (!baseline) throw new Error(`no baseline for ${method.key}`);
    const request = {
      method: method.httpMethod,
      path: baseline.path(),
      ...(baseline.body === undefined
        ? {}
        : { headers: ['Content-Type: application/json'], body: JSON.stringify(baseline.body) }),
    };
    const answer = await raw({
      ...request,
      headers: [
        ...(request.headers ?? []),
        '__proto__: {"x-api-key":"none"}',
        'constructor: x',
        'toString: y',
      ],
    });
    expect(answer.status).toBe(baseline.status);
  });

  test('CR, LF and NUL in a header are refused by the HTTP layer, before the gateway', async () => {
    const path = baselines[method.key]?.path() ?? '/';
    for (const header of ['X-Note: a\rInjected: yes', 'X-Note: a\nInjected: yes', 'X-Note: a\0b']) {
      const injected = await raw({ method: method.httpMethod, path, headers: [header] });
      expect(injected.status, JSON.stringify(header)).toBe(400);
      expect(injected.text).toBe('');
    }
  });
});

// Preflights are answered by their MOCK whatever the id (hostilePreflight); the ids matter to the others.
describe.each(
  methods.filter((method) => /\{\w+\}/.test(method.resourcePath) && method.httpMethod !== 'OPTIONS'),
)('$key: hostile ids', (method) => {
  test('4 KB, traversal, NUL, CR/LF and bad escapes are a 400 or 404 in the error shape', async () => {
    for (const id of [
      'a'.repeat(4096),
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      'x%0d%0aSet-Cookie:%20a=b',
      '%zz',
      '__proto__',
    ]) {
      const answer = await raw({
        method: method.httpMethod,
        path: method.resourcePath.replace(/\{\w+\}/, id),
      });
      expect([400, 404], id.slice(0, 40)).toContain(answer.status);
      expectError(answer, answer.status, answer.status === 404 ? 'NotFound' : 'ValidationError');
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
  });
});

describe('after every attack above', () => {
  test('the victim’s order is as it was, and still only its own partner can read it', async () => {
    expect(await ordersOf(`partner#${victim.partnerId}`)).toEqual([
      await itemOf('OrdersTable', { orderId: victim.orderId }),
    ]);
    expect(await itemOf('OrdersTable', { orderId: victim.orderId })).toMatchObject({
      customerId: `partner#${victim.partnerId}`,
      status: 'PLACED',
      note: 'victim',
      items: [{ productId, quantity: 1 }],
    });
    expectError(await partner('GET', `/orders/${victim.orderId}`), 404, 'NotFound', 'Order not found');
  });
});
