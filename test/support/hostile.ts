import { connect } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect, inject } from 'vitest';
import type { Answer } from './client.ts';

/** What the hostile-input suites (hostile-*.test.ts) share: raw requests, table snapshots, the leak check. */
const cloud = inject('offlineCloud');

export const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);

export interface RawRequest {
  method: string;
  /** Appended to the base URL's path as it is: nothing is encoded or normalised. */
  path: string;
  /** Header lines exactly as sent, CR, LF and NUL included. */
  headers?: string[];
  body?: Buffer | string;
  /** The Content-Length header to send; the body's length unless a test lies about it. */
  contentLength?: number;
  /** Ends the client's side of the connection after the bytes above, as a client that gives up would. */
  hangUp?: boolean;
}

/**
 * A request written byte for byte on a socket, for what fetch refuses to send: invalid UTF-8, a lying
 * Content-Length, CR/LF in a header, unnormalised paths. Answers the first response on the connection
 * (a lying Content-Length leaves bytes that the server may answer as a second request).
 */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<Answer & { text: string }> {
  const url = new URL(baseUrl);
  const body = Buffer.from(request.body ?? '');
  const head = [
    `${request.method} ${url.pathname.replace(/\/$/, '')}${request.path} HTTP/1.1`,
    `Host: ${url.host}`,
    ...(request.headers ?? []),
    `Content-Length: ${request.contentLength ?? body.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${request.method} ${request.path}: no answer in 20 s`));
    }, 20_000);
    const finish = (answer: Answer & { text: string }) => {
      answered = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const parse = (closed: boolean) => {
      if (answered) return;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return closed ? reject(new Error(`incomplete answer: ${received}`)) : undefined;
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Headers();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const length = headers.get('content-length');
      const rest = received.subarray(end + 4);
      if (!closed && (length === null || rest.length < Number(length))) return undefined;
      const text = rest.subarray(0, length === null ? rest.length : Number(length)).toString('utf8');
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      finish({ status: Number(statusLine.split(' ')[1]), headers, body: parsed, text });
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      parse(false);
    });
    socket.on('close', () => parse(true));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    if (request.hangUp) socket.end();
  });
}

/** Calls `send` again while the stage is throttled by other suites' traffic: throttling is not under test here. */
export async function unthrottled<T extends { status: number }>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const answer = await send();
    if (answer.status !== 429 || attempt === 10) return answer;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Internals no answer may carry: stack frames, source paths, SDK and runtime error names, the template engine. */
const INTERNALS =
  /\n\s+at \S|node_modules|\.(ts|js|mjs):\d|\/work\/|\/tmp\/|\b(TypeError|SyntaxError|RangeError|ReferenceError|ZodError|ValidationException|ResourceNotFoundException|ConditionalCheckFailedException|SerializationException)\b|Unexpected token|velocity/i;

export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(INTERNALS);
}

/** Every order of one customer, through the byCustomer index the handlers use. */
export async function ordersOf(customerId: string): Promise<Record<string, unknown>[]> {
  const orders: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: cloud.tables.OrdersTable,
        IndexName: 'byCustomer',
        KeyConditionExpression: 'customerId = :customer',
        ExpressionAttributeValues: { ':customer': customerId },
        ExclusiveStartKey,
      }),
    );
    orders.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return orders.sort((a, b) => String(a.orderId).localeCompare(String(b.orderId)));
}

/** One item of a table by logical id, read consistently; undefined when there is none. */
export async function itemOf(
  tableLogicalId: string,
  key: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: cloud.tables[tableLogicalId], Key: key, ConsistentRead: true }),
  );
  return Item;
}
