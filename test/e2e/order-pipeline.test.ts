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
import { call, eventually, partnerCall, token } from './client.ts';

/**
 * The partner order pipeline through the offline cloud: the real SQSClient puts messages on the local
 * OrdersQueue the way the REST API's `POST /orders` integration does (the order as the body, the envelope as
 * message attributes), the offline SQS event source mapping (local/event-sources.ts) polls it and invokes the
 * real ProcessPartnerOrdersFunction bundle, which writes to DynamoDB Local; poison messages end in the DLQ.
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
  orderId: randomUUID(),
  partnerId,
  receivedAt: Date.parse(RECEIVED_AT),
  order: { items: [{ productId, quantity }], note: 'gate 4' },
});
type PartnerMessage = ReturnType<typeof partnerMessage>;

/** What the integration's SendMessage sets: `orderId` and `partnerId` as String, `receivedAt` as Number (epoch ms). */
const envelopeOf = (message: PartnerMessage): Record<string, MessageAttributeValue> => ({
  orderId: { DataType: 'String', StringValue: message.orderId },
  partnerId: { DataType: 'String', StringValue: message.partnerId },
  receivedAt: { DataType: 'Number', StringValue: String(message.receivedAt) },
});

/** Sends `message` as the integration would: its order as the body (or `body` instead), its envelope as attributes. */
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

describe('partner orders: OrdersQueue → ProcessPartnerOrdersFunction → Orders table', () => {
  test('a valid partner order message becomes a priced order in DynamoDB', async () => {
    const message = partnerMessage(`acme-${randomUUID().slice(0, 8)}`);
    await send(message);
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
      createdAt: RECEIVED_AT,
      source: 'partner',
    });
    await eventually(drained, 10_000, 'the message deleted from OrdersQueue');
  });

  test('the same message delivered twice places exactly one order', async () => {
    const partnerId = `twice-${randomUUID().slice(0, 8)}`;
    const message = partnerMessage(partnerId, 1);
    await send(message);
    await send(message);
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

  test('poison messages (a malformed body, no envelope, a partner order naming a product twice) are retried maxReceiveCount times, then land in OrdersDeadLetterQueue', async () => {
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
      const malformed = partnerMessage('poison');
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
      const fromPartnerApi = (message: Message) =>
        message.MessageAttributes?.orderId?.StringValue === duplicated.body.orderId;
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
          return dead.has(malformedId) &&
            dead.has(withoutEnvelopeId) &&
            [...dead.values()].some(fromPartnerApi)
            ? true
            : undefined;
        },
        40_000,
        'the three poison messages in OrdersDeadLetterQueue',
      );
      const deadMalformed = dead.get(malformedId);
      expect(deadMalformed?.Body).toBe('{"items": "not even json');
      // The dead-letter queue keeps the envelope, so a human can tell whose order it was.
      expect(deadMalformed?.MessageAttributes).toEqual(envelopeOf(malformed));
      expect(dead.get(withoutEnvelopeId)?.Body).toBe(JSON.stringify(withoutEnvelope.order));
      const deadDuplicated = [...dead.values()].find(fromPartnerApi);
      expect(JSON.parse(String(deadDuplicated?.Body))).toEqual({
        items: [
          { productId, quantity: 1 },
          { productId, quantity: 2 },
        ],
      });
      expect(deadDuplicated?.MessageAttributes?.partnerId?.StringValue).toBe('partnerenterpriseapikey');
      const order = await dynamo.send(
        new GetCommand({ TableName: ordersTable, Key: { orderId: duplicated.body.orderId } }),
      );
      expect(order.Item).toBeUndefined();
      // The count carried over from OrdersQueue: every one of the maxReceiveCount receives happened there.
      for (const message of [deadMalformed, dead.get(withoutEnvelopeId)]) {
        expect(Number(message?.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(maxReceiveCount);
      }
      expect(await queueCounts(ordersQueue)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: ordersQueue, Attributes: { VisibilityTimeout: original } }),
      );
    }
  }, 60_000);
});
