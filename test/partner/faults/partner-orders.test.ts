import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';
import { orderConsumerOf, partnerOrdersExactlyOnce } from '../../../offline/bench/partner-orders-scenario.ts';

/**
 * Exactly once under redelivery: partner orders go through the REST API's POST /orders (VTL → SQS) and straight
 * onto the queue, while the consumer fails at random, before its handler (nothing done) or after it (orders
 * written, the batch reported failed, so every message of it comes back). Its own cloud: faults must not
 * disturb the shared e2e one.
 */
const consumer = orderConsumerOf();
const FAULTS = { beforeHandler: 0.1, afterHandler: 0.3 };
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({
    faults: {
      seed: 7,
      functions: {
        // The queue's own maxReceiveCount: faults alone never dead-letter a message, anything there is a bug.
        [consumer.functionName]: { ...FAULTS, spareReceiveCount: consumer.maxReceiveCount },
      },
    },
  });
});

afterAll(() => cloud?.stop());

test('200 partner orders under random consumer failures and redelivery land in the Orders table exactly once', async () => {
  const report = await partnerOrdersExactlyOnce(cloud, {
    viaRestApi: 100,
    viaQueue: 100,
    concurrency: 20,
    visibilityTimeoutSeconds: 3,
    drainTimeoutMs: 40_000,
  });
  console.warn(
    `partner orders: ${report.requestsTried} requests tried (${report.throttled} throttled), ${report.accepted} accepted, ` +
      `${report.faults.invocations} invocations, ${report.faults.beforeHandler} + ${report.faults.afterHandler} faults ` +
      `(before + after the handler), ${report.redeliveries} redeliveries, ${report.seconds.toFixed(1)} s`,
  );
  expect(report.refused).toEqual([]);
  expect(report.accepted).toBe(200);
  expect(report.drained, cloud.recentLogs()).toBe(true);
  // The faults really happened, often enough to redeliver work already done.
  expect(report.faults.afterHandler).toBeGreaterThanOrEqual(3);
  expect(report.faults.beforeHandler).toBeGreaterThanOrEqual(1);
  expect(report.redeliveries).toBeGreaterThan(0);
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.duplicates).toEqual([]);
  expect(report.wrongContent).toEqual([]);
  expect(report.deadLettered).toBe(0);
}, 90_000);
