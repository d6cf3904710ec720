import { afterEach, describe, expect, test, vi } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Stops the clock the bucket reads; returns a function that moves it forward. */
function frozenClock(): (ms: number) => void {
  let now = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return (ms) => {
    now += ms;
  };
}

const takeMany = (bucket: TokenBucket, count: number) => Array.from({ length: count }, () => bucket.take());

describe('TokenBucket', () => {
  test('allows its burst at once, then refuses', () => {
    frozenClock();
    expect(takeMany(new TokenBucket(10, 3), 4)).toEqual([true, true, true, false]);
  });

  test('refills at its rate, a whole token at a time', () => {
    const advance = frozenClock();
    const bucket = new TokenBucket(2, 1);
    expect(takeMany(bucket, 2)).toEqual([true, false]);
    advance(250);
    expect(bucket.take()).toBe(false);
    advance(250);
    expect(takeMany(bucket, 2)).toEqual([true, false]);
  });

  test('never holds more than its burst', () => {
    const advance = frozenClock();
    const bucket = new TokenBucket(100, 2);
    advance(60_000);
    expect(takeMany(bucket, 3)).toEqual([true, true, false]);
  });

  test('refills in real time', async () => {
    const bucket = new TokenBucket(20, 1);
    expect(takeMany(bucket, 2)).toEqual([true, false]);
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(bucket.take()).toBe(true);
  });
});
