import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, expect, test } from 'vitest';
import type { StackInfo } from '../cloud.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../services/dynamodb.ts';
import { loadTemplate } from '../template/template.ts';
import { webSocketApiIdsOf } from '../template/websocket-api-definition.ts';
import { type DevProcess, descendantsOf, spawnDev, survivorsOf } from './dev-process.ts';
import { freePort, PortInUseError } from './ports.ts';
import { isRunning, listenerOf, processInfo } from './processes.ts';

// What users do to `npm run dev` (issue 16): start it twice, kill -9 it and start again, pipe it into head,
// close its stdin. Each test checks what it says, how it exits, and that none of its processes is left.

const run = promisify(execFile);
/** The template's WebSocket API (the starter's chat, ChatApi), if it still has one. */
const [WEBSOCKET_API] = webSocketApiIdsOf(loadTemplate());
const stateDirs: string[] = [];
/** Every dev process a test started, killed if a failed test left it running. */
const devPids: number[] = [];

afterAll(async () => {
  for (const pid of devPids) {
    if (processInfo(pid)?.commandLine.includes('offline/cli/dev.ts')) process.kill(pid, 'SIGKILL');
  }
  await Promise.all(stateDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dev-abuse-'));
  stateDirs.push(dir);
  return dir;
}

function dev(state: string, args: string[] = [], options: Parameters<typeof spawnDev>[2] = {}): DevProcess {
  const spawned = spawnDev(state, args, options);
  devPids.push(spawned.child.pid as number);
  return spawned;
}

const PORT_OPTIONS = ['http', 'rest', 'websocket', 'chat', 'issuer', 'dynamodb', 'sqs'] as const;

/** Fixed free ports for every part, as the defaults are fixed: a second start must meet the same ones. */
async function fixedPorts(): Promise<{
  args: string[];
  port: Record<(typeof PORT_OPTIONS)[number], number>;
}> {
  const port = Object.fromEntries(
    await Promise.all(PORT_OPTIONS.map(async (name) => [name, await freePort()] as const)),
  ) as Record<(typeof PORT_OPTIONS)[number], number>;
  return { args: PORT_OPTIONS.flatMap((name) => [`--${name}-port`, String(port[name])]), port };
}

/** The processes a running npm run dev has started, and which of them are its JVM and the JVM's guard. */
function familyOf(pid: number) {
  const pids = descendantsOf(pid);
  const named = (text: string) =>
    pids.find((candidate) => processInfo(candidate)?.commandLine.includes(text));
  return { pids, jvm: named('DynamoDBLocal.jar'), guard: named('dynamodb-local-guard') };
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function leftAfter(state: string, pids: readonly number[]): Promise<string[]> {
  await eventually(() => survivorsOf(state, pids).length === 0);
  return survivorsOf(state, pids).map((survivor) => `${survivor.pid} ${survivor.commandLine}`);
}

test('a second npm run dev names each taken port, its holder and the flag, starts nothing and exits 1', async () => {
  const { args, port } = await fixedPorts();
  const firstState = await stateDir();
  const first = dev(firstState, args);
  await first.ready();
  const pid = first.child.pid as number;
  const family = familyOf(pid);
  if (family.jvm === undefined) throw new Error(`npm run dev (pid ${pid}) runs no DynamoDB Local`);

  const otherState = await stateDir();
  const second = dev(otherState, args);
  expect(await second.exited()).toBe(1);
  const holder = `another npm run dev of this project (pid ${pid})`;
  expect(second.errors().trim().split('\n')).toEqual([
    `port ${port.http} (HTTP API HttpApi) is in use by ${holder}. Stop it, or pass --http-port <another port>.`,
    `port ${port.rest} (REST API PartnerApi) is in use by ${holder}. Stop it, or pass --rest-port <another port>.`,
    // A WebSocket API and its chat page only while the template has one.
    ...(WEBSOCKET_API
      ? [
          `port ${port.websocket} (WebSocket API ${WEBSOCKET_API}) is in use by ${holder}. Stop it, or pass --websocket-port <another port>.`,
          `port ${port.chat} (chat page) is in use by ${holder}. Stop it, or pass --chat-port <another port>.`,
        ]
      : []),
    `port ${port.issuer} (JWT issuer) is in use by ${holder}. Stop it, or pass --issuer-port <another port>.`,
    `port ${port.dynamodb} (DynamoDB Local) is in use by the DynamoDB Local (pid ${family.jvm}) of ${holder}. Stop it, or pass --dynamodb-port <another port>.`,
    `port ${port.sqs} (SQS emulator) is in use by ${holder}. Stop it, or pass --sqs-port <another port>.`,
  ]);
  // Checked before anything slow: no JVM was started, so there is no database folder.
  expect(existsSync(join(otherState, 'dynamodb'))).toBe(false);
  expect(await leftAfter(otherState, [])).toEqual([]);

  // Its own ports, but the first one's state folder (and so its database): refused as well.
  const third = dev(firstState);
  expect(await third.exited()).toBe(1);
  expect(third.errors()).toBe(
    `the state folder ${firstState} is in use by another npm run dev (pid ${pid}). Stop it, or pass --state-dir <another folder>.\n`,
  );

  // The first one never noticed.
  expect(isRunning(family.jvm)).toBe(true);
  expect((await fetch(`http://127.0.0.1:${port.http}/me`)).status).toBe(401);
  expect(await first.stop()).toBe(0);
  expect(await leftAfter(firstState, family.pids)).toEqual([]);
}, 120_000);

test('a mistaken option is one line saying what to pass, exit 1, nothing started', async () => {
  const state = await stateDir();
  const mistaken = dev(state, ['--http-port', '30OO']);
  expect(await mistaken.exited()).toBe(1);
  expect(mistaken.errors()).toBe('--http-port 30OO: expected a port number (0-65535, 0 for any free port)\n');
  expect(existsSync(join(state, 'dynamodb'))).toBe(false);
  expect(await leftAfter(state, [])).toEqual([]);
});

test('after kill -9 nothing is left; a JVM left by a dev killed with its guard is stopped by the next start; SIGHUP stops cleanly', async () => {
  const { args, port } = await fixedPorts();
  const state = await stateDir();
  const first = dev(state, args);
  await first.ready();
  const firstFamily = familyOf(first.child.pid as number);
  first.child.kill('SIGKILL');
  expect(await first.exited()).toBe('SIGKILL');
  // DynamoDB Local, its guard and the esbuild service all go with it.
  expect(await leftAfter(state, firstFamily.pids)).toEqual([]);

  const second = dev(state, args);
  await second.ready();
  expect(second.output()).not.toContain('Stopped DynamoDB Local');
  // `killall node` takes the dev process and (were it node) its guard: the JVM is orphaned.
  const { jvm, guard, pids } = familyOf(second.child.pid as number);
  if (jvm === undefined || guard === undefined)
    throw new Error(`npm run dev runs no DynamoDB Local (${jvm}) or no guard (${guard})`);
  process.kill(guard, 'SIGKILL');
  second.child.kill('SIGKILL');
  expect(await second.exited()).toBe('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(isRunning(jvm)).toBe(true);

  const third = dev(state, args);
  await third.ready();
  expect(third.output()).toContain(
    `Stopped DynamoDB Local (pid ${jvm}), which an earlier npm run dev left running on ${state}\n`,
  );
  expect(isRunning(jvm)).toBe(false);
  // Its own JVM serves the port, on the same data (the seed items are there already).
  const thirdFamily = familyOf(third.child.pid as number);
  expect(listenerOf(port.dynamodb)).toBe(thirdFamily.jvm);
  expect(third.output()).not.toContain('Seeded');
  // A closed terminal (SIGHUP) is a clean stop too.
  third.child.kill('SIGHUP');
  expect(await third.exited()).toBe(0);
  expect(third.output()).toContain('\nStopping (SIGHUP: the terminal closed)…\n');
  expect(await leftAfter(state, [...pids, ...thirdFamily.pids])).toEqual([]);
}, 150_000);

test('a DynamoDB Local it did not start is never adopted: the port is refused and the JVM left alone', async () => {
  const port = await freePort();
  const foreign: DynamoDbLocal = await startDynamoDbLocal({ port });
  try {
    const foreignPid = listenerOf(port);
    // Before this check a second start answered its readiness poll from the first JVM and used it.
    await expect(startDynamoDbLocal({ port })).rejects.toThrow(new PortInUseError(port, 'DynamoDB Local'));
    const state = await stateDir();
    const refused = dev(state, ['--dynamodb-port', String(port)]);
    expect(await refused.exited()).toBe(1);
    expect(refused.errors()).toBe(
      `port ${port} (DynamoDB Local) is in use by a DynamoDB Local that no running npm run dev owns (pid ${foreignPid}). Stop it, or pass --dynamodb-port <another port>.\n`,
    );
    expect(await leftAfter(state, [])).toEqual([]);
    await foreign.client.send(new ListTablesCommand({}));
  } finally {
    await foreign.stop();
  }
}, 60_000);

test('piped into head, it keeps serving once head has gone, and Ctrl-C still stops everything', async () => {
  const state = await stateDir();
  const shell = spawn(
    'bash',
    [
      '-c',
      // PIPESTATUS: the exit status of npm run dev, not of head.
      `"${process.execPath}" --disable-warning=ExperimentalWarning offline/cli/dev.ts --state-dir "${state}" --no-watch ${PORT_OPTIONS.map((name) => `--${name}-port 0`).join(' ')} 2>&1 | head -n 3; exit "\${PIPESTATUS[0]}"`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let headOutput = '';
  shell.stdout.on('data', (chunk) => (headOutput += chunk));
  const exit = once(shell, 'exit');
  const underShell = (command: string) =>
    descendantsOf(shell.pid as number).find((pid) => processInfo(pid)?.commandLine.includes(command));
  await eventually(() => headOutput.split('\n').length > 3 && underShell('head -n 3') === undefined, 60_000);
  expect(headOutput.split('\n').slice(0, 3)).toEqual([
    'Seeded 3 sample items (Metadata.OfflineSeed in template.yaml)',
    expect.stringMatching(/HttpApi.+ http:\/\/127\.0\.0\.1:\d+$/),
    expect.stringMatching(/^ {2}GET {4}\/me/),
  ]);
  const devPid = underShell('offline/cli/dev.ts');
  if (devPid === undefined) throw new Error(`npm run dev is gone after head exited:\n${headOutput}`);
  devPids.push(devPid);
  const family = familyOf(devPid);

  // Every line it writes from now on (GetMeFunction logs each request) meets a closed pipe: EPIPE.
  const stackFile = join(state, 'stack.json');
  await eventually(() => existsSync(stackFile), 60_000);
  const { httpApis } = JSON.parse(await readFile(stackFile, 'utf8')) as StackInfo;
  const { stdout: token } = await run(process.execPath, [
    '--disable-warning=ExperimentalWarning',
    'offline/cli/token.ts',
    '--sub',
    'reader-gone',
    '--state-dir',
    state,
  ]);
  for (let request = 0; request < 3; request++) {
    const me = await fetch(`${httpApis.HttpApi?.url}/me`, {
      headers: { authorization: `Bearer ${token.trim()}` },
    });
    expect(me.status).toBe(200);
  }
  expect(isRunning(devPid)).toBe(true);

  process.kill(devPid, 'SIGINT');
  const [code] = await exit;
  expect(code).toBe(0);
  expect(await leftAfter(state, family.pids)).toEqual([]);
}, 120_000);

test('closing its stdin pipe stops it cleanly (exit 0), and nothing is left', async () => {
  const state = await stateDir();
  const piped = dev(state, [], { stdin: 'pipe' });
  await piped.ready();
  const family = familyOf(piped.child.pid as number);
  piped.child.stdin?.end();
  expect(await piped.exited(20_000)).toBe(0);
  expect(piped.output()).toContain('\nStopping (stdin closed)…\n');
  // Quiet tooling: nothing on stderr, ExperimentalWarning included.
  expect(piped.errors()).toBe('');
  expect(await leftAfter(state, family.pids)).toEqual([]);
}, 90_000);

test("npm run token (the README's recipes) prints the token and nothing else: no ExperimentalWarning", async () => {
  const state = await stateDir();
  const { stdout, stderr } = await run('npm', [
    'run',
    '-s',
    'token',
    '--',
    '--sub',
    'alice',
    '--state-dir',
    state,
  ]);
  expect(stderr).toBe('');
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
});
