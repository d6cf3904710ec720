import { randomUUID } from 'node:crypto';
import { type Frame, roomOf, sleep, type TestCloud } from './load-and-faults.ts';

export interface WebSocketBurstReport {
  members: number;
  sent: number;
  /** Deliveries expected: every message to every member. */
  expected: number;
  received: number;
  /** (member, message) pairs never received. */
  missing: number;
  /** (member, message) pairs received more than once. */
  duplicates: number;
  /** Messages a member received before an earlier one of the same sender. */
  outOfOrder: number;
  /** Receipts (`delivered`) whose recipient count was not the whole room. */
  shortReceipts: number;
  /** Frames that report a failure (throttled, internal error, validation). */
  errors: Frame[];
  seconds: number;
}

/**
 * `senders` members of an M-member room each fire `perSender` messages at once, without waiting for any
 * receipt; every member must receive every message exactly once.
 */
export async function webSocketBurst(
  test: TestCloud,
  options: { members: number; senders: number; perSender: number; timeoutMs: number },
): Promise<WebSocketBurstReport> {
  const { roomId, members } = await roomOf(test, options.members);
  try {
    const senders = members.slice(0, options.senders);
    const sent = options.senders * options.perSender;
    const started = performance.now();
    for (const sender of senders) {
      for (let index = 0; index < options.perSender; index++) {
        sender.socket.send(
          JSON.stringify({
            action: 'sendmessage',
            roomId,
            text: `${sender.userId} #${index}`,
            clientMessageId: randomUUID(),
          }),
        );
      }
    }
    const messagesIn = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'message' && frame.roomId === roomId);
    await Promise.all([
      ...members.map((member) =>
        member.until((frames) => messagesIn(frames).length >= sent, options.timeoutMs),
      ),
      ...senders.map((sender) =>
        sender.until(
          (frames) => frames.filter((frame) => frame.type === 'delivered').length >= options.perSender,
          options.timeoutMs,
        ),
      ),
    ]);
    const seconds = (performance.now() - started) / 1000;
    // Late duplicates would arrive right after the last expected message.
    await sleep(500);
    let received = 0;
    let missing = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    for (const member of members) {
      const texts = messagesIn(member.frames).map((frame) => String(frame.text));
      received += texts.length;
      for (const sender of senders) {
        const indexes = texts
          .filter((text) => text.startsWith(`${sender.userId} #`))
          .map((text) => Number(text.slice(text.indexOf('#') + 1)));
        const distinct = new Set(indexes);
        missing += options.perSender - distinct.size;
        duplicates += indexes.length - distinct.size;
        for (let at = 1; at < indexes.length; at++)
          if ((indexes[at] as number) < (indexes[at - 1] as number)) outOfOrder++;
      }
    }
    const receipts = senders.flatMap((sender) => sender.frames.filter((frame) => frame.type === 'delivered'));
    return {
      members: members.length,
      sent,
      expected: sent * members.length,
      received,
      missing,
      duplicates,
      outOfOrder,
      shortReceipts: receipts.filter((receipt) => receipt.recipients !== members.length).length,
      errors: members.flatMap((member) =>
        member.frames.filter((frame) => frame.type === 'error' || typeof frame.message === 'string'),
      ),
      seconds,
    };
  } finally {
    for (const member of members) member.close();
  }
}
