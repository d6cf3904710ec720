import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { call, eventually, partnerCall, token } from '../../support/client.ts';

/**
 * The partner order pipeline through the offline cloud: the real SQSClient puts messages on the local
 * OrdersQueue the way the REST API's `POST /orders` integration does (the order as the body, the envelope as
 * message attributes), the offline SQS event source mapping (offline/runtime/event-sources.ts) polls it and invokes the
 * real ProcessPartnerOrdersFunction bundle, which writes to DynamoDB Local: orders it can never place are
 * recorded as REJECTED; only a message no partner can be found for ends in the DLQ.
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

const RECEIVED_AT = '2025-03-01T10:15:00.000Z';

const partnerMessage = (partnerId: string, quantity = 2) => ({
  partnerId,
  receivedAt: Date.parse(RECEIVED_AT),
  order: { items: [{ productId, quantity }], note: 'gate 4' },
});
type PartnerMessage = ReturnType<typeof partnerMessage>;

/** What the integration's SendMessage sets: `partnerId` as String, `receivedAt` as Number (epoch ms). */
const envelopeOf = (message: PartnerMessage): Record<string, MessageAttributeValue> => ({
  partnerId: { DataType: 'String', StringValue: message.partnerId },
  receivedAt: { DataType: 'Number', StringValue: String(message.receivedAt) },
});

/**
 * Sends `message` as the integration would: its order as the body (or `body` instead), its envelope as
 * attributes. Answers the MessageId SQS gave it, which is the order's id.
 */
const send = async (message: PartnerMessage, body = JSON.stringify(message.order)) =>
  String(
    (
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: ordersQueue,
          MessageBody: body,
          MessageAttributes: envelopeOf(message),
        }),
      )
    ).MessageId,
  );

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

const storedOrder = async (orderId: string) =>
  (await dynamo.send(new GetCommand({ TableName: ordersTable, Key: { orderId }, ConsistentRead: true })))
    .Item;

describe('partner orders: OrdersQueue → ProcessPartnerOrdersFunction → Orders table', () => {
  test('a valid partner order message becomes a priced order in DynamoDB, under its MessageId', async () => {
    const message = partnerMessage(`acme-${randomUUID().slice(0, 8)}`);
    const orderId = await send(message);
    const order = await eventually(() => storedOrder(orderId), 15_000, 'the order in the Orders table');
    expect(order).toEqual({
      orderId,
      customerId: `partner#${message.partnerId}`,
      status: 'PLACED',
      items: [
        { productId, name: 'Genmaicha, 100 g', quantity: 2, unitPrice: { amount: 650, currency: 'EUR' } },
      ],
      total: { amount: 1300, currency: 'EUR' },
      note: 'gate 4',
      createdAt: RECEIVED_AT,
      source: 'partner',
    });
    await eventually(drained, 10_000, 'the message deleted from OrdersQueue');
  });

  test('the same order sent twice is two messages, so two orders, each under its own MessageId', async () => {
    const partnerId = `twice-${randomUUID().slice(0, 8)}`;
    const message = partnerMessage(partnerId, 1);
    const ids = [await send(message), await send(message)];
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
    await eventually(async () => ((await orders()).length === 2 ? true : undefined), 15_000, 'both orders');
    expect((await orders()).map((order) => order.orderId).sort()).toEqual([...ids].sort());
  });

  test('orders that can never be placed are REJECTED once, readable by their partner and never retried; only a message without an envelope is retried maxReceiveCount times into OrdersDeadLetterQueue', async () => {
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
      const malformed = partnerMessage(`poison-${randomUUID().slice(0, 8)}`);
      const malformedId = await send(malformed, '{"items": "not even json');
      // A good order, but without the message attributes that say whose it is and when it arrived.
      const withoutEnvelope = partnerMessage('poison');
      const withoutEnvelopeId = String(
        (
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: ordersQueue,
              MessageBody: JSON.stringify(withoutEnvelope.order),
            }),
          )
        ).MessageId,
      );
      // Through the partner REST API: its model cannot say "each product once", the consumer refuses it.
      const duplicated = await partnerCall('POST', '/orders', {
        apiKey: cloud.apiKeys.PartnerEnterprisePlan,
        body: {
          items: [
            { productId, quantity: 1 },
            { productId, quantity: 2 },
          ],
        },
      });
      expect(duplicated.status).toBe(202);

      const rejected = await eventually(
        async () => {
          const answer = await partnerCall('GET', `/orders/${duplicated.body.orderId}`, {
            apiKey: cloud.apiKeys.PartnerEnterprisePlan,
          });
          return answer.status === 200 ? answer : undefined;
        },
        15_000,
        'the rejected order readable through GET /orders/{id}',
      );
      expect(rejected.body).toEqual({
        orderId: duplicated.body.orderId,
        status: 'REJECTED',
        reasons: [{ path: 'body.items', message: 'Each product may appear only once' }],
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      expect(await eventually(() => storedOrder(malformedId), 15_000, 'the malformed order')).toEqual({
        orderId: malformedId,
        customerId: `partner#${malformed.partnerId}`,
        status: 'REJECTED',
        reasons: [{ path: 'body', message: 'The message body is not valid JSON' }],
        createdAt: RECEIVED_AT,
        source: 'partner',
      });

      // A message received from the dead-letter queue stays invisible there for a while: keep each one seen.
      const dead = new Map<string, Message>();
      await eventually(
        async () => {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: deadLetterQueue,
              WaitTimeSeconds: 1,
              MaxNumberOfMessages: 10,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
              MessageAttributeNames: ['All'],
            }),
          );
          for (const message of Messages) dead.set(String(message.MessageId), message);
          return dead.has(withoutEnvelopeId) ? true : undefined;
        },
        40_000,
        'the message without an envelope in OrdersDeadLetterQueue',
      );
      const deadWithoutEnvelope = dead.get(withoutEnvelopeId);
      expect(deadWithoutEnvelope?.Body).toBe(JSON.stringify(withoutEnvelope.order));
      // The count carried over from OrdersQueue: every one of the maxReceiveCount receives happened there.
      expect(Number(deadWithoutEnvelope?.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(
        maxReceiveCount,
      );
      expect(await storedOrder(withoutEnvelopeId)).toBeUndefined();
      // By now the rejected ones, had they been retried like it, would be in the dead-letter queue too.
      expect([...dead.keys()]).not.toContain(malformedId);
      expect([...dead.keys()]).not.toContain(duplicated.body.orderId);
      expect(await queueCounts(ordersQueue)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: ordersQueue, Attributes: { VisibilityTimeout: original } }),
      );
    }
  }, 60_000);
});
