import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { call, token } from '../../support/client.ts';
import { unthrottled } from '../../support/hostile.ts';

/**
 * The partner API's MinimumCompressionSize (1 KiB, template.yaml) through the offline cloud: a catalogue page is
 * compressed with the coding the client asks for, small answers and gateway responses never are, and a
 * compressed request body is decompressed before validation and the mapping template (rest-compression.ts).
 * Requests go through node:http, which, unlike fetch, neither adds an Accept-Encoding nor decompresses.
 */
const cloud = inject('offlineCloud');
const enterprise = cloud.apiKeys.PartnerEnterprisePlan as string;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const category = `gzip-${randomUUID().slice(0, 8)}`;
const PRODUCTS = 12;

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes as sent. */
  body: Buffer;
}

function partnerRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<RawAnswer> {
  return unthrottled(
    () =>
      new Promise<RawAnswer>((done, fail) => {
        const sent = request(`${cloud.restApiUrl}${path}`, { method, headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            done({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks),
            }),
          );
        });
        sent.on('error', fail);
        sent.end(body);
      }),
  );
}

const json = (answer: RawAnswer) => JSON.parse(answer.body.toString('utf8'));

beforeAll(async () => {
  const admin = await token({ sub: 'admin-compression', scopes: ['api/products.write'], groups: ['admin'] });
  const puts = await Promise.all(
    Array.from({ length: PRODUCTS }, (_, index) =>
      call('PUT', `/products/${category}-${String(index).padStart(2, '0')}`, {
        token: admin,
        body: {
          name: `Gyokuro ${index}, 50 g`,
          description: 'Shade-grown for three weeks before the harvest',
          category,
          price: { amount: 1200 + index, currency: 'EUR' },
        },
      }),
    ),
  );
  expect(puts.map((put) => put.status)).toEqual(Array(PRODUCTS).fill(200));
});

describe('partner REST API compression', () => {
  const page = `/products?category=${category}&limit=100`;

  test('a catalogue page is gzip- or deflate-compressed on request and decodes to the same JSON; identity without', async () => {
    const plain = await partnerRequest('GET', page, { 'x-api-key': enterprise });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThanOrEqual(1024);
    const listed = json(plain);
    expect(listed.items).toHaveLength(PRODUCTS);

    const gzipped = await partnerRequest('GET', page, { 'x-api-key': enterprise, 'accept-encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(Number(gzipped.headers['content-length'])).toBe(gzipped.body.length);
    expect(gzipped.body.length).toBeLessThan(plain.body.length / 2);
    expect(JSON.parse(gunzipSync(gzipped.body).toString('utf8'))).toEqual(listed);

    const deflated = await partnerRequest('GET', page, {
      'x-api-key': enterprise,
      'accept-encoding': 'gzip;q=0.5, deflate',
    });
    expect(deflated.headers['content-encoding']).toBe('deflate');
    expect(JSON.parse(inflateSync(deflated.body).toString('utf8'))).toEqual(listed);
  });

  test.each([
    ['GET /health (MOCK, ~100 bytes)', '/health', {}, 200],
    ['a single product (~250 bytes)', `/products/${category}-00`, { 'x-api-key': enterprise }, 200],
    ['a 403 gateway response (no key)', page, {}, 403],
  ])('%s is never compressed, whatever the client accepts', async (_what, path, headers, status) => {
    const answer = await partnerRequest('GET', path, { ...headers, 'accept-encoding': 'gzip, deflate, br' });
    expect(answer.status).toBe(status);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.body.length).toBeLessThan(1024);
    expect(json(answer)).toBeTypeOf('object');
  });

  test('a gzip order body is decompressed before validation and the SQS mapping template: 202', async () => {
    const order = JSON.stringify({ items: [{ productId: `${category}-01`, quantity: 2 }] });
    const answer = await partnerRequest(
      'POST',
      '/orders',
      { 'x-api-key': enterprise, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipSync(order),
    );
    expect(answer.status).toBe(202);
    expect(json(answer)).toMatchObject({ orderId: expect.stringMatching(UUID), status: 'queued' });
  });

  test.each([
    ['a body that is not gzip', 'gzip', Buffer.from('{"items":[]}')],
    [
      'a truncated gzip body',
      'gzip',
      gzipSync('{"items":[{"productId":"green-tea","quantity":1}]}').subarray(0, 15),
    ],
    ['a deflate body sent as gzip', 'gzip', deflateSync('{"items":[]}')],
    ['an encoding API Gateway does not support', 'br', Buffer.from('{"items":[]}')],
  ])('%s is 415 in the error shape, never 5xx', async (_what, coding, body) => {
    const answer = await partnerRequest(
      'POST',
      '/orders',
      { 'x-api-key': enterprise, 'content-type': 'application/json', 'content-encoding': coding },
      body,
    );
    expect(answer.status).toBe(415);
    expect(answer.headers['x-amzn-errortype']).toBe('UnsupportedMediaTypeException');
    expect(json(answer)).toMatchObject({
      error: { code: 'UnsupportedMediaType' },
      requestId: expect.stringMatching(UUID),
    });
  });
});
