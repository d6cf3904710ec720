import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseParameterOverrides, parseToml, type TomlTable } from '../../test/template/toml.ts';
import { sqsEventsOf } from '../runtime/event-sources.ts';
import { httpApiDefinitions } from '../template/http-api-definition.ts';
import { createResolver } from '../template/resolver.ts';
import { type RestApiConfig, restApiDefinitions } from '../template/rest-api-definition.ts';
import type { RestMethod } from '../template/rest-api-methods.ts';
import {
  type FunctionDefinition,
  functionsOf,
  type Json,
  type JsonObject,
  type Resolver,
  type Template,
} from '../template/template.ts';
import { webSocketApiDefinitions } from '../template/websocket-api-definition.ts';
import {
  type Charge,
  charge,
  dynamoDbCharge,
  formatNumber,
  lambdaCharge,
  type RouteCost,
  readUnits,
  writeUnits,
} from './cost-charges.ts';
import { CACHE_CLUSTER_HOURLY, PRICES, type Price, type Prices, unitPrice } from './cost-prices.ts';

/**
 * The model of `npm run cost` (cost.ts): what one request of each kind of route costs, from the template as
 * prod deploys it, the prices and the assumptions below.
 */

/** The repository root: template.yaml, samconfig.toml, README.md. */
export const ROOT = resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------- assumptions

export interface Assumptions {
  /** A warm invocation's own work around its I/O: middy, Powertools logger/metrics/tracer, JSON. */
  handlerMs: number;
  /** One DynamoDB call from Lambda in the same region, SDK included. */
  dynamoDbRoundTripMs: number;
  /** One round of @connections posts (`postsInFlight` of them at once). */
  connectionsPostMs: number;
  /**
   * The @connections posts a broadcast keeps in flight: the chat's BROADCAST_CONCURRENCY
   * (functions/chat/broadcast.ts; cost.test.ts checks the two agree while the template has the chat).
   */
  postsInFlight: number;
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
  postsInFlight: 50,
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

  /** Whether the template has a WebSocket API: only then are WebSocket routes priced. */
  hasWebSocketApi(): boolean {
    return webSocketApiDefinitions(this.resolver).length > 0;
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
  /** Whether the template has a WebSocket API, and so WebSocket rows (the README's chat can be removed). */
  webSocket: boolean;
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

  // WebSocket, when the template has a WebSocket API (the starter's chat)
  const webSocket = reader.hasWebSocketApi();
  if (webSocket) {
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
            postRounds: Math.ceil(members / a.postsInFlight) + 1,
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
  }

  return {
    routes,
    webSocket,
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
