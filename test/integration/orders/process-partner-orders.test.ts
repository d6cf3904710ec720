import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import type { CreateOrderInput, OrderRecord } from '../../../functions/orders/order.ts';
import { handler } from '../../../functions/orders/process-partner-orders.ts';
import type { ProductRecord } from '../../../functions/products/product.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { type SqsMessageOptions, sqsEvent } from '../../support/sqs-event.ts';
import { getOrder, ordersOf, seedProduct } from '../helpers.ts';

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

/** A partner order as the REST API receives it: its envelope (the message attributes) and the order (the body). */
interface Sent {
  orderId: string;
  partnerId: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  order: CreateOrderInput;
}

const message = (partnerId: string, overrides: Partial<Sent> = {}): Sent => ({
  orderId: randomUUID(),
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

/** The SQS message the REST API's `POST /orders` integration makes of it (`orderId`/`partnerId` String, `receivedAt` Number). */
const queued = (
  { orderId, partnerId, receivedAt, order }: Sent,
  options: Partial<SqsMessageOptions> = {},
): SqsMessageOptions => ({ body: order, messageAttributes: { orderId, partnerId, receivedAt }, ...options });

const batch = (...messages: (Sent | SqsMessageOptions)[]) =>
  sqsEvent(messages.map((sent) => ('body' in sent ? sent : queued(sent))));

describe('ProcessPartnerOrdersFunction on DynamoDB Local', () => {
  test('places a valid message as a priced order of partner#<partnerId>', async () => {
    const partner = newPartner();
    const sent = message(partner, {
      order: { items: [{ productId: cup.productId, quantity: 3 }], note: 'Dock 4' },
    });

    expect(await deliver(batch(sent))).toEqual([]);

    const expected: OrderRecord = {
      orderId: sent.orderId,
      customerId: `partner#${partner}`,
      status: 'PLACED',
      items: [{ productId: cup.productId, name: 'Espresso cup', quantity: 3, unitPrice: cup.price }],
      total: { amount: 3 * 1250, currency: 'EUR' },
      note: 'Dock 4',
      createdAt: new Date(sent.receivedAt).toISOString(),
      source: 'partner',
    };
    expect(await getOrder(sent.orderId)).toEqual(expected);
    expect(await ordersOf(`partner#${partner}`)).toEqual([expected]);
  });

  test('a redelivered message leaves exactly one order, and both deliveries succeed', async () => {
    const partner = newPartner();
    const sent = message(partner);
    const messageId = randomUUID();

    expect(await deliver(batch(queued(sent, { messageId })))).toEqual([]);
    const first = await getOrder(sent.orderId);
    expect(await deliver(batch(queued(sent, { messageId, receiveCount: 2 })))).toEqual([]);

    expect(await ordersOf(`partner#${partner}`)).toHaveLength(1);
    expect(await getOrder(sent.orderId)).toEqual(first);
    expect(first?.total).toEqual({ amount: 2 * 1250 + 480, currency: 'EUR' });
  });

  test('an order id taken by another customer fails the record and leaves that order alone', async () => {
    const owner = newPartner();
    const sent = message(owner);
    expect(await deliver(batch(sent))).toEqual([]);
    const original = await getOrder(sent.orderId);

    const event = batch({ ...sent, partnerId: newPartner() });
    expect(await deliver(event)).toEqual([event.Records[0]?.messageId]);
    expect(await getOrder(sent.orderId)).toEqual(original);
  });

  test('an unknown product fails only that record and writes nothing for it', async () => {
    const partner = newPartner();
    const good = message(partner);
    const unknown = message(partner, {
      order: {
        items: [
          { productId: cup.productId, quantity: 1 },
          { productId: `missing-${randomUUID()}`, quantity: 1 },
        ],
      },
    });
    const event = batch(unknown, good);

    expect(await deliver(event)).toEqual([event.Records[0]?.messageId]);

    expect(await getOrder(unknown.orderId)).toBeUndefined();
    expect((await ordersOf(`partner#${partner}`)).map((order) => order.orderId)).toEqual([good.orderId]);
  });

  test('a mixed batch writes exactly the good orders', async () => {
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
    const event = batch(
      good[0],
      mixedCurrencies,
      good[1],
      queued(message(partner), { body: '{"items":' }),
      message(partner, { orderId: 'not-a-uuid' }),
      good[2],
      queued(message(partner), { messageAttributes: {} }),
    );
    const ids = event.Records.map((record) => record.messageId);

    const failures = await deliver(event);

    expect(failures.sort()).toEqual([ids[1], ids[3], ids[4], ids[6]].sort());
    const placed = await ordersOf(`partner#${partner}`);
    expect(placed.map((order) => order.orderId).sort()).toEqual(good.map((order) => order.orderId).sort());
    expect(placed.find((order) => order.orderId === good[2].orderId)?.total).toEqual({
      amount: 4 * 480,
      currency: 'EUR',
    });
    expect(await getOrder(mixedCurrencies.orderId)).toBeUndefined();
  });
});
