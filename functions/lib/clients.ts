import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './tracing.ts';

// Built once per container and reused by every invocation. The endpoint comes from the SDK's own
// AWS_ENDPOINT_URL_DYNAMODB when set (DynamoDB Local), so there is no "local" branch here. Every function that
// calls DynamoDB does so through this client, and so traces: importing tracing.ts to capture it registers the
// tracer for the whole function (instrumentation.ts).
export const dynamoClient = tracer.captureAWSv3Client(new DynamoDBClient({}));

export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true },
});
