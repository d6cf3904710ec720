/**
 * Random `Authorization` values for fuzzing a JWT authoriser: none of them is a valid token, and together they
 * cover the shapes a client can send — random base64url segments with 1–5 dots, raw bytes, any code point (lone
 * surrogates, non-BMP, U+FFFD/U+FFFF), control characters with CR/LF, huge tokens, quotes and header
 * injection, valid-looking headers with garbage payloads, `alg: none` and hostile claim values. A seeded PRNG
 * makes every run send the same values: a failure names the seed and the token's index and family.
 */

export interface RandomToken {
  /** e.g. `#17 (alg-none)`, for assertion messages. */
  label: string;
  family: string;
  /** The whole header value, scheme included. */
  value: string;
}

/** What the tokens imitate, so that they get past the early checks: the authoriser's key id, issuer and client. */
export interface TokenTarget {
  kid: string;
  issuer: string;
  audience: string;
}

/** The families are taken in turn, so every family gets the same share of any count. */
export function randomTokens(seed: number, count: number, target: TokenTarget): RandomToken[] {
  const random = new Random(seed);
  const families = Object.entries(FAMILIES);
  return Array.from({ length: count }, (_, index) => {
    const [family, make] = families[index % families.length] as [string, Family];
    const value = `${random.pick(SCHEMES)}${make(random, target)}`;
    return { label: `#${index} (${family}) of seed ${seed}`, family, value };
  });
}

/** The families' values are all far below this, except `huge`, which is always above it. */
export const HUGE_TOKEN_MIN_CHARACTERS = 12_000;

type Family = (random: Random, target: TokenTarget) => string;

const SCHEMES = ['Bearer ', 'bearer ', 'BEARER ', '', 'Bearer\t', 'Bearer   ', 'Basic ', 'Bearer Bearer '];
const BASE64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const INJECTION = [
  '"',
  '\\',
  "'",
  '", error="none',
  '\r\nSet-Cookie: session=stolen',
  '\nX-Injected: yes',
  ';',
  ',',
  '=',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '%00',
  '%0d%0a',
  '\u2028',
  ' ',
];
const HOSTILE_ALGORITHMS = ['none', 'None', 'NONE', 'nOnE', 'HS256', 'RS512', 'ES256', 'PS256', '', 'RS256 '];

const FAMILIES: Record<string, Family> = {
  'base64url-segments': (random) =>
    Array.from({ length: random.integer(2, 6) }, () => random.base64url(random.integer(0, 80))).join('.'),
  'raw-bytes': (random) => String.fromCharCode(...random.bytes(random.integer(1, 200))),
  'any-code-point': (random) => random.codePoints(random.integer(1, 100)),
  'control-characters': (random) => {
    let token = `${random.base64url(30)}.${random.base64url(30)}.${random.base64url(30)}`;
    for (let count = random.integer(1, 5); count > 0; count--) {
      const at = random.integer(0, token.length);
      const control = random.pick([
        '\r\n',
        '\r',
        '\n',
        '\0',
        '\x7f',
        String.fromCharCode(random.integer(0, 31)),
      ]);
      token = `${token.slice(0, at)}${control}${token.slice(at)}`;
    }
    return token;
  },
  huge: (random) => {
    const length = random.integer(HUGE_TOKEN_MIN_CHARACTERS, 30_000);
    const third = Math.floor(length / 3);
    return [random.base64url(third), random.base64url(third), random.base64url(length - 2 * third)].join('.');
  },
  'quotes-and-injection': (random) =>
    Array.from({ length: random.integer(1, 8) }, () =>
      random.integer(0, 1) ? random.pick(INJECTION) : random.base64url(random.integer(1, 20)),
    ).join(''),
  'garbage-payload': (random, target) =>
    [
      segment({ alg: 'RS256', typ: 'JWT', kid: target.kid }),
      random.pick([
        () => random.base64url(random.integer(1, 120)),
        () => Buffer.from(random.bytes(random.integer(1, 90))).toString('base64url'),
        () =>
          Buffer.from(random.pick(['not json', '[]', 'null', '"claims"', '1e309', '{', '{"iss":'])).toString(
            'base64url',
          ),
        () =>
          Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{}}}').toString('base64url'),
        () => Buffer.from(`${'['.repeat(2_000)}${']'.repeat(2_000)}`).toString('base64url'),
      ])(),
      random.base64url(random.integer(0, 342)),
    ].join('.'),
  'alg-none': (random, target) =>
    [
      segment({ alg: random.pick(HOSTILE_ALGORITHMS), typ: 'JWT', kid: target.kid }),
      segment(validLookingClaims(target)),
      random.pick(['', 'x', random.base64url(random.integer(1, 342))]),
    ].join('.'),
  'hostile-claims': (random, target) => {
    const hostile = () => random.pick([random.codePoints(12), random.pick(INJECTION), random.base64url(4)]);
    const claims: Record<string, unknown> = { ...validLookingClaims(target) };
    for (const claim of ['iss', 'aud', 'client_id', 'exp', 'nbf', 'scope', 'token_use']) {
      if (random.integer(0, 1))
        claims[claim] = random.pick([hostile(), [hostile(), hostile()], { x: hostile() }]);
    }
    const header = {
      alg: random.pick(['RS256', hostile()]),
      typ: 'JWT',
      kid: random.pick([target.kid, hostile()]),
    };
    return [segment(header), segment(claims), random.base64url(342)].join('.');
  },
};

function validLookingClaims(target: TokenTarget): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: 'mallory',
    iss: target.issuer,
    client_id: target.audience,
    token_use: 'access',
    scope: 'api/orders.read api/orders.write',
    iat: now,
    exp: now + 3600,
  };
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** mulberry32: small, fast and good enough to pick test inputs; the same seed gives the same sequence. */
class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** In [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.integer(0, items.length - 1)] as T;
  }

  bytes(length: number): number[] {
    return Array.from({ length }, () => this.integer(0, 255));
  }

  base64url(length: number): string {
    return Array.from({ length }, () => this.pick(BASE64URL)).join('');
  }

  /** Code units from every range: ASCII, Latin-1, the BMP, lone surrogates, U+FFFD–U+FFFF and beyond the BMP. */
  codePoints(length: number): string {
    const ranges: [number, number][] = [
      [0x00, 0x7f],
      [0x80, 0xff],
      [0x100, 0xd7ff],
      [0xd800, 0xdfff],
      [0xfffd, 0xffff],
      [0x10000, 0x10ffff],
    ];
    return Array.from({ length }, () => {
      const [low, high] = this.pick(ranges);
      const point = this.integer(low, high);
      // fromCharCode, not fromCodePoint, so that a surrogate stays alone.
      return point > 0xffff ? String.fromCodePoint(point) : String.fromCharCode(point);
    }).join('');
  }
}
