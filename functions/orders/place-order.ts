import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documentClient } from '../lib/clients.ts';
import type { StoredOrder } from './order.ts';

/**
 * Writes `order` unless an order with its id exists, and then answers that order instead: order ids are reused
 * on purpose (a retried request's Idempotency-Key, a redelivered queue message), so the caller decides whether
 * the stored one is the same order (which may be a rejected partner order). Never overwrites. Answers undefined
 * when `order` was written.
 */
export async function placeOrder(tableName: string, order: StoredOrder): Promise<StoredOrder | undefined> {
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: order,
        ConditionExpression: 'attribute_not_exists(orderId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return undefined;
  } catch (error) {
    // With ALL_OLD, DynamoDB returns the item the condition failed on.
    if (error instanceof ConditionalCheckFailedException && error.Item)
      return unmarshall(error.Item) as StoredOrder;
    throw error;
  }
}
