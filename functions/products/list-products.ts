import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { documentClient } from '../lib/clients.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireEnv } from '../lib/env.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { validate } from '../lib/validation.ts';
import { Category, type ProductRecord, toProductView } from './product.ts';

const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const TABLE_KEY = ['productId'] as const;
const INDEX_KEY = ['category', 'productId'] as const;

const Query = z.strictObject({
  category: Category.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(1024).optional(),
});

/**
 * GET /products (REST API, Lambda proxy): one page of the catalogue; `nextCursor` fetches the next. With
 * `category`, that category's products in productId order (the byCategory index); a cursor only continues the
 * listing it came from.
 */
export const handler = httpRoute(async (event: APIGatewayProxyEvent) => {
  const query = validate(Query, event.queryStringParameters ?? {}, 'query');

  const page =
    query.category === undefined
      ? // The whole catalogue is the listing asked for, so this Scan is deliberate: no key narrows it, each
        // call reads one page of `limit` items, and the stage cache answers repeated pages.
        await documentClient.send(
          new ScanCommand({
            TableName: PRODUCTS_TABLE,
            Limit: query.limit,
            ExclusiveStartKey: decodeCursor(query.cursor, TABLE_KEY),
          }),
        )
      : await documentClient.send(
          new QueryCommand({
            TableName: PRODUCTS_TABLE,
            IndexName: 'byCategory',
            KeyConditionExpression: 'category = :category',
            ExpressionAttributeValues: { ':category': query.category },
            Limit: query.limit,
            ExclusiveStartKey: decodeCursor(query.cursor, INDEX_KEY, { category: query.category }),
          }),
        );
  const products = (page.Items ?? []) as ProductRecord[];
  return json(200, { items: products.map(toProductView), nextCursor: encodeCursor(page.LastEvaluatedKey) });
});
