import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { notFound } from '../lib/errors.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { validate } from '../lib/validation.ts';
import { ProductId, type ProductRecord, toProductView } from './product.ts';

const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const PathParameters = z.object({ id: ProductId });

/** GET /products/{id} (REST API, Lambda proxy): one product of the catalogue. */
export const handler = httpRoute(async (event: APIGatewayProxyEvent) => {
  const { id } = validate(PathParameters, event.pathParameters, 'path');

  const { Item } = await documentClient.send(
    new GetCommand({ TableName: PRODUCTS_TABLE, Key: { productId: id } }),
  );
  if (!Item) throw notFound('Product');
  return json(200, toProductView(Item as ProductRecord));
});
