import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import type {
  CreateOrderInput,
  OrderRecord,
  RejectedOrderRecord,
  StoredOrder,
} from '../../../functions/orders/order.ts';
import { handler } from '../../../functions/orders/process-partner-orders.ts';
import type { ProductRecord } from '../../../functions/products/product.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { type SqsMessageOptions, sqsEvent } from '../../support/sqs-event.ts';
import { getOrder, ordersOf, seedProduct } from '../../support/tables.ts';

let cup: ProductRecord;
let saucer: ProductRecord;
let dollarMug: ProductRecord;

beforeAll(async () => {
  cup = await seedProduct({ name: 'Espresso cup', price: { amount: 1250, currency: 'EUR' } });
  saucer = await seedProduct({ name: 'Saucer', price: { amount: 480, currency: 'EUR' } });
  dollarMug = await seedProduct({ name: 'Diner mug', price: { amount: 899, currency: 'USD' } });
});

/** A partner nobody else uses: test files share one database, and partner#<id> is the order's customer. */
const newPartner = () => `partner-${randomUUID()}`;

/** A partner order as the REST API queues it: its id (the MessageId SQS gives it), envelope and order. */
interface Sent {
  messageId: string;
  partnerId: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  order: CreateOrderInput;
}

const message = (partnerId: string, overrides: Partial<Sent> = {}): Sent => ({
  messageId: randomUUID(),
  partnerId,
  receivedAt: Date.now(),
  order: {
    items: [
      { productId: cup.productId, quantity: 2 },
      { productId: saucer.productId, quantity: 1 },
    ],
  },
  ...overrides,
});

async function deliver(event: SQSEvent): Promise<string[]> {
  const response = (await handler(event, lambdaContext('ProcessPartnerOrdersFunction'))) as SQSBatchResponse;
  return response.batchItemFailures.map((failure) => failure.itemIdentifier);
}

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

const batch = (...messages: (Sent | SqsMessageOptions)[]) =>
  sqsEvent(messages.map((sent) => ('body' in sent ? sent : queued(sent))));

const stored = async (orderId: string) => (await getOrder(orderId)) as StoredOrder | undefined;

describe('ProcessPartnerOrdersFunction on DynamoDB Local', () => {
  test('places a valid message as a priced order of partner#<partnerId>, under its MessageId', async () => {
    const partner = newPartner();
    const sent = message(partner, {
      order: { items: [{ productId: cup.productId, quantity: 3 }], note: 'Dock 4' },
    });

    expect(await deliver(batch(sent))).toEqual([]);

    const expected: OrderRecord = {
      orderId: sent.messageId,
      customerId: `partner#${partner}`,
      status: 'PLACED',
      items: [{ productId: cup.productId, name: 'Espresso cup', quantity: 3, unitPrice: cup.price }],
      total: { amount: 3 * 1250, currency: 'EUR' },
      note: 'Dock 4',
      createdAt: new Date(sent.receivedAt).toISOString(),
      source: 'partner',
    };
    expect(await getOrder(sent.messageId)).toEqual(expected);
    expect(await ordersOf(`partner#${partner}`)).toEqual([expected]);
  });

  test('a redelivered message leaves exactly one order, and both deliveries succeed', async () => {
    const partner = newPartner();
    const sent = message(partner);

    expect(await deliver(batch(sent))).toEqual([]);
    const first = await getOrder(sent.messageId);
    expect(await deliver(batch(queued(sent, { receiveCount: 2 })))).toEqual([]);

    expect(await ordersOf(`partner#${partner}`)).toHaveLength(1);
    expect(await getOrder(sent.messageId)).toEqual(first);
    expect(first?.total).toEqual({ amount: 2 * 1250 + 480, currency: 'EUR' });
  });

  test("a message id that holds another partner's order fails the record and leaves that order alone", async () => {
    const owner = newPartner();
    const sent = message(owner);
    expect(await deliver(batch(sent))).toEqual([]);
    const original = await getOrder(sent.messageId);

    const event = batch({ ...sent, partnerId: newPartner() });
    expect(await deliver(event)).toEqual([event.Records[0]?.messageId]);
    expect(await getOrder(sent.messageId)).toEqual(original);
  });

  test('an unknown product is recorded as REJECTED with the reason, once, and never placed', async () => {
    const partner = newPartner();
    const good = message(partner);
    const missing = `missing-${randomUUID()}`;
    const unknown = message(partner, {
      order: {
        items: [
          { productId: cup.productId, quantity: 1 },
          { productId: missing, quantity: 1 },
        ],
      },
    });

    expect(await deliver(batch(unknown, good))).toEqual([]);
    expect(await deliver(batch(queued(unknown, { receiveCount: 2 })))).toEqual([]);

    const rejected: RejectedOrderRecord = {
      orderId: unknown.messageId,
      customerId: `partner#${partner}`,
      status: 'REJECTED',
      reasons: [{ path: 'body.items.1.productId', message: `No product ${missing}` }],
      createdAt: new Date(unknown.receivedAt).toISOString(),
      source: 'partner',
    };
    expect(await stored(unknown.messageId)).toEqual(rejected);
    const orders = (await ordersOf(`partner#${partner}`)) as StoredOrder[];
    expect(orders.map((order) => [order.orderId, order.status]).sort()).toEqual(
      [
        [good.messageId, 'PLACED'],
        [unknown.messageId, 'REJECTED'],
      ].sort(),
    );
  });

  test('a mixed batch places the good orders, rejects the invalid ones and fails only the unattributable', async () => {
    const partner = newPartner();
    const good = [
      message(partner),
      message(partner),
      message(partner, { order: { items: [{ productId: saucer.productId, quantity: 4 }] } }),
    ] as const;
    const mixedCurrencies = message(partner, {
      order: {
        items: [
          { productId: cup.productId, quantity: 1 },
          { productId: dollarMug.productId, quantity: 1 },
        ],
      },
    });
    const malformed = queued(message(partner), { body: '{"items":' });
    const event = batch(
      good[0],
      mixedCurrencies,
      good[1],
      malformed,
      good[2],
      queued(message(partner), { messageAttributes: {} }),
    );
    const ids = event.Records.map((record) => record.messageId);

    expect(await deliver(event)).toEqual([ids[5]]);

    const settled = (await ordersOf(`partner#${partner}`)) as StoredOrder[];
    const statusOf = Object.fromEntries(settled.map((order) => [order.orderId, order.status]));
    expect(statusOf).toEqual({
      [good[0].messageId]: 'PLACED',
      [good[1].messageId]: 'PLACED',
      [good[2].messageId]: 'PLACED',
      [mixedCurrencies.messageId]: 'REJECTED',
      [String(malformed.messageId)]: 'REJECTED',
    });
    expect(settled.find((order) => order.orderId === good[2].messageId)).toMatchObject({
      total: { amount: 4 * 480, currency: 'EUR' },
    });
    expect(await stored(String(malformed.messageId))).toMatchObject({
      reasons: [{ path: 'body', message: 'The message body is not valid JSON' }],
    });
    expect(await getOrder(String(ids[5]))).toBeUndefined();
  });
});
