import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';
import { webSocketBurst } from '../../../offline/bench/websocket-burst-scenario.ts';

/**
 * A burst of chat messages to a busy room: senders fire all their messages at once, without waiting for a
 * receipt, so many sendmessage invocations run and broadcast at the same time. The stage throttle is lifted
 * for this cloud: the test is about delivery, not admission (websocket-throttle.test.ts). Order per sender is
 * measured, not asserted: messages in flight at once are separate invocations, which API Gateway does not order
 * either (a sender that waits for each receipt keeps its order: test/chat/e2e/websocket-chat.test.ts).
 */
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ parameters: { ChatRateLimit: '100000', ChatBurstLimit: '100000' } });
});

afterAll(() => cloud?.stop());

test('30 members, 5 senders each firing 20 messages at once: every member receives every message exactly once', async () => {
  const report = await webSocketBurst(cloud, { members: 30, senders: 5, perSender: 20, timeoutMs: 40_000 });
  console.warn(
    `WebSocket burst: ${report.sent} messages × ${report.members} members, ${report.received} received, ` +
      `${report.outOfOrder} out of order per sender, ${report.seconds.toFixed(1)} s`,
  );
  expect(report.errors).toEqual([]);
  expect(report.missing).toBe(0);
  expect(report.duplicates).toBe(0);
  expect(report.received).toBe(report.expected);
  expect(report.shortReceipts).toBe(0);
});
