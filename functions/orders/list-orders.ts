import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod';
import { httpCallerOf } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireEnv } from '../lib/env.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { validate } from '../lib/validation.ts';
import { type OrderRecord, toOrderView } from './order.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const INDEX_KEY = ['orderId', 'customerId', 'createdAt'] as const;

const Query = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(1024).optional(),
});

/** GET /orders: the caller's orders, newest first; `nextCursor` fetches the next page. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const query = validate(Query, event.queryStringParameters ?? {}, 'query');
  const caller = httpCallerOf(event);

  const page = await documentClient.send(
    new QueryCommand({
      TableName: ORDERS_TABLE,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :caller',
      ExpressionAttributeValues: { ':caller': caller.sub },
      ScanIndexForward: false,
      Limit: query.limit,
      ExclusiveStartKey: decodeCursor(query.cursor, INDEX_KEY, { customerId: caller.sub }),
    }),
  );
  const orders = (page.Items ?? []) as OrderRecord[];
  return json(200, { items: orders.map(toOrderView), nextCursor: encodeCursor(page.LastEvaluatedKey) });
});
