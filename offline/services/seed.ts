import { readFileSync } from 'node:fs';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Resolver } from '../template/template.ts';

/**
 * Puts the sample items of `seed.json` (by table logical id) into DynamoDB Local, never overwriting an item
 * that already exists, so a persisted dev database keeps its changes across restarts.
 */
export async function seedTables(
  client: DynamoDBClient,
  resolver: Resolver,
  seedFile: string,
): Promise<number> {
  const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as Record<string, Record<string, unknown>[]>;
  const documents = DynamoDBDocumentClient.from(client);
  let written = 0;
  for (const [logicalId, items] of Object.entries(seed)) {
    if (resolver.template.Resources[logicalId]?.Type !== 'AWS::DynamoDB::Table') {
      throw new Error(`${seedFile}: ${logicalId} is not a DynamoDB table in the template`);
    }
    const definition = resolver.template.Resources[logicalId]?.Properties?.KeySchema as {
      AttributeName: string;
    }[];
    const condition = definition.map((_key, index) => `attribute_not_exists(#k${index})`).join(' AND ');
    const names = Object.fromEntries(definition.map((key, index) => [`#k${index}`, key.AttributeName]));
    for (const item of items) {
      try {
        await documents.send(
          new PutCommand({
            TableName: resolver.tableName(logicalId),
            Item: item,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
          }),
        );
        written++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }
  return written;
}
