import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, test } from 'vitest';
import { createQueues, type LocalSqs, startSqs } from '../services/sqs.ts';
import { createResolver } from '../template/resolver.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from '../template/template.ts';
import {
  failedMessageIds,
  type Invocable,
  SqsEventSourceMapping,
  sqsEventSourceDefinitions,
} from './event-sources.ts';

/** A work queue with a dead-letter queue (1 s visibility, redrive after 2 receives) and one consumer. */
const template = (eventProperties = '', timeout = 1) =>
  parseTemplate(`
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 2
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: ${timeout}
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
${eventProperties.replace(/^/gm, '            ')}
`);

const REPORT = 'FunctionResponseTypes: [ReportBatchItemFailures]\nMaximumBatchingWindowInSeconds: 0';

type Handler = (event: SQSEvent) => unknown;

interface Harness {
  sqs: LocalSqs;
  queues: Record<string, string>;
  mapping: SqsEventSourceMapping;
  events: SQSEvent[];
  logs: string[];
}

const started: Harness[] = [];

afterEach(async () => {
  for (const harness of started.splice(0)) {
    await harness.mapping.stop();
    await harness.sqs.stop();
  }
});

/** The real fauxqs with the template's queues, and the mapping in front of a fake function registry. */
async function harness(handler: Handler, eventProperties = REPORT): Promise<Harness> {
  const sqs = await startSqs(0);
  const resolver = createResolver(template(eventProperties), undefined);
  const queues = await createQueues(sqs, resolver);
  const [config] = sqsEventSourceDefinitions(resolver, queues);
  if (!config) throw new Error('no event source');
  const events: SQSEvent[] = [];
  const logs: string[] = [];
  const consumer: Invocable = {
    invoke: async (event) => {
      events.push(structuredClone(event as SQSEvent));
      return handler(event as SQSEvent);
    },
  };
  const mapping = new SqsEventSourceMapping(config, {
    client: sqs.client,
    functions: new Map([['Consumer', consumer]]),
    region: 'us-east-1',
    log: (name, line) => logs.push(`[${name}] ${line}`),
  });
  const result = { sqs, queues, mapping, events, logs };
  started.push(result);
  return result;
}

async function send(h: Harness, bodies: string[]): Promise<string[]> {
  const { Successful = [] } = await h.sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: h.queues.Work,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  return [...Successful].sort((a, b) => Number(a.Id) - Number(b.Id)).map((entry) => String(entry.MessageId));
}

async function counts(h: Harness, queue: string) {
  const { Attributes = {} } = await h.sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: h.queues[queue],
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const queuesOf = (resolver: ReturnType<typeof createResolver>) => ({
  Work: String(resolver.resolve({ Ref: 'Work' }, 'test')),
  DeadLetters: String(resolver.resolve({ Ref: 'DeadLetters' }, 'test')),
});

const idsOf = (event: SQSEvent | undefined) =>
  (event?.Records ?? []).map((record) => record.messageId).sort();

describe('sqsEventSourceDefinitions', () => {
  test("resolves the queue from !GetAtt Queue.Arn and applies Lambda's defaults", async () => {
    const sqs = await startSqs(0);
    try {
      const resolver = createResolver(template(), undefined);
      const queues = await createQueues(sqs, resolver);
      expect(sqsEventSourceDefinitions(resolver, queues)).toEqual([
        {
          functionName: 'Consumer',
          eventName: 'Work',
          queue: 'Work',
          queueUrl: queues.Work,
          queueArn: 'arn:aws:sqs:us-east-1:000000000000:Work',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 0,
          reportBatchItemFailures: false,
          enabled: true,
        },
      ]);
      const configured = createResolver(
        template(
          'BatchSize: 100\nMaximumBatchingWindowInSeconds: 5\nFunctionResponseTypes: [ReportBatchItemFailures]\nEnabled: false',
        ),
        undefined,
      );
      await createQueues(sqs, configured);
      expect(sqsEventSourceDefinitions(configured, queues)[0]).toMatchObject({
        batchSize: 100,
        maximumBatchingWindowInSeconds: 5,
        reportBatchItemFailures: true,
        enabled: false,
      });
    } finally {
      await sqs.stop();
    }
  });

  test("template.yaml: ProcessPartnerOrdersFunction polls OrdersQueue with the template's settings", async () => {
    const sqs = await startSqs(0);
    try {
      const resolver = createResolver(loadTemplate(), undefined);
      const queues = await createQueues(sqs, resolver);
      expect(sqsEventSourceDefinitions(resolver, queues)).toEqual([
        {
          functionName: 'ProcessPartnerOrdersFunction',
          eventName: 'Queue',
          queue: 'OrdersQueue',
          queueUrl: queues.OrdersQueue,
          queueArn: 'arn:aws:sqs:us-east-1:000000000000:OrdersQueue',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 1,
          reportBatchItemFailures: true,
          enabled: true,
        },
      ]);
    } finally {
      await sqs.stop();
    }
  });

  test('refuses unsupported properties, naming the event; and values Lambda refuses', () => {
    const resolver = (properties: string) => createResolver(template(properties), undefined);
    const queues = {};
    for (const property of ['FilterCriteria: { Filters: [] }', 'ScalingConfig: { MaximumConcurrency: 2 }']) {
      const name = property.slice(0, property.indexOf(':'));
      expect(() => sqsEventSourceDefinitions(resolver(property), queues)).toThrow(UnsupportedTemplateError);
      expect(() => sqsEventSourceDefinitions(resolver(property), queues)).toThrow(
        `Resources.Consumer.Properties.Events.Work.Properties.${name}: the SQS event property ${name} is not supported`,
      );
    }
  });

  test('refuses a queue that is not a queue of the template, batch sizes Lambda refuses, unknown response types', async () => {
    const sqs = await startSqs(0);
    try {
      const definitions = async (properties: string) => {
        const resolver = createResolver(template(properties), undefined);
        return sqsEventSourceDefinitions(resolver, await createQueues(sqs, resolver));
      };
      const external = parseTemplate(`
Resources:
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Work: { Type: SQS, Properties: { Queue: arn:aws:sqs:us-east-1:111111111111:elsewhere } }
`);
      expect(() => sqsEventSourceDefinitions(createResolver(external, undefined), {})).toThrow(
        'Resources.Consumer.Properties.Events.Work.Properties.Queue: a queue that is not an AWS::SQS::Queue of the template',
      );
      await expect(definitions('BatchSize: 11')).rejects.toThrow(
        'MaximumBatchingWindowInSeconds of at least 1',
      );
      await expect(definitions('BatchSize: 0')).rejects.toThrow('not an integer from 1 to 10000');
      await expect(definitions('MaximumBatchingWindowInSeconds: 301')).rejects.toThrow('from 0 to 300');
      await expect(definitions('FunctionResponseTypes: [Everything]')).rejects.toThrow(
        UnsupportedTemplateError,
      );
      const slow = createResolver(template('', 5), undefined);
      await createQueues(sqs, slow);
      expect(() => sqsEventSourceDefinitions(slow, queuesOf(slow))).toThrow(
        'Queue visibility timeout: 1 seconds is less than Function timeout: 5 seconds',
      );
    } finally {
      await sqs.stop();
    }
  });
});

describe('failedMessageIds: the partial batch response as Lambda reads it', () => {
  const batch = ['a', 'b', 'c'];
  test('no response, an empty response, a null or empty list: the whole batch succeeded', () => {
    for (const response of [undefined, null, {}, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      expect(failedMessageIds(response, batch)).toEqual(new Set());
    }
  });
  test('listed message ids: exactly those failed', () => {
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, batch)).toEqual(new Set(['b']));
  });
  test('an invalid response or item: the whole batch failed', () => {
    for (const response of [
      'ok',
      [],
      { batchItemFailures: 'b' },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ ItemIdentifier: 'b' }] },
      { batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'not-in-batch' }] },
      { batchItemFailures: [null] },
    ]) {
      expect(failedMessageIds(response, batch)).toBeUndefined();
    }
  });
});

describe('SqsEventSourceMapping against the real fauxqs', () => {
  test("invokes the function with Lambda's SQS event records", async () => {
    const h = await harness(() => undefined);
    const binary = new Uint8Array([0, 1, 2, 250]);
    const { MessageId } = await h.sqs.client.send(
      new SendMessageCommand({
        QueueUrl: h.queues.Work,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          source: { DataType: 'String', StringValue: 'partner-api' },
          attempt: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: binary },
        },
      }),
    );
    const before = Date.now();
    h.mapping.start();
    await until(() => h.events.length === 1);
    const [record, ...others] = h.events[0]?.Records ?? [];
    expect(others).toEqual([]);
    expect(record).toEqual({
      messageId: MessageId,
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        source: {
          stringValue: 'partner-api',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        attempt: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        blob: {
          binaryValue: Buffer.from(binary).toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: createHash('md5').update('{"hello":"world"}').digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:Work',
      awsRegion: 'us-east-1',
    });
    expect(Number(record?.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(before);
  });

  test('all records succeed: every message is deleted and the queue is empty', async () => {
    const h = await harness(() => ({ batchItemFailures: [] }));
    const ids = await send(h, ['1', '2', '3', '4']);
    h.mapping.start();
    await until(async () => {
      const { visible, inFlight } = await counts(h, 'Work');
      return h.events.length > 0 && visible === 0 && inFlight === 0;
    });
    expect(h.events.flatMap((event) => idsOf(event)).sort()).toEqual([...ids].sort());
    // Nothing comes back after the visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await counts(h, 'Work')).toEqual({ visible: 0, inFlight: 0 });
    expect(h.events.flatMap((event) => idsOf(event))).toHaveLength(4);
  });

  test('batchItemFailures: only the listed records stay, and come back with ApproximateReceiveCount 2', async () => {
    let first = true;
    const h = await harness((event) => {
      if (!first) return { batchItemFailures: [] };
      first = false;
      const failed = event.Records.filter((record) => record.body === 'fails');
      return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    const [ok1, failing, ok2] = await send(h, ['ok', 'fails', 'ok too']);
    h.mapping.start();
    await until(() => h.events.length === 2);
    expect(idsOf(h.events[0])).toEqual([ok1, failing, ok2].sort());
    const [redelivered, ...more] = h.events[1]?.Records ?? [];
    expect(more).toEqual([]);
    expect(redelivered?.messageId).toBe(failing);
    expect(redelivered?.attributes.ApproximateReceiveCount).toBe('2');
    await until(async () => (await counts(h, 'Work')).inFlight === 0);
    expect(await counts(h, 'Work')).toEqual({ visible: 0, inFlight: 0 });
    expect(h.logs.join('\n')).toContain('1 of 3 message(s) failed');
  });

  test('a function error deletes nothing: the whole batch is redelivered', async () => {
    let calls = 0;
    const h = await harness(() => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return undefined;
    });
    const ids = await send(h, ['a', 'b']);
    h.mapping.start();
    await until(() => h.events.length === 2);
    expect(idsOf(h.events[0])).toEqual([...ids].sort());
    expect(idsOf(h.events[1])).toEqual([...ids].sort());
    expect(h.events[1]?.Records.map((record) => record.attributes.ApproximateReceiveCount)).toEqual([
      '2',
      '2',
    ]);
    expect(h.logs.join('\n')).toContain(
      'invocation failed (database down): all 2 message(s) stay on the queue',
    );
  });

  test('an invalid batchItemFailures response counts as a failure of the whole batch', async () => {
    let calls = 0;
    const h = await harness(() => {
      calls += 1;
      return calls === 1
        ? { batchItemFailures: [{ itemIdentifier: 'no-such-message' }] }
        : { batchItemFailures: [] };
    });
    const ids = await send(h, ['a', 'b']);
    h.mapping.start();
    await until(() => h.events.length === 2);
    expect(idsOf(h.events[1])).toEqual([...ids].sort());
  });

  test('without ReportBatchItemFailures a batchItemFailures response is ignored: everything is deleted', async () => {
    const h = await harness(
      (event) => ({
        batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
      }),
      'MaximumBatchingWindowInSeconds: 0',
    );
    await send(h, ['a']);
    h.mapping.start();
    await until(async () => h.events.length === 1 && (await counts(h, 'Work')).inFlight === 0);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(h.events).toHaveLength(1);
    expect(await counts(h, 'Work')).toEqual({ visible: 0, inFlight: 0 });
  });

  test('a poison message is received maxReceiveCount times, then the redrive policy moves it to the DLQ', async () => {
    const h = await harness((event) => ({
      batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
    }));
    const [poison] = await send(h, ['{not json']);
    h.mapping.start();
    let dead: { MessageId?: string; Body?: string } | undefined;
    await until(async () => {
      const { Messages = [] } = await h.sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: h.queues.DeadLetters, WaitTimeSeconds: 0 }),
      );
      dead = Messages[0];
      return dead !== undefined;
    });
    expect(dead).toMatchObject({ MessageId: poison, Body: '{not json' });
    expect(h.events.map((event) => event.Records[0]?.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(await counts(h, 'Work')).toEqual({ visible: 0, inFlight: 0 });
  });

  test('the batching window gathers messages that arrive within it into one invocation', async () => {
    const h = await harness(() => undefined, 'MaximumBatchingWindowInSeconds: 1');
    h.mapping.start();
    await send(h, ['1']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await send(h, ['2', '3']);
    await until(async () => h.events.length >= 1 && (await counts(h, 'Work')).inFlight === 0);
    expect(h.events.map((event) => event.Records.length)).toEqual([3]);
  });

  test('stop() ends polling promptly: later messages are not received', async () => {
    const h = await harness(() => undefined);
    h.mapping.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = Date.now();
    await h.mapping.stop();
    expect(Date.now() - stopping).toBeLessThan(1500);
    await send(h, ['late']);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(h.events).toEqual([]);
    expect(await counts(h, 'Work')).toEqual({ visible: 1, inFlight: 0 });
  });

  test('Enabled: false never polls', async () => {
    const h = await harness(() => undefined, 'Enabled: false');
    await send(h, ['ignored']);
    h.mapping.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.events).toEqual([]);
  });
});
