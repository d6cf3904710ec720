import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { call, token } from '../../support/client.ts';

const ORIGIN = 'http://localhost:5173';
let productId: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  productId = `e2e-${randomUUID().slice(0, 8)}`;
  const admin = await token({ sub: 'admin-e2e', scopes: ['api/products.write'], groups: ['admin'] });
  const put = await call('PUT', `/products/${productId}`, {
    token: admin,
    body: { name: 'Oolong, 100 g', category: 'tea', price: { amount: 820, currency: 'EUR' } },
  });
  expect(put.status).toBe(200);
  alice = await token({ sub: `alice-${randomUUID()}` });
  bob = await token({ sub: `bob-${randomUUID()}` });
});

describe('every HTTP API route, through the offline cloud with real tokens', () => {
  test('PUT /products/{id} needs the products.write scope at the gateway and the admin group in the handler', async () => {
    const body = { name: 'Sencha', category: 'tea', price: { amount: 700, currency: 'EUR' } };
    const adminWithoutScope = await token({ groups: ['admin'], scopes: ['api/orders.write'] });
    expect((await call('PUT', '/products/sencha', { token: adminWithoutScope, body })).body).toEqual({
      message: 'Forbidden',
    });

    const scopeWithoutGroup = await token({ scopes: ['api/products.write'] });
    const refused = await call('PUT', '/products/sencha', { token: scopeWithoutGroup, body });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Forbidden');
  });

  test('an order goes through its whole life: create, read, list, refused to others, delete', async () => {
    const created = await call('POST', '/orders', {
      token: alice,
      body: { items: [{ productId, quantity: 3 }] },
    });
    expect(created.status).toBe(201);
    expect(created.body.total).toEqual({ amount: 2460, currency: 'EUR' });
    const orderId: string = created.body.orderId;
    expect(created.headers.get('location')).toBe(`/orders/${orderId}`);

    expect((await call('GET', `/orders/${orderId}`, { token: alice })).body.orderId).toBe(orderId);
    const listed = await call('GET', '/orders', { token: alice });
    expect(listed.body.items.map((order: { orderId: string }) => order.orderId)).toEqual([orderId]);

    const peek = await call('GET', `/orders/${orderId}`, { token: bob });
    expect(peek.status).toBe(404);
    expect((await call('GET', '/orders', { token: bob })).body.items).toEqual([]);
    expect((await call('DELETE', `/orders/${orderId}`, { token: bob })).status).toBe(404);

    expect((await call('DELETE', `/orders/${orderId}`, { token: alice })).status).toBe(204);
    expect((await call('GET', `/orders/${orderId}`, { token: alice })).status).toBe(404);
  });

  test('POST /orders with the same Idempotency-Key is answered with the same order', async () => {
    const request = {
      token: alice,
      body: { items: [{ productId, quantity: 1 }] },
      headers: { 'idempotency-key': randomUUID() },
    };
    const first = await call('POST', '/orders', request);
    const retry = await call('POST', '/orders', request);
    expect(first.status).toBe(201);
    expect(retry.body.orderId).toBe(first.body.orderId);
  });

  test('bad input is a 4xx in the one error shape, with the gateway request id', async () => {
    const answer = await call('POST', '/orders', { token: alice, body: '{"items": [' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: { code: 'BadRequest', message: 'The request body is not valid JSON' },
      requestId: answer.headers.get('apigw-requestid'),
    });
  });

  test('unknown routes and methods are 404 Not Found, before any authorisation', async () => {
    expect(await call('GET', '/nothing-here')).toMatchObject({ status: 404, body: { message: 'Not Found' } });
    expect(await call('PATCH', '/orders', { token: alice })).toMatchObject({
      status: 404,
      body: { message: 'Not Found' },
    });
  });

  test('CORS follows the template: allowed origins get headers, others do not', async () => {
    const preflight = await call('OPTIONS', '/orders', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');

    const foreign = await call('OPTIONS', '/orders', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const simple = await call('GET', '/me', { token: alice, headers: { origin: ORIGIN } });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')).toBe('location');
  });
});
