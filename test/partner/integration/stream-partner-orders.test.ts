import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, test } from 'vitest';
import type { OrderRecord, RejectedOrderRecord, StoredOrder } from '../../../functions/orders/order.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { invokeStreaming, ndjsonLines } from '../../support/streaming-handler.ts';
import { db, tables } from '../../support/tables.ts';

// After the support module above: the handler's module calls awslambda.streamifyResponse as it loads.
const { handler } = await import('../../../functions/orders/stream-partner-orders.ts');

const partner = `p-${randomUUID().slice(0, 8)}`;
const other = `p-${randomUUID().slice(0, 8)}`;
/** More than two of the handler's 100-order pages. */
const ORDER_COUNT = 230;

const at = (second: number) => new Date(Date.UTC(2025, 10, 1, 9, 0, second)).toISOString();

function placed(partnerId: string, createdAt: string): OrderRecord {
  return {
    orderId: randomUUID(),
    customerId: `partner#${partnerId}`,
    status: 'PLACED',
    items: [
      { productId: 'green-tea', name: 'Green tea', quantity: 2, unitPrice: { amount: 450, currency: 'EUR' } },
    ],
    total: { amount: 900, currency: 'EUR' },
    note: 'for the shop',
    createdAt,
    source: 'partner',
  };
}

const rejected = (partnerId: string, createdAt: string): RejectedOrderRecord => ({
  orderId: randomUUID(),
  customerId: `partner#${partnerId}`,
  status: 'REJECTED',
  reasons: [{ path: 'body.items.0.productId', message: 'Unknown product' }],
  createdAt,
  source: 'partner',
});

/** The partner's orders, newest first; stored out of order, so the order of the stream is the index's. */
let orders: StoredOrder[];

async function store(items: StoredOrder[]) {
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    await db.send(new BatchWriteCommand({ RequestItems: { [tables.orders]: batch } }));
  }
}

beforeAll(async () => {
  orders = Array.from({ length: ORDER_COUNT }, (_, second) =>
    second % 10 === 3 ? rejected(partner, at(second)) : placed(partner, at(second)),
  );
  await store([...orders].sort(() => Math.random() - 0.5));
  await store([placed(other, at(5)), placed(other, at(ORDER_COUNT + 1))]);
  orders.reverse();
}, 60_000);

const streamEvent = (queryStringParameters?: Record<string, string>, apiKeyId = partner) =>
  restApiEvent({
    route: 'GET /orders',
    apiKeyId,
    ...(queryStringParameters ? { queryStringParameters } : {}),
  });

/** What a partner is shown of an order: all of it but the owner and the source. */
const viewOf = ({ customerId: _owner, source: _source, ...view }: StoredOrder) => view;

describe('GET /orders (partner REST API, streamed)', () => {
  test("streams the partner's orders, placed and rejected, newest first, one JSON order per line", async () => {
    const answer = await invokeStreaming(handler, streamEvent());
    expect(answer.error).toBeUndefined();
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({
      'content-type': 'application/x-ndjson',
      'access-control-allow-origin': expect.any(String),
    });
    expect(answer.body.endsWith('\n')).toBe(true);
    expect(ndjsonLines(answer.body)).toEqual(orders.map(viewOf));
  });

  test('writes a page at a time, as each Query answers, rather than the whole list at the end', async () => {
    const { writes } = await invokeStreaming(handler, streamEvent());
    expect(writes.map((write) => ndjsonLines(write).length)).toEqual([100, 100, ORDER_COUNT - 200]);
  });

  test("never shows another partner's orders, nor this partner's to another", async () => {
    const mine = ndjsonLines((await invokeStreaming(handler, streamEvent())).body) as { orderId: string }[];
    const theirs = ndjsonLines((await invokeStreaming(handler, streamEvent(undefined, other))).body) as {
      orderId: string;
    }[];
    expect(theirs).toHaveLength(2);
    expect(mine.map((order) => order.orderId)).not.toEqual(expect.arrayContaining([theirs[0]?.orderId]));
    expect(theirs.map((order) => order.orderId)).not.toContain(orders[0]?.orderId);
  });

  test('since keeps the orders created at or after it, whether or not it gives milliseconds', async () => {
    for (const since of ['2025-11-01T09:03:40Z', '2025-11-01T09:03:40.000Z']) {
      const answer = await invokeStreaming(handler, streamEvent({ since }));
      expect(ndjsonLines(answer.body)).toEqual(
        orders.filter((order) => order.createdAt >= at(220)).map(viewOf),
      );
    }
  });

  test('a partner without orders gets a 200 with an empty body', async () => {
    const answer = await invokeStreaming(handler, streamEvent(undefined, `p-${randomUUID().slice(0, 8)}`));
    expect({ statusCode: answer.statusCode, body: answer.body }).toEqual({ statusCode: 200, body: '' });
  });

  test.each([
    [{ since: 'yesterday' }, 'query.since'],
    [{ since: '2025-02-30T00:00:00Z' }, 'query.since'],
    [{ since: '2025-11-21T10:00:00+01:00' }, 'query.since'],
    [{ since: '' }, 'query.since'],
    [{ limit: '10' }, 'query'],
    // An own `__proto__` key, as a query string brings it (an object literal would set the prototype).
    [JSON.parse('{"__proto__":"x"}'), 'query'],
  ])('refuses the query %j with 400 in the error shape, before streaming anything', async (query, path) => {
    const event = streamEvent(query);
    const answer = await invokeStreaming(handler, event);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        code: 'ValidationError',
        message: 'The request is not valid',
        details: [{ path, message: expect.any(String) }],
      },
      requestId: event.requestContext.requestId,
    });
  });

  test('a request without an API key id is a 403 in the error shape', async () => {
    const event = streamEvent();
    event.requestContext.identity.apiKeyId = null;
    const answer = await invokeStreaming(handler, event);
    expect(answer.statusCode).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: 'Forbidden' },
      requestId: event.requestContext.requestId,
    });
  });
});
