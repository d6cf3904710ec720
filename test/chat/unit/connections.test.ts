import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  CONNECTIONS_TABLE,
  expiresAt,
  removeConnection,
  roomMembers,
} from '../../../functions/chat/connections.ts';
import { documentClient } from '../../../functions/lib/clients.ts';

// DynamoDB Local answers every query here in one page and never leaves writes unprocessed, so these paths are
// driven by a stand-in for the client's send (the integration tests cover the rest against DynamoDB Local).
type Command = QueryCommand | BatchWriteCommand;
function fakeDynamo(answer: (command: Command, index: number) => unknown) {
  const commands: Command[] = [];
  vi.spyOn(documentClient, 'send').mockImplementation(((command: Command) => {
    commands.push(command);
    return Promise.resolve(answer(command, commands.length - 1));
  }) as unknown as typeof documentClient.send);
  return commands;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('roomMembers', () => {
  test('reads every page of the byRoom index', async () => {
    const commands = fakeDynamo((_command, index) =>
      index === 0
        ? {
            Items: [{ connectionId: 'a' }, { connectionId: 'b' }],
            LastEvaluatedKey: { roomId: 'r', connectionId: 'b' },
          }
        : { Items: [{ connectionId: 'c' }] },
    );

    expect(await roomMembers('r')).toEqual(['a', 'b', 'c']);

    expect(commands).toHaveLength(2);
    expect(commands.every((command) => command instanceof QueryCommand)).toBe(true);
    expect(commands.map((command) => (command as QueryCommand).input)).toEqual([
      expect.objectContaining({ IndexName: 'byRoom', ExclusiveStartKey: undefined }),
      expect.objectContaining({ IndexName: 'byRoom', ExclusiveStartKey: { roomId: 'r', connectionId: 'b' } }),
    ]);
  });
});

describe('removeConnection', () => {
  const keysOf = (command: Command) =>
    ((command as BatchWriteCommand).input.RequestItems?.[CONNECTIONS_TABLE] ?? []).map(
      (request) => request.DeleteRequest?.Key?.sk,
    );

  test('retries exactly the deletes DynamoDB left unprocessed', async () => {
    const items = ['CONNECTION', 'ROOM#a', 'ROOM#b'].map((sk) => ({ connectionId: 'c1', sk }));
    const commands = fakeDynamo((command, index) => {
      if (command instanceof QueryCommand) return { Items: items };
      return index === 1
        ? {
            UnprocessedItems: {
              [CONNECTIONS_TABLE]: [{ DeleteRequest: { Key: { connectionId: 'c1', sk: 'ROOM#b' } } }],
            },
          }
        : { UnprocessedItems: {} };
    });

    expect(await removeConnection('c1')).toBe(3);

    const writes = commands.filter((command) => command instanceof BatchWriteCommand);
    expect(writes.map(keysOf)).toEqual([['CONNECTION', 'ROOM#a', 'ROOM#b'], ['ROOM#b']]);
  });

  test('gives up after five attempts rather than looping forever', async () => {
    fakeDynamo((command) =>
      command instanceof QueryCommand
        ? { Items: [{ connectionId: 'c1', sk: 'CONNECTION' }] }
        : {
            UnprocessedItems: {
              [CONNECTIONS_TABLE]: [{ DeleteRequest: { Key: { connectionId: 'c1', sk: 'CONNECTION' } } }],
            },
          },
    );
    await expect(removeConnection('c1')).rejects.toThrow('BatchWriteItem left 1 deletes unprocessed');
    expect(
      vi.mocked(documentClient.send).mock.calls.filter(([command]) => command instanceof BatchWriteCommand),
    ).toHaveLength(5);
  });

  test('reads every page of the connection before deleting, in batches of 25', async () => {
    const page = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => ({ connectionId: 'c1', sk: `ROOM#${from + index}` }));
    const commands = fakeDynamo((command, index) => {
      if (!(command instanceof QueryCommand)) return {};
      return index === 0
        ? { Items: page(0, 20), LastEvaluatedKey: { connectionId: 'c1', sk: 'ROOM#19' } }
        : { Items: page(20, 20) };
    });

    expect(await removeConnection('c1')).toBe(40);

    const queries = commands.filter((command) => command instanceof QueryCommand) as QueryCommand[];
    expect(queries.map((query) => query.input.ExclusiveStartKey)).toEqual([
      undefined,
      { connectionId: 'c1', sk: 'ROOM#19' },
    ]);
    expect(
      queries.every((query) => query.input.ConsistentRead === true && query.input.IndexName === undefined),
    ).toBe(true);
    expect(
      commands.filter((command) => command instanceof BatchWriteCommand).map((write) => keysOf(write).length),
    ).toEqual([25, 15]);
  });
});

describe('expiresAt', () => {
  test('is epoch seconds, CONNECTION_TTL_SECONDS after the given time', () => {
    expect(expiresAt(Date.UTC(2025, 10, 21, 10, 0, 0, 999))).toBe(
      Date.UTC(2025, 10, 21, 10, 0, 0) / 1000 + 7200,
    );
  });
});
