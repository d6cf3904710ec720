import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What `npm run dev` needs to know about other processes: who listens on a port, and whether a pid is a
 * process it may stop. Linux answers from /proc (present even where ps and lsof are not installed, as in
 * slim containers); other systems from ps and lsof. An answer that cannot be had is undefined, never a guess.
 */
export interface ProcessInfo {
  pid: number;
  parent: number | undefined;
  /** Its arguments joined by spaces. */
  commandLine: string;
  cwd: string | undefined;
}

const PROC = existsSync('/proc/self/stat');

/** Whether a process with this pid exists (a zombie counts as gone: it can no longer do anything). */
export function isRunning(pid: number): boolean {
  return processInfo(pid) !== undefined;
}

export function processInfo(pid: number): ProcessInfo | undefined {
  return PROC ? procInfo(pid) : psInfo(pid);
}

function procInfo(pid: number): ProcessInfo | undefined {
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    // A zombie has an empty command line. The command name in stat may hold spaces and parentheses.
    if (!commandLine) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { pid, parent, commandLine, cwd: readLink(`/proc/${pid}/cwd`) };
  } catch {
    return undefined;
  }
}

function psInfo(pid: number): ProcessInfo | undefined {
  const line = run('ps', ['-o', 'stat=,ppid=,args=', '-p', String(pid)])?.trim();
  const match = line ? /^(\S+)\s+(\d+)\s+(.*)$/.exec(line) : null;
  if (!match || match[1]?.startsWith('Z')) return undefined;
  const cwd = run('lsof', ['-a', '-p', String(pid), '-d', 'cwd', '-Fn'])
    ?.split('\n')
    .find((field) => field.startsWith('n'))
    ?.slice(1);
  return { pid, parent: Number(match[2]), commandLine: String(match[3]), cwd };
}

/** The pid of a process listening on this TCP port (any address), if one can be found. */
export function listenerOf(port: number): number | undefined {
  if (!PROC) {
    const pid = Number(run('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'])?.split('\n')[0]);
    return pid > 0 ? pid : undefined;
  }
  const sockets = new Set(
    ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) => listeningSockets(table, port)),
  );
  if (sockets.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let descriptors: string[];
    try {
      descriptors = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone meanwhile, or another user's
    }
    for (const fd of descriptors) {
      const target = readLink(`/proc/${entry}/fd/${fd}`);
      if (target?.startsWith('socket:[') && sockets.has(target.slice(8, -1))) return Number(entry);
    }
  }
  return undefined;
}

/** Socket inodes in LISTEN state (st 0A) on `port`, from a /proc/net/tcp table (addresses in hex). */
function listeningSockets(table: string, port: number): string[] {
  if (!existsSync(table)) return [];
  return readFileSync(table, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && Number.parseInt(fields[1]?.split(':')[1] ?? '', 16) === port)
    .map((fields) => String(fields[9]));
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** A command's output, or undefined if it is not installed or fails (ps -p of a gone pid exits 1). */
function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
