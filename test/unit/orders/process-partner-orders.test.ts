import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, InternalServerError } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { documentClient } from '../../../functions/lib/clients.ts';
import { requireEnv } from '../../../functions/lib/env.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import type { OrderRecord } from '../../../functions/orders/order.ts';
import { PartnerOrderMessage } from '../../../functions/orders/partner-order.ts';
import { handler } from '../../../functions/orders/process-partner-orders.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { type SqsMessageOptions, sqsEvent } from '../../support/sqs-event.ts';

// The consumer's decisions per record, with DynamoDB mocked; test/integration/orders runs it on DynamoDB Local.
const dynamo = mockClient(documentClient);
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');

const catalogue: Record<
  string,
  { productId: string; name: string; price: { amount: number; currency: string } }
> = {
  'green-tea': { productId: 'green-tea', name: 'Green tea', price: { amount: 650, currency: 'EUR' } },
  'oolong-tea': { productId: 'oolong-tea', name: 'Oolong tea', price: { amount: 900, currency: 'EUR' } },
  'diner-mug': { productId: 'diner-mug', name: 'Diner mug', price: { amount: 899, currency: 'USD' } },
};

/** Orders "already in the table": a conditional put on one of these fails as DynamoDB's would. */
let stored: Map<string, OrderRecord>;

beforeEach(() => {
  stored = new Map();
  dynamo.reset();
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.[PRODUCTS_TABLE]?.Keys ?? [];
    const found = keys.flatMap((key) => {
      const product = catalogue[String(key.productId)];
      return product ? [product] : [];
    });
    return { Responses: { [PRODUCTS_TABLE]: found } };
  });
  dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
    const order = input.Item as OrderRecord;
    const existing = stored.get(order.orderId);
    if (existing) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        Item: { orderId: { S: existing.orderId }, customerId: { S: existing.customerId } },
      });
    }
    stored.set(order.orderId, order);
    return {};
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const message = (overrides: Partial<PartnerOrderMessage> = {}): PartnerOrderMessage => ({
  orderId: randomUUID(),
  partnerId: 'k7x2m9q4r1',
  receivedAt: '2025-11-21T10:05:15.102Z',
  order: { items: [{ productId: 'green-tea', quantity: 2 }] },
  ...overrides,
});

async function run(messages: SqsMessageOptions[]) {
  const event = sqsEvent(messages);
  const response = (await handler(event, lambdaContext('ProcessPartnerOrdersFunction'))) as SQSBatchResponse;
  return { ids: event.Records.map((record) => record.messageId), response };
}

const failed = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);
const written = () => dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item as OrderRecord);

describe('a valid partner order message', () => {
  test('is priced from the catalogue and written once for partner#<partnerId>', async () => {
    const sent = message({
      order: {
        items: [
          { productId: 'green-tea', quantity: 2 },
          { productId: 'oolong-tea', quantity: 1 },
        ],
        note: 'Dock 4',
      },
    });

    const { response } = await run([{ body: sent }]);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(written()).toEqual([
      {
        orderId: sent.orderId,
        customerId: 'partner#k7x2m9q4r1',
        status: 'PLACED',
        items: [
          {
            productId: 'green-tea',
            name: 'Green tea',
            quantity: 2,
            unitPrice: { amount: 650, currency: 'EUR' },
          },
          {
            productId: 'oolong-tea',
            name: 'Oolong tea',
            quantity: 1,
            unitPrice: { amount: 900, currency: 'EUR' },
          },
        ],
        total: { amount: 2 * 650 + 900, currency: 'EUR' },
        note: 'Dock 4',
        createdAt: '2025-11-21T10:05:15.102Z',
        source: 'partner',
      },
    ]);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(orderId)',
    );
  });

  test('stores receivedAt in the UTC form of every other order, so the byCustomer index sorts it right', async () => {
    await run([{ body: message({ receivedAt: '2025-11-21T10:05:15Z' }) }]);
    expect(written()[0]?.createdAt).toBe('2025-11-21T10:05:15.000Z');
  });
});

describe('message validation fails exactly the record that is wrong', () => {
  const cases: [string, () => unknown][] = [
    ['malformed JSON', () => `{"orderId":"${randomUUID()}","partnerId":"k7x2m9q4r1"`],
    ['an empty body', () => ''],
    ['a JSON array', () => [message()]],
    ['a missing orderId', () => ({ ...message(), orderId: undefined })],
    ['an orderId that is not a UUID', () => message({ orderId: 'order-1' })],
    ['a partnerId with a separator in it', () => message({ partnerId: 'acme#other' })],
    ['a receivedAt that is not ISO 8601', () => message({ receivedAt: '21/Nov/2025:10:05:15 +0000' })],
    ['no items', () => message({ order: { items: [] } })],
    ['a quantity of zero', () => message({ order: { items: [{ productId: 'green-tea', quantity: 0 }] } })],
    [
      'the same product twice',
      () =>
        message({
          order: {
            items: [
              { productId: 'green-tea', quantity: 1 },
              { productId: 'green-tea', quantity: 1 },
            ],
          },
        }),
    ],
    [
      'a price supplied by the partner',
      () => ({
        ...message(),
        order: {
          items: [{ productId: 'green-tea', quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } }],
        },
      }),
    ],
    ['an unknown envelope field', () => ({ ...message(), customerId: 'user-mallory' })],
    ['a __proto__ key', () => `{"__proto__":{"status":"PAID"},${JSON.stringify(message()).slice(1)}`],
  ];

  test.each(cases)('%s', async (_name, body) => {
    const good = message();
    const { ids, response } = await run([{ body: good }, { body: body() }, { body: message() }]);

    expect(failed(response)).toEqual([ids[1]]);
    expect(written().map((order) => order.orderId)).toEqual(expect.arrayContaining([good.orderId]));
    expect(written()).toHaveLength(2);
  });

  test('a refused message is logged with its message id and the reason per field', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const { ids } = await run([{ body: message({ orderId: 'order-1' }), receiveCount: 3 }]);
    expect(warn).toHaveBeenCalledWith('Partner order refused', {
      messageId: ids[0],
      receiveCount: '3',
      code: 'ValidationError',
      reason: expect.any(String),
      details: [{ path: 'body.orderId', message: 'Must be a UUID' }],
    });
  });

  test('the message schema accepts what the consumer places, and nothing with extra fields', () => {
    expect(PartnerOrderMessage.safeParse(message()).success).toBe(true);
    expect(PartnerOrderMessage.safeParse({ ...message(), extra: 1 }).success).toBe(false);
  });
});

describe('a batch of good, poison and duplicate messages', () => {
  test('reports only the poison messages as failed; the duplicate succeeds without a second order', async () => {
    const first = message();
    const second = message({ partnerId: 'acme-wholesale' });
    const redelivered = message();
    stored.set(redelivered.orderId, {
      orderId: redelivered.orderId,
      customerId: 'partner#k7x2m9q4r1',
      status: 'PLACED',
      items: [],
      total: { amount: 1300, currency: 'EUR' },
      createdAt: redelivered.receivedAt,
      source: 'partner',
    });

    const { ids, response } = await run([
      { body: first },
      { body: '{not json' },
      { body: redelivered, receiveCount: 2 },
      { body: message({ order: { items: [{ productId: 'no-such-tea', quantity: 1 }] } }) },
      { body: second },
      { body: message({ orderId: 'not-a-uuid' }) },
    ]);

    expect(failed(response).sort()).toEqual([ids[1], ids[3], ids[5]].sort());
    expect([...stored.keys()].sort()).toEqual([first.orderId, second.orderId, redelivered.orderId].sort());
    expect(stored.get(redelivered.orderId)?.items).toEqual([]);
    expect(stored.get(second.orderId)?.customerId).toBe('partner#acme-wholesale');
  });

  test('a message sent twice in one batch places one order and both records succeed', async () => {
    const sent = message();
    const { response } = await run([{ body: sent }, { body: sent }]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stored.size).toBe(1);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(2);
  });

  test('a batch that fails entirely lists every record instead of failing the invocation', async () => {
    const { ids, response } = await run([{ body: 'null' }, { body: '[]' }]);
    expect(failed(response).sort()).toEqual([...ids].sort());
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('records that cannot be placed', () => {
  test('a product missing from the catalogue or mixed currencies fail that record and write nothing', async () => {
    const { ids, response } = await run([
      { body: message({ order: { items: [{ productId: 'no-such-tea', quantity: 1 }] } }) },
      {
        body: message({
          order: {
            items: [
              { productId: 'green-tea', quantity: 1 },
              { productId: 'diner-mug', quantity: 1 },
            ],
          },
        }),
      },
    ]);
    expect(failed(response).sort()).toEqual([...ids].sort());
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('an order id that belongs to another customer is never overwritten and fails the record', async () => {
    const sent = message();
    stored.set(sent.orderId, {
      orderId: sent.orderId,
      customerId: 'user-alice',
      status: 'PLACED',
      items: [],
      total: { amount: 0, currency: 'EUR' },
      createdAt: sent.receivedAt,
    });
    const { ids, response } = await run([{ body: sent }]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(stored.get(sent.orderId)?.customerId).toBe('user-alice');
  });

  test('a DynamoDB failure fails the record (to be retried) and is logged in full', async () => {
    const failure = new InternalServerError({ message: 'Internal server error', $metadata: {} });
    dynamo.on(PutCommand).rejects(failure);
    const logged = vi.spyOn(logger, 'error');
    const good = message();
    const { ids, response } = await run([{ body: good }]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(logged).toHaveBeenCalledWith('Partner order failed', { messageId: ids[0], error: failure });
  });
});
