import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import type { OrderRecord } from '../../../functions/orders/order.ts';
import type { PartnerOrderMessage } from '../../../functions/orders/partner-order.ts';
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

const message = (partnerId: string, overrides: Partial<PartnerOrderMessage> = {}): PartnerOrderMessage => ({
  orderId: randomUUID(),
  partnerId,
  receivedAt: new Date().toISOString(),
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

const batch = (...messages: SqsMessageOptions[]) => sqsEvent(messages);

describe('ProcessPartnerOrdersFunction on DynamoDB Local', () => {
  test('places a valid message as a priced order of partner#<partnerId>', async () => {
    const partner = newPartner();
    const sent = message(partner, {
      order: { items: [{ productId: cup.productId, quantity: 3 }], note: 'Dock 4' },
    });

    expect(await deliver(batch({ body: sent }))).toEqual([]);

    const expected: OrderRecord = {
      orderId: sent.orderId,
      customerId: `partner#${partner}`,
      status: 'PLACED',
      items: [{ productId: cup.productId, name: 'Espresso cup', quantity: 3, unitPrice: cup.price }],
      total: { amount: 3 * 1250, currency: 'EUR' },
      note: 'Dock 4',
      createdAt: sent.receivedAt,
      source: 'partner',
    };
    expect(await getOrder(sent.orderId)).toEqual(expected);
    expect(await ordersOf(`partner#${partner}`)).toEqual([expected]);
  });

  test('a redelivered message leaves exactly one order, and both deliveries succeed', async () => {
    const partner = newPartner();
    const sent = message(partner);
    const messageId = randomUUID();

    expect(await deliver(batch({ body: sent, messageId }))).toEqual([]);
    const first = await getOrder(sent.orderId);
    expect(await deliver(batch({ body: sent, messageId, receiveCount: 2 }))).toEqual([]);

    expect(await ordersOf(`partner#${partner}`)).toHaveLength(1);
    expect(await getOrder(sent.orderId)).toEqual(first);
    expect(first?.total).toEqual({ amount: 2 * 1250 + 480, currency: 'EUR' });
  });

  test('an order id taken by another customer fails the record and leaves that order alone', async () => {
    const owner = newPartner();
    const sent = message(owner);
    expect(await deliver(batch({ body: sent }))).toEqual([]);
    const original = await getOrder(sent.orderId);

    const event = batch({ body: { ...sent, partnerId: newPartner() } });
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
    const event = batch({ body: unknown }, { body: good });

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
    ];
    const mixedCurrencies = message(partner, {
      order: {
        items: [
          { productId: cup.productId, quantity: 1 },
          { productId: dollarMug.productId, quantity: 1 },
        ],
      },
    });
    const invalid = { ...message(partner), orderId: 'not-a-uuid' };
    const event = batch(
      { body: good[0] },
      { body: mixedCurrencies },
      { body: good[1] },
      { body: '{"orderId":' },
      { body: invalid },
      { body: good[2] },
    );
    const ids = event.Records.map((record) => record.messageId);

    const failures = await deliver(event);

    expect(failures.sort()).toEqual([ids[1], ids[3], ids[4]].sort());
    const placed = await ordersOf(`partner#${partner}`);
    expect(placed.map((order) => order.orderId).sort()).toEqual(good.map((order) => order.orderId).sort());
    expect(placed.find((order) => order.orderId === good[2]?.orderId)?.total).toEqual({
      amount: 4 * 480,
      currency: 'EUR',
    });
    expect(await getOrder(mixedCurrencies.orderId)).toBeUndefined();
  });
});
