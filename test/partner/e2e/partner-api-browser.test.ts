import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { launchChromium } from '../../support/chromium.ts';
import { partnerCall } from '../../support/client.ts';

/**
 * The partner REST API called from a real browser. A request with `x-api-key` or a JSON body is not a simple
 * request, so Chromium sends a CORS preflight first and refuses the call unless the OPTIONS answer allows the
 * page's origin, the method and the headers; API Gateway answers a preflight only where the definition has an
 * OPTIONS method (AWS "Enabling CORS for a REST API resource").
 */
const cloud = inject('offlineCloud');
const key = cloud.apiKeys.PartnerEnterprisePlan as string;
/** The template's PartnerAllowedOrigin in samconfig's dev parameters. */
const ALLOWED_ORIGIN = 'http://localhost:5173';
const OTHER_ORIGIN = 'http://localhost:5174';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** A blank page served as if from `origin` (intercepted by the browser, so nothing listens on that port). */
async function pageAt(origin: string): Promise<Page> {
  const context = await browser.newContext();
  // A page Chromium did not load from the network is not on loopback to it, and Chromium's Local Network
  // Access asks the user before such a page may call 127.0.0.1: the test is that user. CORS still applies.
  await context.grantPermissions(['local-network-access']);
  await context.route(`${origin}/**`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>partner</title>' }),
  );
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  return page;
}

type BrowserAnswer = { status: number; body: string } | { failed: string };

/** `fetch` inside the page: the browser's own CORS checks decide whether the script sees the answer. */
function browserFetch(
  page: Page,
  path: string,
  init: { method?: string; body?: string; headers: Record<string, string> },
) {
  return page.evaluate(
    async ({ url, init }): Promise<BrowserAnswer> => {
      try {
        const response = await fetch(url, init);
        return { status: response.status, body: await response.text() };
      } catch (error) {
        return { failed: String(error) };
      }
    },
    { url: `${cloud.restApiUrl}${path}`, init },
  );
}

describe('from the allowed origin', () => {
  test('a keyed GET passes its preflight and the script reads the answer', async () => {
    const page = await pageAt(ALLOWED_ORIGIN);
    const answer = await browserFetch(page, '/products?limit=1', { headers: { 'x-api-key': key } });
    expect(answer).toMatchObject({ status: 200 });
    expect(JSON.parse((answer as { body: string }).body)).toHaveProperty('items');
  });

  test('a keyed JSON POST passes its preflight', async () => {
    const page = await pageAt(ALLOWED_ORIGIN);
    const answer = await browserFetch(page, '/orders', {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: 'green-tea', quantity: 1 }] }),
    });
    expect(answer).toMatchObject({ status: 202 });
  });

  test("an error answer is readable too (the gateway responses' CORS header)", async () => {
    const page = await pageAt(ALLOWED_ORIGIN);
    const answer = await browserFetch(page, '/products/no-such-product', {
      headers: { 'x-api-key': 'wrong' },
    });
    expect(answer).toMatchObject({ status: 403 });
  });
});

test('from any other origin the browser refuses the call at the preflight', async () => {
  const page = await pageAt(OTHER_ORIGIN);
  const answer = await browserFetch(page, '/products?limit=1', { headers: { 'x-api-key': key } });
  expect(answer).toEqual({ failed: expect.stringMatching(/Failed to fetch/) });
});

describe('the preflight itself', () => {
  test('is answered by the MOCK OPTIONS method without a key, naming what it allows', async () => {
    const preflight = await partnerCall('OPTIONS', '/orders', {
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key',
      },
    });
    expect(preflight.status).toBe(200);
    expect(
      Object.fromEntries([...preflight.headers].filter(([name]) => name.startsWith('access-control-'))),
    ).toEqual({
      'access-control-allow-origin': ALLOWED_ORIGIN,
      'access-control-allow-methods': 'GET,POST,OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,x-api-key',
      'access-control-max-age': '600',
    });
  });

  test('is 403 Missing Authentication Token where the definition has no OPTIONS method, as in AWS', async () => {
    const preflight = await partnerCall('OPTIONS', '/health', {
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.body).toMatchObject({ error: { code: 'MissingAuthenticationToken' } });
  });
});
