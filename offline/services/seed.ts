import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { JsonObject, Resolver } from '../template/template.ts';

/**
 * Puts each table's sample items (`Metadata.OfflineSeed` in its block of template.yaml, so that they go with the
 * table) into DynamoDB Local, never overwriting an item that already exists, so a persisted dev database keeps
 * its changes across restarts.
 */
export async function seedTables(client: DynamoDBClient, resolver: Resolver): Promise<number> {
  const documents = DynamoDBDocumentClient.from(client);
  let written = 0;
  for (const [logicalId, items] of Object.entries(seedItemsOf(resolver))) {
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

/** The sample items of each table of the template that has them, by logical id. */
export function seedItemsOf(resolver: Resolver): Record<string, JsonObject[]> {
  const seeds: Record<string, JsonObject[]> = {};
  for (const [logicalId, resource] of Object.entries(resolver.template.Resources)) {
    const items = resource.Metadata?.OfflineSeed;
    if (items === undefined || !resolver.exists(logicalId)) continue;
    const where = `Resources.${logicalId}.Metadata.OfflineSeed`;
    if (resource.Type !== 'AWS::DynamoDB::Table')
      throw new Error(`${where}: only a DynamoDB table has seed items`);
    if (
      !Array.isArray(items) ||
      items.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))
    )
      throw new Error(`${where}: must be a list of items`);
    seeds[logicalId] = items as JsonObject[];
  }
  return seeds;
}
