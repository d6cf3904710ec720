import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod';
import { callerOf, requireGroup } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { json } from '../lib/http.ts';
import { ProductId } from '../lib/ids.ts';
import { httpRoute } from '../lib/middleware.ts';
import { logger } from '../lib/powertools.ts';
import { parseJsonBody, validate } from '../lib/validation.ts';
import { ProductInput, type ProductRecord } from './product.ts';

const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');
const PathParameters = z.object({ id: ProductId });

/** PUT /products/{id}: the route demands the products.write scope; the admin group is checked here. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const { id } = validate(PathParameters, event.pathParameters, 'path');
  const input = parseJsonBody(event, ProductInput);
  const caller = callerOf(event);
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
