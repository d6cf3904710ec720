import { describe, expect, test } from 'vitest';
import { handler } from '../../../functions/products/get-product.ts';
import type { ProductView } from '../../../functions/products/product.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { expectError, invoke, newProductId, seedProduct } from '../../support/tables.ts';

const getEvent = (id: string) => restApiEvent({ route: 'GET /products/{id}', pathParameters: { id } });

describe('GET /products/{id}', () => {
  test('answers the product without updatedBy', async () => {
    const { updatedBy, ...view } = await seedProduct({
      description: 'Porcelain, 90 ml',
      updatedBy: 'admin-5f2d8c1a',
    });

    const response = await invoke<ProductView>(handler, getEvent(view.productId));

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual(view);
    expect(response.rawBody).not.toContain('updatedBy');
    expect(response.rawBody).not.toContain(updatedBy);
  });

  test('answers a product that does not exist with 404', async () => {
    const event = getEvent(newProductId());
    expect(expectError(await invoke(handler, event), event, 404, 'NotFound')).toEqual([]);
  });

  test.each([
    ['a path traversal', '../x'],
    ['upper-case letters', 'Espresso-Cup'],
    ['65 characters', 'a'.repeat(65)],
    ['a leading hyphen', '-cup'],
    ['a space', 'espresso cup'],
    ['nothing', ''],
  ])('refuses an id with %s with 400', async (_name, id) => {
    const event = getEvent(id);
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['path.id']);
  });

  test('carries the template-configured Access-Control-Allow-Origin on success and on a 404', async () => {
    const origin = process.env.CORS_ALLOW_ORIGIN;
    expect(origin).toBeTruthy();
    const product = await seedProduct();
    expect((await invoke(handler, getEvent(product.productId))).headers['access-control-allow-origin']).toBe(
      origin,
    );
    expect((await invoke(handler, getEvent(newProductId()))).headers['access-control-allow-origin']).toBe(
      origin,
    );
  });
});
