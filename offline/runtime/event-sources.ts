import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import {
  functionsOf,
  type Json,
  type JsonObject,
  type Resolver,
  type Template,
  UnsupportedTemplateError,
} from '../template/template.ts';
import type { LogSink } from './lambda.ts';

/** The SQS event properties the offline event source mapping honours; any other one is refused. */
const SUPPORTED_PROPERTIES = new Set([
  'Queue',
  'BatchSize',
  'MaximumBatchingWindowInSeconds',
  'FunctionResponseTypes',
  'Enabled',
]);

/** ReceiveMessage's long poll: short, so that stop() and reloads never wait long for an idle poller. */
const WAIT_TIME_SECONDS = 1;

/** One `Type: SQS` event of a function, resolved to the local queue. */
export interface SqsEventSourceConfig {
  functionName: string;
  eventName: string;
  /** The queue's logical id. */
  queue: string;
  queueUrl: string;
  queueArn: string;
  /** Records per invocation at most (Lambda: 1–10,000, default 10). */
  batchSize: number;
  /** How long to gather records before invoking with fewer than batchSize (Lambda: 0–300 s, default 0). */
  maximumBatchingWindowInSeconds: number;
  /** FunctionResponseTypes includes ReportBatchItemFailures. */
  reportBatchItemFailures: boolean;
  enabled: boolean;
}

/** What the mapping needs of a function: Lambda's synchronous invoke (LocalLambda, or a fake in tests). */
export interface Invocable {
  invoke(event: unknown): Promise<unknown>;
}

interface SqsEventEntry {
  functionName: string;
  eventName: string;
  where: string;
  properties: Json;
}

/** Every `Type: SQS` event of the template's functions, with its unsupported properties refused by name. */
export function sqsEventsOf(template: Template): SqsEventEntry[] {
  const entries: SqsEventEntry[] = [];
  for (const fn of functionsOf(template)) {
    for (const [eventName, event] of Object.entries(
      (fn.properties.Events ?? {}) as Record<string, JsonObject>,
    )) {
      if (event.Type !== 'SQS') continue;
      const where = `Resources.${fn.logicalId}.Properties.Events.${eventName}`;
      const properties = (event.Properties ?? {}) as JsonObject;
      for (const name of Object.keys(properties)) {
        if (!SUPPORTED_PROPERTIES.has(name)) {
          throw new UnsupportedTemplateError(`${where}.Properties.${name}`, `the SQS event property ${name}`);
        }
      }
      entries.push({ functionName: fn.logicalId, eventName, where, properties });
    }
  }
  return entries;
}

/**
 * The template's SQS event source mappings, each resolved to a local queue: `Queue` must be the ARN of an
 * AWS::SQS::Queue of the template (`!GetAtt Queue.Arn`), `queues` holds their URLs by logical id
 * (createQueues, which also binds their ARNs in the resolver). Values are checked against Lambda's limits.
 */
export function sqsEventSourceDefinitions(
  resolver: Resolver,
  queues: Record<string, string>,
): SqsEventSourceConfig[] {
  const byArn = new Map(
    Object.entries(queues).map(([logicalId, url]) => [
      String(resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }, `Resources.${logicalId}`)),
      { logicalId, url },
    ]),
  );
  return sqsEventsOf(resolver.template)
    .filter((entry) => resolver.exists(entry.functionName))
    .map(({ functionName, eventName, where, properties: raw }) => {
      const properties = resolver.resolve(raw, `${where}.Properties`) as JsonObject;
      const queueArn = String(properties.Queue ?? '');
      const queue = byArn.get(queueArn);
      if (!queue) {
        throw new UnsupportedTemplateError(
          `${where}.Properties.Queue`,
          `a queue that is not an AWS::SQS::Queue of the template (${queueArn || 'none'})`,
        );
      }
      const fifo = queueArn.endsWith('.fifo');
      const batchSize = integerIn(
        properties.BatchSize,
        10,
        1,
        fifo ? 10 : 10_000,
        `${where}.Properties.BatchSize`,
      );
      const window = integerIn(
        properties.MaximumBatchingWindowInSeconds,
        0,
        0,
        300,
        `${where}.Properties.MaximumBatchingWindowInSeconds`,
      );
      if (batchSize > 10 && window < 1) {
        throw new Error(
          `${where}.Properties.BatchSize: a batch size over 10 needs MaximumBatchingWindowInSeconds of at least 1 (Lambda refuses it)`,
        );
      }
      if (fifo && window > 0) {
        throw new Error(
          `${where}.Properties.MaximumBatchingWindowInSeconds: Lambda does not support a batching window on FIFO queues`,
        );
      }
      // CreateEventSourceMapping's own check, against the template's values (fn.properties has Globals applied).
      const fn = functionsOf(resolver.template).find((candidate) => candidate.logicalId === functionName);
      const timeout = Number(fn?.properties.Timeout ?? 3);
      const queueProperties = resolver.template.Resources[queue.logicalId]?.Properties ?? {};
      const visibility = Number(
        resolver.resolve(
          queueProperties.VisibilityTimeout ?? 30,
          `Resources.${queue.logicalId}.Properties.VisibilityTimeout`,
        ),
      );
      if (visibility < timeout) {
        throw new Error(
          `${where}: Queue visibility timeout: ${visibility} seconds is less than Function timeout: ${timeout} seconds (Lambda refuses this event source mapping)`,
        );
      }
      const types = ((properties.FunctionResponseTypes ?? []) as Json[]).map(String);
      for (const type of types) {
        if (type !== 'ReportBatchItemFailures') {
          throw new UnsupportedTemplateError(
            `${where}.Properties.FunctionResponseTypes`,
            `the function response type ${type}`,
          );
        }
      }
      return {
        functionName,
        eventName,
        queue: queue.logicalId,
        queueUrl: queue.url,
        queueArn,
        batchSize,
        maximumBatchingWindowInSeconds: window,
        reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
        enabled: properties.Enabled !== false && properties.Enabled !== 'false',
      };
    });
}

function integerIn(
  value: Json | undefined,
  fallback: number,
  min: number,
  max: number,
  where: string,
): number {
  if (value === undefined || value === null) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new Error(`${where}: ${String(value)} is not an integer from ${min} to ${max}`);
  }
  return number;
}

/** Lambda's SQS record for a message received with all system and message attributes. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toLambdaAttribute(value);
  }
  return {
    messageId: String(message.MessageId),
    receiptHandle: String(message.ReceiptHandle),
    body: message.Body ?? '',
    attributes: { ...message.Attributes } as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: String(message.MD5OfBody),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** `{StringValue, DataType}` as the SDK has it → `{stringValue, stringListValues: [], binaryListValues: [], dataType}`. */
function toLambdaAttribute(value: MessageAttributeValue) {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(base64),
    dataType: String(value.DataType),
  };
}

/**
 * Which records of a batch failed, read from the function's response the way Lambda reads it with
 * ReportBatchItemFailures: no response, no list or an empty list → none failed; a list whose entries are
 * all `{itemIdentifier}` naming a message of the batch → those; anything else (not an object, a list that
 * is not an array, an empty, missing or mistyped itemIdentifier, an id that is not in the batch) →
 * `undefined`, which Lambda treats as the whole batch failing.
 */
export function failedMessageIds(response: unknown, batch: readonly string[]): Set<string> | undefined {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return undefined;
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return undefined;
  const ids = new Set(batch);
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return undefined;
    failed.add(id);
  }
  return failed;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One SQS event source mapping, offline: a poller that long-polls the local queue, gathers a batch (up to
 * batchSize records or the batching window), invokes the function synchronously with Lambda's SQS event
 * and deletes what succeeded. A function error deletes nothing: the records become visible again after the
 * queue's visibility timeout, and the queue's redrive policy (fauxqs) moves a message past maxReceiveCount
 * to its dead-letter queue. One batch is in flight per mapping at a time.
 */
export class SqsEventSourceMapping {
  readonly config: SqsEventSourceConfig;
  readonly #client: SQSClient;
  readonly #functions: ReadonlyMap<string, Invocable>;
  readonly #region: string;
  readonly #log: LogSink;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    config: SqsEventSourceConfig,
    options: { client: SQSClient; functions: ReadonlyMap<string, Invocable>; region: string; log?: LogSink },
  ) {
    this.config = config;
    this.#client = options.client;
    this.#functions = options.functions;
    this.#region = options.region;
    this.#log = options.log ?? (() => undefined);
  }

  start(): void {
    if (this.#running || !this.config.enabled) return;
    this.#stopped = false;
    this.#running = this.#poll();
  }

  /**
   * Stops polling: resolves once the current long poll (at most WaitTimeSeconds) has returned and the batch
   * in flight, if any, has been invoked and settled (its successes deleted), so no received message is left
   * invisible without an owner any longer than Lambda would leave it.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    this.#running = undefined;
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      let batch: Message[];
      try {
        batch = await this.#gather();
      } catch (error) {
        if (this.#stopped) break;
        this.#note(`ReceiveMessage failed: ${(error as Error).message}; retrying in 1 s`);
        await sleep(1000);
        continue;
      }
      // Received messages are processed even when stop() came meanwhile: they are invisible already.
      if (batch.length > 0) await this.#process(batch);
    }
  }

  /** Up to batchSize messages: the first long poll waits for any; then the batching window fills the batch. */
  async #gather(): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.config;
    const batch: Message[] = [];
    let deadline = 0;
    while (batch.length < batchSize) {
      const remaining = deadline - Date.now();
      if (batch.length > 0 && remaining <= 0) break;
      if (batch.length === 0 && this.#stopped) break;
      // In the window, a long poll only while a whole second of it is left; short polls (paced) after that.
      const waitTimeSeconds = batch.length === 0 || remaining >= 1000 ? WAIT_TIME_SECONDS : 0;
      const { Messages = [] } = await this.#client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.config.queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - batch.length),
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (batch.length === 0 && Messages.length > 0) {
        if (maximumBatchingWindowInSeconds === 0) return Messages;
        deadline = Date.now() + maximumBatchingWindowInSeconds * 1000;
      }
      for (const message of Messages) {
        // Seen again within the window (its visibility timeout is shorter than the window): the newest
        // receipt handle is the only valid one, and a record appears once per batch.
        const seen = batch.findIndex((other) => other.MessageId === message.MessageId);
        if (seen >= 0) batch[seen] = message;
        else batch.push(message);
      }
      if (Messages.length === 0 && waitTimeSeconds === 0) await sleep(Math.min(50, Math.max(remaining, 0)));
    }
    return batch;
  }

  async #process(batch: Message[]): Promise<void> {
    const { functionName, queueArn, reportBatchItemFailures } = this.config;
    const event: SQSEvent = { Records: batch.map((message) => toSqsRecord(message, queueArn, this.#region)) };
    const fn = this.#functions.get(functionName);
    if (!fn) {
      this.#note(
        `function ${functionName} is gone; ${batch.length} message(s) left to the visibility timeout`,
      );
      return;
    }
    let response: unknown;
    try {
      response = await fn.invoke(event);
    } catch (error) {
      this.#note(
        `invocation failed (${(error as Error).message}): all ${batch.length} message(s) stay on the queue`,
      );
      return;
    }
    let failed = new Set<string>();
    if (reportBatchItemFailures) {
      const reported = failedMessageIds(
        response,
        batch.map((message) => String(message.MessageId)),
      );
      if (!reported) {
        this.#note(
          `invalid batchItemFailures response, treated as a failure of the whole batch of ${batch.length}`,
        );
        return;
      }
      failed = reported;
      if (failed.size > 0)
        this.#note(`${failed.size} of ${batch.length} message(s) failed and stay on the queue`);
    }
    const done = batch.filter((message) => !failed.has(String(message.MessageId)));
    for (let start = 0; start < done.length; start += 10) {
      const entries = done
        .slice(start, start + 10)
        .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle }));
      try {
        const { Failed = [] } = await this.#client.send(
          new DeleteMessageBatchCommand({ QueueUrl: this.config.queueUrl, Entries: entries }),
        );
        for (const failure of Failed)
          this.#note(`DeleteMessage failed: ${failure.Code} ${failure.Message ?? ''}`);
      } catch (error) {
        this.#note(`DeleteMessageBatch failed: ${(error as Error).message}`);
      }
    }
  }

  #note(line: string): void {
    this.#log(this.config.functionName, `[SQS ${this.config.queue}] ${line}`);
  }
}
