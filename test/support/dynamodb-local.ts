import type { TestProject } from 'vitest/node';
import { createTables, startDynamoDbLocal } from '../../offline/services/dynamodb.ts';
import { loadTemplate, Resolver } from '../../offline/template/template.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** Starts the official DynamoDB Local once for the integration project, with the template's tables. */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  await createTables(dynamo.client, new Resolver(loadTemplate()));
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
