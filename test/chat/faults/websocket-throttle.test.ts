import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';
import { webSocketRouteThrottle } from '../../../offline/bench/throttle-scenarios.ts';
import { expectWithinBucket, LOW_LIMITS } from '../../support/route-throttles.ts';

/**
 * The chat stage's route throttle under concurrent senders, with the template's ChatRateLimit and ChatBurstLimit set
 * low for this cloud: the sendmessage route's bucket admits its burst plus its rate for the time the load lasted,
 * and only the messages it admits are broadcast. The HTTP API's route throttle: test/api/faults/throttles.test.ts.
 */
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({
    parameters: { ChatRateLimit: String(LOW_LIMITS.rate), ChatBurstLimit: String(LOW_LIMITS.burst) },
  });
});

afterAll(() => cloud?.stop());

test('WebSocket: 4 members flooding sendmessage; the stage route throttle admits burst + rate × elapsed, and only admitted messages reach the room', async () => {
  const report = await webSocketRouteThrottle(cloud, {
    routeKey: 'sendmessage',
    callers: 4,
    listeners: 2,
    seconds: 3,
  });
  expectWithinBucket(report);
  expect(report.deliveredToEveryMember).toBe(true);
});
