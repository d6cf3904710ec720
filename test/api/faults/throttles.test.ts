import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../offline/bench/load-and-faults.ts';
import { httpRouteThrottle } from '../../../offline/bench/throttle-scenarios.ts';
import { expectWithinBucket, LOW_LIMITS } from '../../support/route-throttles.ts';

/**
 * Route throttles under concurrent callers, with the template's own parameters set low for this cloud: a route's
 * token bucket admits its burst plus its rate for the time the load lasted, no more and (the load being
 * continuous) no fewer. Per-key plans and the REST stage are covered by the e2e partner API tests, the bucket's
 * arithmetic by the unit tests; this is the HTTP API's route throttle end to end.
 */
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({
    parameters: {
      HttpApiRateLimit: String(LOW_LIMITS.rate),
      HttpApiBurstLimit: String(LOW_LIMITS.burst),
    },
  });
});

afterAll(() => cloud?.stop());

test('HTTP API: 8 callers on GET /me share the route bucket; it admits burst + rate × elapsed, the rest get 429', async () => {
  expectWithinBucket(await httpRouteThrottle(cloud, { method: 'GET', path: '/me', callers: 8, seconds: 3 }));
  // Another route has its own bucket, untouched by the storm on GET /me.
  const [httpApi] = cloud.cloud.httpApis.values();
  const token = await cloud.cloud.mintToken({ sub: 'other-route', scopes: ['api/orders.read'] });
  const answer = await fetch(`${httpApi?.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
});
