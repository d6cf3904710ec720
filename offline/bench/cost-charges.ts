import type { JsonObject, Template } from '../template/template.ts';
import { PRICES, type Price, type Prices, unitPrice } from './cost-prices.ts';

/** The arithmetic of `npm run cost`: what a request is billed by each service, from usage and prices. */

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

export function dynamoDbCharge(writes: number, reads: number, prices: Prices): Charge {
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

export const charge = (service: Service, usage: string, count: number, price: Price): Charge => ({
  service,
  usage,
  usd: count * unitPrice(price),
});

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}
