import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './tracing.ts';

// Built once per container and reused by every invocation. The endpoint comes from the SDK's own
// AWS_ENDPOINT_URL_DYNAMODB when set (DynamoDB Local), so there is no "local" branch here. Every function that
// calls DynamoDB traces (tracing.ts), so the client is captured directly: it is built while the function loads,
// possibly before tracing.ts has hooked into instrumentation.ts.
export const dynamoClient = tracer.captureAWSv3Client(new DynamoDBClient({}));

export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true },
});
