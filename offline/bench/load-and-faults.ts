import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { type CloudOptions, OfflineCloud } from '../cloud.ts';
import { sqsEventsOf } from '../runtime/event-sources.ts';
import type { FaultCounts } from '../runtime/faults.ts';
import type { LogSink } from '../runtime/lambda.ts';
import { LOCAL_CREDENTIALS } from '../services/credentials.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../services/dynamodb.ts';
import { seedTables } from '../services/seed.ts';
import { type JsonObject, loadTemplate, type Template } from '../template/template.ts';

/**
 * The load and fault scenarios, shared by the `faults` Vitest project (small counts, assertions) and
 * `npm run bench:faults` (large counts, figures). Each runs against its own OfflineCloud on loopback, with the
 * real parts: DynamoDB Local, fauxqs, signed JWTs, `ws` clients. Plain TypeScript that Node runs directly.
 */

const SEED_FILE = fileURLToPath(new URL('../services/seed.json', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface TestCloud {
  cloud: OfflineCloud;
  /** Between the functions and DynamoDB Local, when started with `dynamoDbProxy`. */
  proxy: DynamoDbProxy | undefined;
  /** A document client with the SDK's retries, for checking what was written. */
  documents: DynamoDBDocumentClient;
  /** Calls `listener` with every function log line from now on; returns the unsubscribe function. */
  onLog(listener: LogSink): () => void;
  /** The last few hundred log lines, for a failure's message. */
  recentLogs(): string;
  stop(): Promise<void>;
}

/**
 * A whole offline cloud for one test file or benchmark: free ports, a scratch build folder, the sample
 * products of offline/services/seed.json; DynamoDB Local persisted in that folder when `persistent` (so that a restart
 * keeps the data, as DynamoDB itself does through an outage), and reached by the functions through a
 * DynamoDbProxy when `dynamoDbProxy`.
 */
export async function startTestCloud(
  options: Omit<CloudOptions, 'buildDir' | 'dynamoDataDir' | 'dynamodb' | 'log'> & {
    persistent?: boolean;
    dynamoDbProxy?: boolean;
  } = {},
): Promise<TestCloud> {
  const { persistent, dynamoDbProxy, ...cloudOptions } = options;
  const scratch = await mkdtemp(join(tmpdir(), 'fault-cloud-'));
  const listeners = new Set<LogSink>();
  const recent: string[] = [];
  // The JVM boots while the cloud bundles its functions, as in `npm run dev`.
  const started = startDynamoDbLocal(persistent ? { dataDir: join(scratch, 'dynamodb') } : {}).then(
    async (dynamodb) => ({
      dynamodb,
      proxy: dynamoDbProxy ? await startDynamoDbProxy(dynamodb.endpoint) : undefined,
    }),
  );
  // The functions (and the REST API's DynamoDB integration) see the proxy; table set-up goes straight through.
  const seenByFunctions = started.then(
    ({ dynamodb, proxy }): DynamoDbLocal =>
      proxy
        ? {
            ...dynamodb,
            endpoint: proxy.url,
            stop: async () => {
              await proxy.close();
              await dynamodb.stop();
            },
          }
        : dynamodb,
  );
  const cloud = await OfflineCloud.start({
    ...cloudOptions,
    buildDir: join(scratch, 'build'),
    dynamodb: seenByFunctions,
    log: (functionName, line) => {
      recent.push(`[${functionName}] ${line}`);
      if (recent.length > 300) recent.shift();
      for (const listener of listeners) listener(functionName, line);
    },
  }).catch(async (error) => {
    // The cloud has stopped what it started, DynamoDB Local included.
    await rm(scratch, { recursive: true, force: true });
    throw error;
  });
  const { dynamodb, proxy } = await started;
  await seedTables(cloud.dynamodb.client, cloud.resolver, SEED_FILE);
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamodb.endpoint,
      region: cloud.resolver.pseudo.region,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  return {
    cloud,
    proxy,
    documents,
    onLog: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    recentLogs: () => recent.join('\n'),
    stop: async () => {
      documents.destroy();
      await cloud.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * An HTTP proxy in front of DynamoDB Local that forwards every request as it is and can lose answers: a request
 * that `loseAnswersOf` matches is still carried out by DynamoDB, but the caller's connection is cut instead of
 * answered, as when DynamoDB crashes or the network fails between the write and its answer. Upstream
 * failures (DynamoDB Local down) cut the caller's connection too, as a refused connection would.
 */
export interface DynamoDbProxy {
  url: string;
  loseAnswersOf: ((target: string, input: JsonObject) => boolean) | undefined;
  lostAnswers: number;
  close(): Promise<void>;
}

async function startDynamoDbProxy(upstream: string): Promise<DynamoDbProxy> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(incoming.headers['x-amz-target'] ?? '');
    const lose = proxy.loseAnswersOf?.(target, JSON.parse(body.toString('utf8') || '{}')) ?? false;
    const forwarded = httpRequest(
      `${upstream}${incoming.url ?? '/'}`,
      { method: incoming.method, headers: incoming.headers, agent },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => {
          if (lose) {
            proxy.lostAnswers++;
            incoming.socket.destroy();
            return;
          }
          outgoing.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(parts));
        });
      },
    );
    forwarded.on('error', () => incoming.socket.destroy());
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxy: DynamoDbProxy = {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    loseAnswersOf: undefined,
    lostAnswers: 0,
    close: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return proxy;
}

/** The first product of offline/services/seed.json: what the scenarios order, with the price the orders must carry. */
async function seededProduct(): Promise<{ productId: string; name: string; price: Money }> {
  const seed = JSON.parse(await readFile(SEED_FILE, 'utf8')) as {
    ProductsTable: { productId: string; name: string; price: Money }[];
  };
  const [product] = seed.ProductsTable;
  if (!product) throw new Error(`${SEED_FILE} has no product`);
  return product;
}

interface Money {
  amount: number;
  currency: string;
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  body: any;
  ms: number;
  /** Set when no HTTP answer came at all (connection reset, timeout). */
  transportError?: string;
}

async function request(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown; timeoutMs: number },
): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        ...init.headers,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text, which no error-shape check accepts
    }
    return { status: response.status, body, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, body: undefined, ms: performance.now() - started, transportError: String(error) };
  }
}

/** Runs `worker` `count` times at once and waits for all. */
const inParallel = (count: number, worker: (index: number) => Promise<void>) =>
  Promise.all(Array.from({ length: count }, (_, index) => worker(index)));

// ------------------------------------------------------------------------------ partner orders, exactly once

/** The template's SQS consumer: its function, queue and the redrive policy's maxReceiveCount. */
export function orderConsumerOf(template: Template = loadTemplate()): {
  functionName: string;
  queue: string;
  maxReceiveCount: number;
} {
  const events = sqsEventsOf(template);
  const [event] = events;
  if (!event || events.length !== 1) throw new Error('Expected exactly one SQS event source in the template');
  const queueArn = (event.properties as JsonObject).Queue as JsonObject;
  const [queue] = (queueArn['Fn::GetAtt'] ?? []) as string[];
  const redrive = template.Resources[String(queue)]?.Properties?.RedrivePolicy as JsonObject | undefined;
  if (!queue || !redrive) throw new Error('The consumer queue must be a template queue with a RedrivePolicy');
  return { functionName: event.functionName, queue, maxReceiveCount: Number(redrive.maxReceiveCount) };
}

export interface PartnerOrdersOptions {
  /** Orders submitted through the partner REST API's POST /orders (429s retried, as a partner would). */
  viaRestApi: number;
  /** Orders put on the queue directly, in the very form the REST integration sends. */
  viaQueue: number;
  /** Partner clients submitting at once. */
  concurrency: number;
  /**
   * The local queue's visibility timeout: how soon a failed batch comes back. Longer than the mapping's batching
   * window, or a message waiting in the window is received again, spending its receives (as in AWS).
   */
  visibilityTimeoutSeconds: number;
  /** How long the queue may take to drain once everything is submitted. */
  drainTimeoutMs: number;
}

export interface PartnerOrdersReport {
  /** REST requests sent, 429s included. */
  requestsTried: number;
  throttled: number;
  /** REST answers other than 202 and 429 (there should be none). */
  refused: { status: number; body: unknown }[];
  /** Orders acknowledged (202 from the REST API, or sent to the queue). */
  accepted: number;
  faults: FaultCounts;
  /** Records delivered to the consumer beyond the first delivery of each message. */
  redeliveries: number;
  drained: boolean;
  /** Accepted orders missing from the Orders table. */
  lost: string[];
  /** Orders of this partner in the table that nobody submitted. */
  unexpected: string[];
  /** Orders written more than once (the consumer logged them as placed twice). */
  duplicates: string[];
  /** Orders whose stored content differs from what was submitted. */
  wrongContent: string[];
  deadLettered: number;
  seconds: number;
}

/**
 * Partner orders through POST /orders (and straight onto OrdersQueue) → the consumer, while the cloud's `faults` option
 * fails the consumer at random: every accepted order must land in the Orders table exactly once, with the
 * submitted content. "Placed" is read from the consumer's own log line (its conditional write succeeded),
 * the only place a second write of the same item would show.
 */
export async function partnerOrdersExactlyOnce(
  test: TestCloud,
  options: PartnerOrdersOptions,
): Promise<PartnerOrdersReport> {
  const { cloud } = test;
  const started = performance.now();
  const consumer = orderConsumerOf(cloud.resolver.template);
  const queueUrl = cloud.queues[consumer.queue] as string;
  const mapping = cloud.info().eventSources.find((source) => source.functionName === consumer.functionName);
  if (options.visibilityTimeoutSeconds <= (mapping?.maximumBatchingWindowInSeconds ?? 0) + 1) {
    throw new Error('The visibility timeout must exceed the batching window by more than a second');
  }
  const { Attributes = {} } = await cloud.sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const deadLetterArn = String(JSON.parse(String(Attributes.RedrivePolicy)).deadLetterTargetArn);
  const deadLetterUrl = Object.values(cloud.queues).find((url) =>
    url.endsWith(`/${deadLetterArn.split(':').at(-1)}`),
  );
  if (!deadLetterUrl) throw new Error(`No local queue for ${deadLetterArn}`);
  // The template's visibility timeout (6 × the function's) would space retries minutes apart: shortened on the
  // local queue, as an operator could with SetQueueAttributes in AWS; the mapping stays as the template says.
  await cloud.sqs.client.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) },
    }),
  );

  const placed = new Map<string, number>();
  const unsubscribe = test.onLog((functionName, line) => {
    if (functionName !== consumer.functionName || !line.includes('"Partner order placed"')) return;
    const { orderId } = JSON.parse(line) as { orderId: string };
    placed.set(orderId, (placed.get(orderId) ?? 0) + 1);
  });

  const product = await seededProduct();
  const partner = unlimitedPartnerKey(cloud);
  const runId = randomUUID().slice(0, 8);
  const submitted = new Map<string, { quantity: number; note: string }>();
  const orderOf = (index: number) => ({ quantity: 1 + (index % 5), note: `load ${runId} #${index}` });
  let requestsTried = 0;
  let throttled = 0;
  const refused: { status: number; body: unknown }[] = [];

  let nextRest = 0;
  const viaRestApi = inParallel(options.concurrency, async () => {
    while (nextRest < options.viaRestApi) {
      const order = orderOf(nextRest++);
      for (;;) {
        requestsTried++;
        const answer = await request(`${partner.url}/orders`, {
          method: 'POST',
          headers: { 'x-api-key': partner.value },
          body: { items: [{ productId: product.productId, quantity: order.quantity }], note: order.note },
          timeoutMs: 30_000,
        });
        if (answer.status === 202) {
          submitted.set(answer.body.orderId, order);
          break;
        }
        if (answer.status !== 429) {
          refused.push({ status: answer.status, body: answer.body ?? answer.transportError });
          break;
        }
        throttled++;
        // A partner backing off after a 429, as a client of a throttled API should.
        await sleep(200 + Math.random() * 200);
      }
    }
  });
  let nextQueued = options.viaRestApi;
  const total = options.viaRestApi + options.viaQueue;
  const viaQueue = inParallel(Math.min(4, options.concurrency), async () => {
    while (nextQueued < total) {
      const batch = Array.from({ length: Math.min(10, total - nextQueued) }, () => orderOf(nextQueued++));
      const receivedAt = String(Date.now());
      // In the form the integration sends: the envelope as attributes, the order's id the MessageId SQS answers.
      const { Successful = [], Failed = [] } = await cloud.sqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((order, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify({
              items: [{ productId: product.productId, quantity: order.quantity }],
              note: order.note,
            }),
            MessageAttributes: {
              partnerId: { DataType: 'String', StringValue: partner.keyId },
              receivedAt: { DataType: 'Number', StringValue: receivedAt },
            },
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
      for (const { Id, MessageId } of Successful) {
        const order = batch[Number(Id)];
        if (order && MessageId) submitted.set(MessageId, order);
      }
    }
  });
  await Promise.all([viaRestApi, viaQueue]);

  const counts = async (url: string) => {
    const { Attributes: attributes = {} } = await cloud.sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(attributes.ApproximateNumberOfMessages) +
      Number(attributes.ApproximateNumberOfMessagesNotVisible)
    );
  };
  const drainDeadline = Date.now() + options.drainTimeoutMs;
  let drained = false;
  while (!drained && Date.now() < drainDeadline) {
    drained = (await counts(queueUrl)) === 0;
    if (!drained) await sleep(250);
  }
  // A worker's log lines reach the cloud a moment after its result: a late "placed" must still be counted.
  await sleep(500);
  unsubscribe();

  const stored = new Map<string, Record<string, unknown>>();
  const customerId = `partner#${partner.keyId}`;
  for await (const page of paginateQuery(
    { client: test.documents },
    {
      TableName: cloud.tables.OrdersTable,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :customer',
      ExpressionAttributeValues: { ':customer': customerId },
    },
  )) {
    for (const item of page.Items ?? []) stored.set(String(item.orderId), item);
  }
  const wrongContent: string[] = [];
  for (const [orderId, order] of submitted) {
    const item = stored.get(orderId);
    if (!item) continue;
    const expected = {
      orderId,
      customerId,
      status: 'PLACED',
      items: [
        {
          productId: product.productId,
          name: product.name,
          quantity: order.quantity,
          unitPrice: product.price,
        },
      ],
      total: { amount: product.price.amount * order.quantity, currency: product.price.currency },
      note: order.note,
      source: 'partner',
    };
    const { createdAt, ...rest } = item;
    if (
      JSON.stringify(sortedKeys(rest)) !== JSON.stringify(sortedKeys(expected)) ||
      Number.isNaN(Date.parse(String(createdAt)))
    )
      wrongContent.push(orderId);
  }
  const faults = cloud.faults?.counts(consumer.functionName) ?? {
    invocations: 0,
    records: 0,
    beforeHandler: 0,
    afterHandler: 0,
    spared: 0,
  };
  return {
    requestsTried,
    throttled,
    refused,
    accepted: submitted.size,
    faults: { ...faults },
    redeliveries: faults.records - submitted.size,
    drained,
    lost: [...submitted.keys()].filter((orderId) => !stored.has(orderId)),
    unexpected: [...stored.keys()].filter((orderId) => !submitted.has(orderId)),
    duplicates: [...placed].filter(([, times]) => times > 1).map(([orderId]) => orderId),
    wrongContent,
    deadLettered: await counts(deadLetterUrl),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Deep copy with object keys sorted, so two records compare by content. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, item]) => [key, sortedKeys(item)]),
  );
}

/** The REST API's URL and the key of a usage plan without limits of its own (the template's top tier). */
function unlimitedPartnerKey(cloud: OfflineCloud): { url: string; keyId: string; value: string } {
  for (const { api, url } of cloud.restApis.values()) {
    const plan = api.config.usagePlans.find(
      (candidate) =>
        !candidate.throttle && !candidate.quota && Object.keys(candidate.methodThrottle).length === 0,
    );
    const key = api.config.apiKeys.find((candidate) => candidate.id === plan?.keyIds[0]);
    if (key) return { url, keyId: key.id, value: key.value };
  }
  throw new Error('The template has no usage plan without limits');
}

// ------------------------------------------------------------------------------ throttles

export interface ThrottleReport {
  rate: number;
  burst: number;
  sent: number;
  admitted: number;
  throttled: number;
  /** Answers that were neither admitted nor throttled. */
  other: unknown[];
  /** What the bucket can have admitted given when the requests were sent and answered. */
  fewest: number;
  most: number;
}

/**
 * The bounds a token bucket (`burst` at most, `rate` per second, full at the start) puts on what it admits
 * under continuous load: at most burst + rate × (last answer − first send); at least burst + rate × (last
 * send − first answer), less one for the fraction of a token left at the end.
 */
function bucketBounds(
  throttle: { rate: number; burst: number },
  times: { firstSend: number; lastSend: number; firstAnswer: number; lastAnswer: number },
): { fewest: number; most: number } {
  const seconds = (from: number, to: number) => Math.max(0, to - from) / 1000;
  return {
    fewest: Math.floor(throttle.burst + throttle.rate * seconds(times.firstAnswer, times.lastSend)) - 1,
    most: Math.floor(throttle.burst + throttle.rate * seconds(times.firstSend, times.lastAnswer)),
  };
}

/** A clock of sends and answers for bucketBounds. */
function timeline() {
  const times = { firstSend: Infinity, lastSend: 0, firstAnswer: Infinity, lastAnswer: 0 };
  return {
    times,
    sent: () => {
      const now = performance.now();
      times.firstSend = Math.min(times.firstSend, now);
      times.lastSend = Math.max(times.lastSend, now);
    },
    answered: () => {
      const now = performance.now();
      times.firstAnswer = Math.min(times.firstAnswer, now);
      times.lastAnswer = Math.max(times.lastAnswer, now);
    },
  };
}

/**
 * `callers` users (each with their own token) call one HTTP API route as fast as they can for `seconds`; the
 * route's throttle (from the template, as the cloud resolved it) is shared by all of them, as in API Gateway.
 */
export async function httpRouteThrottle(
  test: TestCloud,
  options: { method: string; path: string; callers: number; seconds: number },
): Promise<ThrottleReport> {
  const [httpApi] = test.cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const { api, url } = httpApi;
  const route = api.config.routes.find(
    (candidate) => candidate.method === options.method && candidate.path === options.path,
  );
  if (!route?.throttle) throw new Error(`${options.method} ${options.path} has no throttle`);
  const tokens = await Promise.all(
    Array.from({ length: options.callers }, (_, index) =>
      test.cloud.mintToken({ sub: `throttle-${index}`, scopes: ['api/orders.read', 'api/orders.write'] }),
    ),
  );
  const clock = timeline();
  let sent = 0;
  let admitted = 0;
  let throttled = 0;
  const other: unknown[] = [];
  const until = performance.now() + options.seconds * 1000;
  await inParallel(options.callers, async (index) => {
    while (performance.now() < until) {
      sent++;
      clock.sent();
      const answer = await request(`${url}${options.path}`, {
        method: options.method,
        headers: { authorization: `Bearer ${tokens[index]}` },
        timeoutMs: 30_000,
      });
      clock.answered();
      if (answer.status >= 200 && answer.status < 300) admitted++;
      else if (answer.status === 429 && answer.body?.message === 'Too Many Requests') throttled++;
      else other.push(answer);
      // A short pause keeps the count bounded; the gaps stay far below 1/rate, so the bucket never refills unseen.
      await sleep(5);
    }
  });
  return {
    ...route.throttle,
    sent,
    admitted,
    throttled,
    other,
    ...bucketBounds(route.throttle, clock.times),
  };
}

// ------------------------------------------------------------------------------ WebSocket

// biome-ignore lint/suspicious/noExplicitAny: frames are checked field by field
type Frame = any;

interface ChatMember {
  userId: string;
  socket: WebSocket;
  frames: Frame[];
  /** Resolves once `predicate` holds for the frames received so far (checked on every new frame). */
  until(predicate: (frames: Frame[]) => boolean, timeoutMs: number): Promise<boolean>;
  close(): void;
}

async function connectMember(test: TestCloud, userId: string): Promise<ChatMember> {
  const [api] = test.cloud.webSocketApis.values();
  if (!api) throw new Error('The template has no WebSocket API');
  const token = await test.cloud.mintToken({ sub: userId });
  const socket = new WebSocket(`${api.url}?token=${encodeURIComponent(token)}`);
  const frames: Frame[] = [];
  const waiting = new Set<() => void>();
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const check of waiting) check();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    userId,
    socket,
    frames,
    until: (predicate, timeoutMs) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          resolve(false);
        }, timeoutMs);
        const check = () => {
          if (!predicate(frames)) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(true);
        };
        waiting.add(check);
        check();
      }),
    close: () => socket.terminate(),
  };
}

/** M members connected (in groups, as clients arrive) and joined to a new room. */
async function roomOf(test: TestCloud, members: number): Promise<{ roomId: string; members: ChatMember[] }> {
  const roomId = `load-${randomUUID().slice(0, 8)}`;
  const connected: ChatMember[] = [];
  for (let start = 0; start < members; start += 25) {
    const group = await Promise.all(
      Array.from({ length: Math.min(25, members - start) }, (_, index) =>
        connectMember(test, `member-${start + index}-${roomId}`),
      ),
    );
    await Promise.all(
      group.map(async (member) => {
        member.socket.send(JSON.stringify({ action: 'joinroom', roomId }));
        const joined = await member.until(
          (frames) => frames.some((frame) => frame.type === 'joined' && frame.roomId === roomId),
          30_000,
        );
        if (!joined)
          throw new Error(`${member.userId} could not join ${roomId}: ${JSON.stringify(member.frames)}`);
      }),
    );
    connected.push(...group);
  }
  return { roomId, members: connected };
}

export interface WebSocketBurstReport {
  members: number;
  sent: number;
  /** Deliveries expected: every message to every member. */
  expected: number;
  received: number;
  /** (member, message) pairs never received. */
  missing: number;
  /** (member, message) pairs received more than once. */
  duplicates: number;
  /** Messages a member received before an earlier one of the same sender. */
  outOfOrder: number;
  /** Receipts (`delivered`) whose recipient count was not the whole room. */
  shortReceipts: number;
  /** Frames that report a failure (throttled, internal error, validation). */
  errors: Frame[];
  seconds: number;
}

/**
 * `senders` members of an M-member room each fire `perSender` messages at once, without waiting for any
 * receipt; every member must receive every message exactly once.
 */
export async function webSocketBurst(
  test: TestCloud,
  options: { members: number; senders: number; perSender: number; timeoutMs: number },
): Promise<WebSocketBurstReport> {
  const { roomId, members } = await roomOf(test, options.members);
  try {
    const senders = members.slice(0, options.senders);
    const sent = options.senders * options.perSender;
    const started = performance.now();
    for (const sender of senders) {
      for (let index = 0; index < options.perSender; index++) {
        sender.socket.send(
          JSON.stringify({
            action: 'sendmessage',
            roomId,
            text: `${sender.userId} #${index}`,
            clientMessageId: randomUUID(),
          }),
        );
      }
    }
    const messagesIn = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'message' && frame.roomId === roomId);
    await Promise.all([
      ...members.map((member) =>
        member.until((frames) => messagesIn(frames).length >= sent, options.timeoutMs),
      ),
      ...senders.map((sender) =>
        sender.until(
          (frames) => frames.filter((frame) => frame.type === 'delivered').length >= options.perSender,
          options.timeoutMs,
        ),
      ),
    ]);
    const seconds = (performance.now() - started) / 1000;
    // Late duplicates would arrive right after the last expected message.
    await sleep(500);
    let received = 0;
    let missing = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    for (const member of members) {
      const texts = messagesIn(member.frames).map((frame) => String(frame.text));
      received += texts.length;
      for (const sender of senders) {
        const indexes = texts
          .filter((text) => text.startsWith(`${sender.userId} #`))
          .map((text) => Number(text.slice(text.indexOf('#') + 1)));
        const distinct = new Set(indexes);
        missing += options.perSender - distinct.size;
        duplicates += indexes.length - distinct.size;
        for (let at = 1; at < indexes.length; at++)
          if ((indexes[at] as number) < (indexes[at - 1] as number)) outOfOrder++;
      }
    }
    const receipts = senders.flatMap((sender) => sender.frames.filter((frame) => frame.type === 'delivered'));
    return {
      members: members.length,
      sent,
      expected: sent * members.length,
      received,
      missing,
      duplicates,
      outOfOrder,
      shortReceipts: receipts.filter((receipt) => receipt.recipients !== members.length).length,
      errors: members.flatMap((member) =>
        member.frames.filter((frame) => frame.type === 'error' || typeof frame.message === 'string'),
      ),
      seconds,
    };
  } finally {
    for (const member of members) member.close();
  }
}

/**
 * `callers` members of a room send `sendmessage` as fast as they can for `seconds`: the route's throttle
 * (the stage's ChatRateLimit/ChatBurstLimit, as the cloud resolved them) answers the excess with
 * "Too Many Requests" frames, and only admitted messages reach the room.
 */
export async function webSocketRouteThrottle(
  test: TestCloud,
  options: { routeKey: string; callers: number; seconds: number; listeners: number },
): Promise<ThrottleReport & { deliveredToEveryMember: boolean }> {
  const [api] = test.cloud.webSocketApis.values();
  const throttle = api?.config.routes.find((route) => route.routeKey === options.routeKey)?.throttle;
  if (!throttle) throw new Error(`The WebSocket route ${options.routeKey} has no throttle`);
  const { roomId, members } = await roomOf(test, options.callers + options.listeners);
  try {
    const callers = members.slice(0, options.callers);
    const clock = timeline();
    const answers = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'delivered' || frame.message === 'Too Many Requests');
    for (const caller of callers) {
      let seen = 0;
      caller.socket.on('message', () => {
        const count = answers(caller.frames).length;
        if (count > seen) clock.answered();
        seen = count;
      });
    }
    let sent = 0;
    const until = performance.now() + options.seconds * 1000;
    await inParallel(options.callers, async (index) => {
      const caller = callers[index] as ChatMember;
      while (performance.now() < until) {
        sent++;
        clock.sent();
        caller.socket.send(JSON.stringify({ action: options.routeKey, roomId, text: `burst ${sent}` }));
        await sleep(10);
      }
    });
    const total = () => callers.reduce((sum, caller) => sum + answers(caller.frames).length, 0);
    const deadline = Date.now() + 30_000;
    while (total() < sent && Date.now() < deadline) await sleep(50);
    const admitted = callers.reduce(
      (sum, caller) => sum + caller.frames.filter((frame) => frame.type === 'delivered').length,
      0,
    );
    const throttled = callers.reduce(
      (sum, caller) => sum + caller.frames.filter((frame) => frame.message === 'Too Many Requests').length,
      0,
    );
    const messagesIn = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'message' && frame.roomId === roomId).length;
    const deliveredToEveryMember =
      (
        await Promise.all(
          members.map((member) => member.until((frames) => messagesIn(frames) >= admitted, 10_000)),
        )
      ).every(Boolean) && members.every((member) => messagesIn(member.frames) === admitted);
    return {
      ...throttle,
      sent,
      admitted,
      throttled,
      other: callers.flatMap((caller) =>
        caller.frames.filter(
          (frame) =>
            frame.type !== 'delivered' &&
            frame.type !== 'message' &&
            frame.type !== 'joined' &&
            frame.message !== 'Too Many Requests',
        ),
      ),
      deliveredToEveryMember,
      ...bucketBounds(throttle, clock.times),
    };
  } finally {
    for (const member of members) member.close();
  }
}

// ------------------------------------------------------------------------------ DynamoDB Local restarted

/** A 5xx within the bound, in the error shape: the handler's, or the gateway's for a failed invocation. */
function isClean5xx(answer: Answer, boundMs: number): boolean {
  return (
    answer.status >= 500 &&
    answer.ms <= boundMs &&
    ((typeof answer.body?.error?.code === 'string' &&
      typeof answer.body.error.message === 'string' &&
      typeof answer.body.requestId === 'string') ||
      answer.body?.message === 'Internal Server Error')
  );
}

/**
 * POST /orders with an Idempotency-Key, sent again while a 409 says that an earlier attempt's record is still in
 * progress (it expires after that invocation's remaining time).
 */
async function placeOrderRetrying(
  url: string,
  token: string,
  key: string,
  body: unknown,
  options: { retryForMs: number; requestTimeoutMs: number },
  onAttempt: () => void = () => undefined,
): Promise<Answer> {
  const deadline = performance.now() + options.retryForMs;
  for (;;) {
    onAttempt();
    const answer = await request(`${url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      body,
      timeoutMs: options.requestTimeoutMs,
    });
    if (answer.status !== 409 || performance.now() > deadline) return answer;
    await sleep(500);
  }
}

export interface LostAnswersReport {
  /** POSTs sent: the first attempts and every retry. */
  requests: number;
  /** Answers of PutItem on the Orders table that the proxy cut after DynamoDB had carried them out. */
  lostAnswers: number;
  /** The first attempts: each should be a clean 5xx, its order written all the same. */
  firstAttempts: { status: number; clean: boolean }[];
  /** The retries with the same keys, once answers flow again. */
  retries: { status: number; answeredWithEarlierOrder: boolean }[];
  /** Orders stored per key, in the order of the keys. */
  ordersPerKey: number[];
}

/**
 * The precise fault behind "a crash between the write and its answer": DynamoDB writes each order, but the
 * function never hears back (the proxy cuts the connection, for the SDK's own retries too), so each POST fails
 * with its order stored. Each is then retried with its Idempotency-Key, as a client would: one order per key.
 */
export async function lostWriteAnswers(
  test: TestCloud,
  options: { orders: number; requestTimeoutMs: number; retryForMs: number },
): Promise<LostAnswersReport> {
  const { cloud, proxy } = test;
  if (!proxy) throw new Error('lostWriteAnswers needs a cloud started with dynamoDbProxy');
  const [httpApi] = cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const ordersTable = cloud.tables.OrdersTable as string;
  const product = await seededProduct();
  const sub = `lost-answers-${randomUUID().slice(0, 8)}`;
  const token = await cloud.mintToken({ sub, scopes: ['api/orders.read', 'api/orders.write'] });
  const attempts = Array.from({ length: options.orders }, (_, index) => ({
    key: randomUUID(),
    body: {
      items: [{ productId: product.productId, quantity: 1 + (index % 3) }],
      note: `lost answer ${index}`,
    },
  }));

  const lostBefore = proxy.lostAnswers;
  proxy.loseAnswersOf = (target, input) => target.endsWith('.PutItem') && input.TableName === ordersTable;
  const firstAttempts = await Promise.all(
    attempts.map(({ key, body }) =>
      request(`${httpApi.url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        body,
        timeoutMs: options.requestTimeoutMs,
      }),
    ),
  );
  proxy.loseAnswersOf = undefined;
  const retriedAt = Date.now();
  let retryRequests = 0;
  const retries = await Promise.all(
    attempts.map(({ key, body }) =>
      placeOrderRetrying(httpApi.url, token, key, body, options, () => retryRequests++),
    ),
  );

  const notes = new Map<string, number>();
  for await (const page of paginateQuery(
    { client: test.documents },
    {
      TableName: ordersTable,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :customer',
      ExpressionAttributeValues: { ':customer': sub },
    },
  )) {
    for (const item of page.Items ?? [])
      notes.set(String(item.note), (notes.get(String(item.note)) ?? 0) + 1);
  }
  return {
    requests: options.orders + retryRequests,
    lostAnswers: proxy.lostAnswers - lostBefore,
    firstAttempts: firstAttempts.map((answer) => ({
      status: answer.status,
      clean: isClean5xx(answer, options.requestTimeoutMs),
    })),
    retries: retries.map((answer) => ({
      status: answer.status,
      answeredWithEarlierOrder: answer.status === 201 && Date.parse(answer.body.createdAt) < retriedAt,
    })),
    ordersPerKey: attempts.map(({ body }) => notes.get(body.note) ?? 0),
  };
}

export interface OutageOptions {
  /** Users placing and listing orders at once. */
  clients: number;
  /** Traffic before the first restart, and between and after restarts. */
  steadyMs: number;
  restarts: number;
  /** How long DynamoDB Local stays down each time, before its JVM starts again. */
  downtimeMs: number;
  /** A request without an answer after this long counts as a hang. */
  requestTimeoutMs: number;
  /** How long a retry with the same Idempotency-Key may keep getting 409 (the first attempt's record still in progress). */
  retryForMs: number;
}

export interface OutageReport {
  requests: number;
  ok: number;
  /** 5xx answers in the error shape (the handler's, or the gateway's for a failed invocation). */
  clean5xx: number;
  /** Anything else: a 5xx in another shape, a 4xx, no answer at all, an answer after the bound. */
  unclean: { status: number; body: unknown; ms: number; transportError?: string }[];
  /** Requests that did not succeed though they ran entirely while DynamoDB Local was up (before the first crash or after a restart). */
  failedWhileUp: number;
  /** 201s whose order is not in the table as answered. */
  acknowledgedMissing: string[];
  /** COMPLETED idempotency records whose order does not exist. */
  completedWithoutOrder: string[];
  /** Orders written whose request was never answered 201, even after the retries. */
  orphans: string[];
  /** Idempotency keys that ended with more than one order. */
  duplicatedKeys: string[];
  /** POSTs answered 5xx, retried with the same Idempotency-Key after recovery. */
  retried: number;
  /** Retries that never got a 201 within retryForMs. */
  retriesUnresolved: number;
  /** Retries answered with the order a failed attempt had placed (its write done, its answer lost). */
  answeredWithEarlierOrder: number;
  downSeconds: number[];
  seconds: number;
}

/**
 * Users place orders (POST /orders with an Idempotency-Key) and list them (GET /orders) through the HTTP API
 * while DynamoDB Local is killed and started again: every answer must be a 2xx or a clean 5xx within the
 * bound, requests after the restart succeed, every 201 order exists, and nothing is half-written. Each POST
 * that failed is then retried with its key, as a client would: each key must end with exactly one order.
 */
export async function dynamoDbOutage(test: TestCloud, options: OutageOptions): Promise<OutageReport> {
  const { cloud } = test;
  const started = performance.now();
  const [httpApi] = cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const { url } = httpApi;
  const product = await seededProduct();
  const users = await Promise.all(
    Array.from({ length: options.clients }, async (_, index) => {
      const sub = `outage-${index}-${randomUUID().slice(0, 8)}`;
      return { sub, token: await cloud.mintToken({ sub, scopes: ['api/orders.read', 'api/orders.write'] }) };
    }),
  );
  interface Post {
    key: string;
    sub: string;
    token: string;
    body: { items: { productId: string; quantity: number }[]; note: string };
    answer: Answer;
  }
  const posts: Post[] = [];
  const answers: { answer: Answer; startedAt: number }[] = [];
  // While DynamoDB Local is up: from upSince[i] until downAt[i] (the last interval has no end).
  const upSince = [performance.now()];
  const downAt: number[] = [];
  let stopping = false;
  const send = async (
    token: string,
    method: string,
    path: string,
    extra: { key?: string; body?: unknown } = {},
  ) => {
    const startedAt = performance.now();
    const answer = await request(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(extra.key ? { 'idempotency-key': extra.key } : {}) },
      body: extra.body,
      timeoutMs: options.requestTimeoutMs,
    });
    answers.push({ answer, startedAt });
    return answer;
  };
  const traffic = inParallel(options.clients, async (index) => {
    const user = users[index] as { sub: string; token: string };
    for (let round = 0; !stopping; round++) {
      const key = randomUUID();
      const body = {
        items: [{ productId: product.productId, quantity: 1 + (round % 3) }],
        note: `outage ${round}`,
      };
      const placed = await send(user.token, 'POST', '/orders', { key, body });
      posts.push({ key, ...user, body, answer: placed });
      const listed = await send(user.token, 'GET', '/orders?limit=5');
      // Failures come back in a millisecond while DynamoDB is down: a short pause keeps the count bounded.
      if (placed.status !== 201 || listed.status !== 200) await sleep(100);
    }
  });
  const downSeconds: number[] = [];
  await sleep(options.steadyMs);
  for (let restart = 0; restart < options.restarts; restart++) {
    downAt.push(performance.now());
    await cloud.dynamodb.restart(() => sleep(options.downtimeMs));
    upSince.push(performance.now());
    downSeconds.push(((upSince.at(-1) as number) - (downAt.at(-1) as number)) / 1000);
    await sleep(options.steadyMs);
  }
  stopping = true;
  await traffic;

  const isCleanFailure = (answer: Answer) => isClean5xx(answer, options.requestTimeoutMs);
  const ok = answers.filter(({ answer }) => answer.status >= 200 && answer.status < 300).length;
  const clean5xx = answers.filter(({ answer }) => isCleanFailure(answer)).length;
  const unclean = answers
    .map(({ answer }) => answer)
    .filter((answer) => !(answer.status >= 200 && answer.status < 300) && !isCleanFailure(answer));
  const ranWhileUp = (startedAt: number, ms: number) =>
    upSince.some((since, index) => startedAt >= since && startedAt + ms <= (downAt[index] ?? Infinity));
  const failedWhileUp = answers.filter(
    ({ answer, startedAt }) =>
      ranWhileUp(startedAt, answer.ms) && !(answer.status >= 200 && answer.status < 300),
  ).length;

  // Each failed POST again, with its key, as a client would once the service is back.
  const failed = posts.filter((post) => post.answer.status !== 201);
  let retriesUnresolved = 0;
  let answeredWithEarlierOrder = 0;
  let nextRetry = 0;
  await inParallel(options.clients, async () => {
    while (nextRetry < failed.length) {
      const post = failed[nextRetry++] as Post;
      const retriedAt = Date.now();
      post.answer = await placeOrderRetrying(url, post.token, post.key, post.body, options);
      if (post.answer.status !== 201) retriesUnresolved++;
      else if (Date.parse(post.answer.body.createdAt) < retriedAt) answeredWithEarlierOrder++;
    }
  });

  const ordersTable = cloud.tables.OrdersTable as string;
  const acknowledgedMissing: string[] = [];
  for (const post of posts.filter((candidate) => candidate.answer.status === 201)) {
    const { Item } = await test.documents.send(
      new GetCommand({
        TableName: ordersTable,
        Key: { orderId: post.answer.body.orderId },
        ConsistentRead: true,
      }),
    );
    const { customerId, ...view } = Item ?? {};
    if (
      !Item ||
      customerId !== post.sub ||
      JSON.stringify(sortedKeys(view)) !== JSON.stringify(sortedKeys(post.answer.body))
    )
      acknowledgedMissing.push(String(post.answer.body.orderId));
  }
  const completedWithoutOrder: string[] = [];
  for await (const page of paginateScan(
    { client: test.documents },
    { TableName: cloud.tables.IdempotencyTable },
  )) {
    for (const record of page.Items ?? []) {
      if (record.status !== 'COMPLETED') continue;
      // Powertools stores the handler's result as a map: here the API Gateway response with its JSON body.
      const response = record.data as { statusCode: number; body: string };
      if (response.statusCode !== 201) continue;
      const { orderId } = JSON.parse(response.body) as { orderId: string };
      const { Item } = await test.documents.send(
        new GetCommand({ TableName: ordersTable, Key: { orderId }, ConsistentRead: true }),
      );
      if (!Item) completedWithoutOrder.push(orderId);
    }
  }
  const acknowledged = new Set(
    posts.filter((post) => post.answer.status === 201).map((post) => post.answer.body.orderId as string),
  );
  const orphans: string[] = [];
  const ordersByNote = new Map<string, number>();
  for (const user of users) {
    for await (const page of paginateQuery(
      { client: test.documents },
      {
        TableName: ordersTable,
        IndexName: 'byCustomer',
        KeyConditionExpression: 'customerId = :customer',
        ExpressionAttributeValues: { ':customer': user.sub },
      },
    )) {
      for (const item of page.Items ?? []) {
        if (!acknowledged.has(String(item.orderId))) orphans.push(String(item.orderId));
        const noteKey = `${user.sub} ${item.note}`;
        ordersByNote.set(noteKey, (ordersByNote.get(noteKey) ?? 0) + 1);
      }
    }
  }
  // Each key's body has a note unique to its user and round: two orders with one note are one key's two orders.
  const duplicatedKeys = posts
    .filter((post) => (ordersByNote.get(`${post.sub} ${post.body.note}`) ?? 0) > 1)
    .map((post) => post.key);
  return {
    requests: answers.length,
    ok,
    clean5xx,
    unclean,
    failedWhileUp,
    acknowledgedMissing,
    completedWithoutOrder,
    orphans,
    duplicatedKeys,
    retried: failed.length,
    retriesUnresolved,
    answeredWithEarlierOrder,
    downSeconds,
    seconds: (performance.now() - started) / 1000,
  };
}
