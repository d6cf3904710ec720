import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, test } from 'vitest';
import { OfflineCloud } from '../../offline/cloud.ts';
import { LOCAL_CREDENTIALS } from '../../offline/services/credentials.ts';
import { signToken } from '../../offline/services/issuer.ts';
import { loadTemplate, parseTemplate, type Template } from '../../offline/template/template.ts';
import { cfnLintFindings, wholeTemplateViolations } from '../template/copy-checks.ts';
import { apiDefinitionsOf } from '../template/iam-rules.ts';
import { ROOT } from '../template/rules.ts';
import {
  appendToSection,
  insertAfterResources,
  resourcesText,
  withoutMarkedRegions,
} from '../template/template-text.ts';
import { parseParameterOverrides, parseToml, type TomlTable } from '../template/toml.ts';

/**
 * The README's recipes, applied to a copy of the repository exactly as they are written there, then checked the
 * way a forker's change is: the template rules, cfn-lint, and the offline cloud booted on the result and called.
 * Each recipe's README section must name every file and template place the test touches, so a recipe that
 * drifts from what the project needs fails here.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README section `### <title>`, up to the next heading. */
function recipe(title: string): string {
  const start = README.indexOf(`### ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "### ${title}" section`);
  const end = README.slice(start + 4).search(/\n#{2,3} /);
  return README.slice(start, end < 0 ? undefined : start + 4 + end);
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of what a forker owns, with the project's node_modules linked in. */
function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
  copies.push(dir);
  for (const entry of [
    'template.yaml',
    'samconfig.toml',
    'package.json',
    'tsconfig.json',
    'functions',
    'openapi',
    'events',
  ])
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const write = (dir: string, file: string, text: string) => writeFileSync(join(dir, file), text);

/** Copies `from` to `to` in the copy, with each [old, new] replacement applied (every occurrence). */
function copyWith(dir: string, from: string, to: string, replacements: [string, string][]): void {
  let text = read(dir, from);
  for (const [old, replacement] of replacements) {
    if (!text.includes(old)) throw new Error(`${from} has no ${old}: the recipe has drifted`);
    text = text.replaceAll(old, replacement);
  }
  write(dir, to, text);
}

const renamed = (text: string, replacements: [string, string][]) =>
  replacements.reduce((result, [old, replacement]) => {
    if (!result.includes(old)) throw new Error(`template.yaml has no ${old}: the recipe has drifted`);
    return result.replaceAll(old, replacement);
  }, text);

/** Every whole-template rule on the copy, reading its own functions/ and openapi/. */
function violations(dir: string): string[] {
  const text = read(dir, 'template.yaml');
  const template: Template = parseTemplate(text);
  apiDefinitionsOf(template, dir);
  return wholeTemplateViolations(template, text, dir);
}

const cfnLint = (dir: string) => cfnLintFindings([join(dir, 'template.yaml')]);

async function withCloud(dir: string, use: (cloud: OfflineCloud) => Promise<void>): Promise<void> {
  const buildDir = mkdtempSync(join(tmpdir(), 'recipe-build-'));
  copies.push(buildDir);
  const cloud = await OfflineCloud.start({ projectDir: dir, buildDir });
  try {
    await use(cloud);
  } finally {
    await cloud.stop();
  }
}

/** The forker's test files outside the chat's folders that import its code or name its resources. */
function filesReferringToTheChat(): string[] {
  const chatResources =
    /functions\/chat\/|\bChat[A-Z]\w*(Function|Api|Stage|Authorizer|Route|Integration|Permission)\b|ConnectionsTable/;
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== 'test/chat' && path !== 'test/recipes') walk(path);
      } else if (entry.name.endsWith('.ts') && chatResources.test(readFileSync(join(ROOT, path), 'utf8'))) {
        files.push(path);
      }
    }
  };
  walk('test');
  return files.sort();
}

/** A document client on the copy's DynamoDB Local. */
const documentsOf = (cloud: OfflineCloud) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: cloud.dynamodb.endpoint,
      region: cloud.resolver.pseudo.region,
      credentials: LOCAL_CREDENTIALS,
    }),
  );

async function userToken(cloud: OfflineCloud, sub: string, scopes: string[]): Promise<string> {
  const [issuer] = cloud.issuers;
  const [clientId] = cloud.audiences;
  if (!issuer || !clientId) throw new Error('The copy has no JWT authoriser');
  return signToken(cloud.issuer.key, { issuer, clientId, sub, scopes });
}

describe('README recipes, applied to a copy of the repository', () => {
  test('Add an HTTP route with its own table', { timeout: 180_000 }, async () => {
    const dir = copyOfRepository();
    // 1. The handler: a copy of the closest example, reading its own table.
    copyWith(dir, 'functions/orders/get-order.ts', 'functions/orders/get-receipt.ts', [
      ['ORDERS_TABLE', 'RECEIPTS_TABLE'],
      ['GET /orders/{id}:', 'GET /orders/{id}/receipt:'],
    ]);
    // 2. template.yaml: the function's block, the table's block and the table's output.
    let template = read(dir, 'template.yaml');
    const functionBlock = renamed(resourcesText(template, 'GetOrderFunction'), [
      ['GetOrderFunction', 'GetReceiptFunction'],
      ['functions/orders/get-order.ts', 'functions/orders/get-receipt.ts'],
      ['get-order.handler', 'get-receipt.handler'],
      ['ORDERS_TABLE: !Ref OrdersTable', 'RECEIPTS_TABLE: !Ref ReceiptsTable'],
      ['TableName: !Ref OrdersTable', 'TableName: !Ref ReceiptsTable'],
      ['Path: /orders/{id}', 'Path: /orders/{id}/receipt'],
    ]);
    const tableBlock = renamed(resourcesText(template, 'OrdersTable'), [['OrdersTable', 'ReceiptsTable']]);
    template = insertAfterResources(template, 'GetOrderFunction', functionBlock);
    template = insertAfterResources(template, 'OrdersTable', tableBlock);
    template = appendToSection(template, 'Outputs', '  ReceiptsTableName:\n    Value: !Ref ReceiptsTable\n');
    write(dir, 'template.yaml', template);
    // 3. Its sample event.
    copyWith(dir, 'events/get-order.json', 'events/get-receipt.json', [
      ['"routeKey": "GET /orders/{id}"', '"routeKey": "GET /orders/{id}/receipt"'],
    ]);

    const section = recipe('Add an HTTP route with its own table');
    for (const place of ['functions/', 'template.yaml', 'Outputs', 'events/', 'test/', 'TableName']) {
      expect(section, `the recipe names ${place}`).toContain(place);
    }
    expect(violations(dir)).toEqual([]);
    expect(await cfnLint(dir)).toBe('');

    await withCloud(dir, async (cloud) => {
      const url = cloud.httpApis.get('HttpApi')?.url;
      const table = cloud.tables.ReceiptsTable;
      expect(table).toBeDefined();
      const orderId = randomUUID();
      const token = await userToken(cloud, 'receipt-owner', ['api/orders.read']);
      const get = (bearer: string) =>
        fetch(`${url}/orders/${orderId}/receipt`, { headers: { authorization: `Bearer ${bearer}` } });
      const missing = await get(token);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'NotFound' } });

      await documentsOf(cloud).send(
        new PutCommand({
          TableName: table,
          Item: {
            orderId,
            customerId: 'receipt-owner',
            status: 'PLACED',
            items: [],
            total: { amount: 0, currency: 'EUR' },
            createdAt: '2026-12-04T00:00:00.000Z',
          },
        }),
      );
      const found = await get(token);
      expect(found.status).toBe(200);
      expect(await found.json()).toMatchObject({ orderId, status: 'PLACED' });
      const someoneElse = await get(await userToken(cloud, 'someone-else', ['api/orders.read']));
      expect(someoneElse.status).toBe(404);
      expect((await get(await userToken(cloud, 'receipt-owner', []))).status).toBe(403);
    });
  });

  test('Add a REST Lambda route', { timeout: 180_000 }, async () => {
    const dir = copyOfRepository();
    copyWith(dir, 'functions/products/get-product.ts', 'functions/products/get-product-summary.ts', [
      ['GET /products/{id} (REST API, Lambda proxy)', 'GET /products/{id}/summary (REST API, Lambda proxy)'],
    ]);
    let template = read(dir, 'template.yaml');
    const block = renamed(resourcesText(template, 'GetProduct'), [
      ['GetProductFunction', 'GetProductSummaryFunction'],
      ['GetProductPermission', 'GetProductSummaryPermission'],
      ['functions/products/get-product.ts', 'functions/products/get-product-summary.ts'],
      ['get-product.handler', 'get-product-summary.handler'],
    ]);
    template = insertAfterResources(template, 'GetProduct', block);
    write(dir, 'template.yaml', template);
    // The OpenAPI path: a copy of /products/{id} pointing at the new function.
    const openapi = read(dir, 'openapi/partner-api.yaml');
    const start = openapi.indexOf('  /products/{id}:\n');
    const end = openapi.indexOf('\n  /', start + 4) + 1;
    const path = renamed(openapi.slice(start, end), [
      ['  /products/{id}:', '  /products/{id}/summary:'],
      ['operationId: preflightProduct', 'operationId: preflightProductSummary'],
      ['operationId: getProduct', 'operationId: getProductSummary'],
      ['${GetProductFunction.Arn}', '${GetProductSummaryFunction.Arn}'],
      ['cacheNamespace: product', 'cacheNamespace: productSummary'],
    ]);
    write(dir, 'openapi/partner-api.yaml', openapi.slice(0, end) + path + openapi.slice(end));
    copyWith(dir, 'events/products-get-product.json', 'events/products-get-product-summary.json', [
      ['/products/{id}', '/products/{id}/summary'],
    ]);

    const section = recipe('Add a REST Lambda route');
    for (const place of [
      'functions/',
      'template.yaml',
      'Permission',
      'openapi/partner-api.yaml',
      'events/',
    ]) {
      expect(section, `the recipe names ${place}`).toContain(place);
    }
    expect(violations(dir)).toEqual([]);
    expect(await cfnLint(dir)).toBe('');

    await withCloud(dir, async (cloud) => {
      const rest = cloud.info().restApis.PartnerApi;
      expect(rest?.routes.map((route) => route.route)).toContain('GET /products/{id}/summary');
      const key = rest?.apiKeys.find((candidate) => candidate.enabled)?.value ?? '';
      await documentsOf(cloud).send(
        new PutCommand({
          TableName: cloud.tables.ProductsTable,
          Item: {
            productId: 'green-tea',
            name: 'Green tea, 100 g',
            category: 'tea',
            price: { amount: 650, currency: 'EUR' },
            updatedAt: '2026-12-04T00:00:00.000Z',
            updatedBy: 'recipe',
          },
        }),
      );
      const summary = await fetch(`${rest?.url}/products/green-tea/summary`, {
        headers: { 'x-api-key': key },
      });
      expect(summary.status).toBe(200);
      expect(await summary.json()).toMatchObject({ productId: 'green-tea' });
      expect((await fetch(`${rest?.url}/products/green-tea/summary`)).status).toBe(403);
    });
  });

  test('Remove the WebSocket chat', { timeout: 180_000 }, async () => {
    const dir = copyOfRepository();
    rmSync(join(dir, 'functions/chat'), { recursive: true });
    for (const event of readdirSync(join(dir, 'events')).filter((name) => name.startsWith('chat-')))
      rmSync(join(dir, 'events', event));
    write(dir, 'template.yaml', withoutMarkedRegions(read(dir, 'template.yaml'), 'chat'));
    write(
      dir,
      'samconfig.toml',
      read(dir, 'samconfig.toml')
        .split('\n')
        .filter((line) => !/\bChat(Rate|Burst)Limit=/.test(line))
        .join('\n'),
    );

    const section = recipe('Remove the WebSocket chat');
    for (const place of [
      'functions/chat/',
      'test/chat/',
      'events/chat-*.json',
      '# >>> chat',
      'samconfig.toml',
      'npm run cost -- --write',
    ]) {
      expect(section, `the recipe names ${place}`).toContain(place);
    }
    // Nothing else of the forker's refers to the chat.
    expect(filesReferringToTheChat()).toEqual([]);

    expect(read(dir, 'template.yaml')).not.toMatch(/\bChat|ConnectionsTable|ProtocolType: WEBSOCKET/);
    expect(violations(dir)).toEqual([]);
    expect(await cfnLint(dir)).toBe('');
    const template = loadTemplate(join(dir, 'template.yaml'));
    const config = parseToml(read(dir, 'samconfig.toml'));
    for (const [stage, commands] of Object.entries(config)) {
      const deploy = ((commands as TomlTable).deploy as TomlTable | undefined)?.parameters as
        | TomlTable
        | undefined;
      for (const name of Object.keys(parseParameterOverrides(deploy?.parameter_overrides))) {
        expect(template.Parameters ?? {}, `samconfig.toml [${stage}] overrides ${name}`).toHaveProperty(name);
      }
    }

    await withCloud(dir, async (cloud) => {
      expect(cloud.webSocketApis.size).toBe(0);
      expect([...cloud.functions.keys()].filter((name) => name.startsWith('Chat'))).toEqual([]);
      const me = await fetch(`${cloud.httpApis.get('HttpApi')?.url}/me`, {
        headers: { authorization: `Bearer ${await userToken(cloud, 'after-the-chat', [])}` },
      });
      expect(me.status).toBe(200);
    });
  });

  test('the recipes copy only what a forker owns', () => {
    const dir = copyOfRepository();
    expect(readdirSync(dir).sort()).toEqual(
      [
        'events',
        'functions',
        'node_modules',
        'openapi',
        'package.json',
        'samconfig.toml',
        'template.yaml',
        'tsconfig.json',
      ].sort(),
    );
  });
});
