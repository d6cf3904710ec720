import { beforeAll, describe, expect, test } from 'vitest';
import { handler } from '../../../functions/orders/list-orders.ts';
import type { OrderRecord } from '../../../functions/orders/order.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { expectError, invoke, newSub, seedOrder, viewOf } from '../../support/tables.ts';

interface Page {
  items: Omit<OrderRecord, 'customerId'>[];
  nextCursor?: string;
}

const listEvent = (sub: string, queryStringParameters?: Record<string, string>) =>
  httpApiEvent({ routeKey: 'GET /orders', sub, queryStringParameters });

const alice = newSub();
const bob = newSub();
/** Alice's orders, newest first. */
let aliceOrders: OrderRecord[];
let bobOrders: OrderRecord[];

beforeAll(async () => {
  const day = (n: number) => `2025-11-0${n}T09:00:00.000Z`;
  // Stored out of order, so the listing's order comes from createdAt and not from insertion.
  const stored = [];
  for (const n of [3, 1, 5, 2, 4]) stored.push(await seedOrder(alice, day(n)));
  aliceOrders = stored.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  bobOrders = [await seedOrder(bob, day(6)), await seedOrder(bob, day(1))];
});

const idsOf = (orders: { orderId: string }[]) => orders.map((order) => order.orderId);

describe('GET /orders', () => {
  test("lists the caller's orders newest first, without the owner's id", async () => {
    const response = await invoke<Page>(handler, listEvent(alice));

    expect(response.statusCode).toBe(200);
    expect(idsOf(response.body.items)).toEqual(idsOf(aliceOrders));
    expect(response.body.items).toEqual(aliceOrders.map(viewOf));
    expect(response.body).not.toHaveProperty('nextCursor');
  });

  test('pages through all orders with limit=2, each exactly once, until there is no cursor', async () => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const query: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) };
      const response = await invoke<Page>(handler, listEvent(alice, query));
      expect(response.statusCode).toBe(200);
      pages.push(idsOf(response.body.items));
      cursor = response.body.nextCursor;
    } while (cursor !== undefined && pages.length <= aliceOrders.length);

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(idsOf(aliceOrders));
  });

  test("never shows another customer's orders", async () => {
    const forBob = await invoke<Page>(handler, listEvent(bob));
    expect(idsOf(forBob.body.items)).toEqual(idsOf(bobOrders));

    const forAlice = await invoke<Page>(handler, listEvent(alice));
    expect(idsOf(forAlice.body.items)).not.toContain(bobOrders[0]?.orderId);
    expect(idsOf(forAlice.body.items)).not.toContain(bobOrders[1]?.orderId);
  });

  test('answers a caller without orders with an empty list', async () => {
    const response = await invoke<Page>(handler, listEvent(newSub()));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ items: [] });
  });

  test.each(['0', '101', 'abc', '2.5', '-1'])('refuses limit=%s with 400', async (limit) => {
    const event = listEvent(alice, { limit });
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['query.limit']);
  });

  test('accepts the largest limit, 100', async () => {
    const response = await invoke<Page>(handler, listEvent(alice, { limit: '100' }));
    expect(idsOf(response.body.items)).toEqual(idsOf(aliceOrders));
  });

  test('refuses an unknown query parameter with 400', async () => {
    const event = listEvent(alice, { customerId: bob });
    expectError(await invoke(handler, event), event, 400, 'ValidationError');
  });

  test.each([
    ['garbage', () => 'not-a-cursor'],
    ['a truncated cursor', (cursor: string) => cursor.slice(0, cursor.length - 6)],
    [
      'a cursor with an extra attribute',
      (cursor: string) => reencode(cursor, (key) => ({ ...key, status: 'PLACED' })),
    ],
    [
      "a cursor rewritten to another customer's partition",
      (cursor: string) => reencode(cursor, (key) => ({ ...key, customerId: bob })),
    ],
  ])('refuses %s with 400', async (_name, tamper) => {
    const event = listEvent(alice, { limit: '2', cursor: tamper(await firstCursor(alice)) });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual(['query.cursor']);
  });

  test('refuses a cursor obtained by another customer with 400', async () => {
    const event = listEvent(bob, { limit: '2', cursor: await firstCursor(alice) });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual(['query.cursor']);
  });
});

async function firstCursor(sub: string): Promise<string> {
  const response = await invoke<Page>(handler, listEvent(sub, { limit: '2' }));
  if (response.body.nextCursor === undefined) throw new Error('Expected a second page');
  return response.body.nextCursor;
}

function reencode(cursor: string, change: (key: Record<string, unknown>) => Record<string, unknown>): string {
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify(change(key))).toString('base64url');
}
