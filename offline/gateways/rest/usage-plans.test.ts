import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  type Admission,
  type ApiKeyDefinition,
  type UsagePlanDefinition,
  UsagePlans,
} from './usage-plans.ts';

let monotonic = 1_000;

beforeEach(() => {
  // The token buckets read performance.now(): freeze it so that only advanceBuckets refills them.
  monotonic = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => monotonic);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const advanceBuckets = (ms: number) => {
  monotonic += ms;
};

/** A wall clock for the quota periods, set with ISO times. */
function wallClock(iso: string): { now(): number; set(iso: string): void } {
  let now = Date.parse(iso);
  return {
    now: () => now,
    set: (next) => {
      now = Date.parse(next);
    },
  };
}

const key = (id: string, enabled = true): ApiKeyDefinition => ({
  logicalId: `${id}Key`,
  id,
  value: `${id}-value`,
  enabled,
});

const plan = (overrides: Partial<UsagePlanDefinition> & Pick<UsagePlanDefinition, 'keyIds'>) => ({
  logicalId: 'Plan',
  name: 'plan',
  methodThrottle: {},
  ...overrides,
});

const outcomes = (plans: UsagePlans, value: string, count: number, path = '/orders', method = 'GET') =>
  Array.from({ length: count }, () => outcome(plans.admit(value, path, method)));

const outcome = (admission: Admission) => (admission.admitted ? 'admitted' : admission.responseType);

describe('UsagePlans API keys', () => {
  const plans = () =>
    new UsagePlans([key('alice'), key('bob', false), key('carol')], [plan({ keyIds: ['alice', 'bob'] })]);

  test('admits an enabled key of a plan, naming the key and the plan', () => {
    const admission = plans().admit('alice-value', '/orders', 'GET');
    expect(admission).toMatchObject({ admitted: true, key: { id: 'alice' }, plan: { logicalId: 'Plan' } });
  });

  test.each([
    ['a missing key', undefined],
    ['an unknown key', 'mallory-value'],
    ['a disabled key', 'bob-value'],
    ['a key in no plan', 'carol-value'],
    ['a key id instead of its value', 'alice'],
  ])('refuses %s as an invalid API key', (_, value) => {
    expect(plans().admit(value, '/orders', 'GET')).toEqual({
      admitted: false,
      responseType: 'INVALID_API_KEY',
    });
  });

  test('refuses a key that two plans claim, as AWS does', () => {
    expect(
      () =>
        new UsagePlans(
          [key('alice')],
          [plan({ logicalId: 'Gold', keyIds: ['alice'] }), plan({ logicalId: 'Free', keyIds: ['alice'] })],
        ),
    ).toThrow(/alice is in usage plans Gold and Free/);
  });

  test('refuses a plan naming a key that does not exist', () => {
    expect(() => new UsagePlans([], [plan({ keyIds: ['ghost'] })])).toThrow(/unknown API key ghost/);
  });
});

describe('UsagePlans throttling', () => {
  test('gives every key a bucket of its own', () => {
    const plans = new UsagePlans(
      [key('alice'), key('bob')],
      [plan({ throttle: { rate: 1, burst: 2 }, keyIds: ['alice', 'bob'] })],
    );
    expect(outcomes(plans, 'alice-value', 3)).toEqual(['admitted', 'admitted', 'THROTTLED']);
    expect(outcomes(plans, 'bob-value', 3)).toEqual(['admitted', 'admitted', 'THROTTLED']);
  });

  test('throttles each tier at its own limits', () => {
    const plans = new UsagePlans(
      [key('gold'), key('free')],
      [
        plan({ logicalId: 'Gold', throttle: { rate: 10, burst: 5 }, keyIds: ['gold'] }),
        plan({ logicalId: 'Free', throttle: { rate: 1, burst: 1 }, keyIds: ['free'] }),
      ],
    );
    expect(outcomes(plans, 'free-value', 2)).toEqual(['admitted', 'THROTTLED']);
    expect(outcomes(plans, 'gold-value', 6)).toEqual([...Array(5).fill('admitted'), 'THROTTLED']);
  });

  test('refills a key at its plan rate', () => {
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ throttle: { rate: 2, burst: 1 }, keyIds: ['alice'] })],
    );
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'THROTTLED']);
    advanceBuckets(500);
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'THROTTLED']);
  });

  test('uses a method throttle instead of the plan throttle, in a bucket of its own', () => {
    const plans = new UsagePlans(
      [key('alice')],
      [
        plan({
          throttle: { rate: 1, burst: 3 },
          methodThrottle: { '/orders/POST': { rate: 1, burst: 1 } },
          keyIds: ['alice'],
        }),
      ],
    );
    expect(outcomes(plans, 'alice-value', 2, '/orders', 'POST')).toEqual(['admitted', 'THROTTLED']);
    expect(outcomes(plans, 'alice-value', 4, '/orders', 'GET')).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'THROTTLED',
    ]);
  });

  test('lets a method throttle allow more than the plan throttle', () => {
    const plans = new UsagePlans(
      [key('alice')],
      [
        plan({
          throttle: { rate: 1, burst: 1 },
          methodThrottle: { '/orders/{id}/GET': { rate: 1, burst: 3 } },
          keyIds: ['alice'],
        }),
      ],
    );
    expect(outcomes(plans, 'alice-value', 4, '/orders/{id}', 'get')).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'THROTTLED',
    ]);
    expect(outcomes(plans, 'alice-value', 2, '/orders', 'GET')).toEqual(['admitted', 'THROTTLED']);
  });

  test('keeps method buckets per key', () => {
    const plans = new UsagePlans(
      [key('alice'), key('bob')],
      [plan({ methodThrottle: { '/orders/POST': { rate: 1, burst: 1 } }, keyIds: ['alice', 'bob'] })],
    );
    expect(outcomes(plans, 'alice-value', 2, '/orders', 'POST')).toEqual(['admitted', 'THROTTLED']);
    expect(outcomes(plans, 'bob-value', 1, '/orders', 'POST')).toEqual(['admitted']);
  });

  test('does not limit a plan without a throttle', () => {
    const plans = new UsagePlans([key('alice')], [plan({ keyIds: ['alice'] })]);
    expect(outcomes(plans, 'alice-value', 500)).toEqual(Array(500).fill('admitted'));
  });
});

describe('UsagePlans quotas', () => {
  test('refuses a key whose quota is spent until the next UTC day', () => {
    const clock = wallClock('2025-03-04T10:00:00Z');
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ quota: { limit: 2, period: 'DAY', offset: 0 }, keyIds: ['alice'] })],
      clock,
    );
    expect(outcomes(plans, 'alice-value', 3)).toEqual(['admitted', 'admitted', 'QUOTA_EXCEEDED']);
    clock.set('2025-03-04T23:59:59.999Z');
    expect(outcomes(plans, 'alice-value', 1)).toEqual(['QUOTA_EXCEEDED']);
    clock.set('2025-03-05T00:00:00Z');
    expect(plans.usage('alice')).toEqual({ used: 0, remaining: 2, periodStart: '2025-03-05T00:00:00.000Z' });
    expect(outcomes(plans, 'alice-value', 3)).toEqual(['admitted', 'admitted', 'QUOTA_EXCEEDED']);
  });

  test('starts weeks on Monday 00:00 UTC', () => {
    const clock = wallClock('2025-03-05T12:00:00Z'); // a Wednesday
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ quota: { limit: 1, period: 'WEEK', offset: 0 }, keyIds: ['alice'] })],
      clock,
    );
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
    expect(plans.usage('alice').periodStart).toBe('2025-03-03T00:00:00.000Z');
    clock.set('2025-03-09T23:59:59.999Z'); // Sunday
    expect(outcomes(plans, 'alice-value', 1)).toEqual(['QUOTA_EXCEEDED']);
    clock.set('2025-03-10T00:00:00Z'); // Monday
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
  });

  test('starts months on the 1st, across the turn of the year', () => {
    const clock = wallClock('2024-12-15T08:00:00Z');
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ quota: { limit: 1, period: 'MONTH', offset: 0 }, keyIds: ['alice'] })],
      clock,
    );
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
    clock.set('2024-12-31T23:59:59.999Z');
    expect(outcomes(plans, 'alice-value', 1)).toEqual(['QUOTA_EXCEEDED']);
    clock.set('2025-01-01T00:00:00Z');
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
    expect(plans.usage('alice').periodStart).toBe('2025-01-01T00:00:00.000Z');
  });

  test('subtracts the offset from the limit in the first period only', () => {
    const clock = wallClock('2025-03-04T10:00:00Z');
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ quota: { limit: 3, period: 'DAY', offset: 2 }, keyIds: ['alice'] })],
      clock,
    );
    expect(plans.usage('alice')).toEqual({ used: 0, remaining: 1, periodStart: '2025-03-04T00:00:00.000Z' });
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
    clock.set('2025-03-05T00:00:00Z');
    expect(outcomes(plans, 'alice-value', 4)).toEqual(['admitted', 'admitted', 'admitted', 'QUOTA_EXCEEDED']);
  });

  test('counts each key against its own quota', () => {
    const plans = new UsagePlans(
      [key('alice'), key('bob')],
      [plan({ quota: { limit: 1, period: 'DAY', offset: 0 }, keyIds: ['alice', 'bob'] })],
      wallClock('2025-03-04T10:00:00Z'),
    );
    expect(outcomes(plans, 'alice-value', 2)).toEqual(['admitted', 'QUOTA_EXCEEDED']);
    expect(outcomes(plans, 'bob-value', 1)).toEqual(['admitted']);
    expect(plans.usage('alice')).toMatchObject({ used: 1, remaining: 0 });
    expect(plans.usage('bob')).toMatchObject({ used: 1, remaining: 0 });
  });

  test('does not charge throttled requests to the quota', () => {
    const plans = new UsagePlans(
      [key('alice')],
      [
        plan({
          throttle: { rate: 1, burst: 1 },
          quota: { limit: 2, period: 'DAY', offset: 0 },
          keyIds: ['alice'],
        }),
      ],
      wallClock('2025-03-04T10:00:00Z'),
    );
    expect(outcomes(plans, 'alice-value', 3)).toEqual(['admitted', 'THROTTLED', 'THROTTLED']);
    expect(plans.usage('alice')).toMatchObject({ used: 1, remaining: 1 });
    advanceBuckets(1_000);
    expect(outcomes(plans, 'alice-value', 1)).toEqual(['admitted']);
    advanceBuckets(1_000);
    expect(outcomes(plans, 'alice-value', 1)).toEqual(['QUOTA_EXCEEDED']);
  });

  test('reports usage without a remainder when the plan has no quota', () => {
    const plans = new UsagePlans(
      [key('alice')],
      [plan({ keyIds: ['alice'] })],
      wallClock('2025-03-04T10:00:00Z'),
    );
    plans.admit('alice-value', '/orders', 'GET');
    expect(plans.usage('alice')).toEqual({
      used: 1,
      remaining: undefined,
      periodStart: '2025-03-04T10:00:00.000Z',
    });
    expect(() => plans.usage('ghost')).toThrow(/Unknown API key ghost/);
  });
});
