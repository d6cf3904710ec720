import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { httpCallerOf } from '../lib/auth.ts';
import { requireEnv } from '../lib/env.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { idempotencyKeyHeader, idempotencyKeyReused, idFromIdempotencyKey } from '../lib/idempotency.ts';
import { logger, metrics } from '../lib/powertools.ts';
import { parseJsonBody } from '../lib/validation.ts';
import { CreateOrderInput, type OrderRecord, toOrderView } from './order.ts';
import { placeOrder } from './place-order.ts';
import { priceOrder } from './pricing.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const IDEMPOTENCY_TABLE = requireEnv('IDEMPOTENCY_TABLE');

/** POST /orders: prices come from the catalogue, never from the client. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const input = parseJsonBody(event, CreateOrderInput);
  const caller = httpCallerOf(event);
  const idempotencyKey = event.headers['idempotency-key'];

  const { items, total } = await priceOrder(PRODUCTS_TABLE, input);
  const order: OrderRecord = {
    orderId: idempotencyKey === undefined ? randomUUID() : idFromIdempotencyKey(caller.sub, idempotencyKey),
    customerId: caller.sub,
    status: 'PLACED',
    items,
    total,
    note: input.note,
    createdAt: new Date().toISOString(),
  };
  const existing = await placeOrder(ORDERS_TABLE, order);
  if (existing) {
    // An earlier attempt with this key placed the order, then failed before its answer was stored: that order
    // is the answer, provided it is the same request.
    const requested = (record: { items: { productId: string; quantity: number }[]; note?: string }) =>
      JSON.stringify([record.items.map(({ productId, quantity }) => [productId, quantity]), record.note]);
    // A rejected order is a partner's (partner#…), never this caller's.
    if (
      existing.status === 'REJECTED' ||
      existing.customerId !== caller.sub ||
      requested(existing) !== requested(input)
    )
      throw idempotencyKeyReused();
    logger.info('Order already placed with this Idempotency-Key', { orderId: existing.orderId });
    return json(201, toOrderView(existing), { location: `/orders/${existing.orderId}` });
  }
  metrics.addMetric('OrderCreated', MetricUnit.Count, 1);
  logger.info('Order created', { orderId: order.orderId, lines: items.length });
  return json(201, toOrderView(order), { location: `/orders/${order.orderId}` });
}).use(idempotencyKeyHeader(IDEMPOTENCY_TABLE));
