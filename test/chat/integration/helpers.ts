import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import type { ConnectionRecord, MembershipRecord } from '../../../functions/chat/connections.ts';
import type { WebSocketEvent, WebSocketResult } from '../../../functions/chat/websocket-route.ts';
import { requireEnv } from '../../../functions/lib/env.ts';
import { lambdaContext } from '../../support/http-api-event.ts';
import { db } from '../../support/tables.ts';
import { newConnectionId } from '../websocket-event.ts';

export { db, newConnectionId };

export const CONNECTIONS_TABLE = requireEnv('CONNECTIONS_TABLE');
export const TTL_SECONDS = Number(requireEnv('CONNECTION_TTL_SECONDS'));

/** A room nobody else uses: test files share one database. */
export const newRoom = () => `room-${randomUUID()}`;
export const newUser = () => `user-${randomUUID()}`;

type Handler = (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>;
export const invoke = (handler: Handler, event: WebSocketEvent) => handler(event, lambdaContext());

/** Every item of one connection, read consistently from the table. */
export async function itemsOf(connectionId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: CONNECTIONS_TABLE,
      KeyConditionExpression: 'connectionId = :id',
      ExpressionAttributeValues: { ':id': connectionId },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** The connection ids of a room, read through the byRoom index. */
export async function membersOf(roomId: string): Promise<string[]> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: CONNECTIONS_TABLE,
      IndexName: 'byRoom',
      KeyConditionExpression: 'roomId = :roomId',
      ExpressionAttributeValues: { ':roomId': roomId },
    }),
  );
  return (Items ?? []).map((item) => String(item.connectionId)).sort();
}

const inTwoHours = () => Math.floor(Date.now() / 1000) + TTL_SECONDS;

/** A connection as $connect stores it, in the given rooms. */
export async function seedConnection(
  rooms: string[] = [],
  { connectionId = newConnectionId(), userId = newUser() } = {},
): Promise<{ connectionId: string; userId: string }> {
  const connection: ConnectionRecord = {
    connectionId,
    sk: 'CONNECTION',
    userId,
    connectedAt: new Date().toISOString(),
    expiresAt: inTwoHours(),
  };
  await db.send(new PutCommand({ TableName: CONNECTIONS_TABLE, Item: connection }));
  for (const roomId of rooms) {
    const membership: MembershipRecord = {
      connectionId,
      sk: `ROOM#${roomId}`,
      roomId,
      userId,
      joinedAt: new Date().toISOString(),
      expiresAt: inTwoHours(),
    };
    await db.send(new PutCommand({ TableName: CONNECTIONS_TABLE, Item: membership }));
  }
  return { connectionId, userId };
}

/** Asserts an epoch-seconds TTL written around now: within now + TTL ± 5 s, and not milliseconds. */
export function expectTtlSeconds(value: unknown): void {
  const now = Math.floor(Date.now() / 1000);
  expect(Number.isInteger(value)).toBe(true);
  expect(value as number).toBeLessThan(10 ** 11);
  expect(value as number).toBeGreaterThanOrEqual(now + TTL_SECONDS - 5);
  expect(value as number).toBeLessThanOrEqual(now + TTL_SECONDS + 5);
}
