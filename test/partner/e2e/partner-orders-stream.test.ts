import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createResolver } from '../../../offline/template/resolver.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { type Answer, partnerCall, partnerToken } from '../../support/client.ts';
import { dynamo } from '../../support/hostile.ts';

/**
 * GET /orders on the partner REST API through the offline cloud: the integration's responseTransferMode STREAM,
 * StreamPartnerOrdersFunction in its worker-thread execution environment, and the REST emulator forwarding the
 * function's response stream (offline/gateways/rest/rest-api-stream.ts) as it is written.
 */
const cloud = inject('offlineCloud');
const resolver = createResolver(loadTemplate(), undefined);
const ORIGIN = String(resolver.resolve({ Ref: 'PartnerAllowedOrigin' }, 'Parameters.PartnerAllowedOrigin'));
const enterprise = cloud.apiKeys.PartnerEnterprisePlan as string;
/** The partner id of a key: its id, which the integration gives the function as requestContext.identity.apiKeyId. */
const enterpriseId = String(
  resolver.resolve({ Ref: 'PartnerEnterpriseApiKey' }, 'Resources.PartnerEnterpriseApiKey'),
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** 20 of the function's 100-order pages: a stream that lasts while DynamoDB Local answers 20 Queries. */
const ORDER_COUNT = 2000;
/**
 * Far in the future, which no other suite's order reaches: `since` this is exactly this suite's orders, however
 * many orders other suites place for the same partner meanwhile.
 */
const SINCE = '2990-01-01T00:00:00.000Z';
const at = (index: number) => new Date(Date.parse(SINCE) + index * 1000).toISOString();

const order = (partnerId: string, createdAt: string) => ({
  orderId: randomUUID(),
  customerId: `partner#${partnerId}`,
  status: 'PLACED',
  items: [
    { productId: 'green-tea', name: 'Green tea', quantity: 1, unitPrice: { amount: 450, currency: 'EUR' } },
  ],
  total: { amount: 450, currency: 'EUR' },
  createdAt,
  source: 'partner',
});

/** The partner token GET /orders requires next to the key (its authoriser: test/partner/e2e/partner-token.test.ts). */
let authorization: string;

/** This suite's orders of the enterprise partner, newest first. */
let ours: ReturnType<typeof order>[];
/** Another partner's orders, at the same times. */
let theirs: ReturnType<typeof order>[];

beforeAll(async () => {
  authorization = `Bearer ${await partnerToken()}`;
  ours = Array.from({ length: ORDER_COUNT }, (_, index) => order(enterpriseId, at(index))).reverse();
  theirs = [order('another-partner', at(1)), order('another-partner', at(ORDER_COUNT - 2))];
  const items = [...ours, ...theirs];
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    await dynamo.send(
      new BatchWriteCommand({ RequestItems: { [cloud.tables.OrdersTable as string]: batch } }),
    );
  }
});

afterAll(() => dynamo.destroy());

interface Streamed {
  response: Response;
  /** Each chunk as it arrived, ms after the request was sent. */
  chunks: { at: number; text: string }[];
  text: string;
}

/** Reads a streamed answer chunk by chunk, noting when each arrived. */
async function stream(
  path: string,
  apiKey = enterprise,
  headers: Record<string, string> = {},
): Promise<Streamed> {
  const sentAt = performance.now();
  const response = await fetch(`${cloud.restApiUrl}${path}`, {
    headers: { 'x-api-key': apiKey, authorization, ...headers },
  });
  const chunks: Streamed['chunks'] = [];
  const decoder = new TextDecoder();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push({ at: performance.now() - sentAt, text: decoder.decode(read.value, { stream: true }) });
  }
  return { response, chunks, text: chunks.map((chunk) => chunk.text).join('') };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { orderId: string });

function expectError(answer: Answer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
    requestId: expect.stringMatching(UUID),
  });
  expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
}

describe('GET /orders streams the partner’s orders as NDJSON', () => {
  test('newest first, one order per line, the first lines long before the last (after a warm-up)', async () => {
    // A first invocation pays the cold start, which is not what this test measures.
    expect((await stream(`/orders?since=3999-01-01T00:00:00Z`)).response.status).toBe(200);

    const { response, chunks, text } = await stream(`/orders?since=${SINCE}`, enterprise, {
      'accept-encoding': 'gzip, deflate',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('x-amzn-requestid')).toMatch(UUID);
    // Streamed: no length up front, and never compressed (content encoding is not supported in STREAM mode).
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(lines(text).map((line) => line.orderId)).toEqual(ours.map((line) => line.orderId));

    // Buffered, every byte would arrive at the end, together. Streamed, the first page arrives after one Query
    // of the twenty that make the answer.
    const first = chunks[0]?.at ?? 0;
    const last = chunks.at(-1)?.at ?? 0;
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(first).toBeLessThan(last / 2);
  });

  // Only the Enterprise key is used: the other tiers' daily quotas are counted out by partner-api.test.ts in the
  // same offline cloud. Isolation in both directions is covered against DynamoDB Local in
  // test/partner/integration/stream-partner-orders.test.ts.
  test('another partner’s orders never appear', async () => {
    const ourIds = lines((await stream(`/orders?since=${SINCE}`)).text).map((line) => line.orderId);
    for (const other of theirs) expect(ourIds).not.toContain(other.orderId);
  });

  test('with a partner token but without a key, or with an unknown one, is 403 in the error shape', async () => {
    expectError(await partnerCall('GET', '/orders', { headers: { authorization } }), 403, 'Forbidden');
    expectError(
      await partnerCall('GET', '/orders', { apiKey: 'not-a-key', headers: { authorization } }),
      403,
      'Forbidden',
    );
  });

  test.each([
    ['since=yesterday', 'query.since'],
    ['since=2990-01-01T00:00:00%2B01:00', 'query.since'],
    ['limit=10', 'query'],
  ])('?%s is 400 ValidationError in the error shape', async (query, path) => {
    const answer = await partnerCall('GET', `/orders?${query}`, {
      apiKey: enterprise,
      headers: { authorization },
    });
    expectError(answer, 400, 'ValidationError');
    expect(answer.body.error.details).toEqual([{ path, message: expect.any(String) }]);
    expect(answer.body.requestId).toBe(answer.headers.get('x-amzn-requestid'));
  });

  test('a client that leaves mid-stream leaves the gateway healthy: the next requests are answered in full', async () => {
    const controller = new AbortController();
    const response = await fetch(`${cloud.restApiUrl}/orders?since=${SINCE}`, {
      headers: { 'x-api-key': enterprise, authorization },
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    controller.abort();
    await expect(reader.read()).rejects.toThrow();

    expect((await partnerCall('GET', '/health')).status).toBe(200);
    const again = await stream(`/orders?since=${SINCE}`);
    expect(lines(again.text)).toHaveLength(ORDER_COUNT);
  });

  test('the preflight of /orders allows GET next to POST, and the Authorization header of the partner token', async () => {
    const preflight = await partnerCall('OPTIONS', '/orders', {
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toContain('authorization');
  });
});
