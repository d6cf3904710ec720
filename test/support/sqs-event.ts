import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/** A message attribute as the sender set it: a string is a String attribute, a number a Number attribute. */
export type MessageAttributeInput = string | number | { dataType: string; stringValue: string };

export interface SqsMessageOptions {
  /** An object is sent as JSON; a string as it is (malformed JSON included). */
  body: unknown;
  messageId?: string;
  /** 1 on the first delivery; more on redeliveries. */
  receiveCount?: number;
  /** Message attributes, as the sender set them. */
  messageAttributes?: Record<string, MessageAttributeInput>;
}

export interface SqsEventOptions {
  queueName?: string;
  region?: string;
  accountId?: string;
}

/**
 * An SQS event as the Lambda event source mapping sends it (the shape of events/orders-process-partner-orders.json):
 * one record per message, with its own message id and receipt handle, the body as a string with its MD5, the
 * system attributes as strings, message attributes in Lambda's lower-camel form with their MD5, and the queue's ARN.
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
        Object.entries(message.messageAttributes ?? {}).map(([name, value]) => {
          const { dataType, stringValue } =
            typeof value === 'object'
              ? value
              : { dataType: typeof value === 'number' ? 'Number' : 'String', stringValue: String(value) };
          return [name, { stringValue, stringListValues: [], binaryListValues: [], dataType }];
        }),
      );
      const attributesMd5 = md5OfMessageAttributes(messageAttributes);
      return {
        messageId: message.messageId ?? randomUUID(),
        receiptHandle: `AQEB${Buffer.from(randomUUID() + randomUUID()).toString('base64')}`,
        body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount ?? 1),
          SentTimestamp: String(sent),
          SenderId: 'AROAIWPX5BD2BHG722MW4:BackplaneAssumeRoleSession',
          ApproximateFirstReceiveTimestamp: String(sent + 40),
        },
        messageAttributes,
        md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
        ...(attributesMd5 ? { md5OfMessageAttributes: attributesMd5 } : {}),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${region}:${accountId}:${queueName}`,
        awsRegion: region,
      };
    }),
  };
}

/**
 * SQS's MD5 of a message's attributes (MD5OfMessageAttributes), undefined when there are none: per attribute in
 * name order, the name, the data type (each length-prefixed, 4 bytes big-endian), then transport type 1 and the
 * length-prefixed string value (String, Number) or type 2 and the bytes (Binary).
 */
export function md5OfMessageAttributes(attributes: SQSMessageAttributes): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const parts = names.flatMap((name) => {
    const attribute = attributes[name];
    if (!attribute) return [];
    const binary = attribute.dataType.startsWith('Binary');
    const value = binary
      ? Buffer.from(attribute.binaryValue ?? '', 'base64')
      : Buffer.from(attribute.stringValue ?? '', 'utf8');
    return [
      ...prefixed(Buffer.from(name, 'utf8')),
      ...prefixed(Buffer.from(attribute.dataType, 'utf8')),
      Buffer.from([binary ? 2 : 1]),
      ...prefixed(value),
    ];
  });
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}
