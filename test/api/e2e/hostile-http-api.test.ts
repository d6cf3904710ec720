import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { httpApiDefinitions } from '../../../offline/template/http-api-definition.ts';
import { createResolver } from '../../../offline/template/resolver.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { ALL_ORDER_SCOPES, type Answer, call, token } from '../../support/client.ts';
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
 * Hostile input against every route of the template's HTTP API, through the offline cloud (issue #7):
 * malformed, truncated and oversized bodies, wrong content types, invalid UTF-8, prototype-pollution keys,
 * hostile ids, header injection and duplicate query keys. Each is a 4xx in the documented shape (the
 * handlers' `{"error":{…},"requestId"}`, or the gateway's `{"message"}`), and each leaves the attacker's and
 * the victim's orders and the products exactly as they were. The attacker holds every scope the template
 * asks for and the admin group: the protections must hold for the most privileged caller.
 */
const cloud = inject('offlineCloud');
const [httpApi] = httpApiDefinitions(createResolver(loadTemplate(), undefined));
if (!httpApi) throw new Error('The template has no HTTP API');
const routes = httpApi.routes.map((route) => ({ ...route, key: `${route.method} ${route.path}` }));
const hasBody = (route: { method: string }) => ['POST', 'PUT', 'PATCH'].includes(route.method);
const hasPathParameter = (route: { path: string }) => /\{\w+\+?\}/.test(route.path);
/** The route's path with every parameter set to `value` (a UUID fits both an order id and a product id). */
const pathOf = (route: { path: string }, value: string) => route.path.replace(/\{\w+\+?\}/g, value);

/** API Gateway's payload quota for HTTP APIs (10 MB), from the AWS quotas page, not from the emulator. */
const PAYLOAD_QUOTA = 10 * 1024 * 1024;
const UTF8_REFUSAL = 'Must be valid UTF-8 (U+FFFD stands for bytes that were not)';

interface Caller {
  sub: string;
  token: string;
}
let attacker: Caller;
let victim: Caller;
let productId: string;
let victimProductId: string;
let victimOrder: { orderId: string; createdAt: string };
let attackerOrderId: string;
const victimIdempotencyKey = randomUUID();

/** A valid body for each route that takes one, and the free-text field where hostile text goes. */
const validBodies: Record<string, () => { body: Record<string, unknown>; text: string }> = {
  'POST /orders': () => ({ body: { items: [{ productId, quantity: 1 }], note: 'hostile' }, text: 'note' }),
  'PUT /products/{id}': () => ({
    body: { name: 'Hostile tea', category: 'tea', price: { amount: 100, currency: 'EUR' } },
    text: 'name',
  }),
};

beforeAll(async () => {
  const admin = await token({ scopes: ['api/products.write'], groups: ['admin'] });
  productId = `hostile-${randomUUID().slice(0, 8)}`;
  victimProductId = `hostile-victim-${randomUUID().slice(0, 8)}`;
  for (const id of [productId, victimProductId]) {
    const put = await call('PUT', `/products/${id}`, {
      token: admin,
      body: { name: 'Kukicha, 100 g', category: 'tea', price: { amount: 540, currency: 'EUR' } },
    });
    expect(put.status).toBe(200);
  }
  const caller = async (name: string, scopes: string[], groups: string[] = []) => {
    const sub = `${name}-${randomUUID()}`;
    return { sub, token: await token({ sub, scopes, groups }) };
  };
  victim = await caller('victim', ALL_ORDER_SCOPES);
  attacker = await caller('attacker', [...new Set(routes.flatMap((route) => route.scopes))], ['admin']);
  const order = { items: [{ productId, quantity: 2 }] };
  const placed = await call('POST', '/orders', {
    token: victim.token,
    body: order,
    headers: { 'idempotency-key': victimIdempotencyKey },
  });
  expect(placed.status).toBe(201);
  victimOrder = placed.body;
  const own = await call('POST', '/orders', { token: attacker.token, body: order });
  expect(own.status).toBe(201);
  attackerOrderId = own.body.orderId;
});

afterAll(() => dynamo.destroy());

/** What an attack must leave as it was: both callers' orders, the catalogue's products and `productIds`. */
async function snapshot(productIds: string[]) {
  return {
    attackerOrders: await ordersOf(attacker.sub),
    victimOrders: await ordersOf(victim.sub),
    products: await Promise.all(
      [productId, victimProductId, ...productIds].map((id) => itemOf('ProductsTable', { productId: id })),
    ),
  };
}

/** Runs `attack` and checks that it changed nothing; fresh product ids it aims at must still not exist. */
async function changesNothing(attack: () => Promise<void>, productIds: string[] = []): Promise<void> {
  const before = await snapshot(productIds);
  await attack();
  expect(await snapshot(productIds)).toEqual(before);
}

/** The handlers' one error shape, exactly, with the gateway's request id and nothing internal. */
function expectRefused(answer: Answer, status: number, code: string, message?: string) {
  expect({ status: answer.status, code: answer.body?.error?.code }, JSON.stringify(answer.body)).toEqual({
    status,
    code,
  });
  const { error, requestId, ...rest } = answer.body;
  expect(rest).toEqual({});
  expect(requestId).toBe(answer.headers.get('apigw-requestid'));
  const { code: _code, message: text, details, ...more } = error;
  expect(more).toEqual({});
  expect(text).toEqual(message ?? expect.any(String));
  if (details !== undefined) {
    expect(details.length).toBeGreaterThan(0);
    for (const detail of details)
      expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  expectNoLeak(JSON.stringify(answer.body));
}

/** A request as fetch cannot send it, with the attacker's token, retried past other suites' throttling. */
const raw = (request: RawRequest) =>
  unthrottled(() =>
    rawRequest(cloud.httpApiUrl, {
      ...request,
      headers: [`Authorization: Bearer ${attacker.token}`, ...(request.headers ?? [])],
    }),
  );

/** A call with the attacker's token, retried past other suites' throttling. */
const send = (
  route: { method: string },
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) => unthrottled(() => call(route.method, path, { token: attacker.token, ...options }));

/** Route-specific hostile cases; the generic ones below run for every route they apply to. */
const routeCases: Record<string, () => Promise<void>> = {
  'GET /me': async () => {
    // Somebody else's identity in the query, in headers (one named __proto__) and in a body is never read.
    const answer = await raw({
      method: 'GET',
      path: `/me?sub=${victim.sub}&username=${victim.sub}&__proto__=${victim.sub}`,
      headers: [`X-User-Id: ${victim.sub}`, `__proto__: ${victim.sub}`, 'Content-Type: application/json'],
      body: JSON.stringify({ sub: victim.sub, 'cognito:groups': ['admin'] }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ sub: attacker.sub, username: attacker.sub });
    expect(answer.text).not.toContain(victim.sub);
  },

  'POST /orders': async () => {
    const { body } = validBodies['POST /orders']?.() ?? { body: {} };
    await changesNothing(async () => {
      for (const key of ['has a space', 'seven77', 'k'.repeat(129), 'tab\there-123']) {
        const answer = await send({ method: 'POST' }, '/orders', {
          body,
          headers: { 'idempotency-key': key },
        });
        expectRefused(answer, 400, 'BadRequest', 'The Idempotency-Key header is not valid');
        expect(answer.body.error.details[0].path).toBe('headers.idempotency-key');
      }
      const latin1 = await raw({
        method: 'POST',
        path: '/orders',
        headers: ['Content-Type: application/json', 'Idempotency-Key: caf\xe9-key-123'],
        body: JSON.stringify(body),
      });
      expectRefused(latin1, 400, 'BadRequest', 'The Idempotency-Key header is not valid');
    });
    // A refused request leaves no idempotency record behind: its key then places exactly one order.
    const key = randomUUID();
    const headers = { 'idempotency-key': key, 'x-customer-id': victim.sub };
    expectRefused(
      await send({ method: 'POST' }, '/orders', { body: '{"items": [', headers }),
      400,
      'BadRequest',
    );
    const before = await ordersOf(attacker.sub);
    // The customer comes from the token alone: a customer id in the query or a header is ignored.
    const placed = await send({ method: 'POST' }, `/orders?customerId=${victim.sub}`, { body, headers });
    expect(placed.status).toBe(201);
    const replayed = await send({ method: 'POST' }, '/orders', { body, headers });
    expect(replayed.body.orderId).toBe(placed.body.orderId);
    // Another user's Idempotency-Key is theirs alone: it never replays their order to the attacker.
    const reused = await send({ method: 'POST' }, '/orders', {
      body: { items: [{ productId, quantity: 2 }] },
      headers: { 'idempotency-key': victimIdempotencyKey },
    });
    expect(reused.status).toBe(201);
    expect(reused.body.orderId).not.toBe(victimOrder.orderId);
    const after = await ordersOf(attacker.sub);
    expect(after.map((order) => order.orderId).sort()).toEqual(
      [...before.map((order) => order.orderId), placed.body.orderId, reused.body.orderId].sort(),
    );
    expect((await ordersOf(victim.sub)).map((order) => order.orderId)).toEqual([victimOrder.orderId]);
  },

  'GET /orders': async () => {
    const base64url = (value: string) => Buffer.from(value).toString('base64url');
    const victimCursor = base64url(
      JSON.stringify({
        orderId: victimOrder.orderId,
        customerId: victim.sub,
        createdAt: victimOrder.createdAt,
      }),
    );
    await changesNothing(async () => {
      for (const [query, code] of [
        ['limit=1&limit=2', 'ValidationError'],
        ['limit=100&limit=100', 'ValidationError'],
        ['limit=1%00', 'ValidationError'],
        ['__proto__=x', 'ValidationError'],
        ['constructor=x', 'ValidationError'],
        ['prototype=x&limit=5', 'ValidationError'],
        [`cursor=${victimCursor}`, 'BadRequest'],
        [`cursor=${victimCursor}&cursor=${victimCursor}`, 'BadRequest'],
        [
          `cursor=${base64url('{"__proto__":{"customerId":"x"},"orderId":"y","createdAt":"z"}')}`,
          'BadRequest',
        ],
        [`cursor=${'a'.repeat(1025)}`, 'ValidationError'],
        ['cursor=%zz', 'BadRequest'],
      ]) {
        const answer = await raw({ method: 'GET', path: `/orders?${query}` });
        expectRefused(answer, 400, code as string);
        expect(answer.text).not.toContain(victimOrder.orderId);
      }
    });
  },

  'GET /orders/{id}': async () => {
    await changesNothing(async () => {
      for (const spelling of victimOrderSpellings()) {
        const answer = await raw({ method: 'GET', path: `/orders/${spelling}` });
        expect([400, 404], spelling).toContain(answer.status);
        expectRefused(answer, answer.status, answer.status === 404 ? 'NotFound' : 'ValidationError');
      }
    });
  },

  'DELETE /orders/{id}': async () => {
    await changesNothing(async () => {
      for (const spelling of [...victimOrderSpellings(), attackerOrderId.toUpperCase()]) {
        const answer = await raw({ method: 'DELETE', path: `/orders/${spelling}` });
        expect([400, 404], spelling).toContain(answer.status);
        expectRefused(answer, answer.status, answer.status === 404 ? 'NotFound' : 'ValidationError');
      }
    });
  },

  'PUT /products/{id}': async () => {
    const target = `hostile-${randomUUID().slice(0, 8)}`;
    const { body } = validBodies['PUT /products/{id}']?.() ?? { body: {} };
    const ordersOnly = await token({ sub: attacker.sub, scopes: ALL_ORDER_SCOPES, groups: ['admin'] });
    await changesNothing(async () => {
      // A dot segment lands on the route it names, and that route's own scope check applies.
      const traversal = await unthrottled(() =>
        rawRequest(cloud.httpApiUrl, {
          method: 'PUT',
          path: `/orders/../products/${target}`,
          headers: [`Authorization: Bearer ${ordersOnly}`, 'Content-Type: application/json'],
          body: JSON.stringify(body),
        }),
      );
      expect(traversal.status).toBe(403);
      expect(traversal.body).toEqual({ message: 'Forbidden' });
      // Fields the handler sets itself cannot be supplied, whoever they would name.
      const spoofed = await send({ method: 'PUT' }, `/products/${target}`, {
        body: {
          ...body,
          productId: victimProductId,
          updatedBy: victim.sub,
          updatedAt: '2000-01-01T00:00:00Z',
        },
      });
      expectRefused(spoofed, 400, 'ValidationError');
      expect(spoofed.body.error.details.map((detail: { path: string }) => detail.path)).toEqual(['body']);
    }, [target]);
  },
};

/** The victim's order id as an attacker might spell it to slip past an ownership or format check. */
const victimOrderSpellings = () => {
  const id = victimOrder.orderId;
  return [id.toUpperCase(), `${id}%20`, `%20${id}`, `${id}%0a`, `${id}/`, `${id}%2F..`, `%7B${id}%7D`];
};

test('every route of the template has hostile cases here, and every route with a body a valid body', () => {
  expect(Object.keys(routeCases).sort()).toEqual(routes.map((route) => route.key).sort());
  expect(Object.keys(validBodies).sort()).toEqual(
    routes
      .filter(hasBody)
      .map((route) => route.key)
      .sort(),
  );
});

describe.each(routes)('$key', (route) => {
  test('its own hostile cases', async () => {
    await routeCases[route.key]?.();
  });

  test('CR, LF, NUL and folded lines in a header are refused by the HTTP layer, before any function', async () => {
    const id = randomUUID();
    const path = pathOf(route, id);
    await changesNothing(async () => {
      for (const header of [
        'X-Note: a\rInjected: yes',
        'X-Note: a\nInjected: yes',
        'X-Note: a\0b',
        'X-Note: a\r\n Folded: yes',
      ]) {
        const answer = await raw({ method: route.method, path, headers: [header] });
        expect(answer.status, JSON.stringify(header)).toBe(400);
        expect(answer.text).toBe('');
      }
    }, [id]);
  });
});

describe.each(routes.filter(hasPathParameter))('$key: hostile ids', (route) => {
  test('4 KB, traversal, NUL, CR/LF and bad escapes are 400 naming the parameter', async () => {
    const body = validBodies[route.key]?.().body;
    const ids = [
      'a'.repeat(4096),
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      'x%0d%0aSet-Cookie:%20session=evil',
      '%zz',
      '%F0%9F%92%A9',
      '%E2%80%AEabc',
      `${randomUUID()}%20`,
      '__proto__',
    ];
    await changesNothing(async () => {
      for (const id of ids) {
        const answer = await raw({
          method: route.method,
          path: pathOf(route, id),
          ...(body ? { headers: ['Content-Type: application/json'], body: JSON.stringify(body) } : {}),
        });
        expectRefused(answer, 400, 'ValidationError');
        expect(answer.body.error.details.map((detail: { path: string }) => detail.path)).toEqual(['path.id']);
        expect(answer.headers.get('set-cookie')).toBeNull();
      }
    }, ['__proto__']);
  });
});

describe.each(routes.filter(hasBody))('$key: hostile bodies', (route) => {
  const target = randomUUID();
  const path = pathOf(route, target);
  const valid = () => validBodies[route.key]?.() ?? { body: {}, text: '' };
  const aimedAt = [target];

  test('malformed or truncated JSON is 400 BadRequest', async () => {
    const text = JSON.stringify(valid().body);
    await changesNothing(async () => {
      for (const malformed of [
        '{"items": [',
        text.slice(0, -1),
        `${text}garbage`,
        '{"a":1,}',
        "{'a':1}",
        'NaN',
        '{',
      ]) {
        const answer = await send(route, path, { body: malformed });
        expectRefused(answer, 400, 'BadRequest', 'The request body is not valid JSON');
      }
      expectRefused(
        await send(route, path, { body: '' }),
        400,
        'BadRequest',
        'A JSON request body is required',
      );
      // A Content-Length shorter than the body: the function gets the JSON cut short, and the rest is a
      // malformed second request. Whichever refusal reaches the client first (the function's or the HTTP
      // layer's, which closes the connection), it is a 400.
      const short = await raw({
        method: route.method,
        path,
        headers: ['Content-Type: application/json'],
        body: text,
        contentLength: Math.floor(text.length / 2),
      });
      expect(short.status).toBe(400);
      // A Content-Length longer than the body, from a client that then gives up: the request never completes.
      const hungUp = await raw({
        method: route.method,
        path,
        headers: ['Content-Type: application/json'],
        body: text,
        contentLength: text.length + 100,
        hangUp: true,
      });
      expect(hungUp.status).toBe(400);
    }, aimedAt);
  });

  test('JSON that is not an object is 400 ValidationError', async () => {
    await changesNothing(async () => {
      for (const value of ['null', '[]', '"text"', '1e999', 'true']) {
        expectRefused(await send(route, path, { body: value }), 400, 'ValidationError');
      }
    }, aimedAt);
  });

  test('any content type but application/json is 415, even with a valid JSON body', async () => {
    const body = JSON.stringify(valid().body);
    await changesNothing(async () => {
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json-patch+json',
        'application/jsonx',
        'text/json',
      ]) {
        const answer = await send(route, path, { body, headers: { 'content-type': contentType } });
        expectRefused(answer, 415, 'UnsupportedMediaType', 'Content-Type must be application/json');
      }
      const without = await raw({ method: route.method, path, body });
      expectRefused(without, 415, 'UnsupportedMediaType');
    }, aimedAt);
  });

  test('__proto__, constructor and prototype keys, at any depth and however escaped, are 400', async () => {
    const text = JSON.stringify(valid().body);
    const innermost = text.lastIndexOf('{') + 1;
    await changesNothing(async () => {
      for (const polluted of [
        `{"__proto__":{"polluted":true},${text.slice(1)}`,
        `{"\\u005f_proto__":{"polluted":true},${text.slice(1)}`,
        `{"prototype":{"polluted":true},${text.slice(1)}`,
        `${text.slice(0, innermost)}"constructor":{"prototype":{"polluted":true}},${text.slice(innermost)}`,
      ]) {
        const answer = await send(route, path, { body: polluted });
        expectRefused(answer, 400, 'BadRequest');
        expect(answer.body.error.message).toMatch(
          /^The request body contains the forbidden key "(__proto__|constructor|prototype)"$/,
        );
      }
    }, aimedAt);
  });

  test('invalid UTF-8 is 400: in a text field it is named, anywhere else the JSON is invalid', async () => {
    const { body, text } = valid();
    const [before, after] = JSON.stringify({ ...body, [text]: '\u0000' }).split('\\u0000') as [
      string,
      string,
    ];
    await changesNothing(async () => {
      for (const bytes of [
        [0xff, 0xfe],
        [0xc0, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xe2, 0x82],
      ]) {
        const answer = await raw({
          method: route.method,
          path,
          headers: ['Content-Type: application/json'],
          body: Buffer.concat([Buffer.from(`${before}tea `), Buffer.from(bytes), Buffer.from(after)]),
        });
        expectRefused(answer, 400, 'ValidationError');
        expect(answer.body.error.details).toEqual([{ path: `body.${text}`, message: UTF8_REFUSAL }]);
      }
      const outsideStrings = await raw({
        method: route.method,
        path,
        headers: ['Content-Type: application/json'],
        body: Buffer.concat([Buffer.from('{"x":'), Buffer.from([0xff]), Buffer.from('}')]),
      });
      expectRefused(outsideStrings, 400, 'BadRequest', 'The request body is not valid JSON');
    }, aimedAt);
  });

  test('deep nesting is 400 within the size limit and 413 past it, never a crash', async () => {
    const { body, text } = valid();
    const deep = (depth: number) =>
      JSON.stringify({ ...body, [text]: '\u0000' }).replace(
        '"\\u0000"',
        `${'['.repeat(depth)}${']'.repeat(depth)}`,
      );
    await changesNothing(async () => {
      expectRefused(await send(route, path, { body: deep(1000) }), 400, 'ValidationError');
      // As deep as 16 KiB allows: the wrong type where the parser's stack holds it, invalid JSON where not.
      const withinLimit = await send(route, path, { body: deep(8000) });
      expect(['BadRequest', 'ValidationError']).toContain(withinLimit.body?.error?.code);
      expectRefused(withinLimit, 400, withinLimit.body.error.code);
      const pastLimit = await send(route, path, { body: deep(100_000) });
      expectRefused(pastLimit, 413, 'PayloadTooLarge');
    }, aimedAt);
  });

  test('bodies over 16 KiB are the handler’s 413; over 10 MB, the gateway’s own 413', async () => {
    const { body, text } = valid();
    const json = JSON.stringify(body);
    await changesNothing(async () => {
      const megabyte = await send(route, path, { body: { ...body, [text]: 'x'.repeat(1024 * 1024) } });
      expectRefused(megabyte, 413, 'PayloadTooLarge', 'The request body must not exceed 16384 bytes');
      // Whitespace is valid JSON: exactly at the quota the body still reaches the function.
      const atQuota = await send(route, path, { body: json.padEnd(PAYLOAD_QUOTA, ' ') });
      expectRefused(atQuota, 413, 'PayloadTooLarge');
      const overQuota = await send(route, path, { body: json.padEnd(PAYLOAD_QUOTA + 1, ' ') });
      expect(overQuota.status).toBe(413);
      expect(overQuota.body).toEqual({ message: 'Request Entity Too Large' });
      expect(overQuota.headers.get('apigw-requestid')).toBeTruthy();
    }, aimedAt);
  });
});
