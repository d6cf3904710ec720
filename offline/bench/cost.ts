import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BROADCAST_CONCURRENCY } from '../../functions/chat/broadcast.ts';
import { parseParameterOverrides, parseToml, type TomlTable } from '../../test/template/toml.ts';
import { sqsEventsOf } from '../runtime/event-sources.ts';
import { httpApiDefinitions } from '../template/http-api-definition.ts';
import { createResolver } from '../template/resolver.ts';
import { type RestApiConfig, type RestMethod, restApiDefinitions } from '../template/rest-api-definition.ts';
import {
  type FunctionDefinition,
  functionsOf,
  type Json,
  type JsonObject,
  loadTemplate,
  type Resolver,
  type Template,
} from '../template/template.ts';
import { webSocketApiDefinitions } from '../template/websocket-api-definition.ts';

/**
 * `npm run cost`: what one million requests of each kind of route in template.yaml cost at AWS's us-east-1 list
 * prices, from the functions' memory sizes and architectures, the routes' integrations, the tables' indexes and
 * the queue's batch size as the template declares them, priced as prod deploys it (samconfig.toml).
 * `npm run cost -- --write` puts the table and its assumptions into README.md between the cost markers.
 */

const ROOT = resolve(import.meta.dirname, '../..');
export const README_PATH = resolve(ROOT, 'README.md');
const START_MARKER = '<!-- cost:start -->';
const END_MARKER = '<!-- cost:end -->';

// ---------------------------------------------------------------- prices

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

const unitPrice = (price: Price) => price.usd / price.per;

// ---------------------------------------------------------------- assumptions

export interface Assumptions {
  /** A warm invocation's own work around its I/O: middy, Powertools logger/metrics/tracer, JSON. */
  handlerMs: number;
  /** One DynamoDB call from Lambda in the same region, SDK included. */
  dynamoDbRoundTripMs: number;
  /** One round of @connections posts (BROADCAST_CONCURRENCY of them in flight). */
  connectionsPostMs: number;
  /** Share of invocations that start a new execution environment. */
  coldStartShare: number;
  /** INIT phase of a cold start, billed since 1 August 2025. */
  initMs: number;
  /** Share of requests X-Ray records under the default sampling rule at steady traffic. */
  tracedShare: number;
  productsPerOrder: number;
  /** Whether the web app sends an Idempotency-Key with every POST /orders. */
  idempotencyKeySent: boolean;
  roomSizes: number[];
  /** One membership in the byRoom index: roomId, connectionId, sk, userId with their names. */
  roomIndexItemBytes: number;
  hoursPerMonth: number;
}

export const ASSUMPTIONS: Assumptions = {
  handlerMs: 5,
  dynamoDbRoundTripMs: 6,
  connectionsPostMs: 20,
  coldStartShare: 0.01,
  initMs: 300,
  tracedShare: 0.05,
  productsPerOrder: 2,
  idempotencyKeySent: true,
  roomSizes: [10, 100],
  roomIndexItemBytes: 100,
  hoursPerMonth: 730,
};

/** Attributes of the items each writer puts, for counting the indexes a write also updates. */
const ORDER_ITEM = ['orderId', 'customerId', 'status', 'items', 'total', 'createdAt']; // functions/orders/order.ts
const IDEMPOTENCY_RECORD = ['id', 'expiration', 'status', 'data', 'validation']; // Powertools idempotency
const CONNECTION_ITEM = ['connectionId', 'sk', 'userId', 'connectedAt', 'expiresAt']; // functions/chat/connections.ts

// ---------------------------------------------------------------- the arithmetic

export type Service = 'API Gateway' | 'Lambda' | 'DynamoDB' | 'SQS' | 'X-Ray';
export const SERVICES: Service[] = ['API Gateway', 'Lambda', 'DynamoDB', 'SQS', 'X-Ray'];

export interface LambdaUsage {
  functionName: string;
  memoryMb: number;
  architecture: 'arm64' | 'x86_64';
  /** Billed milliseconds of one invocation (INIT averaged in). */
  billedMs: number;
  /** Invocations per request: 1, or 1/BatchSize for a queue consumer. */
  invocations: number;
}

export interface Charge {
  service: Service;
  /** What is billed for one request, in words. */
  usage: string;
  /** US dollars per request. */
  usd: number;
  lambda?: LambdaUsage;
}

export interface RouteCost {
  route: string;
  charges: Charge[];
}

export const perMillion = (charges: readonly Charge[]) =>
  charges.reduce((sum, charge) => sum + charge.usd, 0) * 1e6;

export function lambdaCharge(usage: LambdaUsage, prices: Prices = PRICES): Charge {
  const gbSecond = usage.architecture === 'arm64' ? prices.lambdaArm64GbSecond : prices.lambdaX86GbSecond;
  const perInvocation =
    unitPrice(prices.lambdaRequest) + (usage.memoryMb / 1024) * (usage.billedMs / 1000) * unitPrice(gbSecond);
  const batch = usage.invocations === 1 ? '' : ` per batch of ${Math.round(1 / usage.invocations)}`;
  return {
    service: 'Lambda',
    usage: `${usage.functionName} ${usage.memoryMb} MB ${usage.architecture} × ${formatNumber(usage.billedMs)} ms${batch}`,
    usd: usage.invocations * perInvocation,
    lambda: usage,
  };
}

/** Write request units of putting one item of up to 1 KB: the table's, plus each index whose keys it has. */
export function writeUnits(template: Template, tableId: string, attributes: readonly string[]): number {
  const table = template.Resources[tableId];
  if (table?.Type !== 'AWS::DynamoDB::Table')
    throw new Error(`${tableId} is not a DynamoDB table of the template`);
  const indexes = (table.Properties?.GlobalSecondaryIndexes ?? []) as JsonObject[];
  const written = indexes.filter((index) =>
    (index.KeySchema as JsonObject[]).every((key) => attributes.includes(String(key.AttributeName))),
  );
  return 1 + written.length;
}

/** Read request units of reading `bytes` (one item, or a Query's whole result). */
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.ceil(bytes / 4096) * (consistent ? 1 : 0.5);

function dynamoDbCharge(writes: number, reads: number, prices: Prices): Charge {
  const parts = [
    writes > 0 ? `${formatNumber(writes)} WRU` : '',
    reads > 0 ? `${formatNumber(reads)} RRU` : '',
  ];
  return {
    service: 'DynamoDB',
    usage: parts.filter(Boolean).join(' + '),
    usd:
      writes * unitPrice(prices.dynamoDbWriteRequestUnit) + reads * unitPrice(prices.dynamoDbReadRequestUnit),
  };
}

const charge = (service: Service, usage: string, count: number, price: Price): Charge => ({
  service,
  usage,
  usd: count * unitPrice(price),
});

// ---------------------------------------------------------------- reading the template

/** samconfig.toml's prod parameter_overrides: the model prices what prod deploys. */
export function prodParameters(): Record<string, string> {
  const config = parseToml(readFileSync(resolve(ROOT, 'samconfig.toml'), 'utf8'));
  const deploy = ((config.prod as TomlTable | undefined)?.deploy as TomlTable | undefined)?.parameters as
    | TomlTable
    | undefined;
  return parseParameterOverrides(deploy?.parameter_overrides);
}

/** What one invocation waits for. */
interface Work {
  dynamoDbCalls: number;
  postRounds?: number;
  /** Invocations per request (1/BatchSize for a queue consumer). */
  invocations?: number;
}

class TemplateReader {
  readonly template: Template;
  readonly resolver: Resolver;
  readonly #functions: Map<string, FunctionDefinition>;
  readonly #prices: Prices;
  readonly #assumptions: Assumptions;

  constructor(
    template: Template,
    parameters: Record<string, string>,
    prices: Prices,
    assumptions: Assumptions,
  ) {
    this.template = template;
    this.resolver = createResolver(template, parameters);
    const { region, accountId } = this.resolver.pseudo;
    // What the offline cloud binds when it creates the queues: integrations and event sources name queues by these.
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::SQS::Queue') continue;
      this.resolver.bind(logicalId, {
        attributes: { QueueName: logicalId, Arn: `arn:aws:sqs:${region}:${accountId}:${logicalId}` },
      });
    }
    this.#functions = new Map(functionsOf(template).map((fn) => [fn.logicalId, fn]));
    this.#prices = prices;
    this.#assumptions = assumptions;
  }

  #function(logicalId: string): FunctionDefinition {
    const fn = this.#functions.get(logicalId);
    if (!fn) throw new Error(`${logicalId} is not a function of the template`);
    return fn;
  }

  /** An invocation billed as the assumptions say: handler work, DynamoDB calls and rounds of posts. */
  #invocation(functionName: string, settings: JsonObject, work: Work): Charge {
    const a = this.#assumptions;
    const architectures = (settings.Architectures ?? ['x86_64']) as Json[];
    return lambdaCharge(
      {
        functionName,
        memoryMb: Number(settings.MemorySize ?? 128),
        architecture: architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
        billedMs:
          a.handlerMs +
          work.dynamoDbCalls * a.dynamoDbRoundTripMs +
          (work.postRounds ?? 0) * a.connectionsPostMs +
          a.coldStartShare * a.initMs,
        invocations: work.invocations ?? 1,
      },
      this.#prices,
    );
  }

  /** One of the template's functions at its own MemorySize and Architectures (Globals applied). */
  lambda(functionName: string, work: Work): Charge {
    const { properties } = this.#function(functionName);
    const settings = this.resolver.resolve(
      { MemorySize: properties.MemorySize ?? null, Architectures: properties.Architectures ?? null },
      `Resources.${functionName}.Properties`,
    ) as JsonObject;
    return this.#invocation(functionName, settings, work);
  }

  /** A Lambda the template does not have, with the Globals settings. */
  globalsLambda(work: Work): Charge {
    const globals = this.resolver.resolve(
      (this.template.Globals?.Function ?? {}) as Json,
      'Globals.Function',
    ) as JsonObject;
    return this.#invocation('a Lambda with the Globals settings', globals, work);
  }

  /** The table a function's environment variable names (`VARIABLE: !Ref Table`). */
  table(functionName: string, variable: string): string {
    const value = (
      (this.#function(functionName).properties.Environment as JsonObject).Variables as JsonObject
    )[variable] as JsonObject | undefined;
    const table = typeof value?.Ref === 'string' ? value.Ref : undefined;
    if (!table) throw new Error(`${functionName} has no ${variable}: !Ref <table> in its environment`);
    return table;
  }

  httpRoute(method: string, path: string): string {
    const route = httpApiDefinitions(this.resolver)
      .flatMap((api) => api.routes)
      .find((candidate) => candidate.method === method && candidate.path === path);
    if (!route) throw new Error(`The template has no HTTP API route ${method} ${path}`);
    return route.functionName;
  }

  restMethod(method: string, path: string): { api: RestApiConfig; method: RestMethod } {
    for (const api of restApiDefinitions(this.resolver, ROOT)) {
      const found = api.methods.find(
        (candidate) => candidate.httpMethod === method && candidate.resourcePath === path,
      );
      if (found) return { api, method: found };
    }
    throw new Error(`The template has no REST API method ${method} ${path}`);
  }

  /** The function a queue's SQS event invokes, and its BatchSize (Lambda's default 10 when unset). */
  queueConsumer(queue: string): { functionName: string; batchSize: number } {
    const arn = String(this.resolver.resolve({ 'Fn::GetAtt': [queue, 'Arn'] }, queue));
    for (const event of sqsEventsOf(this.template)) {
      const properties = this.resolver.resolve(event.properties, event.where) as JsonObject;
      if (properties.Queue === arn)
        return { functionName: event.functionName, batchSize: Number(properties.BatchSize ?? 10) };
    }
    throw new Error(`No function of the template consumes ${queue}`);
  }

  webSocketRoute(routeKey: string): { functionName: string; authorizer: string | undefined } {
    const route = webSocketApiDefinitions(this.resolver)
      .flatMap((api) => api.routes)
      .find((candidate) => candidate.routeKey === routeKey);
    if (!route) throw new Error(`The template has no WebSocket route ${routeKey}`);
    return { functionName: route.functionName, authorizer: route.authorizer?.functionName };
  }

  /** The cache cluster size of a REST API's stage, when it has one. */
  cacheClusterSize(api: RestApiConfig): string | undefined {
    if (!api.cacheClusterEnabled) return undefined;
    const size = this.template.Resources[api.logicalId]?.Properties?.CacheClusterSize;
    return String(
      this.resolver.resolve(size ?? null, `Resources.${api.logicalId}.Properties.CacheClusterSize`),
    );
  }
}

// ---------------------------------------------------------------- the model

export interface CostModel {
  routes: RouteCost[];
  /** The REST stage's cache cluster, billed per hour whatever the traffic. */
  cacheCluster: { sizeGb: string; hourly: Price } | undefined;
  /** What a Lambda with the Globals settings would add in front of a direct integration, per request. */
  lambdaInFront: Charge;
  /** What the Idempotency-Key adds to a POST /orders of the HTTP API, per request. */
  idempotencyUsd: number;
  assumptions: Assumptions;
  prices: Prices;
}

export function costModel(
  template: Template,
  parameters: Record<string, string>,
  prices: Prices = PRICES,
  assumptions: Assumptions = ASSUMPTIONS,
): CostModel {
  const reader = new TemplateReader(template, parameters, prices, assumptions);
  const a = assumptions;
  const traced = (requests: number, usage = `${formatNumber(a.tracedShare * 100)} % traced`) =>
    charge('X-Ray', usage, requests * a.tracedShare, prices.xRayTraceRecorded);
  const eventuallyConsistentItem = readUnits(4096, false);
  const consistentItem = readUnits(4096, true);
  const routes: RouteCost[] = [];

  // HTTP API + Lambda + DynamoDB
  const createOrder = reader.httpRoute('POST', '/orders');
  const idempotencyWrites = a.idempotencyKeySent
    ? 2 * writeUnits(template, reader.table(createOrder, 'IDEMPOTENCY_TABLE'), IDEMPOTENCY_RECORD)
    : 0;
  const orderWrite = (fn: string) => writeUnits(template, reader.table(fn, 'ORDERS_TABLE'), ORDER_ITEM);
  const productReads = a.productsPerOrder * eventuallyConsistentItem;
  routes.push({
    route: `HTTP API \`POST /orders\` → ${createOrder}`,
    charges: [
      charge('API Gateway', '1 HTTP API request', 1, prices.httpApiRequest),
      reader.lambda(createOrder, { dynamoDbCalls: a.idempotencyKeySent ? 4 : 2 }),
      dynamoDbCharge(idempotencyWrites + orderWrite(createOrder), productReads, prices),
      traced(1),
    ],
  });
  const getOrder = reader.httpRoute('GET', '/orders/{id}');
  routes.push({
    route: `HTTP API \`GET /orders/{id}\` → ${getOrder}`,
    charges: [
      charge('API Gateway', '1 HTTP API request', 1, prices.httpApiRequest),
      reader.lambda(getOrder, { dynamoDbCalls: 1 }),
      dynamoDbCharge(0, consistentItem, prices),
      traced(1),
    ],
  });

  // REST + Lambda, and its cache
  const product = reader.restMethod('GET', '/products/{id}');
  if (product.method.integration.target.service !== 'lambda')
    throw new Error('REST GET /products/{id} is no longer a Lambda integration');
  const getProduct = product.method.integration.target.functionName;
  routes.push({
    route: `REST \`GET /products/{id}\` → ${getProduct}${product.method.caching.enabled ? ', cache miss' : ''}`,
    charges: [
      charge('API Gateway', '1 REST API request', 1, prices.restApiRequest),
      reader.lambda(getProduct, { dynamoDbCalls: 1 }),
      dynamoDbCharge(0, eventuallyConsistentItem, prices),
      traced(1),
    ],
  });
  if (product.method.caching.enabled) {
    routes.push({
      route: 'REST `GET /products/{id}`, cache hit',
      charges: [charge('API Gateway', '1 REST API request', 1, prices.restApiRequest), traced(1)],
    });
  }
  const cacheSize = reader.cacheClusterSize(product.api);
  let cacheCluster: CostModel['cacheCluster'];
  if (cacheSize !== undefined) {
    const hourly = CACHE_CLUSTER_HOURLY[cacheSize];
    if (!hourly) throw new Error(`No price for a ${cacheSize} GB cache cluster in CACHE_CLUSTER_HOURLY`);
    cacheCluster = { sizeGb: cacheSize, hourly };
  }

  // REST + direct integrations, and the queue consumer
  const submit = reader.restMethod('POST', '/orders').method.integration.target;
  if (submit.service !== 'sqs') throw new Error('REST POST /orders is no longer an SQS integration');
  const submitted: RouteCost = {
    route: `REST \`POST /orders\` → VTL → SQS ${submit.queueName}`,
    charges: [
      charge('API Gateway', '1 REST API request', 1, prices.restApiRequest),
      charge('SQS', '1 SendMessage', 1, prices.sqsRequest),
      traced(1),
    ],
  };
  const consumer = reader.queueConsumer(submit.queueName);
  const perMessage = 1 / consumer.batchSize;
  const consumed: RouteCost = {
    route: `${submit.queueName} → ${consumer.functionName}, per message`,
    charges: [
      // Powertools' BatchProcessor handles a batch's records in parallel: a batch waits for two calls, not twenty.
      reader.lambda(consumer.functionName, { dynamoDbCalls: 2, invocations: perMessage }),
      dynamoDbCharge(orderWrite(consumer.functionName), productReads, prices),
      charge(
        'SQS',
        `ReceiveMessage + DeleteMessageBatch per batch of ${consumer.batchSize}`,
        2 * perMessage,
        prices.sqsRequest,
      ),
      traced(perMessage, `${formatNumber(a.tracedShare * 100)} % of batches traced`),
    ],
  };
  routes.push(submitted, consumed, {
    route: 'Partner order end to end (the two rows above)',
    charges: [...submitted.charges, ...consumed.charges],
  });
  const lookup = reader.restMethod('GET', '/orders/{id}').method.integration;
  if (lookup.target.service !== 'dynamodb')
    throw new Error('REST GET /orders/{id} is no longer a DynamoDB integration');
  const consistentLookup = Object.values(lookup.requestTemplates).some((text) =>
    /"ConsistentRead"\s*:\s*true/.test(text),
  );
  routes.push({
    route: `REST \`GET /orders/{id}\` → VTL → DynamoDB ${lookup.target.action}`,
    charges: [
      charge('API Gateway', '1 REST API request', 1, prices.restApiRequest),
      dynamoDbCharge(0, readUnits(4096, consistentLookup), prices),
      traced(1),
    ],
  });

  // WebSocket
  const send = reader.webSocketRoute('sendmessage').functionName;
  for (const members of a.roomSizes) {
    const messages = members + 2;
    routes.push({
      route: `WebSocket \`sendmessage\` to a room of ${members} → ${send}`,
      charges: [
        charge(
          'API Gateway',
          `${messages} messages (1 in, ${members} to members, 1 receipt)`,
          messages,
          prices.webSocketMessage,
        ),
        reader.lambda(send, {
          dynamoDbCalls: 2,
          postRounds: Math.ceil(members / BROADCAST_CONCURRENCY) + 1,
        }),
        dynamoDbCharge(0, consistentItem + readUnits(members * a.roomIndexItemBytes, false), prices),
        traced(1),
      ],
    });
  }
  const connect = reader.webSocketRoute('$connect');
  // No tracing header comes from a WebSocket API: each function samples its own invocations.
  const invoked = [
    ...(connect.authorizer ? [reader.lambda(connect.authorizer, { dynamoDbCalls: 0 })] : []),
    reader.lambda(connect.functionName, { dynamoDbCalls: 1 }),
  ];
  const handshake: Charge[] = [
    ...invoked,
    dynamoDbCharge(
      writeUnits(template, reader.table(connect.functionName, 'CONNECTIONS_TABLE'), CONNECTION_ITEM),
      0,
      prices,
    ),
    traced(invoked.length, `${formatNumber(a.tracedShare * 100)} % of invocations traced`),
  ];
  routes.push(
    { route: 'WebSocket handshake (`$connect` and its authoriser)', charges: handshake },
    {
      route: 'WebSocket connection open for an hour',
      charges: [charge('API Gateway', '60 connection minutes', 60, prices.webSocketConnectionMinute)],
    },
  );

  return {
    routes,
    cacheCluster,
    lambdaInFront: reader.globalsLambda({ dynamoDbCalls: 1 }),
    idempotencyUsd: a.idempotencyKeySent
      ? idempotencyWrites * unitPrice(prices.dynamoDbWriteRequestUnit) +
        reader.lambda(createOrder, { dynamoDbCalls: 4 }).usd -
        reader.lambda(createOrder, { dynamoDbCalls: 2 }).usd
      : 0,
    assumptions,
    prices,
  };
}

// ---------------------------------------------------------------- the README section

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}

/** A list price as published: cents always shown, and every digit of a smaller fraction. */
function listPrice(usd: number): string {
  const digits = (String(usd).split('.')[1] ?? '').length;
  return `$${usd.toFixed(Math.max(2, digits))}`;
}

function dollars(value: number): string {
  if (value === 0) return '—';
  return value < 0.005 ? '<$0.01' : `$${value.toFixed(2)}`;
}

export function costSection(model: CostModel): string {
  const { assumptions: a, prices } = model;
  const rows = model.routes.map(({ route, charges }) => {
    const byService = SERVICES.map((service) =>
      dollars(perMillion(charges.filter((item) => item.service === service))),
    );
    const usage = charges.map((item) => item.usage).join('; ');
    return `| ${route} | ${usage} | ${byService.join(' | ')} | **${dollars(perMillion(charges))}** |`;
  });
  const cache = model.cacheCluster
    ? `- The stage cache cluster that serves the cache hits is billed by the hour whatever the traffic: ` +
      `${model.cacheCluster.sizeGb} GB (prod's \`PartnerApiCacheSize\`) at $${model.cacheCluster.hourly.usd.toFixed(3)} ` +
      `an hour is ${dollars(model.cacheCluster.hourly.usd * a.hoursPerMonth)} a ${a.hoursPerMonth}-hour month.`
    : '- Prod has no REST stage cache cluster (`PartnerApiCacheSize` "0"): every catalogue read reaches its Lambda.';
  const priceLines = Object.values(prices).map(
    (price) =>
      `- ${listPrice(price.usd)} per ${price.per === 1 ? '' : 'million '}${price.unit}` +
      `${price.confirmedByAws ? '' : ' †'} (${price.source})`,
  );
  const checked = [...new Set(Object.values(prices).map((price) => price.checked))].join(', ');
  return [
    "Generated by `npm run cost` (`offline/bench/cost.ts`) from `template.yaml` with prod's parameters",
    '(`samconfig.toml`): US dollars per million requests at us-east-1 list prices, first price tier, free tiers',
    'excluded. A test fails when this section is stale; `npm run cost -- --write` regenerates it.',
    '',
    `| Route | What is billed, per request | ${SERVICES.join(' | ')} | Per million |`,
    `|---|---|${SERVICES.map(() => '--:').join('|')}|--:|`,
    ...rows,
    '',
    'Assumptions:',
    '',
    `- Memory sizes and architectures are the template's. Billed duration is assumed, not measured on AWS: ` +
      `${a.handlerMs} ms of handler work (offline, the bare \`GET /me\` handler takes 0.3 ms at p50, see Figures), ` +
      `${a.dynamoDbRoundTripMs} ms per sequential DynamoDB call, ${a.connectionsPostMs} ms per round of ` +
      `\`@connections\` posts (${BROADCAST_CONCURRENCY} in flight, \`functions/chat/broadcast.ts\`), plus a ` +
      `${a.initMs} ms INIT phase, billed since August 2025, on ${formatNumber(a.coldStartShare * 100)} % of ` +
      'invocations (offline the first request pays about 0.2 s).',
    '- DynamoDB items are under 1 KB written and 4 KB read (a strongly consistent read is 1 RRU, an eventually ' +
      'consistent one 0.5); a write also writes every index whose keys the item has (orders update `byCustomer`: ' +
      '2 WRU; a connection item is not in the sparse `byRoom` index).',
    `- \`POST /orders\` (HTTP API): orders of ${a.productsPerOrder} products (one \`BatchGetItem\`), and ` +
      (a.idempotencyKeySent
        ? 'the client sends `Idempotency-Key`, so Powertools puts and then completes a record (2 WRU and two ' +
          `calls: ${dollars(model.idempotencyUsd * 1e6)} of the row's total).`
        : 'no `Idempotency-Key`, so no idempotency record is written.'),
    `- The queue consumer receives full batches (the template's \`BatchSize\`), processes a batch's records in ` +
      "parallel (Powertools' `BatchProcessor`), and Lambda's poller makes one `ReceiveMessage` and one " +
      "`DeleteMessageBatch` per batch; messages are under SQS's 64 KB billing chunk. Lambda's long polling of an " +
      'idle queue is a small fixed cost, not counted.',
    `- A WebSocket frame under 32 KB is one message; \`sendmessage\` is read by a consistent \`GetItem\` and a ` +
      `\`Query\` of the room's \`byRoom\` entries (about ${a.roomIndexItemBytes} bytes each); the \`$connect\` ` +
      'handshake is not counted as a message.',
    `- X-Ray: every function has \`Tracing: Active\` and the REST stage \`TracingEnabled\`; Lambda's fixed rule and ` +
      `the partner stage's sampling rule (prod's \`TraceSampleRate\` is 0.05) record 1 request a second plus 5 %, so at ` +
      `steady traffic well above 1 request a second ` +
      `${formatNumber(a.tracedShare * 100)} % of requests are traced (the 1-a-second reservoir adds at most ` +
      `${dollars(60 * 60 * a.hoursPerMonth * unitPrice(prices.xRayTraceRecorded))} a month per traced entry point).`,
    cache,
    `- A Lambda in front of a direct integration (the Globals: ${model.lambdaInFront.lambda?.memoryMb} MB ` +
      `${model.lambdaInFront.lambda?.architecture}, one call) would add ${dollars(perMillion([model.lambdaInFront]))} ` +
      'per million requests to the REST `POST /orders` or `GET /orders/{id}` rows.',
    `- Not counted: CloudWatch Logs (${listPrice(prices.cloudWatchLogsIngestedGb.usd)} per GB ingested: every ` +
      `KB logged per request, access logs included, adds ${dollars(((1024 * 1e6) / 2 ** 30) * unitPrice(prices.cloudWatchLogsIngestedGb))} ` +
      'per million), custom metrics and alarms, storage, data transfer out, Cognito.',
    '',
    `Prices (us-east-1, checked ${checked}; † confirmed only by third-party pages quoting it, the AWS page ` +
      'rendering its rate table in the browser):',
    '',
    ...priceLines,
  ].join('\n');
}

/** The README with the text between the cost markers replaced by `section`. */
export function withCostSection(readme: string, section: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START_MARKER} … ${END_MARKER} section`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${section}\n${readme.slice(end)}`;
}

/** The section for the template and samconfig.toml as they are now. */
export const currentCostSection = () =>
  costSection(costModel(loadTemplate(resolve(ROOT, 'template.yaml')), prodParameters()));

if (import.meta.main) {
  const section = currentCostSection();
  if (process.argv.includes('--write')) {
    const readme = readFileSync(README_PATH, 'utf8');
    const next = withCostSection(readme, section);
    if (next !== readme) writeFileSync(README_PATH, next);
    process.stdout.write(
      next === readme ? 'README.md: cost section up to date\n' : 'README.md: cost section regenerated\n',
    );
  } else {
    process.stdout.write(`${section}\n`);
  }
}
