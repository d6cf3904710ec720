import { expect } from 'vitest';
import type { ThrottleReport } from '../../offline/bench/throttle-scenarios.ts';

/** Route throttle parameters low enough that a few concurrent callers go far past the bucket within seconds. */
export const LOW_LIMITS = { rate: 5, burst: 10 };

/**
 * A load on one route throttled at LOW_LIMITS: its token bucket admitted its burst plus its rate for the time the
 * load lasted, no more and (the load being continuous) no fewer, and turned the rest away.
 */
export function expectWithinBucket(report: ThrottleReport) {
  console.warn(
    `${report.sent} sent, ${report.admitted} admitted (bounds ${report.fewest}–${report.most}), ${report.throttled} throttled`,
  );
  expect(report).toMatchObject(LOW_LIMITS);
  expect(report.other).toEqual([]);
  expect(report.admitted + report.throttled).toBe(report.sent);
  expect(report.admitted).toBeGreaterThanOrEqual(report.fewest);
  expect(report.admitted).toBeLessThanOrEqual(report.most);
  // The load went far past the bucket: most requests were turned away.
  expect(report.throttled).toBeGreaterThan(report.admitted);
}
