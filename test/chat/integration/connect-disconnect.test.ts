import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, test } from 'vitest';
import { handler as connect } from '../../../functions/chat/connect.ts';
import { handler as disconnect } from '../../../functions/chat/disconnect.ts';
import { webSocketEvent } from '../websocket-event.ts';
import {
  expectTtlSeconds,
  invoke,
  itemsOf,
  membersOf,
  newConnectionId,
  newRoom,
  newUser,
  seedConnection,
  TTL_SECONDS,
} from './helpers.ts';

const management = mockClient(ApiGatewayManagementApiClient);

beforeEach(() => {
  management.reset();
});

describe('$connect', () => {
  test('stores the connection with its user, when it connected, and an expiry in epoch SECONDS', async () => {
    const userId = newUser();
    const event = webSocketEvent({ routeKey: '$connect', userId });
    const { connectionId, connectedAt } = event.requestContext;

    expect(await invoke(connect, event)).toEqual({ statusCode: 200 });

    const items = await itemsOf(connectionId);
    expect(items).toEqual([
      {
        connectionId,
        sk: 'CONNECTION',
        userId,
        connectedAt: new Date(connectedAt).toISOString(),
        expiresAt: expect.any(Number),
      },
    ]);
    expectTtlSeconds(items[0]?.expiresAt);
    expect(TTL_SECONDS).toBe(7200);
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  test('refuses a connection without an authorised user with 403, and stores nothing', async () => {
    const event = webSocketEvent({ routeKey: '$connect', authorized: false });
    expect(await invoke(connect, event)).toEqual({ statusCode: 403 });
    expect(await itemsOf(event.requestContext.connectionId)).toEqual([]);
  });
});

describe('$disconnect', () => {
  test("removes the connection and all its memberships, and nothing of anyone else's", async () => {
    const [lobby, support, sales] = [newRoom(), newRoom(), newRoom()];
    const leaving = await seedConnection([lobby, support, sales]);
    const staying = await seedConnection([lobby, support]);
    const sameUserElsewhere = await seedConnection([lobby], { userId: leaving.userId });

    const result = await invoke(
      disconnect,
      webSocketEvent({ routeKey: '$disconnect', connectionId: leaving.connectionId, userId: leaving.userId }),
    );

    expect(result).toEqual({ statusCode: 200 });
    expect(await itemsOf(leaving.connectionId)).toEqual([]);
    expect(await itemsOf(staying.connectionId)).toHaveLength(3);
    expect(await itemsOf(sameUserElsewhere.connectionId)).toHaveLength(2);
    expect(await membersOf(lobby)).toEqual([staying.connectionId, sameUserElsewhere.connectionId].sort());
    expect(await membersOf(support)).toEqual([staying.connectionId]);
    expect(await membersOf(sales)).toEqual([]);
  });

  test('removes more items than one BatchWriteItem takes (25)', async () => {
    const rooms = Array.from({ length: 40 }, newRoom);
    const leaving = await seedConnection(rooms);
    expect(await itemsOf(leaving.connectionId)).toHaveLength(41);

    await invoke(disconnect, webSocketEvent({ routeKey: '$disconnect', connectionId: leaving.connectionId }));

    expect(await itemsOf(leaving.connectionId)).toEqual([]);
  });

  test('answers 200 for a connection that left no records (TTL or a failed $connect)', async () => {
    const connectionId = newConnectionId();
    expect(await invoke(disconnect, webSocketEvent({ routeKey: '$disconnect', connectionId }))).toEqual({
      statusCode: 200,
    });
  });
});
