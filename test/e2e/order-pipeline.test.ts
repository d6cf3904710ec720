import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { call, token } from './client.ts';

/**
 * The partner order pipeline through the offline cloud: the real SQSClient puts messages on the local
 * OrdersQueue, the offline SQS event source mapping (local/event-sources.ts) polls it and invokes the real
 * ProcessPartnerOrdersFunction bundle, which writes to DynamoDB Local; poison messages end in the DLQ.
 */
const cloud = inject('offlineCloud');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const sqs = new SQSClient({ endpoint: cloud.sqsEndpoint, region: cloud.region, credentials });
const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region: cloud.region, credentials }),
);
const ordersQueue = cloud.queues.OrdersQueue as string;
const deadLetterQueue = cloud.queues.OrdersDeadLetterQueue as string;
const ordersTable = cloud.tables.OrdersTable as string;

let productId: string;

beforeAll(async () => {
  expect(ordersQueue).toBeTruthy();
  expect(deadLetterQueue).toBeTruthy();
  productId = `e2e-${randomUUID().slice(0, 8)}`;
  const admin = await token({ sub: 'admin-pipeline', scopes: ['api/products.write'], groups: ['admin'] });
  const put = await call('PUT', `/products/${productId}`, {
    token: admin,
    body: { name: 'Genmaicha, 100 g', category: 'tea', price: { amount: 650, currency: 'EUR' } },
  });
  expect(put.status).toBe(200);
});

afterAll(() => {
  sqs.destroy();
  dynamo.destroy();
});

const partnerMessage = (partnerId: string, quantity = 2) => ({
  orderId: randomUUID(),
  partnerId,
  receivedAt: '2025-03-01T10:15:00.000Z',
  order: { items: [{ productId, quantity }], note: 'gate 4' },
});

const send = async (body: string) =>
  String((await sqs.send(new SendMessageCommand({ QueueUrl: ordersQueue, MessageBody: body }))).MessageId);

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function queueCounts(url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

const drained = async () => {
  const counts = await queueCounts(ordersQueue);
  return counts.visible === 0 && counts.inFlight === 0 ? true : undefined;
};

describe('partner orders: OrdersQueue → ProcessPartnerOrdersFunction → Orders table', () => {
  test('a valid partner order message becomes a priced order in DynamoDB', async () => {
    const message = partnerMessage(`acme-${randomUUID().slice(0, 8)}`);
    await send(JSON.stringify(message));
    const order = await eventually(
      async () =>
        (await dynamo.send(new GetCommand({ TableName: ordersTable, Key: { orderId: message.orderId } })))
          .Item,
      15_000,
      'the order in the Orders table',
    );
    expect(order).toEqual({
      orderId: message.orderId,
      customerId: `partner#${message.partnerId}`,
      status: 'PLACED',
      items: [
        { productId, name: 'Genmaicha, 100 g', quantity: 2, unitPrice: { amount: 650, currency: 'EUR' } },
      ],
      total: { amount: 1300, currency: 'EUR' },
      note: 'gate 4',
      createdAt: '2025-03-01T10:15:00.000Z',
      source: 'partner',
    });
    await eventually(drained, 10_000, 'the message deleted from OrdersQueue');
  });

  test('the same message delivered twice places exactly one order', async () => {
    const partnerId = `twice-${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify(partnerMessage(partnerId, 1));
    await send(body);
    await send(body);
    const orders = async () =>
      (
        await dynamo.send(
          new QueryCommand({
            TableName: ordersTable,
            IndexName: 'byCustomer',
            KeyConditionExpression: 'customerId = :customer',
            ExpressionAttributeValues: { ':customer': `partner#${partnerId}` },
          }),
        )
      ).Items ?? [];
    await eventually(async () => ((await orders()).length > 0 ? true : undefined), 15_000, 'the order');
    // Both messages were consumed (the duplicate succeeded too, so nothing is left to retry) …
    await eventually(drained, 15_000, 'both messages deleted from OrdersQueue');
    // … and there is still exactly one order.
    expect((await orders()).map((order) => order.total)).toEqual([{ amount: 650, currency: 'EUR' }]);
  });

  test('a poison message (malformed JSON) is retried maxReceiveCount times, then lands in OrdersDeadLetterQueue', async () => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: ordersQueue,
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
      }),
    );
    const maxReceiveCount = Number(JSON.parse(String(Attributes.RedrivePolicy)).maxReceiveCount);
    expect(maxReceiveCount).toBe(5);
    // The template's VisibilityTimeout (6 × the function's Timeout) would space the retries minutes apart.
    // The test shortens it on the local queue itself, with SetQueueAttributes as an operator could in AWS:
    // the mapping and the function stay exactly as the template defines them. Restored afterwards.
    const original = String(Attributes.VisibilityTimeout);
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: ordersQueue, Attributes: { VisibilityTimeout: '2' } }),
    );
    try {
      const poisonId = await send('{"orderId": "not even json');
      const dead = await eventually<Message>(
        async () => {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: deadLetterQueue,
              WaitTimeSeconds: 1,
              MaxNumberOfMessages: 10,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          );
          return Messages.find((message) => message.MessageId === poisonId);
        },
        40_000,
        'the poison message in OrdersDeadLetterQueue',
      );
      expect(dead.Body).toBe('{"orderId": "not even json');
      // The count carried over from OrdersQueue: every one of the maxReceiveCount receives happened there.
      expect(Number(dead.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(maxReceiveCount);
      expect(await queueCounts(ordersQueue)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: ordersQueue, Attributes: { VisibilityTimeout: original } }),
      );
    }
  }, 60_000);
});
