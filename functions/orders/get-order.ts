import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod';
import { httpCallerOf } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { notFound } from '../lib/errors.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { validate } from '../lib/validation.ts';
import { OrderId, type OrderRecord, toOrderView } from './order.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PathParameters = z.object({ id: OrderId });

/** GET /orders/{id}: somebody else's order is answered exactly like a missing one. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const { id } = validate(PathParameters, event.pathParameters, 'path');
  const caller = httpCallerOf(event);

  const { Item } = await documentClient.send(
    new GetCommand({ TableName: ORDERS_TABLE, Key: { orderId: id }, ConsistentRead: true }),
  );
  const order = Item as OrderRecord | undefined;
  if (!order || order.customerId !== caller.sub) throw notFound('Order');
  return json(200, toOrderView(order));
});
