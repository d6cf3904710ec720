import { describe, expect, test } from 'vitest';
import { type CachedResponse, ResponseCache } from './response-cache.ts';

function manualClock(): { now(): number; advance(ms: number): void } {
  let now = 1_700_000_000_000;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const ok = (body: string): CachedResponse => ({
  statusCode: 200,
  headers: { 'content-type': 'text/plain' },
  body,
});

const request = (overrides: Partial<Parameters<typeof ResponseCache.key>[3]> = {}) => ({
  path: {},
  querystring: {},
  headers: {},
  ...overrides,
});

describe('ResponseCache.key', () => {
  test('tells resource paths and methods apart', () => {
    const keys = new Set([
      ResponseCache.key('GET', '/orders', [], request()),
      ResponseCache.key('GET', '/orders/{id}', [], request()),
      ResponseCache.key('HEAD', '/orders', [], request()),
    ]);
    expect(keys.size).toBe(3);
    expect(ResponseCache.key('get', '/orders', [], request())).toBe(
      ResponseCache.key('GET', '/orders', [], request()),
    );
  });

  test('ignores query strings that are not cache key parameters', () => {
    const key = (querystring: Record<string, string>) =>
      ResponseCache.key(
        'GET',
        '/products',
        ['method.request.querystring.category'],
        request({ querystring }),
      );
    expect(key({ category: 'tea', page: '1' })).toBe(key({ category: 'tea', page: '2' }));
    expect(key({ category: 'tea' })).not.toBe(key({ category: 'coffee' }));
  });

  test('ignores path parameters unless they are cache key parameters', () => {
    const key = (id: string, parameters: string[]) =>
      ResponseCache.key('GET', '/orders/{id}', parameters, request({ path: { id } }));
    expect(key('1', [])).toBe(key('2', []));
    expect(key('1', ['method.request.path.id'])).not.toBe(key('2', ['method.request.path.id']));
  });

  test('reads header parameters whatever the case of their names', () => {
    const key = (headers: Record<string, string>) =>
      ResponseCache.key('GET', '/products', ['method.request.header.Accept-Language'], request({ headers }));
    expect(key({ 'accept-language': 'fr' })).toBe(key({ 'ACCEPT-LANGUAGE': 'fr' }));
    expect(key({ 'accept-language': 'fr' })).not.toBe(key({ 'accept-language': 'de' }));
    expect(key({ 'accept-language': 'fr', 'x-trace': '1' })).toBe(
      key({ 'accept-language': 'fr', 'x-trace': '2' }),
    );
  });

  test('keeps an absent parameter apart from an empty one', () => {
    const key = (querystring: Record<string, string>) =>
      ResponseCache.key('GET', '/products', ['method.request.querystring.q'], request({ querystring }));
    expect(key({})).not.toBe(key({ q: '' }));
  });

  test('cannot be forged by values that look like other parameters', () => {
    const parameters = ['method.request.querystring.a', 'method.request.querystring.b'];
    const key = (querystring: Record<string, string>) =>
      ResponseCache.key('GET', '/x', parameters, request({ querystring }));
    expect(key({ a: '1,b=2', b: '' })).not.toBe(key({ a: '1', b: '2' }));
  });

  test('does not depend on the order the parameters are listed in', () => {
    const querystring = { a: '1', b: '2' };
    expect(
      ResponseCache.key(
        'GET',
        '/x',
        ['method.request.querystring.a', 'method.request.querystring.b'],
        request({ querystring }),
      ),
    ).toBe(
      ResponseCache.key(
        'GET',
        '/x',
        ['method.request.querystring.b', 'method.request.querystring.a'],
        request({ querystring }),
      ),
    );
  });

  test('refuses parameters that are not method request parameters', () => {
    expect(() => ResponseCache.key('GET', '/x', ['method.request.body.id'], request())).toThrow(
      /Unsupported cache key parameter method.request.body.id/,
    );
  });
});

describe('ResponseCache', () => {
  test('serves an entry until its TTL runs out', () => {
    const clock = manualClock();
    const cache = new ResponseCache(clock);
    cache.set('k', ok('cached'), 300);
    clock.advance(299_999);
    expect(cache.get('k')).toEqual(ok('cached'));
    clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, entries: 0 });
  });

  test('keeps entries apart by key', () => {
    const cache = new ResponseCache(manualClock());
    cache.set('tea', ok('tea'), 60);
    cache.set('coffee', ok('coffee'), 60);
    expect(cache.get('tea')?.body).toBe('tea');
    expect(cache.get('coffee')?.body).toBe('coffee');
    expect(cache.get('water')).toBeUndefined();
  });

  test('does not cache with a TTL of 0', () => {
    const cache = new ResponseCache(manualClock());
    cache.set('k', ok('x'), 0);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  test('accepts TTLs up to 3600 seconds and no more', () => {
    const clock = manualClock();
    const cache = new ResponseCache(clock);
    cache.set('k', ok('x'), 3600);
    clock.advance(3_599_999);
    expect(cache.get('k')).toBeDefined();
    for (const ttl of [3601, -1, 1.5]) {
      expect(() => cache.set('k', ok('x'), ttl)).toThrow(RangeError);
    }
  });

  test('does not cache a body over 1 MiB', () => {
    const cache = new ResponseCache(manualClock());
    cache.set('big', ok('x'.repeat(1_048_577)), 60);
    cache.set('limit', ok('x'.repeat(1_048_576)), 60);
    expect(cache.get('big')).toBeUndefined();
    expect(cache.get('limit')).toBeDefined();
  });

  test('replaces an entry and restarts its TTL', () => {
    const clock = manualClock();
    const cache = new ResponseCache(clock);
    cache.set('k', ok('old'), 10);
    clock.advance(9_000);
    cache.set('k', ok('new'), 10);
    clock.advance(9_000);
    expect(cache.get('k')?.body).toBe('new');
  });

  test('forgets an invalidated entry', () => {
    const cache = new ResponseCache(manualClock());
    cache.set('k', ok('x'), 60);
    cache.set('other', ok('y'), 60);
    cache.invalidate('k');
    expect(cache.get('k')).toBeUndefined();
    expect(cache.get('other')).toBeDefined();
  });

  test('counts hits, misses and live entries', () => {
    const clock = manualClock();
    const cache = new ResponseCache(clock);
    cache.set('short', ok('a'), 1);
    cache.set('long', ok('b'), 100);
    cache.get('short');
    cache.get('long');
    cache.get('absent');
    clock.advance(1_000);
    expect(cache.stats()).toEqual({ hits: 2, misses: 1, entries: 1 });
  });
});
