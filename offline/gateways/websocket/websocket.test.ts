import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { type FunctionRegistry, LambdaError } from '../../runtime/lambda.ts';
import type { WebSocketApiConfig, WebSocketRoute } from '../../template/websocket-api-definition.ts';
import { LocalWebSocketApi, type WebSocketLimits } from './websocket.ts';
import { policyAllows } from './websocket-authorizer.ts';

// biome-ignore lint/suspicious/noExplicitAny: events are asserted field by field
type Event = any;
type Behaviour = (event: Event) => unknown;

/** Functions that record every event and answer with `{statusCode: 200}` unless told otherwise. */
class FakeFunctions implements FunctionRegistry {
  readonly calls: { functionName: string; event: Event }[] = [];
  readonly behaviours = new Map<string, Behaviour>();

  get(functionName: string) {
    return {
      invoke: async (event: unknown) => {
        this.calls.push({ functionName, event });
        const behaviour = this.behaviours.get(functionName);
        return behaviour ? behaviour(event) : { statusCode: 200 };
      },
    };
  }

  eventsOf(functionName: string): Event[] {
    return this.calls.filter((call) => call.functionName === functionName).map((call) => call.event);
  }

  async next(functionName: string, count = 1): Promise<Event> {
    await until(() => this.eventsOf(functionName).length >= count, `${count} call(s) of ${functionName}`);
    return this.eventsOf(functionName)[count - 1];
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ALLOW = (event: Event) => ({
  principalId: 'user-1',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
  },
  context: { userId: 'user-1', username: 'alice', admin: false },
});

const route = (routeKey: string, overrides: Partial<WebSocketRoute> = {}): WebSocketRoute => ({
  routeKey,
  functionName: `${routeKey.replace('$', '')}Fn`,
  authorizer: undefined,
  throttle: undefined,
  ...overrides,
});

const AUTHORIZER = {
  name: 'Authorizer',
  functionName: 'AuthorizerFn',
  identitySource: [{ in: 'querystring' as const, name: 'token' }],
};

const config = (routes: WebSocketRoute[]): WebSocketApiConfig => ({
  logicalId: 'ChatApi',
  apiId: 'chatapi',
  stage: 'dev',
  stageVariables: {},
  routeSelectionPath: ['action'],
  routes,
  region: 'us-east-1',
  accountId: '000000000000',
});

const CHAT_ROUTES = [
  route('$connect', { authorizer: AUTHORIZER }),
  route('$disconnect'),
  route('joinroom'),
  route('sendmessage'),
  route('$default'),
];

const started: LocalWebSocketApi[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(started.splice(0).map((api) => api.stop()));
});

async function startApi(
  routes: WebSocketRoute[] = CHAT_ROUTES,
  options: { limits?: Partial<WebSocketLimits>; setup?: (functions: FakeFunctions) => void } = {},
) {
  const functions = new FakeFunctions();
  functions.behaviours.set('AuthorizerFn', ALLOW);
  options.setup?.(functions);
  const api = new LocalWebSocketApi(config(routes), functions, options.limits);
  started.push(api);
  const url = await api.listen(0);
  const management = new ApiGatewayManagementApiClient({
    endpoint: api.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { api, url, functions, management };
}

interface Client {
  socket: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** A connected client, or the status with which the handshake was refused. */
async function connect(
  url: string,
  options: { query?: string; headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Client | { status: number; body: string }> {
  const socket = new WebSocket(`${url}${options.query ?? '?token=t'}`, options.protocols, {
    headers: { 'User-Agent': 'unit-test', ...options.headers },
  });
  clients.push(socket);
  const frames: string[] = [];
  socket.on('message', (data) => frames.push(data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, frames, closed }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error);
    });
  });
}

async function connected(url: string, options: Parameters<typeof connect>[1] = {}): Promise<Client> {
  const client = await connect(url, options);
  if (!('socket' in client)) throw new Error(`handshake refused with ${client.status}`);
  return client;
}

const ID = /^[A-Za-z0-9_-]{15}=$/;

describe('LocalWebSocketApi $connect and the REQUEST authoriser', () => {
  test('a valid connection: the authoriser, then $connect, with the events API Gateway sends', async () => {
    const { url, functions } = await startApi();
    const before = Date.now();
    await connected(url, { query: '?token=abc&room=a&room=b', headers: { 'X-Custom': 'v' } });

    const [authorizerEvent] = functions.eventsOf('AuthorizerFn');
    expect(authorizerEvent).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:chatapi/dev/$connect',
      queryStringParameters: { token: 'abc', room: 'b' },
      multiValueQueryStringParameters: { token: ['abc'], room: ['a', 'b'] },
      stageVariables: {},
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        messageDirection: 'IN',
        stage: 'dev',
        apiId: 'chatapi',
        identity: { sourceIp: '127.0.0.1', userAgent: 'unit-test' },
      },
    });
    expect(authorizerEvent.headers).toMatchObject({ 'X-Custom': 'v', 'User-Agent': 'unit-test' });
    expect(authorizerEvent.multiValueHeaders['X-Custom']).toEqual(['v']);
    expect(authorizerEvent.requestContext).not.toHaveProperty('authorizer');

    const connectEvent = await functions.next('connectFn');
    const context = connectEvent.requestContext;
    expect(connectEvent).toMatchObject({
      queryStringParameters: { token: 'abc', room: 'b' },
      isBase64Encoded: false,
      headers: { 'X-Custom': 'v' },
    });
    expect(context).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'dev',
      apiId: 'chatapi',
      connectionId: authorizerEvent.requestContext.connectionId,
      connectedAt: authorizerEvent.requestContext.connectedAt,
      domainName: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      // principalId and the authoriser's context, as AWS merges them.
      authorizer: { principalId: 'user-1', userId: 'user-1', username: 'alice', admin: false },
    });
    expect(context.authorizer.integrationLatency).toEqual(expect.any(Number));
    expect(context.connectionId).toMatch(ID);
    expect(context.requestId).toMatch(ID);
    expect(context.extendedRequestId).toMatch(ID);
    expect(context.requestTime).toMatch(/^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.requestTimeEpoch).toBeGreaterThanOrEqual(before);
    expect(context.connectedAt).toBeGreaterThanOrEqual(before);
  });

  test('a missing identity source is 401 without invoking the authoriser', async () => {
    const { url, functions } = await startApi();
    expect(await connect(url, { query: '' })).toEqual({ status: 401, body: '{"message":"Unauthorized"}' });
    expect(await connect(url, { query: '?token=' })).toMatchObject({ status: 401 });
    expect(functions.calls).toEqual([]);
  });

  test.each([
    [
      'throws "Unauthorized"',
      () => {
        throw new LambdaError('Error', 'Unauthorized');
      },
      401,
      'Unauthorized',
    ],
    [
      'returns a Deny policy',
      (event: Event) => ({
        principalId: 'u',
        policyDocument: {
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
        },
      }),
      403,
      'Forbidden',
    ],
    [
      'allows another resource only',
      () => ({
        principalId: 'u',
        policyDocument: {
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:x' }],
        },
      }),
      403,
      'Forbidden',
    ],
    [
      'fails with another error',
      () => {
        throw new LambdaError('TypeError', 'boom');
      },
      500,
      'Internal server error',
    ],
    ['returns no policy', () => ({ principalId: 'u' }), 500, 'Internal server error'],
    [
      'puts an object in the context',
      (event: Event) => ({ ...ALLOW(event), context: { nested: { a: 1 } } }),
      500,
      'Internal server error',
    ],
  ])(
    'an authoriser that %s fails the handshake and never reaches $connect',
    async (_name, behaviour, status, message) => {
      const { url, functions } = await startApi(CHAT_ROUTES, {
        setup: (fns) => fns.behaviours.set('AuthorizerFn', behaviour),
      });
      expect(await connect(url)).toEqual({ status, body: JSON.stringify({ message }) });
      expect(functions.eventsOf('connectFn')).toEqual([]);
    },
  );

  test('$connect answering a non-2xx statusCode fails the handshake with it; a failure is a 500', async () => {
    const { url, functions } = await startApi(CHAT_ROUTES, {
      setup: (fns) => fns.behaviours.set('connectFn', () => ({ statusCode: 403, body: 'not you' })),
    });
    expect(await connect(url)).toEqual({ status: 403, body: 'not you' });
    functions.behaviours.set('connectFn', () => {
      throw new LambdaError('Error', 'database down');
    });
    expect(await connect(url)).toMatchObject({ status: 500 });
    expect(functions.eventsOf('disconnectFn')).toEqual([]);
  });

  test('a wrong stage is 403; without an authoriser anyone connects', async () => {
    const { url, functions } = await startApi([route('$connect'), route('$default')]);
    expect(await connect(url.replace('/dev', '/prod'))).toMatchObject({ status: 403 });
    await connected(url, { query: '' });
    expect((await functions.next('connectFn')).requestContext).not.toHaveProperty('authorizer');
  });

  test('the subprotocol comes from the $connect response, as on AWS', async () => {
    const { url } = await startApi(CHAT_ROUTES, {
      setup: (fns) =>
        fns.behaviours.set('connectFn', () => ({
          statusCode: 200,
          headers: { 'Sec-WebSocket-Protocol': 'chat.v1' },
        })),
    });
    const client = await connected(url, { protocols: ['chat.v2', 'chat.v1'] });
    expect(client.socket.protocol).toBe('chat.v1');
  });
});

describe('LocalWebSocketApi configuration', () => {
  test('configure() replaces routes and stage at once (reloadTemplate); open connections keep working', async () => {
    const { api, url, functions } = await startApi();
    const client = await connected(url);
    api.configure({ ...config([...CHAT_ROUTES, route('leaveroom')]), stage: 'v2' });
    expect(api.url).toBe(url.replace('/dev', '/v2'));
    client.socket.send('{"action":"leaveroom"}');
    expect((await functions.next('leaveroomFn')).requestContext.stage).toBe('v2');
    expect(await connect(url)).toMatchObject({ status: 403 });
    await connected(api.url);
  });

  test('$connect throttling refuses the handshake with 429 past the burst', async () => {
    const { url } = await startApi([
      route('$connect', { throttle: { rate: 0.001, burst: 2 } }),
      route('$default'),
    ]);
    await connected(url);
    await connected(url);
    expect(await connect(url)).toEqual({ status: 429, body: '{"message":"Too Many Requests"}' });
  });
});

describe('LocalWebSocketApi messages', () => {
  test('route selection: the action picks the route; unknown actions, other JSON and non-JSON go to $default', async () => {
    const { url, functions } = await startApi();
    const client = await connected(url);
    const messages = [
      '{"action":"joinroom","roomId":"general"}',
      '{"action":"shout"}',
      '{"action":{"nested":true}}',
      '["action"]',
      'not json',
      '{"action":"$connect"}',
    ];
    for (const message of messages) client.socket.send(message);
    await until(() => functions.calls.length >= 2 + messages.length, 'every message');
    expect(functions.eventsOf('joinroomFn').map((event) => event.body)).toEqual([messages[0]]);
    expect(
      functions
        .eventsOf('defaultFn')
        .map((event) => event.body)
        .sort(),
    ).toEqual(messages.slice(1).sort());
  });

  test('a MESSAGE event carries the connection, a message id and the authoriser context every time', async () => {
    const { url, functions } = await startApi();
    const client = await connected(url);
    const connect = await functions.next('connectFn');
    client.socket.send('{"action":"sendmessage","text":"one"}');
    client.socket.send('{"action":"sendmessage","text":"two"}');
    const first = await functions.next('sendmessageFn');
    const second = await functions.next('sendmessageFn', 2);
    expect(first).toEqual({
      requestContext: {
        routeKey: 'sendmessage',
        messageId: expect.stringMatching(ID),
        eventType: 'MESSAGE',
        extendedRequestId: expect.stringMatching(ID),
        requestTime: expect.any(String),
        messageDirection: 'IN',
        stage: 'dev',
        connectedAt: connect.requestContext.connectedAt,
        requestTimeEpoch: expect.any(Number),
        identity: { sourceIp: '127.0.0.1', userAgent: 'unit-test' },
        requestId: expect.stringMatching(ID),
        domainName: connect.requestContext.domainName,
        connectionId: connect.requestContext.connectionId,
        apiId: 'chatapi',
        authorizer: connect.requestContext.authorizer,
      },
      body: expect.stringMatching(/"text":"(one|two)"/),
      isBase64Encoded: false,
    });
    expect(second.requestContext.messageId).not.toBe(first.requestContext.messageId);
  });

  test('integration results are not sent back; a failed integration is an "Internal server error" frame', async () => {
    const { url, functions } = await startApi(CHAT_ROUTES, {
      setup: (fns) => {
        fns.behaviours.set('joinroomFn', () => ({ statusCode: 200, body: 'ignored' }));
        fns.behaviours.set('sendmessageFn', () => {
          throw new LambdaError('Error', 'boom');
        });
      },
    });
    const client = await connected(url);
    const { connectionId } = (await functions.next('connectFn')).requestContext;
    client.socket.send('{"action":"joinroom"}');
    await functions.next('joinroomFn');
    client.socket.send('{"action":"sendmessage"}');
    await until(() => client.frames.length > 0, 'an error frame');
    expect(client.frames).toHaveLength(1);
    const frame = client.frames[0] ?? '';
    expect(frame).toMatch(
      /^\{"message": "Internal server error", "connectionId":"[^"]+", "requestId":"[^"]+"\}$/,
    );
    expect(JSON.parse(frame)).toMatchObject({ connectionId });
  });

  test('without a $default route an unmatched message is a "Forbidden" frame', async () => {
    const { url, functions } = await startApi([route('$connect'), route('joinroom')]);
    const client = await connected(url);
    client.socket.send('{"action":"nothing"}');
    await until(() => client.frames.length > 0, 'an error frame');
    expect(JSON.parse(client.frames[0] ?? '')).toEqual({
      message: 'Forbidden',
      connectionId: (await functions.next('connectFn')).requestContext.connectionId,
      requestId: expect.stringMatching(ID),
    });
  });

  test('route throttling: past the burst, messages are answered "Too Many Requests" and not delivered', async () => {
    const { url, functions } = await startApi([
      route('$connect'),
      route('sendmessage', { throttle: { rate: 0.001, burst: 3 } }),
      route('$default'),
    ]);
    const client = await connected(url);
    for (let index = 0; index < 5; index++) client.socket.send('{"action":"sendmessage"}');
    client.socket.send('{"action":"other"}');
    await until(
      () => client.frames.length >= 2 && functions.eventsOf('defaultFn').length === 1,
      'throttling',
    );
    expect(functions.eventsOf('sendmessageFn')).toHaveLength(3);
    expect(client.frames.map((frame) => JSON.parse(frame).message)).toEqual([
      'Too Many Requests',
      'Too Many Requests',
    ]);
  });

  test('a message of 128 KB is delivered; one over 128 KB closes the connection with 1009', async () => {
    const { url, functions } = await startApi();
    const client = await connected(url);
    const limit = 128 * 1024;
    const fits = `{"action":"sendmessage","text":"${'a'.repeat(limit - 34)}"}`;
    expect(Buffer.byteLength(fits)).toBe(limit);
    client.socket.send(fits);
    expect((await functions.next('sendmessageFn')).body).toHaveLength(limit);

    client.socket.send(`{"action":"sendmessage","text":"${'a'.repeat(129 * 1024)}"}`);
    expect((await client.closed).code).toBe(1009);
    const disconnect = await functions.next('disconnectFn');
    expect(disconnect.requestContext).toMatchObject({ disconnectStatusCode: 1009, eventType: 'DISCONNECT' });
    expect(functions.eventsOf('sendmessageFn')).toHaveLength(1);
  });
});

describe('LocalWebSocketApi closing', () => {
  test('a client close sends $disconnect with its code and reason, and the authoriser context', async () => {
    const { url, functions } = await startApi();
    const client = await connected(url);
    const connect = await functions.next('connectFn');
    client.socket.close(4000, 'bye');
    const event = await functions.next('disconnectFn');
    expect(event).toMatchObject({
      headers: expect.any(Object),
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        disconnectStatusCode: 4000,
        disconnectReason: 'bye',
        connectionId: connect.requestContext.connectionId,
        connectedAt: connect.requestContext.connectedAt,
        authorizer: connect.requestContext.authorizer,
      },
    });
  });

  test('an idle connection is closed with 1001 Going away; messages keep it open', async () => {
    const { url, functions } = await startApi(CHAT_ROUTES, { limits: { idleTimeoutMs: 300 } });
    const client = await connected(url);
    const opened = Date.now();
    for (let index = 0; index < 4; index++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      client.socket.send('{"action":"joinroom"}');
    }
    const { code } = await client.closed;
    expect(code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(600 + 300);
    expect((await functions.next('disconnectFn')).requestContext).toMatchObject({
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });

  test('forget() drops a connection without $disconnect (a lost $disconnect), and @connections answers 410', async () => {
    const { api, url, functions, management } = await startApi();
    const client = await connected(url);
    const { connectionId } = (await functions.next('connectFn')).requestContext;
    expect(api.forget(connectionId)).toBe(true);
    expect((await client.closed).code).toBe(1006);
    await expect(
      management.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    ).rejects.toBeInstanceOf(GoneException);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(functions.eventsOf('disconnectFn')).toEqual([]);
  });
});

describe('@connections with the real ApiGatewayManagementApiClient', () => {
  test('PostToConnection sends a text frame; GetConnection describes the connection', async () => {
    const { url, functions, management } = await startApi();
    const before = new Date(Date.now() - 1000);
    const client = await connected(url);
    const { connectionId } = (await functions.next('connectFn')).requestContext;
    await management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"type":"hello"}' }),
    );
    await management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('ünïcode') }),
    );
    await until(() => client.frames.length === 2, 'two frames');
    expect(client.frames).toEqual(['{"type":"hello"}', 'ünïcode']);

    client.socket.send('{"action":"joinroom"}');
    await functions.next('joinroomFn');
    const description = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(description.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'unit-test' });
    expect(description.ConnectedAt).toBeInstanceOf(Date);
    expect(description.ConnectedAt?.getTime()).toBeGreaterThan(before.getTime());
    expect(description.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(
      description.ConnectedAt?.getTime() ?? 0,
    );
  });

  test('DeleteConnection closes the connection and fires $disconnect; the id is gone afterwards (410)', async () => {
    const { url, functions, management } = await startApi();
    const client = await connected(url);
    const { connectionId } = (await functions.next('connectFn')).requestContext;
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await client.closed).code).toBe(1000);
    expect((await functions.next('disconnectFn')).requestContext.connectionId).toBe(connectionId);
    const post = management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }));
    await expect(post).rejects.toBeInstanceOf(GoneException);
    await expect(post).rejects.toMatchObject({ $metadata: { httpStatusCode: 410 } });
  });

  test('an unknown connection id is a GoneException for POST, GET and DELETE', async () => {
    const { management } = await startApi();
    const ConnectionId = 'L0SM9cOFvHcCIhw=';
    for (const command of [
      new PostToConnectionCommand({ ConnectionId, Data: 'x' }),
      new GetConnectionCommand({ ConnectionId }),
      new DeleteConnectionCommand({ ConnectionId }),
    ]) {
      // biome-ignore lint/suspicious/noExplicitAny: three command types through one client
      await expect(management.send(command as any)).rejects.toBeInstanceOf(GoneException);
    }
  });

  test('a POST over 128 KB is a PayloadTooLargeException and leaves the connection open', async () => {
    const { url, functions, management } = await startApi();
    const client = await connected(url);
    const { connectionId } = (await functions.next('connectFn')).requestContext;
    const post = management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x'.repeat(128 * 1024 + 1) }),
    );
    await expect(post).rejects.toBeInstanceOf(PayloadTooLargeException);
    await management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x'.repeat(128 * 1024) }),
    );
    await until(() => client.frames.length === 1, 'the 128 KB frame');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('policyAllows', () => {
  const arn = 'arn:aws:execute-api:us-east-1:000000000000:chatapi/dev/$connect';
  test.each([
    [{ Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn }] }, true],
    [
      {
        Statement: {
          Effect: 'Allow',
          Action: ['execute-api:*'],
          Resource: ['arn:aws:execute-api:*:*:chatapi/*'],
        },
      },
      true,
    ],
    [
      {
        Statement: [
          { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' },
          { Effect: 'Deny', Action: '*', Resource: arn },
        ],
      },
      false,
    ],
    [{ Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }, false],
    [{ Statement: [] }, false],
  ])('%j → %s', (policy, allowed) => {
    expect(policyAllows(policy, arn)).toBe(allowed);
  });
});
