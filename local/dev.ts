import { type FSWatcher, mkdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startChatPage } from './chat-page.ts';
import { startDynamoDbLocal } from './dynamodb.ts';
import { DEV_SIGNING_KEY_FILE, loadOrCreateSigningKey } from './issuer.ts';
import { seedTables } from './seed.ts';

const HELP = `npm run dev -- [options]

Runs template.yaml offline: DynamoDB Local, SQS (fauxqs), a local JWT issuer, every HTTP API, every REST
API (with its API keys and usage plans) and every WebSocket API (with its @connections endpoint on the same port).

  --http-port <n>      first HTTP API port (default 3000; further HTTP APIs take the next ports)
  --rest-port <n>      first REST API port (default 3001; further REST APIs take the next ports)
  --websocket-port <n> first WebSocket API port (default 3002; further WebSocket APIs take the next ports)
  --chat-port <n>      the chat page for the first WebSocket API (default 3004)
  --issuer-port <n>    local OIDC issuer (default 3005)
  --dynamodb-port <n>  DynamoDB Local (default 8000)
  --sqs-port <n>       SQS emulator (default 4566)
  --parameter <k=v>    override a template parameter, e.g. --parameter HttpApiRateLimit=1000 (repeatable)
  --concurrency <n>    execution environments per function at most (default 2)
  --state-dir <dir>    where the database, bundles, signing key and stack.json live (default .local)
  --fresh              start with an empty database (deletes <state-dir>/dynamodb)
  --no-watch           do not reload on changes to functions/ and template.yaml
  --no-seed            do not put local/seed.json into the tables
`;

const { values } = parseArgs({
  options: {
    'http-port': { type: 'string', default: process.env.HTTP_API_PORT ?? '3000' },
    'rest-port': { type: 'string', default: process.env.REST_API_PORT ?? '3001' },
    'websocket-port': { type: 'string', default: process.env.WEBSOCKET_PORT ?? '3002' },
    'chat-port': { type: 'string', default: process.env.CHAT_PAGE_PORT ?? '3004' },
    'issuer-port': { type: 'string', default: process.env.ISSUER_PORT ?? '3005' },
    'dynamodb-port': { type: 'string', default: process.env.DYNAMODB_PORT ?? '8000' },
    'sqs-port': { type: 'string', default: process.env.SQS_PORT ?? '4566' },
    'state-dir': { type: 'string', default: '.local' },
    concurrency: { type: 'string', default: '2' },
    parameter: { type: 'string', multiple: true, default: [] },
    fresh: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: true },
    seed: { type: 'boolean', default: true },
    help: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const started = performance.now();
const STATE_DIR = resolve(values['state-dir']);
const STACK_FILE = join(STATE_DIR, 'stack.json');
const SIGNING_KEY_FILE = join(STATE_DIR, DEV_SIGNING_KEY_FILE);
const dynamoDataDir = join(STATE_DIR, 'dynamodb');
if (values.fresh) rmSync(dynamoDataDir, { recursive: true, force: true });

const colours = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];
const colourOf = new Map<string, number>();
const log = (functionName: string, line: string) => {
  if (!colourOf.has(functionName)) colourOf.set(functionName, colours[colourOf.size % colours.length] ?? 36);
  process.stdout.write(`\x1b[${colourOf.get(functionName)}m[${functionName}]\x1b[0m ${line}\n`);
};

// The DynamoDB Local JVM is the long pole of start-up: it starts before the rest of the offline cloud loads.
const dynamodb = startDynamoDbLocal({ port: Number(values['dynamodb-port']), dataDir: dynamoDataDir });
dynamodb.catch(() => undefined);
const { OfflineCloud } = await import('./cloud.ts');

const cloud = await OfflineCloud.start({
  buildDir: join(STATE_DIR, 'build'),
  dynamodb,
  signingKey: await loadOrCreateSigningKey(SIGNING_KEY_FILE),
  ports: {
    httpApi: Number(values['http-port']),
    restApi: Number(values['rest-port']),
    websocket: Number(values['websocket-port']),
    issuer: Number(values['issuer-port']),
    sqs: Number(values['sqs-port']),
  },
  parameters: Object.fromEntries(
    values.parameter.map((pair) => {
      const index = pair.indexOf('=');
      if (index < 1) throw new Error(`--parameter ${pair}: expected Name=Value`);
      return [pair.slice(0, index), pair.slice(index + 1)];
    }),
  ),
  maxConcurrency: Number(values.concurrency),
  log,
});

if (values.seed) {
  const written = await seedTables(cloud.dynamodb.client, cloud.resolver, resolve('local/seed.json'));
  if (written > 0) process.stdout.write(`Seeded ${written} items from local/seed.json\n`);
}

const [chatApi] = cloud.webSocketApis.values();
const chatPage = chatApi
  ? await startChatPage({
      webSocketUrl: chatApi.url,
      mintToken: (sub) => cloud.mintToken({ sub }),
      port: Number(values['chat-port']),
    })
  : undefined;

function writeStackFile(): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const info = {
    ...cloud.info(),
    ...(chatPage ? { chatPage: chatPage.url } : {}),
    signingKeyFile: relative(process.cwd(), SIGNING_KEY_FILE),
  };
  writeFileSync(STACK_FILE, `${JSON.stringify(info, null, 2)}\n`);
}

function printSummary(): void {
  const bold = (text: string) => `\x1b[1m${text}\x1b[0m`;
  const lines: string[] = [];
  const info = cloud.info();
  for (const [name, { api, url }] of cloud.httpApis) {
    lines.push(`${bold(name)}  ${url}`);
    for (const route of api.config.routes) {
      const auth = route.authorizer
        ? `JWT ${route.authorizer.config.name}${route.scopes.length ? ` scopes: ${route.scopes.join(' | ')}` : ''}`
        : 'public';
      lines.push(
        `  ${route.method.padEnd(7)}${route.path.padEnd(20)}→ ${route.functionName.padEnd(22)} ${auth}`,
      );
    }
  }
  for (const [name, { api, url }] of cloud.restApis) {
    const cache = api.config.cacheClusterEnabled ? 'stage cache on' : 'no stage cache';
    lines.push(`${bold(name)}  ${url}  (${cache})`);
    for (const method of api.config.methods) {
      const target = method.integration.target;
      const backend =
        target.service === 'lambda'
          ? target.functionName
          : target.service === 'mock'
            ? 'MOCK'
            : `${target.service} (VTL)`;
      const notes = [
        method.apiKeyRequired ? 'API key' : 'public',
        ...(method.caching.enabled ? [`cached ${method.caching.ttlSeconds} s`] : []),
      ];
      lines.push(
        `  ${method.httpMethod.padEnd(7)}${method.resourcePath.padEnd(20)}→ ${backend.padEnd(22)} ${notes.join(', ')}`,
      );
    }
    for (const key of info.restApis[name]?.apiKeys ?? []) {
      lines.push(`  key ${key.plan.padEnd(38)} x-api-key: ${key.value}`);
    }
    for (const warning of api.config.warnings) lines.push(`  \x1b[33mwarning\x1b[0m ${warning}`);
  }
  for (const [name, api] of cloud.webSocketApis) {
    lines.push(`${bold(name)}  ${api.url}  (@connections ${api.connectionsEndpoint})`);
    for (const route of api.config.routes) {
      const auth = route.authorizer
        ? `authoriser ${route.authorizer.name} → ${route.authorizer.functionName} (${route.authorizer.identitySource
            .map((source) => `${source.in}.${source.name}`)
            .join(', ')})`
        : '';
      lines.push(`  ${route.routeKey.padEnd(27)}→ ${route.functionName.padEnd(22)} ${auth}`.trimEnd());
    }
  }
  lines.push(
    '',
    `${bold('JWT issuer')}     ${info.issuer.issuers.join(', ')} (JWKS ${info.issuer.jwksUri})`,
    `${bold('DynamoDB Local')} ${info.dynamodb.endpoint}  tables: ${Object.values(info.dynamodb.tables).join(', ')}`,
    `${bold('SQS (fauxqs)')}   ${info.sqs.endpoint}  queues: ${Object.keys(info.sqs.queues).join(', ') || 'none'}`,
    ...info.eventSources.map(
      (source) =>
        `  ${source.queue.padEnd(27)}→ ${source.functionName.padEnd(22)} batch ${source.batchSize}, window ${source.maximumBatchingWindowInSeconds} s${source.reportBatchItemFailures ? ', ReportBatchItemFailures' : ''}${source.enabled ? '' : ' (disabled)'}`,
    ),
    '',
    `Token:   npm run token -- --sub alice --scope "api/orders.read api/orders.write"`,
    ...[...cloud.webSocketApis.values()]
      .slice(0, 1)
      .map((api) => `Chat:    npx wscat -c "${api.url}?token=$(npm run -s token -- --sub alice)"`),
    ...(chatPage ? [`Page:    ${chatPage.url} (sign in with any user id, join a room, chat)`] : []),
    `State:   ${relative(process.cwd(), STACK_FILE)} (machine-readable)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

writeStackFile();
printSummary();
process.stdout.write(
  `Ready in ${((performance.now() - started) / 1000).toFixed(1)} s. Ctrl-C stops everything.\n`,
);

const watchers: FSWatcher[] = [];
if (values.watch) {
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let templateChanged = false;
  // Reloads run one at a time; changes that arrive meanwhile are collected for the next one.
  let running = Promise.resolve();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      const template = templateChanged;
      changed = new Set();
      templateChanged = false;
      running = running.then(async () => {
        try {
          if (template) {
            await cloud.reloadTemplate();
            writeStackFile();
            process.stdout.write('template.yaml reloaded\n');
            printSummary();
          } else {
            const reloaded = await cloud.reloadSources(files);
            if (reloaded.length > 0) {
              writeStackFile();
              process.stdout.write(`Reloaded ${reloaded.join(', ')}\n`);
            }
          }
        } catch (error) {
          process.stderr.write(
            `Reload failed, still serving the previous version: ${(error as Error).message}\n`,
          );
        }
      });
    }, 75);
  };
  watchers.push(
    watch('functions', { recursive: true }, (_event, file) => {
      if (file) changed.add(join('functions', file.toString()));
      schedule();
    }),
    watch(cloud.templatePath, () => {
      templateChanged = true;
      schedule();
    }),
  );
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping…\n');
    for (const watcher of watchers) watcher.close();
    await chatPage?.stop();
    await cloud.stop();
    process.exit(0);
  });
}
