import { randomUUID } from 'node:crypto';
import { DeleteCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { beforeAll, expect, test } from 'vitest';
import { requireEnv } from '../../../functions/lib/env.ts';
import { handler } from '../../../functions/orders/create-order.ts';
import type { OrderRecord } from '../../../functions/orders/order.ts';
import type { ProductRecord } from '../../../functions/products/product.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { db, expectError, invoke, newSub, ordersOf, seedProduct } from '../../support/tables.ts';

/**
 * A retry after a crash between the order's write and the completion of its idempotency record (found by the
 * DynamoDB Local restart in test/orders/faults): the order exists, the record does not say COMPLETED (Powertools
 * deletes it when the invocation fails), so the retry runs the handler again. It must answer with the order
 * already placed, not place a second one.
 */
type OrderView = Omit<OrderRecord, 'customerId'>;
const IDEMPOTENCY_TABLE = requireEnv('IDEMPOTENCY_TABLE');

let cup: ProductRecord;

beforeAll(async () => {
  cup = await seedProduct({ name: 'Espresso cup', price: { amount: 1250, currency: 'EUR' } });
});

const orderEvent = (sub: string, quantity: number, key: string) =>
  httpApiEvent({
    routeKey: 'POST /orders',
    sub,
    body: { items: [{ productId: cup.productId, quantity }], note: 'after a crash' },
    headers: { 'idempotency-key': key },
  });

/** The state a failed invocation leaves once Powertools has released its record: the order, and no record. */
async function forgetIdempotencyRecordOf(orderId: string): Promise<void> {
  for await (const page of paginateScan({ client: db }, { TableName: IDEMPOTENCY_TABLE })) {
    for (const record of page.Items ?? []) {
      if (String(record.data?.body).includes(orderId)) {
        await db.send(new DeleteCommand({ TableName: IDEMPOTENCY_TABLE, Key: { id: record.id } }));
        return;
      }
    }
  }
  throw new Error(`No idempotency record for ${orderId}`);
}

test('the retry is answered with the order the failed attempt placed, and no second order is stored', async () => {
  const [sub, key] = [newSub(), `crash-${randomUUID()}`];
  const first = await invoke<OrderView>(handler, orderEvent(sub, 2, key));
  expect(first.statusCode).toBe(201);
  await forgetIdempotencyRecordOf(first.body.orderId);

  const retry = await invoke<OrderView>(handler, orderEvent(sub, 2, key));

  expect(retry.statusCode).toBe(201);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers.location).toBe(`/orders/${first.body.orderId}`);
  expect((await ordersOf(sub)).map((order) => order.orderId)).toEqual([first.body.orderId]);
});

test('a retry with the same key but another order is refused with 422 IdempotencyKeyReused', async () => {
  const [sub, key] = [newSub(), `crash-${randomUUID()}`];
  const first = await invoke<OrderView>(handler, orderEvent(sub, 2, key));
  await forgetIdempotencyRecordOf(first.body.orderId);

  const event = orderEvent(sub, 3, key);
  expectError(await invoke(handler, event), event, 422, 'IdempotencyKeyReused');
  expect(await ordersOf(sub)).toEqual([expect.objectContaining({ orderId: first.body.orderId })]);
});

test('the same key of two users names two orders', async () => {
  const key = `shared-${randomUUID()}`;
  const [alice, bob] = [newSub(), newSub()];
  const forAlice = await invoke<OrderView>(handler, orderEvent(alice, 1, key));
  await forgetIdempotencyRecordOf(forAlice.body.orderId);
  const forBob = await invoke<OrderView>(handler, orderEvent(bob, 1, key));
  expect([forAlice.statusCode, forBob.statusCode]).toEqual([201, 201]);
  expect(forBob.body.orderId).not.toBe(forAlice.body.orderId);
});
