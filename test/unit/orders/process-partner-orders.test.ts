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
import type { CreateOrderInput, OrderRecord } from '../../../functions/orders/order.ts';
import { PartnerOrderAttributes } from '../../../functions/orders/partner-order.ts';
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

/** A partner order as the REST API receives it: its envelope (the message attributes) and the order (the body). */
interface Sent {
  orderId: string;
  partnerId: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  order: CreateOrderInput;
}

const RECEIVED_AT = '2025-11-21T10:05:15.102Z';

const message = (overrides: Partial<Sent> = {}): Sent => ({
  orderId: randomUUID(),
  partnerId: 'k7x2m9q4r1',
  receivedAt: Date.parse(RECEIVED_AT),
  order: { items: [{ productId: 'green-tea', quantity: 2 }] },
  ...overrides,
});

/** The SQS message the REST API's `POST /orders` integration makes of it (`orderId`/`partnerId` String, `receivedAt` Number). */
const queued = (
  { orderId, partnerId, receivedAt, order }: Sent,
  options: Partial<SqsMessageOptions> = {},
): SqsMessageOptions => ({ body: order, messageAttributes: { orderId, partnerId, receivedAt }, ...options });

async function run(messages: (Sent | SqsMessageOptions)[]) {
  const event = sqsEvent(messages.map((sent) => ('body' in sent ? sent : queued(sent))));
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

    const { response } = await run([sent]);

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
        createdAt: RECEIVED_AT,
        source: 'partner',
      },
    ]);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(orderId)',
    );
  });

  test('is created at receivedAt (epoch ms), in the ISO 8601 UTC form every other order has', async () => {
    await run([message({ receivedAt: 1_763_719_515_000 }), message({ receivedAt: 0 })]);
    expect(written().map((order) => order.createdAt)).toEqual([
      '2025-11-21T10:05:15.000Z',
      '1970-01-01T00:00:00.000Z',
    ]);
  });

  test('may carry other message attributes, which are ignored', async () => {
    const sent = message();
    const { response } = await run([
      queued(sent, {
        messageAttributes: {
          orderId: sent.orderId,
          partnerId: sent.partnerId,
          receivedAt: sent.receivedAt,
          customerId: 'user-mallory',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
      }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(written()[0]?.customerId).toBe('partner#k7x2m9q4r1');
  });
});

describe('message validation fails exactly the record that is wrong', () => {
  /** A message whose attributes are the good ones of a fresh message, changed by `change`. */
  const withAttributes = (change: (attributes: Record<string, unknown>) => void): SqsMessageOptions => {
    const sent = message();
    const attributes: Record<string, unknown> = {
      orderId: sent.orderId,
      partnerId: sent.partnerId,
      receivedAt: sent.receivedAt,
    };
    change(attributes);
    return queued(sent, { messageAttributes: attributes as SqsMessageOptions['messageAttributes'] });
  };
  const withBody = (body: unknown): SqsMessageOptions => queued(message(), { body });

  const cases: [string, () => SqsMessageOptions, string][] = [
    ['malformed JSON', () => withBody('{"items":[{"productId":"green-tea"'), 'BadRequest'],
    ['an empty body', () => withBody(''), 'BadRequest'],
    ['a JSON null', () => withBody('null'), 'ValidationError'],
    ['a JSON array', () => withBody([message().order]), 'ValidationError'],
    ['no items', () => withBody({ items: [] }), 'ValidationError'],
    [
      'a quantity of zero',
      () => withBody({ items: [{ productId: 'green-tea', quantity: 0 }] }),
      'ValidationError',
    ],
    [
      'the same product twice',
      () =>
        withBody({
          items: [
            { productId: 'green-tea', quantity: 1 },
            { productId: 'green-tea', quantity: 1 },
          ],
        }),
      'ValidationError',
    ],
    [
      'a price supplied by the partner',
      () =>
        withBody({
          items: [{ productId: 'green-tea', quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } }],
        }),
      'ValidationError',
    ],
    [
      'the old envelope in the body',
      () =>
        withBody({
          orderId: randomUUID(),
          partnerId: 'k7x2m9q4r1',
          receivedAt: RECEIVED_AT,
          order: message().order,
        }),
      'ValidationError',
    ],
    [
      'an unknown body field',
      () => withBody({ ...message().order, customerId: 'user-mallory' }),
      'ValidationError',
    ],
    [
      'a __proto__ key',
      () => withBody(`{"__proto__":{"status":"PAID"},${JSON.stringify(message().order).slice(1)}`),
      'ValidationError',
    ],
    ['no message attributes at all', () => queued(message(), { messageAttributes: {} }), 'ValidationError'],
    ['a missing orderId', () => withAttributes((a) => delete a.orderId), 'ValidationError'],
    [
      'an orderId that is not a UUID',
      () => withAttributes((a) => (a.orderId = 'order-1')),
      'ValidationError',
    ],
    [
      'an orderId sent as a Number',
      () => withAttributes((a) => (a.orderId = { dataType: 'Number', stringValue: String(a.orderId) })),
      'ValidationError',
    ],
    ['a missing partnerId', () => withAttributes((a) => delete a.partnerId), 'ValidationError'],
    [
      'a partnerId with a separator in it',
      () => withAttributes((a) => (a.partnerId = 'acme#other')),
      'ValidationError',
    ],
    ['a missing receivedAt', () => withAttributes((a) => delete a.receivedAt), 'ValidationError'],
    [
      'a receivedAt sent as a String',
      () => withAttributes((a) => (a.receivedAt = String(a.receivedAt))),
      'ValidationError',
    ],
    [
      'a receivedAt that is an ISO 8601 date, not epoch milliseconds',
      () => withAttributes((a) => (a.receivedAt = { dataType: 'Number', stringValue: RECEIVED_AT })),
      'ValidationError',
    ],
    [
      'a receivedAt in scientific notation',
      () => withAttributes((a) => (a.receivedAt = 1.7e21)),
      'ValidationError',
    ],
    [
      'a receivedAt that is negative',
      () => withAttributes((a) => (a.receivedAt = { dataType: 'Number', stringValue: '-1' })),
      'ValidationError',
    ],
  ];

  test.each(cases)('%s', async (_name, poison, code) => {
    const warn = vi.spyOn(logger, 'warn');
    const good = message();
    const { ids, response } = await run([good, poison(), message()]);

    expect(failed(response)).toEqual([ids[1]]);
    expect(written().map((order) => order.orderId)).toEqual(expect.arrayContaining([good.orderId]));
    expect(written()).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(
      'Partner order refused',
      expect.objectContaining({ messageId: ids[1], code }),
    );
  });

  test('a refused message is logged with its message id and the reason per attribute', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const { ids } = await run([queued(message({ orderId: 'order-1' }), { receiveCount: 3 })]);
    expect(warn).toHaveBeenCalledWith('Partner order refused', {
      messageId: ids[0],
      receiveCount: '3',
      code: 'ValidationError',
      reason: expect.any(String),
      details: [{ path: 'messageAttributes.orderId.stringValue', message: 'Must be a UUID' }],
    });
  });

  test('a missing attribute and one of the wrong type are named in the details', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const sent = message();
    await run([
      queued(sent, { messageAttributes: { orderId: sent.orderId, receivedAt: String(sent.receivedAt) } }),
    ]);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({
      details: [
        { path: 'messageAttributes.partnerId', message: 'Missing (a String attribute)' },
        { path: 'messageAttributes.receivedAt.dataType', message: 'Must be a Number attribute' },
      ],
    });
  });

  test('the attribute schema takes what Lambda delivers and gives the envelope', () => {
    const sent = message();
    const [record] = sqsEvent([queued(sent)]).Records;
    expect(PartnerOrderAttributes.parse(record?.messageAttributes)).toEqual({
      orderId: sent.orderId,
      partnerId: sent.partnerId,
      receivedAt: sent.receivedAt,
    });
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
      createdAt: RECEIVED_AT,
      source: 'partner',
    });

    const { ids, response } = await run([
      first,
      queued(message(), { body: '{not json' }),
      queued(redelivered, { receiveCount: 2 }),
      message({ order: { items: [{ productId: 'no-such-tea', quantity: 1 }] } }),
      second,
      message({ orderId: 'not-a-uuid' }),
    ]);

    expect(failed(response).sort()).toEqual([ids[1], ids[3], ids[5]].sort());
    expect([...stored.keys()].sort()).toEqual([first.orderId, second.orderId, redelivered.orderId].sort());
    expect(stored.get(redelivered.orderId)?.items).toEqual([]);
    expect(stored.get(second.orderId)?.customerId).toBe('partner#acme-wholesale');
  });

  test('a message sent twice in one batch places one order and both records succeed', async () => {
    const sent = message();
    const { response } = await run([sent, sent]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stored.size).toBe(1);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(2);
  });

  test('a batch that fails entirely lists every record instead of failing the invocation', async () => {
    const { ids, response } = await run([
      queued(message(), { body: 'null' }),
      queued(message(), { messageAttributes: {} }),
    ]);
    expect(failed(response).sort()).toEqual([...ids].sort());
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('records that cannot be placed', () => {
  test('a product missing from the catalogue or mixed currencies fail that record and write nothing', async () => {
    const { ids, response } = await run([
      message({ order: { items: [{ productId: 'no-such-tea', quantity: 1 }] } }),
      message({
        order: {
          items: [
            { productId: 'green-tea', quantity: 1 },
            { productId: 'diner-mug', quantity: 1 },
          ],
        },
      }),
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
      createdAt: RECEIVED_AT,
    });
    const { ids, response } = await run([sent]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(stored.get(sent.orderId)?.customerId).toBe('user-alice');
  });

  test('a DynamoDB failure fails the record (to be retried) and is logged in full', async () => {
    const failure = new InternalServerError({ message: 'Internal server error', $metadata: {} });
    dynamo.on(PutCommand).rejects(failure);
    const logged = vi.spyOn(logger, 'error');
    const { ids, response } = await run([message()]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(logged).toHaveBeenCalledWith('Partner order failed', { messageId: ids[0], error: failure });
  });
});
