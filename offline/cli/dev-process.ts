import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackInfo } from '../cloud.ts';
import { type ProcessInfo, processInfo } from './processes.ts';

/** Every port option of `npm run dev`: a child started here takes free ports only, never the dev defaults. */
const PORT_OPTIONS = [
  '--http-port',
  '--rest-port',
  '--websocket-port',
  '--chat-port',
  '--issuer-port',
  '--dynamodb-port',
  '--sqs-port',
];

export interface DevProcess {
  child: ChildProcess;
  /** Everything it has printed so far (stdout, and stderr unless inherited). */
  output(): string;
  /** What it has printed on stderr so far. */
  errors(): string;
  /** Waits until it exits by itself: its exit code, or the signal that ended it. */
  exited(timeoutMs?: number): Promise<number | NodeJS.Signals>;
  /** Resolves once it prints "Ready in"; rejects if it exits first or takes longer than `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Its `.local/stack.json`, read from the state folder. */
  stack(): Promise<StackInfo & { chatPage?: string }>;
  /** Ctrl-C, and wait for it to exit. */
  stop(): Promise<number | null>;
}

/** `npm run dev` (offline/cli/dev.ts) as a child process, on free ports, with its state in `stateDir`. */
export function spawnDev(
  stateDir: string,
  args: string[] = [],
  options: { stderr?: 'pipe' | 'inherit'; stdin?: 'ignore' | 'pipe' } = {},
): DevProcess {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      'offline/cli/dev.ts',
      '--state-dir',
      stateDir,
      '--no-watch',
      ...PORT_OPTIONS.flatMap((option) => [option, '0']),
      ...args,
    ],
    { stdio: [options.stdin ?? 'ignore', 'pipe', options.stderr ?? 'pipe'] },
  );
  let output = '';
  let errors = '';
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => {
    output += chunk;
    errors += chunk;
  });
  return {
    child,
    output: () => output,
    errors: () => errors,
    exited: async (timeoutMs = 30_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`npm run dev still runs after ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
      });
      const [code, signal] = await Promise.race([exit, timeout]).finally(() => clearTimeout(timer));
      return code ?? (signal as NodeJS.Signals);
    },
    ready: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes('Ready in')) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`npm run dev did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    stack: async () => JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')),
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}

/** Every process running now (zombies left out: they no longer hold anything). */
function allProcesses(): ProcessInfo[] {
  const pids = existsSync('/proc/self/stat')
    ? readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))
    : execFileSync('ps', ['-axo', 'pid='], { encoding: 'utf8' }).split('\n');
  return pids.flatMap((pid) => processInfo(Number(pid)) ?? []);
}

/** Pids of every process under `pid` now: its children, theirs, and so on. */
export function descendantsOf(pid: number): number[] {
  const processes = allProcesses();
  const found: number[] = [];
  for (let parents = [pid]; parents.length > 0; ) {
    parents = processes.filter((candidate) => parents.includes(candidate.parent ?? -1)).map(({ pid }) => pid);
    found.push(...parents);
  }
  return found;
}

/**
 * What is left of an npm run dev: which of `pids` (its processes, listed while it ran) still run, and any process
 * naming its state folder in its command line (its DynamoDB Local's -dbPath), whoever its parent now is.
 */
export function survivorsOf(stateDir: string, pids: readonly number[]): ProcessInfo[] {
  return allProcesses().filter(
    (candidate) => pids.includes(candidate.pid) || candidate.commandLine.includes(stateDir),
  );
}
