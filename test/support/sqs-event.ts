import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export interface SqsMessageOptions {
  /** An object is sent as JSON; a string as it is (malformed JSON included). */
  body: unknown;
  messageId?: string;
  /** 1 on the first delivery; more on redeliveries. */
  receiveCount?: number;
  /** String message attributes, as the sender set them. */
  attributes?: Record<string, string>;
}

export interface SqsEventOptions {
  queueName?: string;
  region?: string;
  accountId?: string;
}

/**
 * An SQS event as the Lambda event source mapping sends it (the shape of events/orders-process-partner-orders.json):
 * one record per message, with its own message id and receipt handle, the body as a string with its MD5, the
 * system attributes as strings, message attributes in Lambda's lower-camel form, and the queue's ARN.
 */
export function sqsEvent(messages: SqsMessageOptions[], options: SqsEventOptions = {}): SQSEvent {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const queueName = options.queueName ?? 'sam-app-OrdersQueue-Xk2mP9qL4vTn';
  const now = Date.now();
  return {
    Records: messages.map((message, index): SQSRecord => {
      const body = typeof message.body === 'string' ? message.body : JSON.stringify(message.body);
      const sent = now - 1_000 + index;
      const messageAttributes: SQSMessageAttributes = Object.fromEntries(
        Object.entries(message.attributes ?? {}).map(([name, value]) => [
          name,
          { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
        ]),
      );
      return {
        messageId: message.messageId ?? randomUUID(),
        receiptHandle: `AQEB${Buffer.from(randomUUID() + randomUUID()).toString('base64')}`,
        body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount ?? 1),
          SentTimestamp: String(sent),
          SenderId: 'AROAIWPX5BD2BHG722MW4:apigateway',
          ApproximateFirstReceiveTimestamp: String(sent + 40),
        },
        messageAttributes,
        md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${region}:${accountId}:${queueName}`,
        awsRegion: region,
      };
    }),
  };
}
