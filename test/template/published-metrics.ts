import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './rules.ts';

/** The metrics that exist: what AWS publishes for each kind of resource, and what the functions emit. */

/** The kinds of resource a metric can be about; the API kinds publish different metrics under one namespace. */
export type Kind = 'httpApi' | 'restApi' | 'webSocketApi' | 'function' | 'table' | 'queue' | 'custom';

interface Catalogue {
  namespace: string;
  metrics: readonly string[];
  /** Each dimension set the service publishes these metrics with (order does not matter). */
  dimensionSets: readonly (readonly string[])[];
}

/**
 * From the CloudWatch metrics pages of API Gateway (HTTP, REST, WebSocket), Lambda, DynamoDB and SQS. A metric
 * named with any other dimension set has no data, and an alarm on it never fires.
 */
export const PUBLISHED: Record<Exclude<Kind, 'custom'>, Catalogue[]> = {
  httpApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: ['4xx', '5xx', 'Count', 'Latency', 'IntegrationLatency', 'DataProcessed'],
      dimensionSets: [['ApiId'], ['ApiId', 'Stage'], ['ApiId', 'Method', 'Resource', 'Stage']],
    },
  ],
  restApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: [
        '4XXError',
        '5XXError',
        'CacheHitCount',
        'CacheMissCount',
        'Count',
        'IntegrationLatency',
        'Latency',
      ],
      dimensionSets: [['ApiName'], ['ApiName', 'Stage'], ['ApiName', 'Method', 'Resource', 'Stage']],
    },
  ],
  webSocketApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: [
        'ConnectCount',
        'MessageCount',
        'IntegrationError',
        'ClientError',
        'ExecutionError',
        'IntegrationLatency',
      ],
      dimensionSets: [['ApiId'], ['ApiId', 'Stage'], ['ApiId', 'Stage', 'Route']],
    },
  ],
  function: [
    {
      namespace: 'AWS/Lambda',
      metrics: ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'DeadLetterErrors'],
      dimensionSets: [['FunctionName'], ['FunctionName', 'Resource']],
    },
  ],
  table: [
    {
      namespace: 'AWS/DynamoDB',
      metrics: [
        'ConsumedReadCapacityUnits',
        'ConsumedWriteCapacityUnits',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ],
      dimensionSets: [['TableName'], ['TableName', 'GlobalSecondaryIndexName']],
    },
    {
      namespace: 'AWS/DynamoDB',
      metrics: ['ThrottledRequests', 'SystemErrors', 'SuccessfulRequestLatency', 'ReturnedItemCount'],
      dimensionSets: [['TableName', 'Operation']],
    },
  ],
  queue: [
    {
      namespace: 'AWS/SQS',
      metrics: [
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'NumberOfMessagesSent',
        'NumberOfMessagesReceived',
        'NumberOfMessagesDeleted',
      ],
      dimensionSets: [['QueueName']],
    },
  ],
};

/** The metric names the functions' code emits (Powertools `addMetric('Name', ...)`). */
export function emittedMetrics(root = ROOT): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(/addMetric\(\s*'([^']+)'/g))
          names.add(match[1] ?? '');
      }
    }
  };
  walk(join(root, 'functions'));
  return names;
}
