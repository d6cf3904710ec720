import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, test } from 'vitest';
import { handler as joinRoom } from '../../../functions/chat/join-room.ts';
import { handler as leaveRoom } from '../../../functions/chat/leave-room.ts';
import { webSocketEvent } from '../websocket-event.ts';
import { expectTtlSeconds, invoke, itemsOf, membersOf, newRoom, seedConnection } from './helpers.ts';

const management = mockClient(ApiGatewayManagementApiClient);

beforeEach(() => {
  management.reset();
  management.on(PostToConnectionCommand).resolves({});
});

const frames = () =>
  management.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId,
    frame: JSON.parse(Buffer.from(call.args[0].input.Data as Uint8Array).toString('utf8')),
  }));

const join = (connectionId: string, userId: string, roomId: unknown) =>
  invoke(
    joinRoom,
    webSocketEvent({ routeKey: 'joinroom', connectionId, userId, body: { action: 'joinroom', roomId } }),
  );
const leave = (connectionId: string, roomId: unknown) =>
  invoke(
    leaveRoom,
    webSocketEvent({ routeKey: 'leaveroom', connectionId, body: { action: 'leaveroom', roomId } }),
  );

describe('joinroom', () => {
  test('adds a membership the byRoom index finds, and tells the caller', async () => {
    const { connectionId, userId } = await seedConnection();
    const roomId = newRoom();

    expect(await join(connectionId, userId, roomId)).toEqual({ statusCode: 200 });

    const membership = (await itemsOf(connectionId)).find((item) => item.sk === `ROOM#${roomId}`);
    expect(membership).toEqual({
      connectionId,
      sk: `ROOM#${roomId}`,
      roomId,
      userId,
      joinedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expiresAt: expect.any(Number),
    });
    expectTtlSeconds(membership?.expiresAt);
    expect(await membersOf(roomId)).toEqual([connectionId]);
    expect(frames()).toEqual([{ connectionId, frame: { type: 'joined', roomId } }]);
  });

  test('joining twice keeps one membership', async () => {
    const { connectionId, userId } = await seedConnection();
    const roomId = newRoom();
    await join(connectionId, userId, roomId);
    await join(connectionId, userId, roomId);
    expect(await itemsOf(connectionId)).toHaveLength(2);
    expect(await membersOf(roomId)).toEqual([connectionId]);
  });

  test('refuses an invalid room id with a ValidationError frame (answered 200: no integration error), and joins nothing', async () => {
    const { connectionId, userId } = await seedConnection();
    expect(await join(connectionId, userId, 'Room With Spaces')).toEqual({ statusCode: 200 });
    expect(await itemsOf(connectionId)).toHaveLength(1);
    expect(frames()).toEqual([
      {
        connectionId,
        frame: expect.objectContaining({
          type: 'error',
          code: 'ValidationError',
          details: [expect.objectContaining({ path: 'body.roomId' })],
        }),
      },
    ]);
  });
});

describe('leaveroom', () => {
  test('removes that one membership and tells the caller; other rooms and members stay', async () => {
    const [roomId, otherRoom] = [newRoom(), newRoom()];
    const leaving = await seedConnection([roomId, otherRoom]);
    const other = await seedConnection([roomId]);

    expect(await leave(leaving.connectionId, roomId)).toEqual({ statusCode: 200 });

    expect((await itemsOf(leaving.connectionId)).map((item) => item.sk).sort()).toEqual([
      'CONNECTION',
      `ROOM#${otherRoom}`,
    ]);
    expect(await membersOf(roomId)).toEqual([other.connectionId]);
    expect(await membersOf(otherRoom)).toEqual([leaving.connectionId]);
    expect(frames()).toEqual([{ connectionId: leaving.connectionId, frame: { type: 'left', roomId } }]);
  });

  test('is idempotent: leaving a room one is not in answers left and changes nothing', async () => {
    const { connectionId } = await seedConnection();
    const roomId = newRoom();
    expect(await leave(connectionId, roomId)).toEqual({ statusCode: 200 });
    expect(await itemsOf(connectionId)).toHaveLength(1);
    expect(frames()).toEqual([{ connectionId, frame: { type: 'left', roomId } }]);
  });
});
