import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, inject, test } from 'vitest';
import { WebSocket } from 'ws';
import { createResolver } from '../../../offline/template/resolver.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { webSocketApiDefinitions } from '../../../offline/template/websocket-api-definition.ts';
import { token } from '../../support/client.ts';
import { dynamo, rawRequest } from '../../support/hostile.ts';
import { ChatClient, connectionItems, type Frame } from './chat-client.ts';

/**
 * Hostile frames against every route of the template's WebSocket chat, through the offline cloud (issue #7):
 * malformed and oversized frames, prototype-pollution keys, hostile room ids, spoofed fields, route-selection
 * tricks, binary and invalid UTF-8 frames, a burst of bad frames. The sender gets the documented error frames
 * (functions/chat/protocol.ts) or the close code API Gateway uses; another member of its room and a user in
 * another room receive nothing they should not, and nobody's connection or memberships change.
 */
const cloud = inject('offlineCloud');
const [chatApi] = webSocketApiDefinitions(createResolver(loadTemplate(), undefined));
if (!chatApi || !cloud.webSocketUrl) throw new Error('The template has no WebSocket API');
const TABLE = cloud.tables.ConnectionsTable as string;

const clients: ChatClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.socket.terminate();
});

afterAll(() => dynamo.destroy());

async function connect(name: string, options: { query?: string; headers?: Record<string, string> } = {}) {
  const userId = `${name}-${randomUUID()}`;
  const url = `${cloud.webSocketUrl}?token=${encodeURIComponent(await token({ sub: userId }))}${options.query ?? ''}`;
  const socket = new WebSocket(url, { headers: options.headers });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const client = new ChatClient(socket, userId);
  clients.push(client);
  return client;
}

const newRoom = () => `hostile-${randomUUID().slice(0, 8)}`;

const itemsOf = (connectionId: string) => connectionItems(dynamo, TABLE, connectionId);

/** The error frame of protocol.ts, exactly: no stack, no internal names, only the documented fields. */
function expectErrorFrame(frame: Frame, code: string, message?: string) {
  const { type, code: actual, message: text, details, actions, ...rest } = frame;
  expect({ type, code: actual }, JSON.stringify(frame)).toEqual({ type: 'error', code });
  expect(rest).toEqual({});
  expect(text).toEqual(message ?? expect.any(String));
  if (details !== undefined) {
    for (const detail of details)
      expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  if (code === 'UnknownAction') expect(actions).toEqual(['joinroom', 'leaveroom', 'sendmessage']);
  else expect(actions).toBeUndefined();
}

/**
 * An attacker and a listener in one room, a bystander alone in another. `innocentsUntouched` checks that
 * the listener got nothing but a sentinel it sends itself afterwards, that the bystander got nothing at all,
 * and that neither's connection or memberships changed.
 */
async function scene() {
  const room = newRoom();
  const otherRoom = newRoom();
  const [attacker, listener, bystander] = await Promise.all([
    connect('attacker'),
    connect('listener'),
    connect('bystander'),
  ]);
  await Promise.all([attacker.join(room), listener.join(room), bystander.join(otherRoom)]);
  const { Items = [] } = await dynamo.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: 'byRoom',
      KeyConditionExpression: 'roomId = :room',
      ExpressionAttributeValues: { ':room': room },
    }),
  );
  for (const client of [attacker, listener]) {
    client.connectionId = String(Items.find((item) => item.userId === client.userId)?.connectionId);
  }
  const [otherMember] =
    (
      await dynamo.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'byRoom',
          KeyConditionExpression: 'roomId = :room',
          ExpressionAttributeValues: { ':room': otherRoom },
        }),
      )
    ).Items ?? [];
  bystander.connectionId = String(otherMember?.connectionId);
  const listenerFrom = listener.frames.length;
  const bystanderFrom = bystander.frames.length;
  const innocents = [listener, bystander];
  const before = await Promise.all(innocents.map((client) => itemsOf(client.connectionId)));
  const attackerBefore = await itemsOf(attacker.connectionId);

  const innocentsUntouched = async (allowed: Frame[] = []) => {
    const sentinel = `sentinel ${randomUUID()}`;
    const from = listener.frames.length;
    listener.send({ action: 'sendmessage', roomId: room, text: sentinel });
    await listener.next((frame) => frame.type === 'delivered', { from });
    const received = listener.frames.slice(listenerFrom).filter((frame) => frame.type !== 'delivered');
    expect(received.map((frame) => frame.text)).toEqual([...allowed.map((frame) => frame.text), sentinel]);
    expect(received.every((frame) => frame.type === 'message' && frame.roomId === room)).toBe(true);
    expect(bystander.frames.slice(bystanderFrom)).toEqual([]);
    expect(await Promise.all(innocents.map((client) => itemsOf(client.connectionId)))).toEqual(before);
  };
  /** The attacker's own connection and memberships are as they were: a refusal wrote nothing. */
  const attackerUnchanged = async () => expect(await itemsOf(attacker.connectionId)).toEqual(attackerBefore);
  /** The attacker was disconnected with `code`, and $disconnect removed everything it had. */
  const attackerClosedWith = async (code: number) => {
    await expect.poll(() => attacker.closeCode, { timeout: 10_000, interval: 50 }).toBe(code);
    await expect.poll(() => itemsOf(attacker.connectionId), { timeout: 10_000, interval: 100 }).toEqual([]);
  };
  return { room, otherRoom, attacker, listener, innocentsUntouched, attackerUnchanged, attackerClosedWith };
}

/** Frames the $default route gets: not JSON, not an object, or no route's action. */
const unroutable = [
  '{"action": "sendmessage", "roomId": ',
  '{',
  'nul',
  '',
  'null',
  '[]',
  '"sendmessage"',
  '{"action":"dance"}',
  '{"action":"SENDMESSAGE","roomId":"x","text":"x"}',
  '{"action":"sendmessage ","roomId":"x","text":"x"}',
  '{"action":["sendmessage"],"roomId":"x","text":"x"}',
  '{"action":{"toString":"sendmessage"},"roomId":"x","text":"x"}',
  '{"__proto__":{"action":"sendmessage"},"roomId":"x","text":"x"}',
  '{"constructor":{"prototype":{"action":"sendmessage"}},"roomId":"x","text":"x"}',
];

/** Route-specific hostile cases, by the template's route keys. */
const routeCases: Record<string, () => Promise<void>> = {
  $connect: async () => {
    // Headers and query keys named after Object.prototype members are ordinary ones to the handshake.
    const hostile = await connect('odd-handshake', {
      query: '&__proto__=x&constructor=y&toString=z',
      headers: Object.fromEntries([
        ['__proto__', '{"userId":"admin"}'],
        ['constructor', 'x'],
        ['toString', 'y'],
      ]),
    });
    const { room, innocentsUntouched } = await scene();
    await hostile.join(room);
    // CR/LF in a handshake header never reaches the gateway.
    const injected = await rawRequest(cloud.webSocketUrl.replace(/^ws/, 'http'), {
      method: 'GET',
      path: `?token=${encodeURIComponent(await token())}`,
      headers: [
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}`,
        'X-Note: a\rInjected: yes',
      ],
    });
    expect(injected.status).toBe(400);
    await innocentsUntouched();
  },

  $disconnect: async () => {
    const { attacker, innocentsUntouched, attackerUnchanged, attackerClosedWith } = await scene();
    // The lifecycle routes cannot be invoked by a message: they fall to $default.
    for (const action of ['$disconnect', '$connect', '$default']) {
      expectErrorFrame(await attacker.refused({ action, roomId: 'x' }), 'UnknownAction');
    }
    await attackerUnchanged();
    await innocentsUntouched();
    attacker.socket.close(4000, '"}],\u0000 {"action":"leaveroom"}');
    await attackerClosedWith(4000);
  },

  joinroom: async () => {
    const { attacker, listener, innocentsUntouched, attackerUnchanged } = await scene();
    const join = (extra: Record<string, unknown>) => ({ action: 'joinroom', roomId: newRoom(), ...extra });
    for (const [frame, path] of [
      [join({ roomId: 'a'.repeat(65) }), 'body.roomId'],
      [join({ roomId: '../general' }), 'body.roomId'],
      [join({ roomId: 'GENERAL' }), 'body.roomId'],
      [join({ roomId: 'général' }), 'body.roomId'],
      [join({ roomId: 'room\u0000' }), 'body.roomId'],
      [join({ roomId: '' }), 'body.roomId'],
      [join({ roomId: { S: 'general' } }), 'body.roomId'],
      [join({ roomId: ['general'] }), 'body.roomId'],
      [join({ connectionId: listener.connectionId }), 'body'],
      [`{"action":"joinroom","roomId":"${newRoom()}","__proto__":{"isAdmin":true}}`, 'body'],
      [`{"action":"joinroom","roomId":"${newRoom()}","constructor":{"prototype":{"isAdmin":true}}}`, 'body'],
    ] as const) {
      const refusal = await attacker.refused(frame);
      expectErrorFrame(refusal, 'ValidationError', 'The request is not valid');
      expect(refusal.details.map((detail: { path: string }) => detail.path)).toEqual([path]);
    }
    expectErrorFrame(
      await attacker.refused(join({ roomId: 'x'.repeat(40_000) })),
      'ValidationError',
      'The message must not exceed 32768 bytes',
    );
    await attackerUnchanged();
    await innocentsUntouched();
  },

  leaveroom: async () => {
    const { room, attacker, listener, innocentsUntouched, attackerUnchanged } = await scene();
    for (const frame of [
      { action: 'leaveroom', roomId: room, connectionId: listener.connectionId },
      { action: 'leaveroom', roomId: room, userId: listener.userId },
      { action: 'leaveroom', roomId: `../${room}` },
      `{"action":"leaveroom","roomId":"${room}","__proto__":{"connectionId":"${listener.connectionId}"}}`,
    ]) {
      expectErrorFrame(await attacker.refused(frame), 'ValidationError');
    }
    await attackerUnchanged();
    await innocentsUntouched();
  },

  sendmessage: async () => {
    const { room, otherRoom, attacker, listener, innocentsUntouched, attackerUnchanged } = await scene();
    const message = (extra: Record<string, unknown>) => ({
      action: 'sendmessage',
      roomId: room,
      text: 'hi',
      ...extra,
    });
    expectErrorFrame(
      await attacker.refused(message({ roomId: otherRoom })),
      'NotInRoom',
      `Join room ${otherRoom} before sending messages to it`,
    );
    for (const frame of [
      message({ from: { userId: listener.userId, username: 'listener' } }),
      message({ type: 'message', messageId: randomUUID() }),
      message({ clientMessageId: 'has a space' }),
      message({ clientMessageId: 'k'.repeat(129) }),
      message({ clientMessageId: 'line\nbreak' }),
      message({ text: 'x'.repeat(2001) }),
      message({ text: ' \n\t ' }),
      message({ text: 'x'.repeat(40_000) }),
      message({ text: { toString: 'hi' } }),
      `{"action":"sendmessage","roomId":"${room}","text":"hi","__proto__":{"from":{"userId":"admin"}}}`,
    ]) {
      expectErrorFrame(await attacker.refused(frame), 'ValidationError');
    }
    // A valid message full of JSON breakers and markup reaches the room as exactly that text.
    const text = `"}],"type":"error","x":[{" \\ \\" </script><img src=x onerror=alert(1)> \u2028 \u0000 😀 {{7*7}} \${1}`;
    const from = listener.frames.length;
    attacker.send(message({ text }));
    const received = await listener.next((frame) => frame.type === 'message', { from });
    expect(received).toMatchObject({
      type: 'message',
      roomId: room,
      text,
      from: { userId: attacker.userId },
    });
    await attackerUnchanged();
    await innocentsUntouched([received]);
  },

  $default: async () => {
    const { attacker, innocentsUntouched, attackerUnchanged } = await scene();
    // One at a time, each answered with its reason …
    for (const frame of unroutable) {
      const refusal = await attacker.refused(frame);
      expect(['ValidationError', 'UnknownAction'], frame).toContain(refusal.code);
      expectErrorFrame(refusal, refusal.code);
    }
    // … and all at once: every bad frame gets its error frame, and the connection stays open.
    const from = attacker.frames.length;
    for (let round = 0; round < 3; round++) for (const frame of unroutable) attacker.send(frame);
    await expect
      .poll(() => attacker.frames.length - from, { timeout: 15_000, interval: 100 })
      .toBe(3 * unroutable.length);
    for (const refusal of attacker.frames.slice(from)) expectErrorFrame(refusal, refusal.code);
    expect(attacker.socket.readyState).toBe(WebSocket.OPEN);
    await attackerUnchanged();
    await innocentsUntouched();
  },
};

test('every route of the template has hostile cases here', () => {
  expect(Object.keys(routeCases).sort()).toEqual(chatApi.routes.map((route) => route.routeKey).sort());
});

describe.each(chatApi.routes.map((route) => route.routeKey))('%s', (routeKey) => {
  test('its own hostile cases', async () => {
    await routeCases[routeKey]?.();
  });
});

describe('frames API Gateway does not route', () => {
  test('a binary frame closes the connection with 1003, as API Gateway does; $disconnect cleans up', async () => {
    const { room, attacker, innocentsUntouched, attackerClosedWith } = await scene();
    attacker.socket.send(
      Buffer.from(JSON.stringify({ action: 'sendmessage', roomId: room, text: 'binary' })),
      {
        binary: true,
      },
    );
    await attackerClosedWith(1003);
    await innocentsUntouched();
  });

  test('a text frame of invalid UTF-8 closes the connection with 1007; $disconnect cleans up', async () => {
    const { room, attacker, innocentsUntouched, attackerClosedWith } = await scene();
    const [before, after] = JSON.stringify({ action: 'sendmessage', roomId: room, text: '\u0000' }).split(
      '\\u0000',
    );
    attacker.socket.send(
      Buffer.concat([Buffer.from(before ?? ''), Buffer.from([0xff, 0xfe]), Buffer.from(after ?? '')]),
      {
        binary: false,
      },
    );
    await attackerClosedWith(1007);
    await innocentsUntouched();
  });
});
