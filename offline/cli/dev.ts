import { type FSWatcher, fstatSync, mkdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ChatPage, startChatPage } from '../gateways/websocket/chat-page.ts';
import {
  type DynamoDbLocal,
  recordedDynamoDbLocal,
  startDynamoDbLocal,
  stopLeftover,
} from '../services/dynamodb.ts';
import { DEV_SIGNING_KEY_FILE, loadOrCreateSigningKey } from '../services/issuer.ts';
import { seedTables } from '../services/seed.ts';
import { createResolver } from '../template/resolver.ts';
import { loadTemplate, type Resolver } from '../template/template.ts';
import { conflictLine, type PortUse, portConflicts } from './ports.ts';

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
  --no-seed            do not put the tables' sample items (Metadata.OfflineSeed) into them
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

// Output that goes away (piped into `head`, a reader that quit) is no reason to stop serving or to skip the
// clean-up: a write to a closed pipe fails with EPIPE, which would otherwise be an uncaught error.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

const started = performance.now();
const STATE_DIR = resolve(values['state-dir']);
const STACK_FILE = join(STATE_DIR, 'stack.json');
const SIGNING_KEY_FILE = join(STATE_DIR, DEV_SIGNING_KEY_FILE);
const dynamoDataDir = join(STATE_DIR, 'dynamodb');
const DYNAMODB_PID_FILE = join(STATE_DIR, 'dynamodb.pid');
/** The state folder as the user would type it: relative inside the project, absolute elsewhere. */
const STATE_DIR_SHOWN = relative(process.cwd(), STATE_DIR).startsWith('..')
  ? STATE_DIR
  : relative(process.cwd(), STATE_DIR) || '.';

/** What has started so far: a stop at any moment, start-up included, stops exactly these. */
const startedParts: {
  dynamodb?: Promise<DynamoDbLocal>;
  cloud?: { stop(): Promise<void> };
  chatPage?: ChatPage;
  watchers: FSWatcher[];
} = { watchers: [] };
let stopping = false;
let portUses: PortUse[] = [];

/** Stops what runs, then exits; a stop that hangs is cut short after 10 s (the JVM's guard still kills it). */
async function stop(code: number, reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\nStopping (${reason})…\n`);
  setTimeout(() => process.exit(code), 10_000).unref();
  for (const watcher of startedParts.watchers) watcher.close();
  await startedParts.chatPage?.stop();
  if (startedParts.cloud) await startedParts.cloud.stop();
  else await startedParts.dynamodb?.then((dynamodb) => dynamodb.stop()).catch(() => undefined);
  process.exit(code);
}

/** A mistake in the command line: its message says what to change, a stack would only hide it. */
class OptionError extends Error {}

/**
 * Any failure, at start or later, stops everything that runs and exits 1. A port taken after the check before
 * start (a race) gets the same one line as a port taken before it.
 */
function fail(error: unknown): void {
  if (stopping) return; // what fails while stopping is a consequence of stopping
  const { code, port, syscall } = error as { code?: unknown; port?: unknown; syscall?: unknown };
  const listenFailed = code === 'EADDRINUSE' || (code === 'EACCES' && syscall === 'listen');
  const use = portUses.find((candidate) => candidate.port === port && candidate.port !== 0);
  const line =
    use && listenFailed
      ? conflictLine(use, String(code))
      : error instanceof OptionError
        ? error.message
        : ((error as Error).stack ?? String(error));
  process.stderr.write(`${line}\n`);
  if (startedParts.dynamodb) void stop(1, 'after the error above');
  else process.exit(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

for (const [signal, reason] of [
  ['SIGINT', 'Ctrl-C'],
  ['SIGTERM', 'SIGTERM'],
  ['SIGHUP', 'SIGHUP: the terminal closed'],
] as const) {
  process.on(signal, () => void stop(0, reason));
}

// A program that runs npm run dev through a pipe closes it to say stop, or closes it by exiting: either way
// nobody is left to press Ctrl-C. A terminal, /dev/null (`npm run dev &` in a script) or a file is no such
// pipe, and its end of input means nothing.
const input = fstatSync(0);
if (input.isFIFO() || input.isSocket()) {
  process.stdin.on('end', () => void stop(0, 'stdin closed')).on('error', () => void stop(0, 'stdin closed'));
  process.stdin.resume();
}

const parameters = Object.fromEntries(
  values.parameter.map((pair) => {
    const index = pair.indexOf('=');
    if (index < 1) throw new OptionError(`--parameter ${pair}: expected Name=Value`);
    return [pair.slice(0, index), pair.slice(index + 1)];
  }),
);

type PortOption = `${'http' | 'rest' | 'websocket' | 'chat' | 'issuer' | 'dynamodb' | 'sqs'}-port`;

function portOption(name: PortOption): number {
  const port = Number(values[name]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new OptionError(`--${name} ${values[name]}: expected a port number (0-65535, 0 for any free port)`);
  return port;
}

/** Every port the cloud will open, as OfflineCloud.start assigns them: further APIs of a kind take the next. */
function portUsesOf(resolver: Resolver): PortUse[] {
  const idsOf = (type: string) =>
    Object.entries(resolver.template.Resources)
      .filter(([id, resource]) => resource.Type === type && resolver.exists(id))
      .map(([id]) => id);
  const consecutive = (type: string, option: PortOption, kind: string) =>
    idsOf(type).map((id, index) => {
      const first = portOption(option);
      return { port: first && first + index, part: `${kind} ${id}`, flag: `--${option}` };
    });
  const webSocketApis = consecutive('AWS::ApiGatewayV2::Api', 'websocket-port', 'WebSocket API');
  return [
    ...consecutive('AWS::Serverless::HttpApi', 'http-port', 'HTTP API'),
    ...consecutive('AWS::Serverless::Api', 'rest-port', 'REST API'),
    ...webSocketApis,
    ...(webSocketApis.length > 0
      ? [{ port: portOption('chat-port'), part: 'chat page', flag: '--chat-port' }]
      : []),
    { port: portOption('issuer-port'), part: 'JWT issuer', flag: '--issuer-port' },
    {
      port: portOption('dynamodb-port'),
      part: 'DynamoDB Local',
      flag: '--dynamodb-port',
      everyInterface: true,
    },
    { port: portOption('sqs-port'), part: 'SQS emulator', flag: '--sqs-port' },
  ];
}

portUses = portUsesOf(createResolver(loadTemplate(resolve('template.yaml')), parameters));

/**
 * Before anything slow starts: a DynamoDB Local that an earlier npm run dev of this state folder left behind
 * (its owner is gone) is stopped; one whose owner still runs, and every taken port, is a line naming it.
 */
async function checkBeforeStart(): Promise<void> {
  const conflicts: string[] = [];
  const recorded = recordedDynamoDbLocal(DYNAMODB_PID_FILE, dynamoDataDir);
  if (recorded?.owner) {
    conflicts.push(
      `the state folder ${STATE_DIR_SHOWN} is in use by another npm run dev (pid ${recorded.owner}). Stop it, or pass --state-dir <another folder>.`,
    );
  } else if (recorded) {
    await stopLeftover(recorded.pid);
    process.stdout.write(
      `Stopped DynamoDB Local (pid ${recorded.pid}), which an earlier npm run dev left running on ${STATE_DIR_SHOWN}\n`,
    );
  }
  conflicts.push(...(await portConflicts(portUses)));
  if (conflicts.length === 0) return;
  process.stderr.write(`${conflicts.join('\n')}\n`);
  process.exit(1);
}

await checkBeforeStart();
mkdirSync(STATE_DIR, { recursive: true });
if (values.fresh) rmSync(dynamoDataDir, { recursive: true, force: true });

const colours = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];
const colourOf = new Map<string, number>();
const log = (functionName: string, line: string) => {
  if (!colourOf.has(functionName)) colourOf.set(functionName, colours[colourOf.size % colours.length] ?? 36);
  process.stdout.write(`\x1b[${colourOf.get(functionName)}m[${functionName}]\x1b[0m ${line}\n`);
};

// The DynamoDB Local JVM is the long pole of start-up: it starts before the rest of the offline cloud loads.
const dynamodb = startDynamoDbLocal({
  port: portOption('dynamodb-port'),
  dataDir: dynamoDataDir,
  pidFile: DYNAMODB_PID_FILE,
});
startedParts.dynamodb = dynamodb;
dynamodb.catch(() => undefined);
const { OfflineCloud } = await import('../cloud.ts');

const cloud = await OfflineCloud.start({
  buildDir: join(STATE_DIR, 'build'),
  dynamodb,
  signingKey: await loadOrCreateSigningKey(SIGNING_KEY_FILE),
  ports: {
    httpApi: portOption('http-port'),
    restApi: portOption('rest-port'),
    websocket: portOption('websocket-port'),
    issuer: portOption('issuer-port'),
    sqs: portOption('sqs-port'),
  },
  parameters,
  maxConcurrency: Number(values.concurrency),
  log,
});
startedParts.cloud = cloud;

if (values.seed) {
  const written = await seedTables(cloud.dynamodb.client, cloud.resolver);
  if (written > 0)
    process.stdout.write(`Seeded ${written} sample items (Metadata.OfflineSeed in template.yaml)\n`);
}

const [chatApi] = cloud.webSocketApis.values();
const chatPage = chatApi
  ? await startChatPage({
      webSocketUrl: chatApi.url,
      mintToken: (sub) => cloud.mintToken({ sub }),
      port: portOption('chat-port'),
    })
  : undefined;
startedParts.chatPage = chatPage;

function writeStackFile(): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const info = {
    ...cloud.info(),
    ...(chatPage ? { chatPage: chatPage.url } : {}),
    signingKeyFile: relative(process.cwd(), SIGNING_KEY_FILE),
  };
  writeFileSync(STACK_FILE, `${JSON.stringify(info, null, 2)}\n`);
}

/** The app clients that get tokens without a user (client_credentials), such as the partner systems' one. */
function clientCredentialsClients(): string[] {
  return Object.entries(cloud.resolver.template.Resources)
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::Cognito::UserPoolClient' &&
        ((resource.Properties?.AllowedOAuthFlows ?? []) as string[]).includes('client_credentials'),
    )
    .map(([id]) => id);
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
        ...(method.authorizer
          ? [
              `authoriser ${method.authorizer.name} → ${method.authorizer.functionName} (header.${method.authorizer.header}, cached ${method.authorizer.ttlSeconds} s)`,
            ]
          : []),
        method.apiKeyRequired ? 'API key' : method.authorizer ? '' : 'public',
        ...(method.caching.enabled ? [`cached ${method.caching.ttlSeconds} s`] : []),
      ];
      lines.push(
        `  ${method.httpMethod.padEnd(7)}${method.resourcePath.padEnd(20)}→ ${backend.padEnd(22)} ${notes.filter(Boolean).join(', ')}`,
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
    ...clientCredentialsClients().map(
      (client) => `Client:  npm run -s token -- --client ${client}   (its client-credentials token)`,
    ),
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
  startedParts.watchers.push(
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
