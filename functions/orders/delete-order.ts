import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod';
import { httpCallerOf } from '../lib/auth.ts';
import { documentClient } from '../lib/clients.ts';
import { requireEnv } from '../lib/env.ts';
import { notFound } from '../lib/errors.ts';
import { noContent } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';
import { logger } from '../lib/powertools.ts';
import { validate } from '../lib/validation.ts';
import { OrderId } from './order.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PathParameters = z.object({ id: OrderId });

/** DELETE /orders/{id}: ownership is part of the write condition, so there is no read-then-delete race. */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  const { id } = validate(PathParameters, event.pathParameters, 'path');
  const caller = httpCallerOf(event);

  try {
    await documentClient.send(
      new DeleteCommand({
        TableName: ORDERS_TABLE,
        Key: { orderId: id },
        ConditionExpression: 'customerId = :caller',
        ExpressionAttributeValues: { ':caller': caller.sub },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw notFound('Order');
    throw error;
  }
  logger.info('Order deleted', { orderId: id });
  return noContent();
});
