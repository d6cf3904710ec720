import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { handler } from '../../../functions/products/list-products.ts';
import type { ProductRecord, ProductView } from '../../../functions/products/product.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { expectError, invoke, seedProduct } from '../../support/tables.ts';

interface Page {
  items: ProductView[];
  nextCursor?: string;
}

const listEvent = (queryStringParameters?: Record<string, string>) =>
  restApiEvent({ route: 'GET /products', queryStringParameters });

/** Categories nobody else uses: test files share one database. */
const newCategory = () => `c-${randomUUID().slice(0, 13)}`;
const teas = newCategory();
const cups = newCategory();
/** Each category's products in productId order, the order of the byCategory index. */
let teaProducts: ProductRecord[];
let cupProducts: ProductRecord[];

beforeAll(async () => {
  const seed = (category: string, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        seedProduct({ category, name: `${category} #${index}`, updatedBy: `admin-${randomUUID()}` }),
      ),
    );
  const byId = (a: ProductRecord, b: ProductRecord) => a.productId.localeCompare(b.productId);
  teaProducts = (await seed(teas, 23)).sort(byId);
  cupProducts = (await seed(cups, 3)).sort(byId);
});

const idsOf = (products: { productId: string }[]) => products.map((product) => product.productId);
const viewOf = ({ updatedBy: _editor, ...view }: ProductRecord): ProductView => view;

/** Follows nextCursor from the first page to the last; the page sizes and every product, in order. */
async function allPages(query: Record<string, string>): Promise<{ sizes: number[]; items: ProductView[] }> {
  const sizes: number[] = [];
  const items: ProductView[] = [];
  let cursor: string | undefined;
  do {
    const response = await invoke<Page>(handler, listEvent({ ...query, ...(cursor ? { cursor } : {}) }));
    expect(response.statusCode).toBe(200);
    sizes.push(response.body.items.length);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor !== undefined && sizes.length < 1_000);
  return { sizes, items };
}

async function firstCursor(query: Record<string, string>): Promise<string> {
  const response = await invoke<Page>(handler, listEvent({ limit: '2', ...query }));
  if (response.body.nextCursor === undefined) throw new Error('Expected a second page');
  return response.body.nextCursor;
}

describe('GET /products?category=', () => {
  test("answers the category's first 20 products in productId order, without updatedBy, and a cursor", async () => {
    const response = await invoke<Page>(handler, listEvent({ category: teas }));

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body.items).toEqual(teaProducts.slice(0, 20).map(viewOf));
    expect(response.body.nextCursor).toEqual(expect.any(String));
    expect(response.rawBody).not.toContain('updatedBy');
  });

  test('pages through the category with limit=10, each product exactly once, until there is no cursor', async () => {
    const { sizes, items } = await allPages({ category: teas, limit: '10' });

    expect(sizes).toEqual([10, 10, 3]);
    expect(items).toEqual(teaProducts.map(viewOf));
  });

  test("never mixes in another category's products", async () => {
    const response = await invoke<Page>(handler, listEvent({ category: cups }));
    expect(response.body).toEqual({ items: cupProducts.map(viewOf) });
  });

  test('answers a category without products with an empty list', async () => {
    const response = await invoke<Page>(handler, listEvent({ category: newCategory() }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ items: [] });
  });

  test.each([
    ['upper-case letters and a space', 'Kitchen Ware'],
    ['41 characters', 'a'.repeat(41)],
    ['nothing', ''],
    ['a separator', 'tea#cups'],
  ])('refuses a category with %s with 400', async (_name, category) => {
    const event = listEvent({ category });
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual([
      'query.category',
    ]);
  });
});

describe('GET /products (the whole catalogue)', () => {
  test('pages through every product exactly once, without updatedBy', async () => {
    const { sizes, items } = await allPages({ limit: '50' });

    const ids = idsOf(items);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(idsOf([...teaProducts, ...cupProducts])));
    expect(sizes.every((size) => size <= 50)).toBe(true);
    expect(items.find((item) => item.productId === cupProducts[0]?.productId)).toEqual(
      cupProducts[0] && viewOf(cupProducts[0]),
    );
    expect(items.filter((item) => 'updatedBy' in item)).toEqual([]);
  });

  test('answers at most 20 products by default', async () => {
    const response = await invoke<Page>(handler, listEvent());
    expect(response.statusCode).toBe(200);
    // The table holds at least the 26 products seeded here, so there is a next page.
    expect(response.body.items).toHaveLength(20);
    expect(response.body.nextCursor).toEqual(expect.any(String));
  });
});

describe('GET /products limits', () => {
  test.each(['0', '101', 'abc', '2.5', '-1', ''])('refuses limit=%j with 400', async (limit) => {
    const event = listEvent({ category: teas, limit });
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['query.limit']);
  });

  test.each([
    ['1', 1],
    ['100', 23],
  ])('accepts limit=%s', async (limit, count) => {
    const response = await invoke<Page>(handler, listEvent({ category: teas, limit }));
    expect(response.statusCode).toBe(200);
    expect(idsOf(response.body.items)).toEqual(idsOf(teaProducts.slice(0, count)));
  });

  test('refuses an unknown query parameter with 400', async () => {
    const event = listEvent({ category: teas, sort: 'name' });
    const paths = expectError(await invoke(handler, event), event, 400, 'ValidationError');
    expect(paths).toEqual(['query']);
    expect((await invoke(handler, event)).body.error.details?.[0]?.message).toContain('sort');
  });
});

describe('GET /products cursors', () => {
  test.each([
    ['garbage', () => 'not-a-cursor'],
    ['a truncated cursor', (cursor: string) => cursor.slice(0, cursor.length - 6)],
    [
      'a cursor with an extra attribute',
      (cursor: string) => reencode(cursor, (key) => ({ ...key, name: 'x' })),
    ],
    ['a cursor of another shape', (cursor: string) => reencode(cursor, (key) => [key])],
  ])('refuses %s with 400', async (_name, tamper) => {
    const event = listEvent({
      category: teas,
      limit: '2',
      cursor: tamper(await firstCursor({ category: teas })),
    });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual(['query.cursor']);
  });

  test("refuses a cursor from another category's listing with 400", async () => {
    const event = listEvent({ category: cups, limit: '2', cursor: await firstCursor({ category: teas }) });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual(['query.cursor']);
  });

  test('refuses a cursor rewritten to another category with 400', async () => {
    const cursor = reencode(await firstCursor({ category: teas }), (key) => ({ ...key, category: cups }));
    const event = listEvent({ category: teas, cursor });
    expect(expectError(await invoke(handler, event), event, 400, 'BadRequest')).toEqual(['query.cursor']);
  });

  test('refuses a catalogue cursor for a category, and a category cursor for the catalogue, with 400', async () => {
    const forCategory = listEvent({ category: teas, cursor: await firstCursor({}) });
    const forCatalogue = listEvent({ cursor: await firstCursor({ category: teas }) });
    expect(expectError(await invoke(handler, forCategory), forCategory, 400, 'BadRequest')).toEqual([
      'query.cursor',
    ]);
    expect(expectError(await invoke(handler, forCatalogue), forCatalogue, 400, 'BadRequest')).toEqual([
      'query.cursor',
    ]);
  });
});

describe('GET /products CORS', () => {
  test('carries the template-configured Access-Control-Allow-Origin on success and on refusals', async () => {
    const origin = process.env.CORS_ALLOW_ORIGIN;
    expect(origin).toBeTruthy();
    const ok = await invoke(handler, listEvent({ category: cups }));
    const refused = await invoke(handler, listEvent({ limit: '0' }));
    expect(ok.headers['access-control-allow-origin']).toBe(origin);
    expect(refused.headers['access-control-allow-origin']).toBe(origin);
  });
});

function reencode(cursor: string, change: (key: Record<string, unknown>) => unknown): string {
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify(change(key))).toString('base64url');
}
