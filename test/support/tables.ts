import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import { requireEnv } from '../../functions/lib/env.ts';
import type { FieldIssue } from '../../functions/lib/errors.ts';
import type { HttpResult } from '../../functions/lib/http.ts';
import type { ApiEvent } from '../../functions/lib/http-route.ts';
import type { OrderRecord } from '../../functions/orders/order.ts';
import type { ProductRecord } from '../../functions/products/product.ts';
import { lambdaContext } from './http-api-event.ts';

export const tables = {
  orders: requireEnv('ORDERS_TABLE'),
  products: requireEnv('PRODUCTS_TABLE'),
};

/** A client of its own on DynamoDB Local, to seed data and to check what the handlers wrote. */
export const db = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: requireEnv('AWS_ENDPOINT_URL_DYNAMODB'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);

/** A caller nobody else uses: test files share one database. */
export const newSub = () => `user-${randomUUID()}`;
export const newProductId = () => `p-${randomUUID()}`;

/** A route handler of either kind of API; each test passes it the kind of event its API sends. */
type Handler = (event: never, context: Context) => Promise<HttpResult>;

export interface Response<T> {
  statusCode: number | undefined;
  headers: Record<string, unknown>;
  rawBody: string | undefined;
  body: T;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: FieldIssue[] };
  requestId: string;
}

/**
 * Invokes a middy-wrapped handler as Lambda would and parses the JSON body (typed as the test expects it); an
 * empty body (204) is `undefined`.
 */
export async function invoke<T = ErrorBody>(handler: Handler, event: ApiEvent): Promise<Response<T>> {
  const result = await handler(event as never, lambdaContext());
  return {
    statusCode: result.statusCode,
    headers: result.headers ?? {},
    rawBody: result.body,
    body: (result.body ? JSON.parse(result.body) : undefined) as T,
  };
}

/**
 * Asserts the one error shape, `{"error":{"code","message","details"?},"requestId"}`, with the event's request
 * id, and returns the paths of the field details (empty when there are none).
 */
export function expectError(
  response: Response<unknown>,
  event: ApiEvent,
  statusCode: number,
  code: string,
): string[] {
  expect(response.statusCode).toBe(statusCode);
  expect(response.headers['content-type']).toBe('application/json');
  const body = response.body as ErrorBody;
  expect(body).toEqual({ error: expect.any(Object), requestId: event.requestContext.requestId });
  const { details, ...error } = body.error;
  expect(error).toEqual({ code, message: expect.stringMatching(/\S/) });
  if (details === undefined) return [];
  expect(details).toEqual(
    details.map(() => ({ path: expect.any(String), message: expect.stringMatching(/\S/) })),
  );
  return details.map((issue) => issue.path);
}

export async function seedProduct(overrides: Partial<ProductRecord> = {}): Promise<ProductRecord> {
  const product: ProductRecord = {
    productId: newProductId(),
    name: 'Espresso cup',
    category: 'kitchen',
    price: { amount: 1250, currency: 'EUR' },
    updatedAt: new Date().toISOString(),
    updatedBy: 'seed',
    ...overrides,
  };
  await db.send(new PutCommand({ TableName: tables.products, Item: product }));
  return product;
}

export async function getProduct(productId: string): Promise<ProductRecord | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: tables.products, Key: { productId } }));
  return Item as ProductRecord | undefined;
}

export async function seedOrder(
  customerId: string,
  createdAt = new Date().toISOString(),
): Promise<OrderRecord> {
  const order: OrderRecord = {
    orderId: randomUUID(),
    customerId,
    status: 'PLACED',
    items: [
      {
        productId: 'espresso-cup',
        name: 'Espresso cup',
        quantity: 2,
        unitPrice: { amount: 1250, currency: 'EUR' },
      },
    ],
    total: { amount: 2500, currency: 'EUR' },
    createdAt,
  };
  await db.send(new PutCommand({ TableName: tables.orders, Item: order }));
  return order;
}

/** What the API shows of a stored order: everything but the owner's id. */
export function viewOf({ customerId: _owner, ...view }: OrderRecord): Omit<OrderRecord, 'customerId'> {
  return view;
}

export async function getOrder(orderId: string): Promise<OrderRecord | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: tables.orders, Key: { orderId }, ConsistentRead: true }),
  );
  return Item as OrderRecord | undefined;
}

/** Every order of one customer, read through the byCustomer index. */
export async function ordersOf(customerId: string): Promise<OrderRecord[]> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: tables.orders,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :customerId',
      ExpressionAttributeValues: { ':customerId': customerId },
    }),
  );
  return (Items ?? []) as OrderRecord[];
}
