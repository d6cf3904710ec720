import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  type CompressionContext,
  compressResponse,
  decodeRequestBody,
  responseCoding,
} from './rest-compression.ts';

describe('responseCoding: the Accept-Encoding formats API Gateway documents, and the rest', () => {
  test.each([
    // The formats the "Enable payload compression" page lists.
    ['deflate,gzip', 'deflate'],
    ['', undefined],
    ['*', undefined],
    ['deflate;q=0.5,gzip;q=1.0', 'gzip'],
    ['gzip;q=1.0,identity;q=0.5,*;q=0', 'gzip'],
    // What browsers send "can trigger the payload compression".
    ['gzip, deflate, br', 'gzip'],
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    // The highest-priority coding must be one API Gateway supports, or nothing is compressed.
    ['br;q=1, gzip;q=0.5', undefined],
    ['zstd', undefined],
    ['identity', undefined],
    ['identity;q=1, gzip;q=0.9', undefined],
    ['gzip;q=0.4, deflate;q=0.6', 'deflate'],
    // Equal weights: the first supported one (undocumented).
    ['br, gzip', 'gzip'],
    // q=0 refuses a coding; `*` never selects one.
    ['gzip;q=0', undefined],
    ['gzip;q=0, deflate', 'deflate'],
    ['*;q=1, gzip;q=0.5', 'gzip'],
    // Case and white space do not matter (RFC 7231 codings are case-insensitive).
    ['GZIP', 'gzip'],
    ['  Deflate ; Q=0.8 ', 'deflate'],
    ['gzip;q=1.000', 'gzip'],
  ])('%j → %s', (header, coding) => {
    expect(responseCoding(header)).toBe(coding);
  });

  test('a client without Accept-Encoding (counted as *) gets no compression', () => {
    expect(responseCoding(undefined)).toBeUndefined();
  });

  test.each([
    'gzip;q=2',
    'gzip;q=1.5',
    'gzip;q=-1',
    'gzip;q=abc',
    'gzip;q=0.1234',
    'gzip;level=9',
    ';;;',
    ',,,',
    'gzip deflate',
    '"gzip"',
    'gzip;q=',
    '\u0000gzip',
  ])('garbage %j selects no coding and never throws', (header) => {
    expect(responseCoding(header)).toBeUndefined();
  });

  test('a header of thousands of unknown codings selects none', () => {
    expect(responseCoding(`${'x'.repeat(8_000)}, ${'y,'.repeat(1_000)}`)).toBeUndefined();
  });

  test('a valid element beside garbage still counts', () => {
    expect(responseCoding('gzip;q=2, deflate;q=0.5')).toBe('deflate');
  });
});

describe('compressResponse', () => {
  const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 40 }, (_, index) => ({ index })) }));
  const payload = (body: Buffer, headers: Record<string, string> = {}, gatewayResponse = false) => ({
    headers: { 'content-type': 'application/json', ...headers },
    body,
    gatewayResponse,
  });
  /** What compressResponse answers when it sends the payload as it is. */
  const unchanged = ({ headers, body }: ReturnType<typeof payload>) => ({ headers, body });
  const context = (acceptEncoding: string | undefined, minimumCompressionSize: number | undefined = 100) =>
    ({ acceptEncoding, minimumCompressionSize }) satisfies CompressionContext;

  test('gzip and deflate bodies decode to the original, with Content-Encoding set', () => {
    const gzipped = compressResponse(payload(json), context('gzip'));
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzipped.body)).toEqual(json);
    expect(gzipped.body.length).toBeLessThan(json.length);
    const deflated = compressResponse(payload(json), context('deflate'));
    expect(deflated.headers['content-encoding']).toBe('deflate');
    expect(inflateSync(deflated.body)).toEqual(json);
    expect(deflated.headers['content-type']).toBe('application/json');
  });

  test('the threshold counts the uncompressed bytes: at it compressed, one below it not', () => {
    const at = Buffer.from('a'.repeat(100));
    const below = Buffer.from('a'.repeat(99));
    expect(compressResponse(payload(at), context('gzip')).headers['content-encoding']).toBe('gzip');
    expect(compressResponse(payload(below), context('gzip'))).toEqual(unchanged(payload(below)));
    // Multi-byte characters count as bytes, not characters.
    const euros = Buffer.from('€'.repeat(34));
    expect(euros.length).toBe(102);
    expect(compressResponse(payload(euros), context('gzip')).headers['content-encoding']).toBe('gzip');
  });

  test('a threshold of 0 compresses any non-empty body; without MinimumCompressionSize nothing is compressed', () => {
    const tiny = Buffer.from('{}');
    expect(compressResponse(payload(tiny), context('gzip', 0)).headers['content-encoding']).toBe('gzip');
    expect(compressResponse(payload(Buffer.alloc(0)), context('gzip', 0))).toEqual(
      unchanged(payload(Buffer.alloc(0))),
    );
    const off = { acceptEncoding: 'gzip', minimumCompressionSize: undefined };
    expect(compressResponse(payload(json), off)).toEqual(unchanged(payload(json)));
  });

  test('no Accept-Encoding, identity only, or an unsupported first choice: sent as it is', () => {
    for (const header of [undefined, 'identity', 'br', '*', 'gzip;q=abc']) {
      expect(compressResponse(payload(json), context(header))).toEqual(unchanged(payload(json)));
    }
  });

  test('an integration response that has a Content-Encoding (in any case) is never compressed again', () => {
    const encoded = payload(json, { 'Content-Encoding': 'br' });
    expect(compressResponse(encoded, context('gzip'))).toEqual(unchanged(encoded));
  });

  test('a gateway response is never compressed', () => {
    const gateway = payload(json, {}, true);
    expect(compressResponse(gateway, context('gzip'))).toEqual(unchanged(gateway));
  });
});

describe('decodeRequestBody', () => {
  const order = Buffer.from(JSON.stringify({ items: [{ productId: 'green-tea', quantity: 1 }] }));
  const LIMIT = 1_000;

  test('gzip and deflate bodies are decompressed; identity, none and an empty value are left alone', () => {
    expect(decodeRequestBody(gzipSync(order), 'gzip', LIMIT)).toEqual({ body: order });
    expect(decodeRequestBody(deflateSync(order), 'Deflate', LIMIT)).toEqual({ body: order });
    for (const coding of [undefined, '', 'identity', ' IDENTITY ']) {
      expect(decodeRequestBody(order, coding, LIMIT)).toEqual({ body: order });
    }
  });

  test('an empty body with a supported coding stays empty', () => {
    expect(decodeRequestBody(Buffer.alloc(0), 'gzip', LIMIT)).toEqual({ body: Buffer.alloc(0) });
  });

  test.each([
    ['a body that is not gzip', order, 'gzip'],
    ['a truncated gzip body', gzipSync(order).subarray(0, 12), 'gzip'],
    ['gzip with trailing bytes', Buffer.concat([gzipSync(order), Buffer.from('&Action=Purge')]), 'gzip'],
    ['raw deflate without the zlib wrapper', deflateRawSync(order), 'deflate'],
    ['gzip sent as deflate', gzipSync(order), 'deflate'],
    ['an unsupported coding', order, 'br'],
    ['compress', order, 'compress'],
    ['two codings', gzipSync(gzipSync(order)), 'gzip, gzip'],
  ])('%s is 415 Unsupported Media Type', (_what, body, coding) => {
    expect(decodeRequestBody(body, coding, LIMIT)).toEqual({ refused: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  test('a body that decompresses past the payload limit is refused as too large, without inflating it all', () => {
    const bomb = gzipSync(Buffer.alloc(50 * LIMIT));
    expect(bomb.length).toBeLessThan(LIMIT);
    expect(decodeRequestBody(bomb, 'gzip', LIMIT)).toEqual({ refused: 'TOO_LARGE' });
    expect(decodeRequestBody(deflateSync(Buffer.alloc(LIMIT)), 'deflate', LIMIT)).toEqual({
      body: Buffer.alloc(LIMIT),
    });
  });
});
