import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionsOf, type JsonObject, loadTemplate, type Template } from '../template/template.ts';
import { webSocketApiIdsOf } from '../template/websocket-api-definition.ts';
import { costSection, currentCostSection, README_PATH, withCostSection } from './cost.ts';
import {
  type Charge,
  lambdaCharge,
  perMillion,
  type RouteCost,
  readUnits,
  writeUnits,
} from './cost-charges.ts';
import { ASSUMPTIONS, type CostModel, costModel, prodParameters } from './cost-model.ts';
import { PRICES, type Prices } from './cost-prices.ts';

const template = loadTemplate();
const parameters = prodParameters();
// The starter's chat is its only WebSocket API; the README's "Remove the WebSocket chat" takes it out.
const HAS_WEBSOCKET_API = webSocketApiIdsOf(template).length > 0;
/** The module whose BROADCAST_CONCURRENCY ASSUMPTIONS.postsInFlight follows; a variable, so no import fails without it. */
const BROADCAST_MODULE = '../../functions/chat/broadcast.ts';

const routeOf = (model: CostModel, prefix: string): RouteCost => {
  const route = model.routes.find((candidate) => candidate.route.startsWith(prefix));
  if (!route) throw new Error(`No row starting with ${prefix}`);
  return route;
};
const lambdaOf = (route: RouteCost): Charge[] => route.charges.filter((charge) => charge.lambda);
const propertiesOf = (copy: Template, logicalId: string) =>
  copy.Resources[logicalId]?.Properties as JsonObject;

describe('cost arithmetic', () => {
  const fabricated: Prices = {
    ...PRICES,
    lambdaRequest: { ...PRICES.lambdaRequest, usd: 0.2, per: 1e6 },
    lambdaArm64GbSecond: { ...PRICES.lambdaArm64GbSecond, usd: 0.00001, per: 1 },
    lambdaX86GbSecond: { ...PRICES.lambdaX86GbSecond, usd: 0.00002, per: 1 },
  };
  const usage = { functionName: 'F', memoryMb: 1024, billedMs: 100, invocations: 1 };

  it('prices an invocation as requests plus memory × duration × the architecture’s GB-second price', () => {
    // 1 GB × 0.1 s × $0.00001 = $0.000001 a request, $1.00 a million, plus $0.20 a million requests.
    expect(perMillion([lambdaCharge({ ...usage, architecture: 'arm64' }, fabricated)])).toBeCloseTo(1.2, 10);
    expect(perMillion([lambdaCharge({ ...usage, architecture: 'x86_64' }, fabricated)])).toBeCloseTo(2.2, 10);
    expect(
      perMillion([
        lambdaCharge({ ...usage, memoryMb: 512, billedMs: 30, architecture: 'arm64' }, fabricated),
      ]),
    ).toBeCloseTo(0.2 + 0.5 * 0.03 * 10, 10);
  });

  it('divides a batch invocation among its messages', () => {
    const perBatch = perMillion([lambdaCharge({ ...usage, architecture: 'arm64' }, fabricated)]);
    const perMessage = perMillion([
      lambdaCharge({ ...usage, architecture: 'arm64', invocations: 1 / 10 }, fabricated),
    ]);
    expect(perMessage).toBeCloseTo(perBatch / 10, 10);
  });

  it('counts read units per 4 KB, halved for eventually consistent reads', () => {
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4096, false)).toBe(0.5);
    expect(readUnits(100 * 100, false)).toBe(1.5);
  });

  it('counts a write unit for the table and one for each index whose keys the item has', () => {
    const key = (AttributeName: string) => ({ AttributeName, KeyType: 'HASH' });
    const table: Template = {
      Resources: {
        Things: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            GlobalSecondaryIndexes: [
              { IndexName: 'byA', KeySchema: [key('a')] },
              { IndexName: 'byAB', KeySchema: [key('a'), { AttributeName: 'b', KeyType: 'RANGE' }] },
              { IndexName: 'byC', KeySchema: [key('c')] },
            ],
          },
        },
      },
    };
    expect(writeUnits(table, 'Things', ['id', 'a', 'b'])).toBe(3);
    expect(writeUnits(table, 'Things', ['id'])).toBe(1);
  });
});

describe('cost model of template.yaml', () => {
  const model = costModel(template, parameters);

  it('prices the functions the template routes to, at the memory size the template gives them', () => {
    const functions = new Map(functionsOf(template).map((fn) => [fn.logicalId, fn]));
    const priced = model.routes.flatMap(lambdaOf).map((charge) => charge.lambda);
    expect(new Set(priced.map((usage) => usage?.functionName))).toEqual(
      new Set([
        'CreateOrderFunction',
        'GetOrderFunction',
        'GetProductFunction',
        'ProcessPartnerOrdersFunction',
        ...(HAS_WEBSOCKET_API
          ? ['ChatSendMessageFunction', 'ChatAuthorizerFunction', 'ChatConnectFunction']
          : []),
      ]),
    );
    for (const usage of priced) {
      const fn = functions.get(String(usage?.functionName));
      expect(usage?.memoryMb).toBe(fn?.properties.MemorySize);
      expect([usage?.architecture]).toEqual(fn?.properties.Architectures);
    }
  });

  it('follows a function’s MemorySize, and only that function’s rows', () => {
    const copy = structuredClone(template);
    propertiesOf(copy, 'CreateOrderFunction').MemorySize = 1024;
    const bigger = costModel(copy, parameters);
    const [before] = lambdaOf(routeOf(model, 'HTTP API `POST /orders`'));
    const [after] = lambdaOf(routeOf(bigger, 'HTTP API `POST /orders`'));
    expect(after?.lambda?.memoryMb).toBe(1024);
    // Doubling the memory doubles the duration part; the request part stays.
    const durationPart = perMillion(before ? [before] : []) - 0.2;
    expect(perMillion(after ? [after] : [])).toBeCloseTo(0.2 + 2 * durationPart, 10);
    expect(perMillion(routeOf(bigger, 'HTTP API `GET /orders/{id}`').charges)).toBe(
      perMillion(routeOf(model, 'HTTP API `GET /orders/{id}`').charges),
    );
  });

  it('follows the Globals architecture', () => {
    const copy = structuredClone(template);
    (copy.Globals?.Function as JsonObject).Architectures = ['x86_64'];
    const x86 = costModel(copy, parameters);
    const architectures = new Set(x86.routes.flatMap(lambdaOf).map((charge) => charge.lambda?.architecture));
    expect(architectures).toEqual(new Set(['x86_64']));
    expect(perMillion(routeOf(x86, 'HTTP API `POST /orders`').charges)).toBeGreaterThan(
      perMillion(routeOf(model, 'HTTP API `POST /orders`').charges),
    );
  });

  it('spreads the consumer over the batch size of its SQS event', () => {
    const copy = structuredClone(template);
    const events = propertiesOf(copy, 'ProcessPartnerOrdersFunction').Events as JsonObject;
    ((events.Queue as JsonObject).Properties as JsonObject).BatchSize = 5;
    const [consumer] = lambdaOf(routeOf(costModel(copy, parameters), 'OrdersQueue →'));
    expect(consumer?.lambda?.invocations).toBe(1 / 5);
  });

  it('counts the index writes the template’s tables have', () => {
    const copy = structuredClone(template);
    delete propertiesOf(copy, 'OrdersTable').GlobalSecondaryIndexes;
    const withoutIndex = costModel(copy, parameters);
    const dynamoDb = (from: CostModel) =>
      routeOf(from, 'OrdersQueue →').charges.find((charge) => charge.service === 'DynamoDB')?.usage;
    expect(dynamoDb(model)).toBe('2 WRU + 1 RRU');
    expect(dynamoDb(withoutIndex)).toBe('1 WRU + 1 RRU');
  });

  it('refuses to price a route the template no longer has', () => {
    const copy = structuredClone(template);
    delete propertiesOf(copy, 'CreateOrderFunction').Events;
    expect(() => costModel(copy, parameters)).toThrow('no HTTP API route POST /orders');
  });

  it('shows the cache hit and the cache cluster only when the stage has a cache', () => {
    expect(model.routes.some((route) => route.route.includes('cache hit'))).toBe(true);
    expect(model.cacheCluster?.sizeGb).toBe(parameters.PartnerApiCacheSize);
    const uncached = costModel(template, { ...parameters, PartnerApiCacheSize: '0' });
    expect(uncached.routes.some((route) => route.route.includes('cache hit'))).toBe(false);
    expect(uncached.cacheCluster).toBeUndefined();
  });
});

describe('cost model of a WebSocket API', () => {
  /** The template with every AWS::ApiGatewayV2 resource taken out (its functions left in). */
  const withoutWebSocketApis = (from: Template): Template => {
    const copy = structuredClone(from);
    for (const [logicalId, resource] of Object.entries(copy.Resources))
      if (resource.Type.startsWith('AWS::ApiGatewayV2::')) delete copy.Resources[logicalId];
    return copy;
  };

  // The chat's rows are the starter's; without the chat the template has none to price.
  it.runIf(HAS_WEBSOCKET_API)(
    "prices the chat: sendmessage per room size, the handshake, an hour's connection",
    () => {
      const model = costModel(template, parameters);
      expect(model.webSocket).toBe(true);
      expect(model.routes.filter((row) => row.route.startsWith('WebSocket')).map((row) => row.route)).toEqual(
        [
          'WebSocket `sendmessage` to a room of 10 → ChatSendMessageFunction',
          'WebSocket `sendmessage` to a room of 100 → ChatSendMessageFunction',
          'WebSocket handshake (`$connect` and its authoriser)',
          'WebSocket connection open for an hour',
        ],
      );
      expect(
        lambdaOf(routeOf(model, 'WebSocket handshake')).map((charge) => charge.lambda?.functionName),
      ).toEqual(['ChatAuthorizerFunction', 'ChatConnectFunction']);
      const section = costSection(model);
      expect(section).toContain('per round of `@connections` posts');
      expect(section).toContain('per million WebSocket messages');
    },
  );

  it.runIf(HAS_WEBSOCKET_API)('assumes as many posts in flight as the chat’s broadcast keeps', async () => {
    const { BROADCAST_CONCURRENCY } = (await import(BROADCAST_MODULE)) as { BROADCAST_CONCURRENCY: number };
    expect(ASSUMPTIONS.postsInFlight).toBe(BROADCAST_CONCURRENCY);
  });

  it('prices no WebSocket row, price or assumption when the template has no WebSocket API', () => {
    const model = costModel(withoutWebSocketApis(template), parameters);
    expect(model.webSocket).toBe(false);
    expect(model.routes.filter((row) => row.route.startsWith('WebSocket'))).toEqual([]);
    // Every other row is priced as before.
    const others = costModel(template, parameters).routes.filter((row) => !row.route.startsWith('WebSocket'));
    expect(model.routes).toEqual(others);
    const section = costSection(model);
    expect(section).not.toMatch(/WebSocket|@connections|byRoom|functions\/chat/);
    expect(section).toContain('(orders update `byCustomer`: 2 WRU).');
  });
});

describe('README cost section', () => {
  const readme = readFileSync(README_PATH, 'utf8');

  it('is what npm run cost generates (npm run cost -- --write)', () => {
    expect(
      withCostSection(readme, currentCostSection()),
      "README.md's cost section is stale: npm run cost -- --write regenerates it",
    ).toBe(readme);
  });

  it('is found stale when a figure in it changes', () => {
    const total = `**$${perMillion(routeOf(costModel(template, parameters), 'HTTP API `POST /orders`').charges).toFixed(2)}**`;
    expect(readme).toContain(total);
    const stale = readme.replace(total, '**$0.01**');
    expect(withCostSection(stale, currentCostSection())).not.toBe(stale);
  });
});
