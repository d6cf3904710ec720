import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { MAX_BODY_BYTES } from '../../../functions/lib/validation.ts';
import { handler } from '../../../functions/orders/create-order.ts';
import type { OrderLine, OrderRecord } from '../../../functions/orders/order.ts';
import type { ProductRecord } from '../../../functions/products/product.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import {
  expectError,
  getOrder,
  invoke,
  newProductId,
  newSub,
  ordersOf,
  seedProduct,
} from '../../support/tables.ts';

type OrderView = Omit<OrderRecord, 'customerId'>;

let cup: ProductRecord;
let saucer: ProductRecord;
let dollarMug: ProductRecord;

beforeAll(async () => {
  cup = await seedProduct({ name: 'Espresso cup', price: { amount: 1250, currency: 'EUR' } });
  saucer = await seedProduct({ name: 'Saucer', price: { amount: 480, currency: 'EUR' } });
  dollarMug = await seedProduct({ name: 'Diner mug', price: { amount: 899, currency: 'USD' } });
});

function orderEvent(sub: string, body: unknown, headers: Record<string, string> = {}) {
  return httpApiEvent({ routeKey: 'POST /orders', sub, body, headers });
}

const twoCupsAndASaucer = () => ({
  items: [
    { productId: cup.productId, quantity: 2 },
    { productId: saucer.productId, quantity: 1 },
  ],
});

describe('POST /orders', () => {
  test('creates the order with prices and total from the catalogue, and stores it for the caller', async () => {
    const sub = newSub();

    const response = await invoke<OrderView>(
      handler,
      orderEvent(sub, { ...twoCupsAndASaucer(), note: 'Gift' }),
    );

    expect(response.statusCode).toBe(201);
    const expectedLines: OrderLine[] = [
      {
        productId: cup.productId,
        name: 'Espresso cup',
        quantity: 2,
        unitPrice: { amount: 1250, currency: 'EUR' },
      },
      {
        productId: saucer.productId,
        name: 'Saucer',
        quantity: 1,
        unitPrice: { amount: 480, currency: 'EUR' },
      },
    ];
    expect(response.body).toEqual({
      orderId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'PLACED',
      items: expectedLines,
      total: { amount: 2 * 1250 + 480, currency: 'EUR' },
      note: 'Gift',
      createdAt: expect.any(String),
    });
    expect(response.body).not.toHaveProperty('customerId');
    expect(await getOrder(response.body.orderId)).toEqual({ ...response.body, customerId: sub });
  });

  test('points the Location header at the new order', async () => {
    const response = await invoke<OrderView>(handler, orderEvent(newSub(), twoCupsAndASaucer()));
    expect(response.headers.location).toBe(`/orders/${response.body.orderId}`);
  });

  test('uses the price in the catalogue at the time of the order', async () => {
    const product = await seedProduct({ price: { amount: 100, currency: 'EUR' } });
    const order = { items: [{ productId: product.productId, quantity: 3 }] };
    const before = await invoke<OrderView>(handler, orderEvent(newSub(), order));
    await seedProduct({ ...product, price: { amount: 150, currency: 'EUR' } });
    const after = await invoke<OrderView>(handler, orderEvent(newSub(), order));
    expect([before.body.total.amount, after.body.total.amount]).toEqual([300, 450]);
  });

  test('refuses unknown products with 422 naming each one, and writes nothing', async () => {
    const sub = newSub();
    const [missingA, missingB] = [newProductId(), newProductId()];
    const event = orderEvent(sub, {
      items: [
        { productId: missingA, quantity: 1 },
        { productId: cup.productId, quantity: 1 },
        { productId: missingB, quantity: 1 },
      ],
    });

    const response = await invoke(handler, event);

    expect(expectError(response, event, 422, 'UnknownProduct')).toEqual([
      'body.items.0.productId',
      'body.items.2.productId',
    ]);
    expect(response.body.error.details?.map((issue) => issue.message)).toEqual([
      expect.stringContaining(missingA),
      expect.stringContaining(missingB),
    ]);
    expect(await ordersOf(sub)).toHaveLength(0);
  });

  test('refuses products priced in different currencies with 422, and writes nothing', async () => {
    const sub = newSub();
    const event = orderEvent(sub, {
      items: [
        { productId: cup.productId, quantity: 1 },
        { productId: dollarMug.productId, quantity: 1 },
      ],
    });
    expectError(await invoke(handler, event), event, 422, 'MixedCurrencies');
    expect(await ordersOf(sub)).toHaveLength(0);
  });

  test('refuses the same product twice with 400, and writes nothing', async () => {
    const sub = newSub();
    const event = orderEvent(sub, {
      items: [
        { productId: cup.productId, quantity: 1 },
        { productId: cup.productId, quantity: 2 },
      ],
    });
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['body.items']);
    expect(await ordersOf(sub)).toHaveLength(0);
  });
});

describe('POST /orders with an Idempotency-Key', () => {
  const key = () => `order-${randomUUID()}`;

  test('answers a retry with the same order and stores only one', async () => {
    const [sub, idempotencyKey] = [newSub(), key()];
    const headers = { 'idempotency-key': idempotencyKey };

    const first = await invoke<OrderView>(handler, orderEvent(sub, twoCupsAndASaucer(), headers));
    const retry = await invoke<OrderView>(handler, orderEvent(sub, twoCupsAndASaucer(), headers));

    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.location).toBe(`/orders/${first.body.orderId}`);
    expect((await ordersOf(sub)).map((order) => order.orderId)).toEqual([first.body.orderId]);
  });

  test('refuses the same key with a different body with 422 IdempotencyKeyReused', async () => {
    const [sub, idempotencyKey] = [newSub(), key()];
    const headers = { 'idempotency-key': idempotencyKey };
    await invoke(handler, orderEvent(sub, twoCupsAndASaucer(), headers));
    const event = orderEvent(sub, { items: [{ productId: cup.productId, quantity: 5 }] }, headers);

    expectError(await invoke(handler, event), event, 422, 'IdempotencyKeyReused');
    expect(await ordersOf(sub)).toHaveLength(1);
  });

  test('keeps the keys of different users apart', async () => {
    const [alice, bob, idempotencyKey] = [newSub(), newSub(), key()];
    const headers = { 'idempotency-key': idempotencyKey };

    const forAlice = await invoke<OrderView>(handler, orderEvent(alice, twoCupsAndASaucer(), headers));
    const forBob = await invoke<OrderView>(handler, orderEvent(bob, twoCupsAndASaucer(), headers));

    expect(forAlice.statusCode).toBe(201);
    expect(forBob.statusCode).toBe(201);
    expect(forBob.body.orderId).not.toBe(forAlice.body.orderId);
    expect((await ordersOf(alice)).map((order) => order.orderId)).toEqual([forAlice.body.orderId]);
    expect((await ordersOf(bob)).map((order) => order.orderId)).toEqual([forBob.body.orderId]);
  });

  test('creates a new order for every request without a key', async () => {
    const sub = newSub();
    const first = await invoke<OrderView>(handler, orderEvent(sub, twoCupsAndASaucer()));
    const second = await invoke<OrderView>(handler, orderEvent(sub, twoCupsAndASaucer()));
    expect(second.body.orderId).not.toBe(first.body.orderId);
    expect(await ordersOf(sub)).toHaveLength(2);
  });

  test('does not spend a key on a refused request', async () => {
    const [sub, idempotencyKey] = [newSub(), key()];
    const headers = { 'idempotency-key': idempotencyKey };
    const productId = newProductId();
    const order = { items: [{ productId, quantity: 1 }] };

    const refused = await invoke(handler, orderEvent(sub, order, headers));
    await seedProduct({ productId });
    const retried = await invoke(handler, orderEvent(sub, order, headers));

    expect([refused.statusCode, retried.statusCode]).toEqual([422, 201]);
    expect(await ordersOf(sub)).toHaveLength(1);
  });

  test.each([8, 128])('accepts a key of %i printable ASCII characters', async (length) => {
    const sub = newSub();
    const headers = { 'idempotency-key': '!~'.repeat(length / 2) };
    const response = await invoke(handler, orderEvent(sub, twoCupsAndASaucer(), headers));
    expect(response.statusCode).toBe(201);
    expect(await ordersOf(sub)).toHaveLength(1);
  });

  test('refuses a malformed key with 400, and writes nothing', async () => {
    const sub = newSub();
    const event = orderEvent(sub, twoCupsAndASaucer(), { 'idempotency-key': 'short' });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual([
      'headers.idempotency-key',
    ]);
    expect(await ordersOf(sub)).toHaveLength(0);
  });
});

describe('POST /orders with bad input', () => {
  const validItem = () => ({ productId: cup.productId, quantity: 1 });
  const oversizedNote = 'x'.repeat(MAX_BODY_BYTES);

  // Every case starts from a valid order for a real product, so the stated defect is the only reason to refuse.
  const cases: {
    name: string;
    status: number;
    code: string;
    paths: string[];
    request: () => { body: unknown; headers?: Record<string, string> };
  }[] = [
    {
      name: 'malformed JSON',
      status: 400,
      code: 'BadRequest',
      paths: [],
      request: () => ({ body: `{"items":[${JSON.stringify(validItem())}` }),
    },
    {
      name: 'a wrong content type',
      status: 415,
      code: 'UnsupportedMediaType',
      paths: [],
      request: () => ({ body: { items: [validItem()] }, headers: { 'content-type': 'text/plain' } }),
    },
    { name: 'an empty body', status: 400, code: 'BadRequest', paths: [], request: () => ({ body: '' }) },
    {
      name: 'a missing items field',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items'],
      request: () => ({ body: { note: 'no items' } }),
    },
    {
      name: 'no items at all',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items'],
      request: () => ({ body: { items: [] } }),
    },
    {
      name: 'items of the wrong type',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items'],
      request: () => ({ body: { items: validItem() } }),
    },
    {
      name: 'a missing quantity',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0.quantity'],
      request: () => ({ body: { items: [{ productId: cup.productId }] } }),
    },
    {
      name: 'a quantity given as a string',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0.quantity'],
      request: () => ({ body: { items: [{ ...validItem(), quantity: '1' }] } }),
    },
    {
      name: 'a quantity of zero',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0.quantity'],
      request: () => ({ body: { items: [{ ...validItem(), quantity: 0 }] } }),
    },
    {
      name: 'a fractional quantity',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0.quantity'],
      request: () => ({ body: { items: [{ ...validItem(), quantity: 1.5 }] } }),
    },
    {
      name: 'an invalid product id',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0.productId'],
      request: () => ({ body: { items: [{ ...validItem(), productId: '../products' }] } }),
    },
    {
      name: 'a client-supplied price',
      status: 400,
      code: 'ValidationError',
      paths: ['body.items.0'],
      request: () => ({ body: { items: [{ ...validItem(), unitPrice: { amount: 1, currency: 'EUR' } }] } }),
    },
    {
      name: 'an unknown top-level field',
      status: 400,
      code: 'ValidationError',
      paths: ['body'],
      request: () => ({ body: { items: [validItem()], customerId: 'user-mallory' } }),
    },
    {
      name: 'an oversized body',
      status: 413,
      code: 'PayloadTooLarge',
      paths: [],
      request: () => ({ body: { items: [validItem()], note: oversizedNote } }),
    },
    {
      name: 'a __proto__ key',
      status: 400,
      code: 'BadRequest',
      paths: [],
      request: () => ({ body: `{"items":[${JSON.stringify(validItem())}],"__proto__":{"status":"PAID"}}` }),
    },
    {
      name: 'a nested constructor key',
      status: 400,
      code: 'BadRequest',
      paths: [],
      request: () => ({ body: `{"items":[{"productId":"${cup.productId}","quantity":1,"constructor":{}}]}` }),
    },
  ];

  test.each(cases)(
    'refuses $name with $status and writes no order',
    async ({ request, status, code, paths }) => {
      const sub = newSub();
      const { body, headers } = request();
      const event = orderEvent(sub, body, headers);
      const before = (await ordersOf(sub)).length;

      const response = await invoke(handler, event);

      expect(expectError(response, event, status, code)).toEqual(paths);
      expect((await ordersOf(sub)).length).toBe(before);
    },
  );

  test('accepts the valid order every bad-input case starts from', async () => {
    const sub = newSub();
    const response = await invoke(handler, orderEvent(sub, { items: [validItem()], note: 'fine' }));
    expect(response.statusCode).toBe(201);
    expect(await ordersOf(sub)).toHaveLength(1);
  });
});
