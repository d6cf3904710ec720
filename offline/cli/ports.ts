import { createServer } from 'node:net';
import { basename } from 'node:path';
import { listenerOf, type ProcessInfo, processInfo } from './processes.ts';

/** A TCP port that is free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('No port')),
      );
    });
  });
}

/** A port one part of `npm run dev` listens on, and the option that moves it. */
export interface PortUse {
  port: number;
  /** What listens there, as the summary names it: "HTTP API HttpApi", "DynamoDB Local". */
  part: string;
  flag: string;
  /** DynamoDB Local binds every interface (it has no bind-address option); every other part binds loopback. */
  everyInterface?: boolean;
}

/** Raised when a port is taken; `code` and `port` match Node's own listen errors, so one handler serves both. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  readonly port: number;
  constructor(port: number, part: string) {
    super(`port ${port} (${part}) is in use ${holderOf(port)}`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

/**
 * One line for each port that cannot be opened now, saying who holds it and which option moves it. Ports are
 * tried one at a time and released at once, so nothing slow starts before every port is known to be free.
 * Port 0 (any free port) never conflicts.
 */
export async function portConflicts(uses: readonly PortUse[]): Promise<string[]> {
  const lines: string[] = [];
  const claimed = new Map<number, PortUse>();
  for (const use of uses) {
    if (use.port === 0) continue;
    const earlier = claimed.get(use.port);
    if (earlier) {
      lines.push(
        `port ${use.port} is given to both the ${earlier.part} and the ${use.part}. Pass ${use.flag} <another port>.`,
      );
      continue;
    }
    claimed.set(use.port, use);
    const code = await whyUnavailable(use);
    if (code) lines.push(conflictLine(use, code));
  }
  return lines;
}

/** The line for a port that failed to open with this error code (EADDRINUSE, EACCES…). */
export function conflictLine(use: PortUse, code: string): string {
  if (code === 'EADDRINUSE')
    return `port ${use.port} (${use.part}) is in use ${holderOf(use.port)}. Stop it, or pass ${use.flag} <another port>.`;
  if (code === 'EACCES')
    return `port ${use.port} (${use.part}) needs privileges this user lacks (EACCES). Pass ${use.flag} <a port above 1023>.`;
  return `port ${use.port} (${use.part}) cannot be opened (${code}). Pass ${use.flag} <another port>.`;
}

/** Throws PortInUseError unless `port` can be opened now. */
export async function assertPortFree(use: Omit<PortUse, 'flag'>): Promise<void> {
  if ((await whyUnavailable(use)) === 'EADDRINUSE') throw new PortInUseError(use.port, use.part);
}

function whyUnavailable(use: Omit<PortUse, 'flag'>): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    // No host: every interface (IPv6 and IPv4), as DynamoDB Local listens.
    const host = use.everyInterface ? undefined : '127.0.0.1';
    server.listen({ port: use.port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

const DEV_SCRIPT = /(^|[\s/])offline\/cli\/dev\.ts(\s|$)/;

/** "by another npm run dev of this project (pid 123)", "by python3 (pid 9)"… or "by another program". */
export function holderOf(port: number): string {
  const pid = listenerOf(port);
  const holder = pid === undefined ? undefined : processInfo(pid);
  if (!holder) return 'by another program';
  if (DEV_SCRIPT.test(holder.commandLine)) return `by ${devName(holder)} (pid ${holder.pid})`;
  if (holder.commandLine.includes('DynamoDBLocal.jar')) {
    const owner = holder.parent === undefined ? undefined : processInfo(holder.parent);
    return owner && DEV_SCRIPT.test(owner.commandLine)
      ? `by the DynamoDB Local (pid ${holder.pid}) of ${devName(owner)} (pid ${owner.pid})`
      : `by a DynamoDB Local that no running npm run dev owns (pid ${holder.pid})`;
  }
  const [program = 'a process'] = holder.commandLine.split(' ');
  return `by ${basename(program)} (pid ${holder.pid})`;
}

function devName(dev: ProcessInfo): string {
  if (dev.cwd === process.cwd()) return 'another npm run dev of this project';
  return dev.cwd ? `the npm run dev of ${dev.cwd}` : 'another npm run dev';
}
