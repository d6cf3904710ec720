import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { type CloudOptions, OfflineCloud } from '../cloud.ts';
import type { LogSink } from '../runtime/lambda.ts';
import { LOCAL_CREDENTIALS } from '../services/credentials.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../services/dynamodb.ts';
import { seedItemsOf, seedTables } from '../services/seed.ts';
import { createResolver } from '../template/resolver.ts';
import { type JsonObject, loadTemplate, type Template } from '../template/template.ts';
import { type WebSocketApiConfig, webSocketApiDefinitions } from '../template/websocket-api-definition.ts';

/**
 * What the load and fault scenarios share: an OfflineCloud of its own for each, on loopback, with the real parts
 * (DynamoDB Local, fauxqs, signed JWTs, `ws` clients), and the HTTP and chat clients they drive it with. The
 * scenarios (partner-orders-scenario.ts, throttle-scenarios.ts, websocket-burst-scenario.ts,
 * dynamodb-fault-scenarios.ts) are shared by the `faults` Vitest project (small counts, assertions) and
 * `npm run bench:faults` (large counts, figures). Plain TypeScript that Node runs directly.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
 * products of the template (Metadata.OfflineSeed); DynamoDB Local persisted in that folder when `persistent` (so that a restart
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
  await seedTables(cloud.dynamodb.client, cloud.resolver);
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

/** The first sample product of the template: what the scenarios order, with the price the orders must carry. */
export async function seededProduct(): Promise<{ productId: string; name: string; price: Money }> {
  const resolver = createResolver(loadTemplate(), undefined);
  const [product] = seedItemsOf(resolver).ProductsTable ?? [];
  if (!product) throw new Error('template.yaml: ProductsTable has no Metadata.OfflineSeed item');
  return product as unknown as { productId: string; name: string; price: Money };
}

interface Money {
  amount: number;
  currency: string;
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  body: any;
  ms: number;
  /** Set when no HTTP answer came at all (connection reset, timeout). */
  transportError?: string;
}

export async function request(
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
export const inParallel = (count: number, worker: (index: number) => Promise<void>) =>
  Promise.all(Array.from({ length: count }, (_, index) => worker(index)));

/** Deep copy with object keys sorted, so two records compare by content. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, item]) => [key, sortedKeys(item)]),
  );
}

/**
 * `overrides` less those of parameters the template does not declare (the cloud refuses those): a benchmark
 * lifts the limits the template has, whichever of the starter's features a forker has removed.
 */
export function declaredParameters(
  overrides: Record<string, string>,
  template: Template = loadTemplate(),
): Record<string, string> {
  return Object.fromEntries(Object.entries(overrides).filter(([name]) => template.Parameters?.[name]));
}

// ------------------------------------------------------------------------------ WebSocket

/** The routes the WebSocket scenarios send (the starter's chat protocol, functions/chat/). */
export const ROOM_ROUTES = ['joinroom', 'sendmessage'];

/**
 * The template's first WebSocket API (the one the scenarios connect to) when it has ROOM_ROUTES; undefined
 * otherwise (no WebSocket API, as after the README's "Remove the WebSocket chat"), and the scenarios are skipped.
 */
export function roomApiOf(template: Template = loadTemplate()): WebSocketApiConfig | undefined {
  const [api] = webSocketApiDefinitions(createResolver(template, undefined));
  const routes = new Set(api?.routes.map((route) => route.routeKey));
  return ROOM_ROUTES.every((routeKey) => routes.has(routeKey)) ? api : undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: frames are checked field by field
export type Frame = any;

export interface ChatMember {
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
export async function roomOf(
  test: TestCloud,
  members: number,
): Promise<{ roomId: string; members: ChatMember[] }> {
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
