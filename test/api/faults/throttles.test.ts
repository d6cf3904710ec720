import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';
import {
  httpRouteThrottle,
  type ThrottleReport,
  webSocketRouteThrottle,
} from '../../../offline/bench/throttle-scenarios.ts';

/**
 * Route throttles under concurrent callers, with the template's own parameters set low for this cloud: a route's
 * token bucket admits its burst plus its rate for the time the load lasted, no more and (the load being
 * continuous) no fewer. Per-key plans and the REST stage are covered by the e2e partner API tests, the bucket's
 * arithmetic by the unit tests; these are the HTTP API's and the WebSocket API's route throttles end to end.
 */
const LIMITS = { rate: 5, burst: 10 };
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({
    parameters: {
      HttpApiRateLimit: String(LIMITS.rate),
      HttpApiBurstLimit: String(LIMITS.burst),
      ChatRateLimit: String(LIMITS.rate),
      ChatBurstLimit: String(LIMITS.burst),
    },
  });
});

afterAll(() => cloud?.stop());

function expectWithinBucket(report: ThrottleReport) {
  console.warn(
    `${report.sent} sent, ${report.admitted} admitted (bounds ${report.fewest}–${report.most}), ${report.throttled} throttled`,
  );
  expect(report).toMatchObject(LIMITS);
  expect(report.other).toEqual([]);
  expect(report.admitted + report.throttled).toBe(report.sent);
  expect(report.admitted).toBeGreaterThanOrEqual(report.fewest);
  expect(report.admitted).toBeLessThanOrEqual(report.most);
  // The load went far past the bucket: most requests were turned away.
  expect(report.throttled).toBeGreaterThan(report.admitted);
}

test('HTTP API: 8 callers on GET /me share the route bucket; it admits burst + rate × elapsed, the rest get 429', async () => {
  expectWithinBucket(await httpRouteThrottle(cloud, { method: 'GET', path: '/me', callers: 8, seconds: 3 }));
  // Another route has its own bucket, untouched by the storm on GET /me.
  const [httpApi] = cloud.cloud.httpApis.values();
  const token = await cloud.cloud.mintToken({ sub: 'other-route', scopes: ['api/orders.read'] });
  const answer = await fetch(`${httpApi?.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
});

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
