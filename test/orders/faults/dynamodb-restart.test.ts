import { afterAll, beforeAll, expect, test } from 'vitest';
import { dynamoDbOutage, lostWriteAnswers } from '../../../offline/bench/dynamodb-fault-scenarios.ts';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';

/**
 * DynamoDB failing under HTTP API traffic. DynamoDB Local runs persisted in a scratch folder: DynamoDB keeps
 * its data through an outage, and only then can "every acknowledged order still exists" be checked at all (an
 * in-memory restart would come back without tables). The functions reach it through a proxy that can lose
 * answers, for the one failure a restart hits only by chance: a write done whose answer never arrives.
 */
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ persistent: true, dynamoDbProxy: true });
});

afterAll(() => cloud?.stop());

test('placing and listing orders through a DynamoDB Local crash: clean 5xx while it is down, success after, nothing half-written', async () => {
  const report = await dynamoDbOutage(cloud, {
    clients: 8,
    steadyMs: 1_500,
    restarts: 1,
    downtimeMs: 1_000,
    requestTimeoutMs: 15_000,
    retryForMs: 20_000,
  });
  console.warn(
    `DynamoDB restart: ${report.requests} requests, ${report.ok} ok, ${report.clean5xx} clean 5xx, ` +
      `down ${report.downSeconds.map((seconds) => `${seconds.toFixed(1)} s`).join(', ')}, ${report.retried} retried, ` +
      `${report.answeredWithEarlierOrder} answered with the order of an attempt that had failed, ${report.seconds.toFixed(1)} s`,
  );
  expect(report.unclean).toEqual([]);
  // The outage was real: requests failed while DynamoDB Local was down, and succeeded before and after it.
  expect(report.clean5xx).toBeGreaterThan(0);
  expect(report.ok).toBeGreaterThan(0);
  expect(report.failedWhileUp).toBe(0);
  expect(report.acknowledgedMissing).toEqual([]);
  expect(report.completedWithoutOrder).toEqual([]);
  expect(report.retriesUnresolved).toBe(0);
  expect(report.duplicatedKeys).toEqual([]);
  expect(report.orphans).toEqual([]);
}, 90_000);

test('orders written whose answers were lost: each POST fails cleanly, and its retry with the same Idempotency-Key gets that order, not a second one', async () => {
  const report = await lostWriteAnswers(cloud, { orders: 5, requestTimeoutMs: 15_000, retryForMs: 20_000 });
  expect(report.lostAnswers).toBeGreaterThanOrEqual(5);
  expect(report.firstAttempts).toEqual(Array.from({ length: 5 }, () => ({ status: 500, clean: true })));
  expect(report.retries).toEqual(
    Array.from({ length: 5 }, () => ({ status: 201, answeredWithEarlierOrder: true })),
  );
  expect(report.ordersPerKey).toEqual([1, 1, 1, 1, 1]);
}, 60_000);
