import { TokenBucket } from '../token-bucket.ts';

export interface ApiKeyDefinition {
  logicalId: string;
  id: string;
  value: string;
  enabled: boolean;
}

export interface Throttle {
  rate: number;
  burst: number;
}

export interface Quota {
  limit: number;
  period: 'DAY' | 'WEEK' | 'MONTH';
  /** Requests subtracted from `limit` in the plan's first period (AWS QuotaSettings.Offset). */
  offset: number;
}

export interface UsagePlanDefinition {
  logicalId: string;
  name: string;
  /** Per key, all methods of the plan. */
  throttle?: Throttle;
  /** Per key. */
  quota?: Quota;
  /** Per key per method, keyed like ApiStages[].Throttle: resource path + "/" + HTTP method ("/orders/POST"). */
  methodThrottle: Record<string, Throttle>;
  /** `ApiKeyDefinition.id` of the keys attached to the plan (UsagePlanKey). */
  keyIds: string[];
}

export type Admission =
  | { admitted: true; key: ApiKeyDefinition; plan: UsagePlanDefinition }
  | { admitted: false; responseType: 'INVALID_API_KEY' | 'THROTTLED' | 'QUOTA_EXCEEDED' };

export interface Usage {
  /** Requests admitted in the current quota period (since start when the plan has no quota). */
  used: number;
  /** Undefined when the plan has no quota. */
  remaining: number | undefined;
  /** ISO time the count started from. */
  periodStart: string;
}

const DAY_MS = 86_400_000;

/** What one API key has spent: its own buckets (plan-wide under '') and its quota count. */
interface Meter {
  key: ApiKeyDefinition;
  plan: UsagePlanDefinition | undefined;
  buckets: Map<string, TokenBucket>;
  periodStart: number;
  used: number;
}

/** API Gateway's usage plans for methods with `apiKeyRequired`: API keys, per-key throttling and quotas. */
export class UsagePlans {
  readonly #clock: { now(): number };
  readonly #meters = new Map<string, Meter>();
  readonly #byValue = new Map<string, Meter>();
  /** The plans' first period starts here, the one `Quota.offset` applies to. */
  readonly #createdAt: number;

  constructor(
    keys: ApiKeyDefinition[],
    plans: UsagePlanDefinition[],
    clock: { now(): number } = { now: () => Date.now() },
  ) {
    this.#clock = clock;
    this.#createdAt = clock.now();
    for (const key of keys) {
      const meter: Meter = {
        key,
        plan: undefined,
        buckets: new Map(),
        periodStart: this.#createdAt,
        used: 0,
      };
      this.#meters.set(key.id, meter);
      this.#byValue.set(key.value, meter);
    }
    for (const plan of plans) {
      for (const keyId of plan.keyIds) {
        const meter = this.#meters.get(keyId);
        if (!meter) throw new Error(`Usage plan ${plan.logicalId} names unknown API key ${keyId}`);
        // AWS refuses a second plan for a key on the same API stage (ConflictException).
        if (meter.plan) {
          throw new Error(`API key ${keyId} is in usage plans ${meter.plan.logicalId} and ${plan.logicalId}`);
        }
        meter.plan = plan;
        if (plan.quota) meter.periodStart = periodStart(this.#createdAt, plan.quota.period);
      }
    }
  }

  /** For a method with apiKeyRequired: the x-api-key value (undefined when absent). */
  admit(apiKeyValue: string | undefined, resourcePath: string, httpMethod: string): Admission {
    const meter = apiKeyValue === undefined ? undefined : this.#byValue.get(apiKeyValue);
    const plan = meter?.plan;
    if (!meter?.key.enabled || !plan) return { admitted: false, responseType: 'INVALID_API_KEY' };

    const methodKey = `${resourcePath}/${httpMethod.toUpperCase()}`;
    const methodThrottle = plan.methodThrottle[methodKey];
    const bucketKey = methodThrottle ? methodKey : '';
    const throttle = methodThrottle ?? plan.throttle;
    if (throttle) {
      let bucket = meter.buckets.get(bucketKey);
      if (!bucket) {
        bucket = new TokenBucket(throttle.rate, throttle.burst);
        meter.buckets.set(bucketKey, bucket);
      }
      if (!bucket.take()) return { admitted: false, responseType: 'THROTTLED' };
    }

    if (plan.quota) {
      this.#roll(meter, plan.quota);
      if (meter.used >= this.#limit(meter, plan.quota)) {
        return { admitted: false, responseType: 'QUOTA_EXCEEDED' };
      }
    }
    meter.used += 1;
    return { admitted: true, key: meter.key, plan };
  }

  /** Remaining quota etc. for the dev summary / tests. */
  usage(keyId: string): Usage {
    const meter = this.#meters.get(keyId);
    if (!meter) throw new Error(`Unknown API key ${keyId}`);
    const quota = meter.plan?.quota;
    if (quota) this.#roll(meter, quota);
    return {
      used: meter.used,
      remaining: quota ? Math.max(0, this.#limit(meter, quota) - meter.used) : undefined,
      periodStart: new Date(meter.periodStart).toISOString(),
    };
  }

  /** Starts a fresh count once the clock has crossed into a later period. */
  #roll(meter: Meter, quota: Quota): void {
    const current = periodStart(this.#clock.now(), quota.period);
    if (current !== meter.periodStart) {
      meter.periodStart = current;
      meter.used = 0;
    }
  }

  #limit(meter: Meter, quota: Quota): number {
    const initial = meter.periodStart === periodStart(this.#createdAt, quota.period);
    return initial ? Math.max(0, quota.limit - quota.offset) : quota.limit;
  }
}

/**
 * Quota periods are calendar periods in UTC: days from midnight, months from the 1st, and weeks from
 * Monday (AWS does not document the day its weeks start on; ISO's Monday is assumed).
 */
function periodStart(epochMs: number, period: Quota['period']): number {
  const date = new Date(epochMs);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  switch (period) {
    case 'DAY':
      return midnight;
    case 'WEEK':
      return midnight - ((date.getUTCDay() + 6) % 7) * DAY_MS;
    case 'MONTH':
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
}
