import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type LocalSqs, startSqs } from './sqs.ts';

/**
 * The characters the embedded SQS (fauxqs) takes in a message body, through the real SDK: exactly SQS's
 * (SendMessage API reference): #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF, any other one
 * refused with InvalidMessageContents.
 */
let sqs: LocalSqs;
let queueUrl: string;

beforeAll(async () => {
  sqs = await startSqs();
  const created = await sqs.client.send(new CreateQueueCommand({ QueueName: 'characters' }));
  queueUrl = String(created.QueueUrl);
});

afterAll(() => sqs.stop());

const send = (body: string) =>
  sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

describe('SendMessage bodies', () => {
  test('an emoji body and attribute value are accepted and come back as sent (the SDK checks both MD5s)', async () => {
    const body = JSON.stringify({ note: 'dock 7 🚚 — 漢字 😀', flag: '🏳️‍🌈' });
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { partner: { DataType: 'String', StringValue: 'tea 🍵' } },
      }),
    );
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages[0]?.Body).toBe(body);
    expect(Messages[0]?.MessageAttributes?.partner?.StringValue).toBe('tea 🍵');
  });

  test.each([
    ['tab, line feed and carriage return', 'a\tb\nc\rd'],
    ['U+0020 and U+D7FF', ' \uD7FF'],
    ['U+E000 and U+FFFD', '\uE000\uFFFD'],
    ['U+10000 and U+10FFFF', '\u{10000}\u{10FFFF}'],
  ])('accepts the edges of the allowed ranges: %s', async (_name, body) => {
    expect((await send(body)).MessageId).toEqual(expect.any(String));
  });

  test.each([
    ['U+0000', 'a\u0000b'],
    ['U+001F', 'a\u001Fb'],
    ['U+FFFE', 'a\uFFFEb'],
    ['U+FFFF', 'a\uFFFFb'],
    ['a lone high surrogate', 'a\uD83Db'],
    ['a lone low surrogate', 'a\uDE00b'],
    ['a surrogate pair in the wrong order', 'a\uDE00\uD83Db'],
  ])('refuses %s with InvalidMessageContents', async (_name, body) => {
    await expect(send(body)).rejects.toThrow(
      expect.objectContaining({ name: expect.stringMatching(/InvalidMessageContents$/) }),
    );
  });
});

describe('SendMessageBatch entries', () => {
  test('an emoji entry is sent; a U+FFFF entry alone fails with InvalidMessageContents', async () => {
    const answer = await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'emoji', MessageBody: 'tea 🍵' },
          { Id: 'noncharacter', MessageBody: 'tea \uFFFF' },
        ],
      }),
    );
    expect(answer.Successful?.map((entry) => entry.Id)).toEqual(['emoji']);
    expect(answer.Failed).toEqual([
      expect.objectContaining({ Id: 'noncharacter', Code: 'InvalidMessageContents' }),
    ]);
  });
});
