import { isGone, type Send } from './management.ts';

/**
 * Posts in flight at once per broadcast. Each post is a network round trip of tens of milliseconds on AWS, so
 * the bound decides fan-out time; 50 is what the SDK's HTTP handler keeps open per host by default (more would
 * only queue inside the client).
 */
export const BROADCAST_CONCURRENCY = 50;

export interface BroadcastFailure {
  connectionId: string;
  during: 'post' | 'remove';
  error: unknown;
}

export interface BroadcastReport {
  /** Connections that accepted the message. */
  delivered: string[];
  /** Connections that answered GoneException/410 and whose records were deleted. */
  removed: string[];
  /** Posts that failed for another reason (kept: the connection may be fine), and removals that failed. */
  failed: BroadcastFailure[];
}

export interface BroadcastOptions {
  send: Send;
  /** Deletes every record of a connection that has gone. */
  remove: (connectionId: string) => Promise<unknown>;
  concurrency?: number;
}

/**
 * Sends `data` to every recipient, at most `concurrency` posts (and clean-ups) at a time. A recipient that
 * answers GoneException is removed; any other failure is reported and the recipient kept, so a throttled or
 * briefly failing post never deletes a live connection.
 */
export async function broadcast(
  recipients: Iterable<string>,
  data: Uint8Array,
  { send, remove, concurrency = BROADCAST_CONCURRENCY }: BroadcastOptions,
): Promise<BroadcastReport> {
  const report: BroadcastReport = { delivered: [], removed: [], failed: [] };
  await forEachBounded([...new Set(recipients)], concurrency, async (connectionId) => {
    try {
      await send(connectionId, data);
      report.delivered.push(connectionId);
      return;
    } catch (error) {
      if (!isGone(error)) {
        report.failed.push({ connectionId, during: 'post', error });
        return;
      }
    }
    try {
      await remove(connectionId);
      report.removed.push(connectionId);
    } catch (error) {
      report.failed.push({ connectionId, during: 'remove', error });
    }
  });
  return report;
}

/**
 * Runs `task` for every item with at most `limit` running at once. After a task throws, no new task starts;
 * the ones running finish, then the first error is rethrown.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer: ${limit}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
