import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { handler as connect } from '../../../functions/chat/connect.ts';
import { handler as defaultRoute } from '../../../functions/chat/default-route.ts';
import { handler as joinRoom } from '../../../functions/chat/join-room.ts';
import { handler as sendMessage } from '../../../functions/chat/send-message.ts';
import type { WebSocketEvent, WebSocketResult } from '../../../functions/chat/websocket-route.ts';
import { documentClient } from '../../../functions/lib/clients.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { webSocketEvent } from '../websocket-event.ts';

// No @connections endpoint exists in unit tests: the management client is mocked (the integration tests and
// management.test.ts use real ones).
const management = mockClient(ApiGatewayManagementApiClient);

beforeEach(() => {
  management.reset();
  management.on(PostToConnectionCommand).resolves({});
});

afterEach(() => {
  vi.restoreAllMocks();
});

type Handler = (event: WebSocketEvent, context: ReturnType<typeof lambdaContext>) => Promise<WebSocketResult>;
const invoke = (handler: Handler, event: WebSocketEvent) => handler(event, lambdaContext());

/** What was posted, per connection, as parsed JSON frames. */
const posts = () =>
  management.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId,
    frame: JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString('utf8')),
  }));

describe('$default', () => {
  test('answers an unknown action with UnknownAction and the list of actions, to the caller only', async () => {
    const event = webSocketEvent({ routeKey: '$default', body: { action: 'typing', roomId: 'general' } });
    expect(await invoke(defaultRoute, event)).toEqual({ statusCode: 200 });
    expect(posts()).toEqual([
      {
        connectionId: event.requestContext.connectionId,
        frame: {
          type: 'error',
          code: 'UnknownAction',
          message: 'Unknown action "typing"; use one of joinroom, leaveroom, sendmessage',
          actions: ['joinroom', 'leaveroom', 'sendmessage'],
        },
      },
    ]);
  });

  test('answers a message without an action the same way', async () => {
    await invoke(defaultRoute, webSocketEvent({ routeKey: '$default', body: { roomId: 'general' } }));
    expect(posts()[0]?.frame).toMatchObject({ code: 'UnknownAction', actions: expect.any(Array) });
  });

  test('answers malformed JSON with a ValidationError', async () => {
    const event = webSocketEvent({ routeKey: '$default', body: '{"action":"sendmessage",' });
    expect(await invoke(defaultRoute, event)).toEqual({ statusCode: 200 });
    expect(posts()).toEqual([
      {
        connectionId: event.requestContext.connectionId,
        frame: { type: 'error', code: 'ValidationError', message: 'The message is not valid JSON' },
      },
    ]);
  });

  test("posts through the API's own stage endpoint on the default domain", async () => {
    await invoke(defaultRoute, webSocketEvent({ routeKey: '$default', body: {}, stage: 'prod' }));
    const [call] = management.commandCalls(PostToConnectionCommand);
    const client = call?.thisValue as ApiGatewayManagementApiClient;
    expect(await client.config.endpoint?.()).toMatchObject({
      hostname: 'k3m8q2w7z1.execute-api.eu-west-1.amazonaws.com',
      path: '/prod',
    });
  });

  test('does not fail when the caller has already gone', async () => {
    management
      .on(PostToConnectionCommand)
      .rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));
    const warned = vi.spyOn(logger, 'warn');
    expect(await invoke(defaultRoute, webSocketEvent({ routeKey: '$default', body: {} }))).toEqual({
      statusCode: 200,
    });
    expect(warned).not.toHaveBeenCalled();
  });

  test('logs a failure to send the error, and answers 500: the caller never heard of its mistake', async () => {
    management.on(PostToConnectionCommand).rejects(new Error('socket hang up'));
    const warned = vi.spyOn(logger, 'warn');
    expect(await invoke(defaultRoute, webSocketEvent({ routeKey: '$default', body: {} }))).toEqual({
      statusCode: 500,
    });
    expect(warned).toHaveBeenCalledWith('Could not send the error to the caller', expect.any(Error));
  });
});

describe('message routes refuse bad input before touching the table', () => {
  test.each([
    [
      'joinroom with an invalid room id',
      joinRoom,
      { action: 'joinroom', roomId: 'Lobby!' },
      [{ path: 'body.roomId', message: expect.any(String) }],
    ],
    [
      'sendmessage with an unknown field',
      sendMessage,
      { action: 'sendmessage', roomId: 'general', text: 'hi', from: 'admin' },
      [{ path: 'body', message: expect.stringContaining('from') }],
    ],
    [
      'sendmessage with an empty text',
      sendMessage,
      { action: 'sendmessage', roomId: 'general', text: '   ' },
      [{ path: 'body.text', message: expect.any(String) }],
    ],
  ] as [string, Handler, unknown, unknown[]][])('%s', async (_name, handler, body, details) => {
    const database = vi.spyOn(documentClient, 'send');
    const event = webSocketEvent({ routeKey: String((body as { action: string }).action), body });

    expect(await invoke(handler, event)).toEqual({ statusCode: 200 });

    expect(posts()).toEqual([
      {
        connectionId: event.requestContext.connectionId,
        frame: { type: 'error', code: 'ValidationError', message: expect.any(String), details },
      },
    ]);
    expect(database).not.toHaveBeenCalled();
  });
});

describe('unexpected failures', () => {
  test('answer the caller with a bare InternalError and a 500, and log the error in full', async () => {
    const failure = new InternalServerError({
      message: 'Internal server error on partition 7f3a (arn:aws:dynamodb:eu-west-1:123456789012:table/x)',
      $metadata: { httpStatusCode: 500 },
    });
    vi.spyOn(documentClient, 'send').mockImplementation(() => Promise.reject(failure));
    const logged = vi.spyOn(logger, 'error');
    const event = webSocketEvent({ routeKey: 'joinroom', body: { action: 'joinroom', roomId: 'general' } });

    expect(await invoke(joinRoom, event)).toEqual({ statusCode: 500 });

    expect(posts()).toEqual([
      {
        connectionId: event.requestContext.connectionId,
        frame: { type: 'error', code: 'InternalError', message: 'An internal error occurred' },
      },
    ]);
    expect(logged).toHaveBeenCalledWith('Unhandled error', failure);
  });
});

// API Gateway counts a 4XX/5XX answer from a route's integration as an IntegrationError ("Monitor WebSocket API
// execution with CloudWatch metrics"), which the chat's error alarm watches: users' mistakes must not count.
describe('the status API Gateway counts', () => {
  const notAMember = () =>
    webSocketEvent({
      routeKey: 'sendmessage',
      body: { action: 'sendmessage', roomId: 'general', text: 'hi' },
    });

  test('a protocol-error frame (NotInRoom) is answered 200: the frame tells the client', async () => {
    vi.spyOn(documentClient, 'send').mockImplementation(() => Promise.resolve({}));
    const event = notAMember();

    expect(await invoke(sendMessage, event)).toEqual({ statusCode: 200 });

    expect(posts()).toEqual([
      {
        connectionId: event.requestContext.connectionId,
        frame: {
          type: 'error',
          code: 'NotInRoom',
          message: 'Join room general before sending messages to it',
        },
      },
    ]);
  });

  test('an unexpected failure of the same route still answers 500', async () => {
    vi.spyOn(documentClient, 'send').mockImplementation(() =>
      Promise.reject(new InternalServerError({ message: 'down', $metadata: { httpStatusCode: 500 } })),
    );

    expect(await invoke(sendMessage, notAMember())).toEqual({ statusCode: 500 });

    expect(posts().map((post) => post.frame.code)).toEqual(['InternalError']);
  });
});

describe('$connect', () => {
  // Unlike a message route's, $connect's status is the handshake's answer: a refusal must fail it (and so counts
  // as an IntegrationError).
  test('refuses a connection without the authoriser context with 403, writing and sending nothing', async () => {
    const database = vi.spyOn(documentClient, 'send');
    const event = webSocketEvent({ routeKey: '$connect', authorized: false });
    expect(await invoke(connect, event)).toEqual({ statusCode: 403 });
    expect(database).not.toHaveBeenCalled();
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});
