import { randomUUID } from 'node:crypto';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, inject, test } from 'vitest';
import { WebSocket } from 'ws';
import { token } from '../../support/client.ts';
import { ChatClient, connectionItems } from './chat-client.ts';

/**
 * The WebSocket chat through the whole offline cloud: the template's WebSocket API, its REQUEST authoriser
 * (aws-jwt-verify's CognitoJwtVerifier against the local issuer), the real chat handlers in their Lambda
 * workers, @connections, and DynamoDB Local.
 */
const cloud = inject('offlineCloud');
if (!cloud.webSocketUrl) throw new Error('The template has no WebSocket API');
const TABLE = cloud.tables.ConnectionsTable ?? 'ConnectionsTable';
const dynamo = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);
const management = new ApiGatewayManagementApiClient({
  endpoint: cloud.connectionsEndpoint.replace(/\/@connections$/, ''),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const clients: ChatClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.socket.terminate();
});

afterAll(() => {
  dynamo.destroy();
  management.destroy();
});

/** The handshake's outcome: an open client, or the HTTP status that refused it. */
function handshake(query: string): Promise<WebSocket | number> {
  const socket = new WebSocket(`${cloud.webSocketUrl}${query}`);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error);
    });
  });
}

async function connect(userId = `user-${randomUUID()}`): Promise<ChatClient> {
  const socket = await handshake(`?token=${encodeURIComponent(await token({ sub: userId }))}`);
  if (typeof socket === 'number') throw new Error(`${userId}: handshake refused with ${socket}`);
  const client = new ChatClient(socket, userId);
  clients.push(client);
  return client;
}

const newRoom = () => `room-${randomUUID().slice(0, 8)}`;

const itemsOf = (connectionId: string) => connectionItems(dynamo, TABLE, connectionId);

/** The connection ids of a user in a room, from the table's byRoom index (as the handlers find them). */
async function connectionIdsOf(roomId: string, userId: string): Promise<string[]> {
  const { Items = [] } = await dynamo.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: 'byRoom',
      KeyConditionExpression: 'roomId = :room',
      ExpressionAttributeValues: { ':room': roomId },
    }),
  );
  return Items.filter((item) => item.userId === userId).map((item) => String(item.connectionId));
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Handshakes the authoriser refuses are in auth-attacks.test.ts.
describe('$connect through the REQUEST authoriser', () => {
  test('a valid token connects; the connection is recorded and visible through @connections', async () => {
    const client = await connect();
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    const room = newRoom();
    await client.join(room);
    const [connectionId] = await connectionIdsOf(room, client.userId);
    expect(connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(await itemsOf(connectionId as string)).toEqual(
      expect.arrayContaining([expect.objectContaining({ sk: 'CONNECTION', userId: client.userId })]),
    );
    const description = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(description.Identity?.SourceIp).toBe('127.0.0.1');
  });
});

describe('rooms', () => {
  test('a message in room A never reaches room B', async () => {
    const [roomA, roomB] = [newRoom(), newRoom()];
    const [alice, anna, bob] = await Promise.all([connect(), connect(), connect()]);
    await Promise.all([alice.join(roomA), anna.join(roomA), bob.join(roomB)]);

    const delivered = await alice.say(roomA, 'only for A');
    expect(delivered).toMatchObject({ roomId: roomA, recipients: 2, removed: 0 });
    const received = await anna.next((frame) => frame.type === 'message' && frame.text === 'only for A');
    expect(received).toMatchObject({ roomId: roomA, from: { userId: alice.userId }, text: 'only for A' });
    expect((await bob.say(roomB, 'only for B')).recipients).toBe(1);

    expect(bob.messages().map((frame) => frame.text)).toEqual(['only for B']);
    expect(alice.messages().map((frame) => frame.text)).toEqual(['only for A']);
    expect(anna.messages().map((frame) => frame.text)).toEqual(['only for A']);
  });

  test('50 clients in one room all receive every message, in order per sender', async () => {
    const room = newRoom();
    const members = await Promise.all(Array.from({ length: 50 }, () => connect()));
    await Promise.all(members.map((member) => member.join(room)));
    const PER_SENDER = 3;
    const senders = members.slice(0, 10);
    // Each sender sends its next message once the last one is delivered; senders run at the same time.
    await Promise.all(
      senders.map(async (sender) => {
        for (let index = 0; index < PER_SENDER; index++) {
          expect(await sender.say(room, `${sender.userId} #${index}`)).toMatchObject({
            recipients: 50,
            removed: 0,
          });
        }
      }),
    );
    const expected = senders.length * PER_SENDER;
    await Promise.all(
      members.map((member) =>
        member
          .next(() => member.messages(room).length === expected, { timeoutMs: 15_000 })
          .catch(() => undefined),
      ),
    );
    for (const member of members) {
      const texts = member.messages(room).map((frame) => frame.text as string);
      expect(texts).toHaveLength(expected);
      for (const sender of senders) {
        expect(texts.filter((text) => text.startsWith(`${sender.userId} #`))).toEqual(
          Array.from({ length: PER_SENDER }, (_, index) => `${sender.userId} #${index}`),
        );
      }
    }
  });

  test('a connection that vanished without $disconnect is removed from the room on the next broadcast', async () => {
    // API Gateway delivers $disconnect on a best-effort basis: a connection can be gone from the gateway
    // (410 on @connections) while its items are still in the table. The emulator's forget() makes exactly
    // that happen: it cuts the socket and drops the connection without sending $disconnect.
    const room = newRoom();
    const [sender, listener, victim] = await Promise.all([connect(), connect(), connect()]);
    await Promise.all([sender.join(room), listener.join(room), victim.join(room)]);
    const [victimId] = await connectionIdsOf(room, victim.userId);
    expect(await itemsOf(victimId as string)).toHaveLength(2);

    const forgotten = await fetch(
      `${cloud.controlUrl}/websocket/forget/${encodeURIComponent(victimId as string)}`,
      {
        method: 'POST',
      },
    );
    expect(forgotten.status).toBe(204);
    expect((await victim.closed).code).toBe(1006);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await itemsOf(victimId as string)).toHaveLength(2);

    expect(await sender.say(room, 'anyone there?')).toMatchObject({ recipients: 2, removed: 1 });
    expect(await itemsOf(victimId as string)).toEqual([]);
    expect(await connectionIdsOf(room, victim.userId)).toEqual([]);
    await listener.next((frame) => frame.type === 'message' && frame.text === 'anyone there?');
    expect((await sender.say(room, 'again')).removed).toBe(0);
  });

  test('a client that closes is cleaned up by $disconnect', async () => {
    const room = newRoom();
    const client = await connect();
    await client.join(room);
    const [connectionId] = await connectionIdsOf(room, client.userId);
    client.socket.close(1000, 'bye');
    await eventually(
      async () => (await itemsOf(connectionId as string)).length === 0,
      'the $disconnect clean-up',
    );
    await expect(
      management.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    ).rejects.toBeInstanceOf(GoneException);
  });
});

describe('bad messages', () => {
  test('a message over 128 KB closes the connection with 1009, and $disconnect cleans it up', async () => {
    const room = newRoom();
    const client = await connect();
    await client.join(room);
    const [connectionId] = await connectionIdsOf(room, client.userId);
    client.send({ action: 'sendmessage', roomId: room, text: 'x'.repeat(129 * 1024) });
    expect((await client.closed).code).toBe(1009);
    await eventually(
      async () => (await itemsOf(connectionId as string)).length === 0,
      'the $disconnect clean-up',
    );
  });

  test('malformed JSON is answered with a ValidationError frame', async () => {
    const client = await connect();
    client.send('{"action": "sendmessage", "roomId": ');
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({
      type: 'error',
      code: 'ValidationError',
    });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  test('an unknown action is answered with UnknownAction and the list of actions', async () => {
    const client = await connect();
    client.send({ action: 'dance', roomId: 'general' });
    expect(await client.next((frame) => frame.type === 'error')).toEqual({
      type: 'error',
      code: 'UnknownAction',
      message: expect.stringContaining('dance'),
      actions: ['joinroom', 'leaveroom', 'sendmessage'],
    });
  });
});
