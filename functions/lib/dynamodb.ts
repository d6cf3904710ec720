import {
  type NativeAttributeValue,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients.ts';

/** An item or key as the document client reads and writes it: attribute names and their native values. */
export type Attributes = Record<string, NativeAttributeValue>;

/**
 * Every page of a Query, one Query per page: each continues at the previous page's LastEvaluatedKey, until
 * DynamoDB answers without one. The caller's `Limit`, if any, is the size of a page.
 */
export async function* queryPages(
  query: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<Attributes[]> {
  let startKey: Attributes | undefined;
  do {
    const page: QueryCommandOutput = await documentClient.send(
      new QueryCommand({ ...query, ExclusiveStartKey: startKey }),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** How often a batch is sent at most, and the error message when DynamoDB has still left `count` unprocessed. */
export interface BatchAttempts {
  readonly attempts: number;
  readonly unprocessed: (count: number) => string;
}

/**
 * Sends a batch (BatchGetItem's keys, BatchWriteItem's requests), then again whatever part of it DynamoDB left
 * unprocessed, with exponential backoff (100, 200, 400 ms …), until nothing is left; after `attempts` sends it
 * gives up with an error rather than loop forever. `send` answers the part left unprocessed.
 */
export async function sendUntilProcessed<Request>(
  requests: Request[],
  send: (requests: Request[]) => Promise<Request[] | undefined>,
  { attempts, unprocessed }: BatchAttempts,
): Promise<void> {
  let left: Request[] | undefined = requests;
  for (let attempt = 1; left && left.length > 0; attempt++) {
    if (attempt > attempts) throw new Error(unprocessed(left.length));
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    left = await send(left);
  }
}
