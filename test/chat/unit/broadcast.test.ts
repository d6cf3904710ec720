import { GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { describe, expect, test } from 'vitest';
import { BROADCAST_CONCURRENCY, broadcast, forEachBounded } from '../../../functions/chat/broadcast.ts';

const data = new TextEncoder().encode('{"type":"message"}');
const ids = (count: number, prefix = 'conn') =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A fake @connections endpoint: answers each post after a small random delay, as `outcome` says, and records
 * every attempt and the most posts it ever had in flight at once.
 */
function fakeSend(outcome: (connectionId: string) => 'ok' | Error = () => 'ok') {
  const attempts: string[] = [];
  const posted: { connectionId: string; data: Uint8Array }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (connectionId: string, body: Uint8Array) => {
    attempts.push(connectionId);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await settle(Math.random() * 3);
      const result = outcome(connectionId);
      if (result instanceof Error) throw result;
      posted.push({ connectionId, data: body });
    } finally {
      inFlight--;
    }
  };
  return {
    send,
    attempts,
    posted,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

function fakeRemove(fail: (connectionId: string) => boolean = () => false) {
  const removed: string[] = [];
  return {
    removed,
    remove: async (connectionId: string) => {
      await settle(1);
      if (fail(connectionId)) throw new Error(`DynamoDB failed for ${connectionId}`);
      removed.push(connectionId);
    },
  };
}

const gone = (connectionId: string) =>
  new GoneException({ message: `${connectionId} is gone`, $metadata: { httpStatusCode: 410 } });

describe('broadcast', () => {
  test('delivers the same bytes to every recipient once', async () => {
    const endpoint = fakeSend();
    const cleanup = fakeRemove();
    const recipients = [...ids(25), 'conn-3', 'conn-7'];

    const report = await broadcast(recipients, data, { send: endpoint.send, remove: cleanup.remove });

    expect([...endpoint.attempts].sort()).toEqual(ids(25).sort());
    expect(endpoint.posted.every((post) => post.data === data)).toBe(true);
    expect([...report.delivered].sort()).toEqual(ids(25).sort());
    expect(report).toMatchObject({ removed: [], failed: [] });
    expect(cleanup.removed).toEqual([]);
  });

  test('removes exactly the connections that answer GoneException and keeps the live ones', async () => {
    const stale = new Set(['conn-2', 'conn-11', 'conn-29']);
    const endpoint = fakeSend((id) => (stale.has(id) ? gone(id) : 'ok'));
    const cleanup = fakeRemove();

    const report = await broadcast(ids(30), data, { send: endpoint.send, remove: cleanup.remove });

    expect([...cleanup.removed].sort()).toEqual([...stale].sort());
    expect([...report.removed].sort()).toEqual([...stale].sort());
    expect([...report.delivered].sort()).toEqual(
      ids(30)
        .filter((id) => !stale.has(id))
        .sort(),
    );
    expect(report.failed).toEqual([]);
  });

  test.each([
    [
      'an error named GoneException (another SDK copy)',
      Object.assign(new Error('gone'), { name: 'GoneException' }),
    ],
    [
      'an HTTP 410 without the modelled name',
      Object.assign(new Error('gone'), { name: 'UnknownError', $metadata: { httpStatusCode: 410 } }),
    ],
  ])('treats %s as gone', async (_name, error) => {
    const cleanup = fakeRemove();
    const report = await broadcast(['a', 'b'], data, {
      send: fakeSend((id) => (id === 'a' ? error : 'ok')).send,
      remove: cleanup.remove,
    });
    expect(cleanup.removed).toEqual(['a']);
    expect(report.delivered).toEqual(['b']);
  });

  test('reports other failures without removing the connection', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 429 },
    });
    const forbidden = Object.assign(new Error('Forbidden'), {
      name: 'ForbiddenException',
      $metadata: { httpStatusCode: 403 },
    });
    const endpoint = fakeSend((id) =>
      id === 'conn-1' ? throttled : id === 'conn-4' ? forbidden : id === 'conn-5' ? gone(id) : 'ok',
    );
    const cleanup = fakeRemove();

    const report = await broadcast(ids(6), data, { send: endpoint.send, remove: cleanup.remove });

    expect(cleanup.removed).toEqual(['conn-5']);
    expect(report.failed).toEqual(
      expect.arrayContaining([
        { connectionId: 'conn-1', during: 'post', error: throttled },
        { connectionId: 'conn-4', during: 'post', error: forbidden },
      ]),
    );
    expect(report.failed).toHaveLength(2);
    expect([...report.delivered].sort()).toEqual(['conn-0', 'conn-2', 'conn-3']);
  });

  test('reports a failed clean-up and carries on with the others', async () => {
    const endpoint = fakeSend(gone);
    const cleanup = fakeRemove((id) => id === 'conn-1');

    const report = await broadcast(ids(3), data, { send: endpoint.send, remove: cleanup.remove });

    expect([...report.removed].sort()).toEqual(['conn-0', 'conn-2']);
    expect(report.failed).toEqual([{ connectionId: 'conn-1', during: 'remove', error: expect.any(Error) }]);
    expect(report.delivered).toEqual([]);
  });

  test(`never has more than ${BROADCAST_CONCURRENCY} posts in flight, yet uses that many, and tries everyone`, async () => {
    const endpoint = fakeSend((id) => (id.endsWith('7') ? gone(id) : 'ok'));
    const cleanup = fakeRemove();
    const recipients = ids(237);

    const report = await broadcast(recipients, data, { send: endpoint.send, remove: cleanup.remove });

    expect(endpoint.maxInFlight).toBe(BROADCAST_CONCURRENCY);
    expect([...endpoint.attempts].sort()).toEqual([...recipients].sort());
    expect(report.delivered.length + report.removed.length).toBe(recipients.length);
  });

  test('honours a smaller bound', async () => {
    const endpoint = fakeSend();
    await broadcast(ids(40), data, { send: endpoint.send, remove: fakeRemove().remove, concurrency: 3 });
    expect(endpoint.maxInFlight).toBe(3);
    expect(endpoint.attempts).toHaveLength(40);
  });

  test('does nothing for an empty room', async () => {
    const endpoint = fakeSend();
    expect(await broadcast([], data, { send: endpoint.send, remove: fakeRemove().remove })).toEqual({
      delivered: [],
      removed: [],
      failed: [],
    });
    expect(endpoint.attempts).toEqual([]);
  });
});

describe('forEachBounded', () => {
  test('stops starting tasks after one throws, lets the running ones finish, then rethrows', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failure = new Error('boom');
    const run = forEachBounded([0, 1, 2, 3, 4, 5, 6, 7], 2, async (item) => {
      started.push(item);
      // 0 ends first and 2 takes its place; 1 then fails while 2 is still running.
      await settle(item === 0 ? 1 : item === 1 ? 10 : 30);
      if (item === 1) throw failure;
      finished.push(item);
    });
    await expect(run).rejects.toBe(failure);
    expect(started).toEqual([0, 1, 2]);
    expect(finished.sort()).toEqual([0, 2]);
  });

  test('refuses a bound that is not a positive integer', async () => {
    await expect(forEachBounded([1], 0, async () => undefined)).rejects.toThrow(RangeError);
  });
});
