import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { handler as sendMessage } from '../../../functions/chat/send-message.ts';
import { documentClient } from '../../../functions/lib/clients.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { webSocketEvent } from '../websocket-event.ts';
import { invoke, itemsOf, membersOf, newRoom, seedConnection } from './helpers.ts';

// DynamoDB is the real DynamoDB Local; @connections has no endpoint here, so the management client is mocked.
const management = mockClient(ApiGatewayManagementApiClient);

beforeEach(() => {
  management.reset();
  management.on(PostToConnectionCommand).resolves({});
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface Posted {
  connectionId: string | undefined;
  frame: Record<string, unknown>;
}

const posts = (): Posted[] =>
  management.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId,
    frame: JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString('utf8')),
  }));

const postsTo = (connectionId: string) => posts().filter((post) => post.connectionId === connectionId);

function send(
  sender: { connectionId: string; userId: string },
  body: Record<string, unknown>,
  username = 'Alice',
) {
  return invoke(
    sendMessage,
    webSocketEvent({
      routeKey: 'sendmessage',
      connectionId: sender.connectionId,
      userId: sender.userId,
      username,
      body: { action: 'sendmessage', ...body },
    }),
  );
}

const gone = () => new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } });

describe('sendmessage to a room the sender is not in', () => {
  test('answers NotInRoom to the sender only, sends nothing to the room, and is no integration error (200)', async () => {
    const roomId = newRoom();
    const member = await seedConnection([roomId]);
    const outsider = await seedConnection([newRoom()]);

    const result = await send(outsider, { roomId, text: 'let me in' });

    expect(result).toEqual({ statusCode: 200 });
    expect(posts()).toEqual([
      {
        connectionId: outsider.connectionId,
        frame: { type: 'error', code: 'NotInRoom', message: expect.stringContaining(roomId) },
      },
    ]);
    expect(postsTo(member.connectionId)).toEqual([]);
  });

  test('is a real failure (500) when the NotInRoom frame cannot be posted: the sender never hears of it', async () => {
    const roomId = newRoom();
    await seedConnection([roomId]);
    const outsider = await seedConnection([newRoom()]);
    management
      .on(PostToConnectionCommand, { ConnectionId: outsider.connectionId })
      .rejects(new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));

    expect(await send(outsider, { roomId, text: 'let me in' })).toEqual({ statusCode: 500 });
  });
});

describe('sendmessage broadcast', () => {
  test('reaches every member (sender included), removes exactly the gone connection, and reports to the sender', async () => {
    const roomId = newRoom();
    const elsewhere = newRoom();
    const sender = await seedConnection([roomId]);
    const alive = [await seedConnection([roomId]), await seedConnection([roomId, elsewhere])];
    const stale = await seedConnection([roomId, elsewhere]);
    const otherRoomOnly = await seedConnection([elsewhere]);
    management.on(PostToConnectionCommand, { ConnectionId: stale.connectionId }).rejects(gone());

    const result = await send(sender, { roomId, text: '  Hello, room!  ', clientMessageId: 'c-42' });

    expect(result).toEqual({ statusCode: 200 });
    const [senderMessage, receipt] = postsTo(sender.connectionId).map((post) => post.frame);
    expect(senderMessage).toEqual({
      type: 'message',
      roomId,
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      from: { userId: sender.userId, username: 'Alice' },
      text: 'Hello, room!',
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      clientMessageId: 'c-42',
    });
    for (const member of [...alive, stale]) {
      expect(postsTo(member.connectionId).map((post) => post.frame)).toEqual([senderMessage]);
    }
    expect(postsTo(otherRoomOnly.connectionId)).toEqual([]);
    expect(receipt).toEqual({
      type: 'delivered',
      roomId,
      messageId: senderMessage?.messageId,
      recipients: 3,
      removed: 1,
      clientMessageId: 'c-42',
    });

    expect(await itemsOf(stale.connectionId)).toEqual([]);
    expect(await membersOf(elsewhere)).toEqual([alive[1]?.connectionId, otherRoomOnly.connectionId].sort());
    expect(await membersOf(roomId)).toEqual(
      [sender.connectionId, ...alive.map((member) => member.connectionId)].sort(),
    );
    for (const member of [sender, ...alive]) expect(await itemsOf(member.connectionId)).not.toEqual([]);
  });

  test('keeps a connection whose post fails for another reason, and does not count it as delivered', async () => {
    const roomId = newRoom();
    const sender = await seedConnection([roomId]);
    const throttled = await seedConnection([roomId]);
    management
      .on(PostToConnectionCommand, { ConnectionId: throttled.connectionId })
      .rejects(new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
    const warned = vi.spyOn(logger, 'warn');

    expect(await send(sender, { roomId, text: 'hi' })).toEqual({ statusCode: 200 });

    expect(await itemsOf(throttled.connectionId)).toHaveLength(2);
    expect(postsTo(sender.connectionId).at(-1)?.frame).toMatchObject({
      type: 'delivered',
      recipients: 1,
      removed: 0,
    });
    expect(warned).toHaveBeenCalledWith(
      'Broadcast failure',
      expect.objectContaining({ recipient: throttled.connectionId, during: 'post' }),
    );
  });

  test('omits clientMessageId when the sender gave none', async () => {
    const roomId = newRoom();
    const sender = await seedConnection([roomId]);
    await send(sender, { roomId, text: 'no id' });
    for (const { frame } of posts()) expect(frame).not.toHaveProperty('clientMessageId');
  });

  test('reaches a room of 60 members, each exactly once', async () => {
    const roomId = newRoom();
    const sender = await seedConnection([roomId]);
    const members = await Promise.all(Array.from({ length: 59 }, () => seedConnection([roomId])));

    await send(sender, { roomId, text: 'all hands' });

    const messages = posts().filter((post) => post.frame.type === 'message');
    expect(messages.map((post) => post.connectionId).sort()).toEqual(
      [sender, ...members].map((member) => member.connectionId).sort(),
    );
    expect(postsTo(sender.connectionId).at(-1)?.frame).toMatchObject({ recipients: 60, removed: 0 });
  });

  test('finds the room through the byRoom index and never scans the table', async () => {
    const roomId = newRoom();
    const sender = await seedConnection([roomId]);
    await seedConnection([roomId]);
    const database = vi.spyOn(documentClient, 'send');

    await send(sender, { roomId, text: 'index only' });

    const commands = database.mock.calls.map(([command]) => command);
    expect(commands.some((command) => command instanceof ScanCommand)).toBe(false);
    expect(
      commands.some((command) => command instanceof QueryCommand && command.input.IndexName === 'byRoom'),
    ).toBe(true);
  });

  test('survives a sender that disconnected before its receipt', async () => {
    const roomId = newRoom();
    const sender = await seedConnection([roomId]);
    const other = await seedConnection([roomId]);
    management.on(PostToConnectionCommand, { ConnectionId: sender.connectionId }).rejects(gone());

    expect(await send(sender, { roomId, text: 'bye' })).toEqual({ statusCode: 200 });

    expect(postsTo(other.connectionId)).toHaveLength(1);
    expect(await itemsOf(sender.connectionId)).toEqual([]);
  });
});
