import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchGetCommand, type BatchGetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { callerOf } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { HttpError } from '../lib/errors.ts';
import { json } from '../lib/http.ts';
import { idempotencyKeyHeader } from '../lib/idempotency.ts';
import { httpRoute } from '../lib/middleware.ts';
import { logger, metrics } from '../lib/powertools.ts';
import { parseJsonBody } from '../lib/validation.ts';
import type { ProductRecord } from '../products/product.ts';
import { CreateOrderInput, type OrderLine, type OrderRecord, toOrderView } from './order.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const IDEMPOTENCY_TABLE = requireEnv('IDEMPOTENCY_TABLE');
const BATCH_GET_ATTEMPTS = 4;

/** POST /orders: prices come from the catalogue, never from the client. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const input = parseJsonBody(event, CreateOrderInput);
  const caller = callerOf(event);

  const lines = priceLines(input, await loadProducts(input.items.map((item) => item.productId)));
  const order: OrderRecord = {
    orderId: randomUUID(),
    customerId: caller.sub,
    status: 'PLACED',
    items: lines,
    total: {
      amount: lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0),
      currency: lines[0]?.unitPrice.currency ?? '',
    },
    note: input.note,
    createdAt: new Date().toISOString(),
  };
  await documentClient.send(
    new PutCommand({
      TableName: ORDERS_TABLE,
      Item: order,
      ConditionExpression: 'attribute_not_exists(orderId)',
    }),
  );
  metrics.addMetric('OrderCreated', MetricUnit.Count, 1);
  logger.info('Order created', { orderId: order.orderId, lines: lines.length });
  return json(201, toOrderView(order), { location: `/orders/${order.orderId}` });
}).use(idempotencyKeyHeader(IDEMPOTENCY_TABLE));

function priceLines(input: CreateOrderInput, products: Map<string, ProductRecord>): OrderLine[] {
  const unknown = input.items.flatMap((item, index) =>
    products.has(item.productId)
      ? []
      : [{ path: `body.items.${index}.productId`, message: `No product ${item.productId}` }],
  );
  if (unknown.length > 0) {
    throw new HttpError(422, 'UnknownProduct', 'The order names products that do not exist', unknown);
  }
  const lines = input.items.map(({ productId, quantity }) => {
    const product = products.get(productId) as ProductRecord;
    return { productId, name: product.name, quantity, unitPrice: product.price };
  });
  if (new Set(lines.map((line) => line.unitPrice.currency)).size > 1) {
    throw new HttpError(
      422,
      'MixedCurrencies',
      'All products of one order must be priced in the same currency',
    );
  }
  return lines;
}

async function loadProducts(productIds: string[]): Promise<Map<string, ProductRecord>> {
  const found = new Map<string, ProductRecord>();
  let keys: Record<string, unknown>[] | undefined = productIds.map((productId) => ({ productId }));
  for (let attempt = 1; keys && keys.length > 0; attempt++) {
    if (attempt > BATCH_GET_ATTEMPTS) throw new Error(`BatchGet left ${keys.length} keys unprocessed`);
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    const result: BatchGetCommandOutput = await documentClient.send(
      new BatchGetCommand({
        RequestItems: {
          [PRODUCTS_TABLE]: {
            Keys: keys,
            ProjectionExpression: 'productId, #name, price',
            ExpressionAttributeNames: { '#name': 'name' },
          },
        },
      }),
    );
    for (const item of result.Responses?.[PRODUCTS_TABLE] ?? [])
      found.set(item.productId, item as ProductRecord);
    keys = result.UnprocessedKeys?.[PRODUCTS_TABLE]?.Keys;
  }
  return found;
}
