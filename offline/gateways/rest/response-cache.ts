export interface CachedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface CacheKeyRequest {
  path: Record<string, string>;
  querystring: Record<string, string>;
  headers: Record<string, string>;
}

/** API Gateway's ceiling on a cache entry's time to live. */
const MAX_TTL_SECONDS = 3600;
/** API Gateway does not cache responses larger than this. */
const MAX_BODY_BYTES = 1_048_576;
const CACHE_KEY_PARAMETER = /^method\.request\.(path|querystring|header)\.(.+)$/;

interface Entry {
  response: CachedResponse;
  expiresAt: number;
}

/** A REST API stage cache: responses by cache key, each kept for its method's TTL. */
export class ResponseCache {
  readonly #clock: { now(): number };
  readonly #entries = new Map<string, Entry>();
  #hits = 0;
  #misses = 0;

  constructor(clock: { now(): number } = { now: () => Date.now() }) {
    this.#clock = clock;
  }

  /**
   * The cache key: method + resource path + the values of the method's cache-key parameters only
   * (e.g. method.request.querystring.category, method.request.path.id, method.request.header.X).
   * Anything not listed, path parameters included, does not tell two requests apart.
   */
  static key(
    httpMethod: string,
    resourcePath: string,
    cacheKeyParameters: string[],
    request: CacheKeyRequest,
  ): string {
    const headers = new Map(
      Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const values = [...cacheKeyParameters].sort().map((parameter) => {
      const [, location, name] = CACHE_KEY_PARAMETER.exec(parameter) ?? [];
      if (!location || !name) throw new Error(`Unsupported cache key parameter ${parameter}`);
      const value =
        location === 'header'
          ? headers.get(name.toLowerCase())
          : (location === 'path' ? request.path : request.querystring)[name];
      // null keeps an absent parameter apart from one sent empty.
      return [parameter, value ?? null];
    });
    return JSON.stringify([httpMethod.toUpperCase(), resourcePath, values]);
  }

  get(key: string): CachedResponse | undefined {
    const entry = this.#live(key);
    if (entry) this.#hits += 1;
    else this.#misses += 1;
    return entry?.response;
  }

  /** ttl 0 = not cached; max 3600. Bodies over 1 MiB are not cached, as in API Gateway. */
  set(key: string, response: CachedResponse, ttlSeconds: number): void {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
      throw new RangeError(`Cache TTL must be a whole number of seconds from 0 to ${MAX_TTL_SECONDS}`);
    }
    if (ttlSeconds === 0 || Buffer.byteLength(response.body) > MAX_BODY_BYTES) return;
    this.#entries.set(key, { response, expiresAt: this.#clock.now() + ttlSeconds * 1000 });
  }

  invalidate(key: string): void {
    this.#entries.delete(key);
  }

  stats(): { hits: number; misses: number; entries: number } {
    for (const key of this.#entries.keys()) this.#live(key);
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size };
  }

  /** The entry under key unless it has expired; expired entries are dropped on sight. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
