import { randomUUID } from 'node:crypto';
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { documentClient } from '../../../functions/lib/clients.ts';
import { requireEnv } from '../../../functions/lib/env.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { handler as createOrder } from '../../../functions/orders/create-order.ts';
import { handler as deleteOrder } from '../../../functions/orders/delete-order.ts';
import { handler as getOrder } from '../../../functions/orders/get-order.ts';
import { handler as listOrders } from '../../../functions/orders/list-orders.ts';
import { handler as getProduct } from '../../../functions/products/get-product.ts';
import { handler as listProducts } from '../../../functions/products/list-products.ts';
import { handler as putProduct } from '../../../functions/products/put-product.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { invoke } from '../../support/unit-invoke.ts';

// DynamoDB Local cannot be made to fail or to leave keys unprocessed on demand, so these paths use a mock.
const dynamo = mockClient(documentClient);
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');

beforeEach(() => {
  dynamo.reset();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const orderId = randomUUID();
const routes = [
  {
    route: 'POST /orders',
    handler: createOrder,
    event: () =>
      httpApiEvent({ routeKey: 'POST /orders', body: { items: [{ productId: 'mug', quantity: 1 }] } }),
  },
  { route: 'GET /orders', handler: listOrders, event: () => httpApiEvent({ routeKey: 'GET /orders' }) },
  {
    route: 'GET /orders/{id}',
    handler: getOrder,
    event: () => httpApiEvent({ routeKey: 'GET /orders/{id}', pathParameters: { id: orderId } }),
  },
  {
    route: 'DELETE /orders/{id}',
    handler: deleteOrder,
    event: () => httpApiEvent({ routeKey: 'DELETE /orders/{id}', pathParameters: { id: orderId } }),
  },
  {
    route: 'PUT /products/{id}',
    handler: putProduct,
    event: () =>
      httpApiEvent({
        routeKey: 'PUT /products/{id}',
        pathParameters: { id: 'mug' },
        groups: ['admin'],
        body: { name: 'Mug', category: 'kitchen', price: { amount: 900, currency: 'EUR' } },
      }),
  },
  {
    route: 'REST GET /products',
    handler: listProducts,
    event: () => restApiEvent({ route: 'GET /products' }),
  },
  {
    route: 'REST GET /products?category=',
    handler: listProducts,
    event: () => restApiEvent({ route: 'GET /products', queryStringParameters: { category: 'kitchen' } }),
  },
  {
    route: 'REST GET /products/{id}',
    handler: getProduct,
    event: () => restApiEvent({ route: 'GET /products/{id}', pathParameters: { id: 'mug' } }),
  },
];

describe('a DynamoDB failure', () => {
  test.each(routes)(
    'answers $route with a bare 500 and logs the error in full',
    async ({ handler, event }) => {
      const failure = new InternalServerError({
        message:
          'Internal server error on partition 7f3a (table arn:aws:dynamodb:eu-west-1:123456789012:table/x)',
        $metadata: { httpStatusCode: 500 },
      });
      dynamo.onAnyCommand().rejects(failure);
      const logged = vi.spyOn(logger, 'error');
      const request = event();

      const response = await invoke(handler, request);

      expect(response.statusCode).toBe(500);
      expect(response.json).toStrictEqual({
        error: { code: 'InternalError', message: 'An internal error occurred' },
        requestId: request.requestContext.requestId,
      });
      expect(response.body).not.toMatch(/partition|arn:aws|InternalServerError|123456789012/);
      expect(logged).toHaveBeenCalledWith(expect.any(String), failure);
    },
  );
});

describe('POST /orders reading the catalogue', () => {
  const product = (productId: string, amount: number) => ({
    productId,
    name: `Product ${productId}`,
    price: { amount, currency: 'EUR' },
  });
  const orderEvent = () =>
    httpApiEvent({
      routeKey: 'POST /orders',
      body: {
        items: [
          { productId: 'mug', quantity: 2 },
          { productId: 'plate', quantity: 1 },
        ],
      },
    });

  test('retries the keys a BatchGet left unprocessed, and prices the order from both answers', async () => {
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [PRODUCTS_TABLE]: [product('mug', 500)] },
        UnprocessedKeys: { [PRODUCTS_TABLE]: { Keys: [{ productId: 'plate' }] } },
      })
      .resolvesOnce({ Responses: { [PRODUCTS_TABLE]: [product('plate', 1200)] } });
    dynamo.on(PutCommand).resolves({});

    const response = await invoke(createOrder, orderEvent());

    expect(response.statusCode).toBe(201);
    expect(response.json).toMatchObject({ total: { amount: 2 * 500 + 1200, currency: 'EUR' } });
    const batchGets = dynamo.commandCalls(BatchGetCommand);
    expect(batchGets).toHaveLength(2);
    expect(batchGets[1]?.args[0].input.RequestItems?.[PRODUCTS_TABLE]?.Keys).toEqual([
      { productId: 'plate' },
    ]);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(1);
  });

  test('gives up with a 500 after four attempts, without writing an order', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: { [PRODUCTS_TABLE]: [] },
      UnprocessedKeys: { [PRODUCTS_TABLE]: { Keys: [{ productId: 'mug' }, { productId: 'plate' }] } },
    });
    vi.spyOn(logger, 'error');

    const response = await invoke(createOrder, orderEvent());

    expect(response.statusCode).toBe(500);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(4);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });
});
