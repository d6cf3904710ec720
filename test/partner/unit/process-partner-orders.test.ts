import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, InternalServerError } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { documentClient } from '../../../functions/lib/clients.ts';
import { requireEnv } from '../../../functions/lib/env.ts';
import { logger, metrics } from '../../../functions/lib/powertools.ts';
import type {
  CreateOrderInput,
  OrderLine,
  OrderRecord,
  RejectedOrderRecord,
  StoredOrder,
} from '../../../functions/orders/order.ts';
import { PartnerOrderAttributes } from '../../../functions/orders/partner-order.ts';
import { handler } from '../../../functions/orders/process-partner-orders.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { type SqsMessageOptions, sqsEvent } from '../../support/sqs-event.ts';

// The consumer's decisions per record, with DynamoDB mocked; test/partner/integration runs it on DynamoDB Local.
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

/** Orders "already in the table": a conditional put on one of these fails as DynamoDB's would (ALL_OLD). */
let stored: Map<string, StoredOrder>;

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
    const order = input.Item as StoredOrder;
    const existing = stored.get(order.orderId);
    if (existing) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        Item: marshall(existing, { removeUndefinedValues: true }),
      });
    }
    stored.set(order.orderId, order);
    return {};
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A partner order as the REST API queues it: its id (the MessageId SQS gives it), envelope and order. */
interface Sent {
  messageId: string;
  partnerId: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  order: CreateOrderInput;
}

const RECEIVED_AT = '2025-11-21T10:05:15.102Z';
const PARTNER = 'k7x2m9q4r1';

const message = (overrides: Partial<Sent> = {}): Sent => ({
  messageId: randomUUID(),
  partnerId: PARTNER,
  receivedAt: Date.parse(RECEIVED_AT),
  order: { items: [{ productId: 'green-tea', quantity: 2 }] },
  ...overrides,
});

/** The SQS message the REST API's `POST /orders` integration makes of it (`partnerId` String, `receivedAt` Number). */
const queued = (
  { messageId, partnerId, receivedAt, order }: Sent,
  options: Partial<SqsMessageOptions> = {},
): SqsMessageOptions => ({
  messageId,
  body: order,
  messageAttributes: { partnerId, receivedAt },
  ...options,
});

async function run(messages: (Sent | SqsMessageOptions)[]) {
  const event = sqsEvent(messages.map((sent) => ('body' in sent ? sent : queued(sent))));
  const response = (await handler(event, lambdaContext('ProcessPartnerOrdersFunction'))) as SQSBatchResponse;
  return { ids: event.Records.map((record) => record.messageId), response };
}

const failed = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);
const written = () => dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item as StoredOrder);
/** How often the handler added the metric `name`, as seen by a spy on metrics.addMetric. */
const counted = (spy: { mock: { calls: unknown[][] } }, name: string) =>
  spy.mock.calls.filter(([metric]) => metric === name).length;

/** The order a valid message `sent` becomes, stored as the consumer writes it. */
const placedOf = (sent: Sent): OrderRecord => ({
  orderId: sent.messageId,
  customerId: `partner#${sent.partnerId}`,
  status: 'PLACED',
  items: sent.order.items.map(({ productId, quantity }) => ({
    productId,
    name: catalogue[productId]?.name ?? '',
    quantity,
    unitPrice: catalogue[productId]?.price ?? { amount: 0, currency: '' },
  })),
  total: { amount: 1300, currency: 'EUR' },
  ...(sent.order.note === undefined ? {} : { note: sent.order.note }),
  createdAt: new Date(sent.receivedAt).toISOString(),
  source: 'partner',
});

describe('a valid partner order message', () => {
  test('is priced from the catalogue and written once for partner#<partnerId>, under its MessageId', async () => {
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
    expect(written()).toEqual([{ ...placedOf(sent), total: { amount: 2 * 650 + 900, currency: 'EUR' } }]);
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

  test('may carry other message attributes, which are ignored: an orderId attribute never names the order', async () => {
    const sent = message();
    const chosen = randomUUID();
    const { response } = await run([
      queued(sent, {
        messageAttributes: {
          orderId: chosen,
          partnerId: sent.partnerId,
          receivedAt: sent.receivedAt,
          customerId: 'user-mallory',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
      }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(written()).toEqual([placedOf(sent)]);
    expect(stored.has(chosen)).toBe(false);
  });

  test('two messages with the same content are two orders (each its own MessageId)', async () => {
    const first = message();
    const second = { ...first, messageId: randomUUID() };
    const { response } = await run([first, second]);
    expect(response.batchItemFailures).toEqual([]);
    expect([...stored.keys()].sort()).toEqual([first.messageId, second.messageId].sort());
  });
});

describe('an order the consumer can never accept is recorded as REJECTED with its reasons, and succeeds', () => {
  const withBody = (body: unknown): SqsMessageOptions => queued(message(), { body });

  const cases: [string, () => SqsMessageOptions][] = [
    ['malformed JSON', () => withBody('{"items":[{"productId":"green-tea"')],
    ['an empty body', () => withBody('')],
    ['a JSON null', () => withBody('null')],
    ['a JSON array', () => withBody([message().order])],
    ['no items', () => withBody({ items: [] })],
    [
      '26 lines',
      () =>
        withBody({ items: Array.from({ length: 26 }, (_, i) => ({ productId: `tea-${i}`, quantity: 1 })) }),
    ],
    ['a quantity of zero', () => withBody({ items: [{ productId: 'green-tea', quantity: 0 }] })],
    ['a note over 500 characters', () => withBody({ ...message().order, note: 'x'.repeat(501) })],
    [
      'the same product twice',
      () =>
        withBody({
          items: [
            { productId: 'green-tea', quantity: 1 },
            { productId: 'green-tea', quantity: 1 },
          ],
        }),
    ],
    [
      'a price supplied by the partner',
      () =>
        withBody({
          items: [{ productId: 'green-tea', quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } }],
        }),
    ],
    [
      'the old envelope in the body',
      () =>
        withBody({
          orderId: randomUUID(),
          partnerId: PARTNER,
          receivedAt: RECEIVED_AT,
          order: message().order,
        }),
    ],
    ['an unknown body field', () => withBody({ ...message().order, customerId: 'user-mallory' })],
    [
      'a __proto__ key',
      () => withBody(`{"__proto__":{"status":"PAID"},${JSON.stringify(message().order).slice(1)}`),
    ],
    [
      'a product missing from the catalogue',
      () => withBody({ items: [{ productId: 'no-such-tea', quantity: 1 }] }),
    ],
    [
      'products priced in two currencies',
      () =>
        withBody({
          items: [
            { productId: 'green-tea', quantity: 1 },
            { productId: 'diner-mug', quantity: 1 },
          ],
        }),
    ],
  ];

  test.each(cases)('%s', async (_name, poison) => {
    const rejections = vi.spyOn(metrics, 'addMetric');
    const good = message();
    const bad = poison();
    const { ids, response } = await run([good, bad, message()]);

    expect(response.batchItemFailures).toEqual([]);
    expect(written()).toHaveLength(3);
    const rejected = stored.get(ids[1] as string);
    expect(rejected).toEqual({
      orderId: ids[1],
      customerId: `partner#${PARTNER}`,
      status: 'REJECTED',
      reasons: expect.arrayContaining([
        { path: expect.stringMatching(/^body/), message: expect.any(String) },
      ]),
      createdAt: RECEIVED_AT,
      source: 'partner',
    } satisfies Record<keyof RejectedOrderRecord, unknown>);
    expect(stored.get(good.messageId)?.status).toBe('PLACED');
    expect(counted(rejections, 'PartnerOrderRejected')).toBe(1);
    expect(counted(rejections, 'PartnerOrderCreated')).toBe(2);
  });

  test('each reason names the field and what is wrong with it', async () => {
    const reasonsFor = async (body: unknown) => {
      const sent = queued(message(), { body });
      await run([sent]);
      return (stored.get(String(sent.messageId)) as RejectedOrderRecord).reasons;
    };
    expect(await reasonsFor('{not json')).toEqual([
      { path: 'body', message: 'The message body is not valid JSON' },
    ]);
    expect(
      await reasonsFor({
        items: [
          { productId: 'green-tea', quantity: 0 },
          { productId: 'Oolong Tea', quantity: 1 },
        ],
      }),
    ).toEqual([
      { path: 'body.items.0.quantity', message: expect.stringMatching(/>=\s*1/) },
      { path: 'body.items.1.productId', message: 'Must be 1-64 lower-case letters, digits or hyphens' },
    ]);
    expect(
      await reasonsFor({
        items: [
          { productId: 'green-tea', quantity: 1 },
          { productId: 'no-such-tea', quantity: 1 },
        ],
      }),
    ).toEqual([{ path: 'body.items.1.productId', message: 'No product no-such-tea' }]);
    expect(
      await reasonsFor({
        items: [
          { productId: 'green-tea', quantity: 1 },
          { productId: 'diner-mug', quantity: 1 },
        ],
      }),
    ).toEqual([{ path: 'body', message: 'All products of one order must be priced in the same currency' }]);
  });

  test('a rejection is logged with its message id, order id, partner and reasons', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const sent = message();
    await run([queued(sent, { body: '{', receiveCount: 3 })]);
    expect(warn).toHaveBeenCalledWith('Partner order rejected', {
      messageId: sent.messageId,
      orderId: sent.messageId,
      partnerId: PARTNER,
      receiveCount: '3',
      reasons: [{ path: 'body', message: 'The message body is not valid JSON' }],
    });
  });
});

describe('a message that no partner can be found for fails (to the dead-letter queue, which pages)', () => {
  /** A message whose attributes are the good ones of a fresh message, changed by `change`. */
  const withAttributes = (change: (attributes: Record<string, unknown>) => void): SqsMessageOptions => {
    const sent = message();
    const attributes: Record<string, unknown> = { partnerId: sent.partnerId, receivedAt: sent.receivedAt };
    change(attributes);
    return queued(sent, { messageAttributes: attributes as SqsMessageOptions['messageAttributes'] });
  };

  const cases: [string, () => SqsMessageOptions][] = [
    ['no message attributes at all', () => queued(message(), { messageAttributes: {} })],
    ['a missing partnerId', () => withAttributes((a) => delete a.partnerId)],
    ['an empty partnerId (no API key)', () => withAttributes((a) => (a.partnerId = ''))],
    ['a partnerId with a separator in it', () => withAttributes((a) => (a.partnerId = 'acme#other'))],
    ['a missing receivedAt', () => withAttributes((a) => delete a.receivedAt)],
    ['a receivedAt sent as a String', () => withAttributes((a) => (a.receivedAt = String(a.receivedAt)))],
    [
      'a receivedAt that is an ISO 8601 date, not epoch milliseconds',
      () => withAttributes((a) => (a.receivedAt = { dataType: 'Number', stringValue: RECEIVED_AT })),
    ],
    ['a receivedAt in scientific notation', () => withAttributes((a) => (a.receivedAt = 1.7e21))],
    [
      'a receivedAt that is negative',
      () => withAttributes((a) => (a.receivedAt = { dataType: 'Number', stringValue: '-1' })),
    ],
  ];

  test.each(cases)('%s', async (_name, unattributable) => {
    const error = vi.spyOn(logger, 'error');
    const good = message();
    const { ids, response } = await run([good, unattributable(), message()]);

    expect(failed(response)).toEqual([ids[1]]);
    expect(written()).toHaveLength(2);
    expect(stored.has(ids[1] as string)).toBe(false);
    expect(error).toHaveBeenCalledWith(
      'Partner order message has no valid envelope; no partner to reject it to',
      expect.objectContaining({ messageId: ids[1] }),
    );
  });

  test('every attribute that is missing or of the wrong type is named in the log', async () => {
    const error = vi.spyOn(logger, 'error');
    const sent = message();
    const { ids } = await run([queued(sent, { messageAttributes: { receivedAt: String(sent.receivedAt) } })]);
    expect(error).toHaveBeenCalledWith(
      'Partner order message has no valid envelope; no partner to reject it to',
      {
        messageId: ids[0],
        details: [
          { path: 'messageAttributes.partnerId', message: 'Missing (a String attribute)' },
          { path: 'messageAttributes.receivedAt.dataType', message: 'Must be a Number attribute' },
        ],
      },
    );
  });

  test('the attribute schema takes what Lambda delivers and gives the envelope', () => {
    const sent = message();
    const [record] = sqsEvent([queued(sent)]).Records;
    expect(PartnerOrderAttributes.parse(record?.messageAttributes)).toEqual({
      partnerId: sent.partnerId,
      receivedAt: sent.receivedAt,
    });
  });
});

describe('a redelivery (the same MessageId) finds its own earlier outcome and succeeds without a second write', () => {
  test('of a placed order, even when prices changed since', async () => {
    const sent = message();
    const first = { ...placedOf(sent), total: { amount: 1, currency: 'EUR' } };
    stored.set(sent.messageId, first);
    const counts = vi.spyOn(metrics, 'addMetric');
    const { response } = await run([queued(sent, { receiveCount: 2 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stored.get(sent.messageId)).toEqual(first);
    expect(counted(counts, 'PartnerOrderDuplicate')).toBe(1);
    expect(counted(counts, 'PartnerOrderCreated')).toBe(0);
  });

  test('of a rejected order: still one record, still rejected, counted once', async () => {
    const sent = message();
    const body = '{"items":';
    const counts = vi.spyOn(metrics, 'addMetric');
    await run([queued(sent, { body })]);
    const first = stored.get(sent.messageId);
    const { response } = await run([queued(sent, { body, receiveCount: 2 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stored.get(sent.messageId)).toEqual(first);
    expect(counted(counts, 'PartnerOrderRejected')).toBe(1);
    expect(counted(counts, 'PartnerOrderDuplicate')).toBe(1);
  });

  test('of a rejected order whose product was added to the catalogue since: the rejection stands', async () => {
    const sent = message({ order: { items: [{ productId: 'sencha', quantity: 1 }] } });
    await run([sent]);
    catalogue.sencha = { productId: 'sencha', name: 'Sencha', price: { amount: 700, currency: 'EUR' } };
    try {
      const { response } = await run([queued(sent, { receiveCount: 2 })]);
      expect(response.batchItemFailures).toEqual([]);
      expect(stored.get(sent.messageId)?.status).toBe('REJECTED');
    } finally {
      delete catalogue.sencha;
    }
  });

  test('a message sent twice in one batch settles once and both records succeed', async () => {
    const sent = message();
    const { response } = await run([sent, sent]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stored.size).toBe(1);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(2);
  });
});

describe('an order id that holds a different order is never overwritten, and the record fails', () => {
  const sent = message({ order: { items: [{ productId: 'green-tea', quantity: 2 }], note: 'Dock 4' } });
  const differences: [string, Partial<OrderRecord>][] = [
    ['another customer', { customerId: 'user-alice' }],
    ['another partner', { customerId: 'partner#acme-wholesale' }],
    ['another arrival', { createdAt: '2025-11-21T10:05:16.000Z' }],
    ['another quantity', { items: [{ ...(placedOf(sent).items[0] as OrderLine), quantity: 3 }] }],
    ['another product', { items: [{ ...(placedOf(sent).items[0] as OrderLine), productId: 'oolong-tea' }] }],
    ['another note', { note: 'Dock 5' }],
    ['no note', { note: undefined }],
  ];

  test.each(differences)('%s', async (_name, difference) => {
    const other = { ...placedOf(sent), ...difference };
    stored.set(sent.messageId, other);
    const error = vi.spyOn(logger, 'error');
    const { ids, response } = await run([sent]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(stored.get(sent.messageId)).toEqual(other);
    expect(error).toHaveBeenCalledWith('Partner order failed', {
      messageId: ids[0],
      error: expect.objectContaining({ message: expect.stringContaining('holds a different order') }),
    });
  });

  test('a placed order under the id of a message whose body is not even JSON', async () => {
    stored.set(sent.messageId, placedOf(sent));
    const { ids, response } = await run([queued(sent, { body: '{' })]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(stored.get(sent.messageId)?.status).toBe('PLACED');
  });

  test("a rejected order of another partner under a valid message's id", async () => {
    const rejected: RejectedOrderRecord = {
      orderId: sent.messageId,
      customerId: 'partner#acme-wholesale',
      status: 'REJECTED',
      reasons: [{ path: 'body', message: 'The message body is not valid JSON' }],
      createdAt: RECEIVED_AT,
      source: 'partner',
    };
    stored.set(sent.messageId, rejected);
    const { ids, response } = await run([sent]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(stored.get(sent.messageId)).toEqual(rejected);
  });
});

describe('failures a retry may fix fail the record (to be retried), and nothing is rejected', () => {
  test('DynamoDB failing the write, logged in full', async () => {
    const failure = new InternalServerError({ message: 'Internal server error', $metadata: {} });
    dynamo.on(PutCommand).rejects(failure);
    const logged = vi.spyOn(logger, 'error');
    const { ids, response } = await run([message()]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(logged).toHaveBeenCalledWith('Partner order failed', { messageId: ids[0], error: failure });
  });

  test('the catalogue unreadable: not a reason to reject the order', async () => {
    dynamo
      .on(BatchGetCommand)
      .rejects(new InternalServerError({ message: 'Internal server error', $metadata: {} }));
    const { ids, response } = await run([message()]);
    expect(failed(response)).toEqual([ids[0]]);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('a batch in which every record fails lists every record instead of failing the invocation', async () => {
    dynamo
      .on(PutCommand)
      .rejects(new InternalServerError({ message: 'Internal server error', $metadata: {} }));
    const { ids, response } = await run([message(), queued(message(), { messageAttributes: {} })]);
    expect(failed(response).sort()).toEqual([...ids].sort());
  });
});
