import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod';
import { httpCallerOf, requireGroup } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { logger } from '../lib/powertools.ts';
import { parseJsonBody, validate } from '../lib/validation.ts';
import { ProductId, ProductInput, type ProductRecord } from './product.ts';

const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const PathParameters = z.object({ id: ProductId });

/** PUT /products/{id}: the route demands the products.write scope; the admin group is checked here. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const { id } = validate(PathParameters, event.pathParameters, 'path');
  const input = parseJsonBody(event, ProductInput);
  const caller = httpCallerOf(event);
  requireGroup(caller, 'admin');

  const product: ProductRecord = {
    ...input,
    productId: id,
    updatedAt: new Date().toISOString(),
    updatedBy: caller.sub,
  };
  await documentClient.send(new PutCommand({ TableName: PRODUCTS_TABLE, Item: product }));
  logger.info('Product saved', { productId: id });
  return json(200, product);
});
