import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lib/clients.ts';
import { queryPages, sendUntilProcessed } from '../lib/dynamodb.ts';
import { requireEnv } from '../lib/env.ts';

/**
 * The connections table. One partition per connection: its `CONNECTION` item and one `ROOM#<roomId>` item per
 * room it joined. Only membership items carry `roomId`, so the sparse `byRoom` index lists the connections of a
 * room without a Scan. Every item expires through DynamoDB TTL (`expiresAt`, epoch seconds), which cleans up
 * after connections that vanish without a `$disconnect`.
 */
export const CONNECTIONS_TABLE = requireEnv('CONNECTIONS_TABLE');
export const CONNECTION_TTL_SECONDS = positiveInteger('CONNECTION_TTL_SECONDS');
export const BY_ROOM_INDEX = 'byRoom';
export const CONNECTION_SK = 'CONNECTION';
export const roomSk = (roomId: string) => `ROOM#${roomId}`;

const BATCH_SIZE = 25;
const BATCH_WRITE_ATTEMPTS = 5;

export interface ConnectionRecord {
  connectionId: string;
  sk: typeof CONNECTION_SK;
  userId: string;
  connectedAt: string;
  expiresAt: number;
}

export interface MembershipRecord {
  connectionId: string;
  sk: string;
  roomId: string;
  userId: string;
  joinedAt: string;
  expiresAt: number;
}

/** When an item written at `now` (milliseconds) expires: epoch SECONDS, as DynamoDB TTL requires. */
export const expiresAt = (now = Date.now()) => Math.floor(now / 1000) + CONNECTION_TTL_SECONDS;

export async function saveConnection(connectionId: string, userId: string, connectedAt: Date): Promise<void> {
  const item: ConnectionRecord = {
    connectionId,
    sk: CONNECTION_SK,
    userId,
    connectedAt: connectedAt.toISOString(),
    expiresAt: expiresAt(),
  };
  await documentClient.send(new PutCommand({ TableName: CONNECTIONS_TABLE, Item: item }));
}

/** Adds the connection to a room (joining twice just refreshes the membership). */
export async function joinRoom(connectionId: string, userId: string, roomId: string): Promise<void> {
  const item: MembershipRecord = {
    connectionId,
    sk: roomSk(roomId),
    roomId,
    userId,
    joinedAt: new Date().toISOString(),
    expiresAt: expiresAt(),
  };
  await documentClient.send(new PutCommand({ TableName: CONNECTIONS_TABLE, Item: item }));
}

export async function leaveRoom(connectionId: string, roomId: string): Promise<void> {
  await documentClient.send(
    new DeleteCommand({ TableName: CONNECTIONS_TABLE, Key: { connectionId, sk: roomSk(roomId) } }),
  );
}

export async function isMember(connectionId: string, roomId: string): Promise<boolean> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: CONNECTIONS_TABLE,
      Key: { connectionId, sk: roomSk(roomId) },
      ProjectionExpression: 'connectionId',
      ConsistentRead: true,
    }),
  );
  return Item !== undefined;
}

/** The connection ids in a room, read page by page from the byRoom index. */
export async function roomMembers(roomId: string): Promise<string[]> {
  const members: string[] = [];
  const pages = queryPages({
    TableName: CONNECTIONS_TABLE,
    IndexName: BY_ROOM_INDEX,
    KeyConditionExpression: 'roomId = :roomId',
    ExpressionAttributeValues: { ':roomId': roomId },
    ProjectionExpression: 'connectionId',
  });
  for await (const items of pages) for (const item of items) members.push(String(item.connectionId));
  return members;
}

/** Deletes every item of a connection (the connection and all its memberships); returns how many. */
export async function removeConnection(connectionId: string): Promise<number> {
  const keys: Record<string, string>[] = [];
  const pages = queryPages({
    TableName: CONNECTIONS_TABLE,
    KeyConditionExpression: 'connectionId = :connectionId',
    ExpressionAttributeValues: { ':connectionId': connectionId },
    ProjectionExpression: 'connectionId, sk',
    ConsistentRead: true,
  });
  for await (const items of pages) for (const item of items) keys.push({ connectionId, sk: String(item.sk) });
  for (let start = 0; start < keys.length; start += BATCH_SIZE) {
    await deleteBatch(keys.slice(start, start + BATCH_SIZE));
  }
  return keys.length;
}

/** One BatchWriteItem of deletes, retrying what DynamoDB leaves unprocessed with exponential backoff. */
async function deleteBatch(keys: Record<string, string>[]): Promise<void> {
  type WriteRequests = NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string];
  const deletes: WriteRequests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  await sendUntilProcessed(
    deletes,
    async (requests) => {
      const result = await documentClient.send(
        new BatchWriteCommand({ RequestItems: { [CONNECTIONS_TABLE]: requests } }),
      );
      return result.UnprocessedItems?.[CONNECTIONS_TABLE];
    },
    {
      attempts: BATCH_WRITE_ATTEMPTS,
      unprocessed: (count) => `BatchWriteItem left ${count} deletes unprocessed`,
    },
  );
}

function positiveInteger(name: string): number {
  const value = Number(requireEnv(name));
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`Environment variable ${name} must be a positive integer of seconds`);
  }
  return value;
}
