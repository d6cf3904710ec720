import { describe, expect, test } from 'vitest';
import { handler } from '../../../functions/products/put-product.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { expectError, getProduct, invoke, newProductId, newSub } from '../../support/tables.ts';

const validProduct = {
  name: 'Espresso cup',
  description: 'Porcelain, 90 ml',
  category: 'kitchen',
  price: { amount: 1250, currency: 'EUR' },
};

function putEvent(id: string, body: unknown, options: { sub?: string; groups?: string[] } = {}) {
  return httpApiEvent({
    routeKey: 'PUT /products/{id}',
    pathParameters: { id },
    body,
    scopes: ['api/products.write'],
    groups: ['admin'],
    ...options,
  });
}

describe('PUT /products/{id}', () => {
  test('lets an admin create a product, answers it and stores it', async () => {
    const [id, admin] = [newProductId(), newSub()];

    const response = await invoke(handler, putEvent(id, validProduct, { sub: admin }));

    const expected = { ...validProduct, productId: id, updatedBy: admin, updatedAt: expect.any(String) };
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual(expected);
    expect(await getProduct(id)).toEqual(response.body);
  });

  test('replaces an existing product as a whole', async () => {
    const id = newProductId();
    await invoke(handler, putEvent(id, validProduct));
    const { description: _dropped, ...withoutDescription } = validProduct;
    const replacement = { ...withoutDescription, price: { amount: 990, currency: 'EUR' } };

    const response = await invoke(handler, putEvent(id, replacement));

    expect(response.statusCode).toBe(200);
    const stored = await getProduct(id);
    expect(stored?.price).toEqual({ amount: 990, currency: 'EUR' });
    expect(stored).not.toHaveProperty('description');
  });

  test.each([
    ['in other groups', ['editors']],
    ['in no group', []],
  ])('refuses a caller %s with 403 and writes nothing', async (_name, groups) => {
    const id = newProductId();
    const event = putEvent(id, validProduct, { groups });
    expectError(await invoke(handler, event), event, 403, 'Forbidden');
    expect(await getProduct(id)).toBeUndefined();
  });

  test.each([
    ['a path traversal', '../x'],
    ['upper-case letters', 'Espresso-Cup'],
    ['65 characters', 'a'.repeat(65)],
    ['a leading hyphen', '-cup'],
    ['a space', 'espresso cup'],
  ])('refuses an id with %s with 400 and writes nothing', async (_name, id) => {
    const event = putEvent(id, validProduct);
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['path.id']);
    expect(await getProduct(id)).toBeUndefined();
  });

  test('accepts an id of 64 characters', async () => {
    const id = `${newProductId()}-`.padEnd(64, 'x');
    expect((await invoke(handler, putEvent(id, validProduct))).statusCode).toBe(200);
    expect(await getProduct(id)).toBeDefined();
  });

  test.each([
    ['a missing field', { ...validProduct, name: undefined }, 'body.name'],
    ['a blank name', { ...validProduct, name: '   ' }, 'body.name'],
    ['a wrong type', { ...validProduct, price: { amount: '12.50', currency: 'EUR' } }, 'body.price.amount'],
    ['an unknown field', { ...validProduct, stock: 5 }, 'body'],
    ['an unknown nested field', { ...validProduct, price: { ...validProduct.price, vat: 19 } }, 'body.price'],
    ['a negative price', { ...validProduct, price: { amount: -1, currency: 'EUR' } }, 'body.price.amount'],
    [
      'a fractional price',
      { ...validProduct, price: { amount: 12.5, currency: 'EUR' } },
      'body.price.amount',
    ],
    [
      'a lower-case currency',
      { ...validProduct, price: { amount: 1250, currency: 'eur' } },
      'body.price.currency',
    ],
    ['an invalid category', { ...validProduct, category: 'Kitchen Ware' }, 'body.category'],
  ])('refuses a body with %s with 400 naming the field, and writes nothing', async (_name, body, path) => {
    const id = newProductId();
    const event = putEvent(id, body);
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual([path]);
    expect(await getProduct(id)).toBeUndefined();
  });

  test('names the unknown field in the details', async () => {
    const event = putEvent(newProductId(), { ...validProduct, stock: 5 });
    const response = await invoke(handler, event);
    expect(response.body.error.details?.[0]?.message).toContain('stock');
  });

  test.each([
    ['malformed JSON', '{"name":', 400, 'BadRequest'],
    [
      'a __proto__ key',
      `{"__proto__":{"admin":true},${JSON.stringify(validProduct).slice(1)}`,
      400,
      'BadRequest',
    ],
  ])('refuses %s and writes nothing', async (_name, body, status, code) => {
    const id = newProductId();
    const event = putEvent(id, body);
    expectError(await invoke(handler, event), event, status, code);
    expect(await getProduct(id)).toBeUndefined();
  });

  test('refuses a body that is not JSON with 415 and writes nothing', async () => {
    const id = newProductId();
    const event = httpApiEvent({
      routeKey: 'PUT /products/{id}',
      pathParameters: { id },
      body: 'name=Espresso+cup',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      groups: ['admin'],
    });
    expectError(await invoke(handler, event), event, 415, 'UnsupportedMediaType');
    expect(await getProduct(id)).toBeUndefined();
  });
});
