/** AWS's us-east-1 list prices that `npm run cost` (cost.ts) prices the template's routes at. */

export interface Price {
  /** US dollars for `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
  checked: string;
  /**
   * False where AWS's page renders its rate table client-side and the figure was confirmed only by several
   * independent pages quoting it.
   */
  confirmedByAws: boolean;
}

const CHECKED = '2026-11-21';
const API_GATEWAY = 'https://aws.amazon.com/api-gateway/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const SQS = 'https://aws.amazon.com/sqs/pricing/';
const XRAY = 'https://aws.amazon.com/xray/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';

/** us-east-1 list prices, first tier, without free tiers. */
export const PRICES = {
  httpApiRequest: {
    usd: 1.0,
    per: 1e6,
    unit: 'HTTP API requests (first 300 million a month, metered in 512 KB increments)',
    source: API_GATEWAY,
    checked: CHECKED,
    confirmedByAws: true,
  },
  restApiRequest: {
    usd: 3.5,
    per: 1e6,
    unit: 'REST API requests (first 333 million a month)',
    source: API_GATEWAY,
    checked: CHECKED,
    confirmedByAws: true,
  },
  webSocketMessage: {
    usd: 1.0,
    per: 1e6,
    unit: 'WebSocket messages sent or received (first 1 billion a month, metered in 32 KB increments)',
    source: API_GATEWAY,
    checked: CHECKED,
    confirmedByAws: true,
  },
  webSocketConnectionMinute: {
    usd: 0.25,
    per: 1e6,
    unit: 'WebSocket connection minutes',
    source: API_GATEWAY,
    checked: CHECKED,
    confirmedByAws: true,
  },
  lambdaRequest: {
    usd: 0.2,
    per: 1e6,
    unit: 'Lambda requests',
    source: LAMBDA,
    checked: CHECKED,
    confirmedByAws: false,
  },
  lambdaArm64GbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'Lambda arm64 GB-second (first 7.5 billion a month, billed per 1 ms)',
    source: LAMBDA,
    checked: CHECKED,
    confirmedByAws: false,
  },
  lambdaX86GbSecond: {
    usd: 0.0000166667,
    per: 1,
    unit: 'Lambda x86_64 GB-second (first 6 billion a month, billed per 1 ms)',
    source: LAMBDA,
    checked: CHECKED,
    confirmedByAws: false,
  },
  dynamoDbWriteRequestUnit: {
    usd: 0.625,
    per: 1e6,
    unit: 'DynamoDB on-demand write request units (Standard table class, after the November 2024 cut)',
    source: DYNAMODB,
    checked: CHECKED,
    confirmedByAws: false,
  },
  dynamoDbReadRequestUnit: {
    usd: 0.125,
    per: 1e6,
    unit: 'DynamoDB on-demand read request units (Standard table class, after the November 2024 cut)',
    source: DYNAMODB,
    checked: CHECKED,
    confirmedByAws: false,
  },
  sqsRequest: {
    usd: 0.4,
    per: 1e6,
    unit: 'SQS standard queue requests (first 100 billion a month; every 64 KB of payload is a request)',
    source: SQS,
    checked: CHECKED,
    confirmedByAws: false,
  },
  xRayTraceRecorded: {
    usd: 5.0,
    per: 1e6,
    unit: 'X-Ray traces recorded',
    source: XRAY,
    checked: CHECKED,
    confirmedByAws: true,
  },
  cloudWatchLogsIngestedGb: {
    usd: 0.5,
    per: 1,
    unit: 'CloudWatch Logs GB ingested (Standard log class)',
    source: CLOUDWATCH,
    checked: CHECKED,
    confirmedByAws: false,
  },
} satisfies Record<string, Price>;

export type Prices = Record<keyof typeof PRICES, Price>;

/** The REST stage's cache cluster by the sizes deployed (PartnerApiCacheSize), billed per hour used or not. */
export const CACHE_CLUSTER_HOURLY: Record<string, Price> = {
  '0.5': {
    usd: 0.02,
    per: 1,
    unit: 'hour of a 0.5 GB REST API cache cluster',
    source: API_GATEWAY,
    checked: CHECKED,
    confirmedByAws: false,
  },
};

export const unitPrice = (price: Price) => price.usd / price.per;
