import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackInfo } from '../../local/cloud.ts';

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
  /** Resolves once it prints "Ready in"; rejects if it exits first or takes longer than `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Its `.local/stack.json`, read from the state folder. */
  stack(): Promise<StackInfo & { chatPage?: string }>;
  /** Ctrl-C, and wait for it to exit. */
  stop(): Promise<number | null>;
}

/** `npm run dev` (local/dev.ts) as a child process, on free ports, with its state in `stateDir`. */
export function spawnDev(
  stateDir: string,
  args: string[] = [],
  options: { stderr?: 'pipe' | 'inherit' } = {},
): DevProcess {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      'local/dev.ts',
      '--state-dir',
      stateDir,
      '--no-watch',
      ...PORT_OPTIONS.flatMap((option) => [option, '0']),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', options.stderr ?? 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return {
    child,
    output: () => output,
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
