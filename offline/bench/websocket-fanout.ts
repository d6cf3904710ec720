import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { spawnDev } from '../cli/dev-process.ts';
import { DEV_SIGNING_KEY_FILE, loadOrCreateSigningKey, signToken } from '../services/issuer.ts';
import { declaredParameters, ROOM_ROUTES, roomApiOf } from './load-and-faults.ts';

/**
 * `npm run bench:websocket`: broadcast fan-out offline. `npm run dev` runs in its own process (as for a user);
 * N clients in this process join one room; one of them sends a message; the time runs from the send to the
 * moment the last of the N members has received it.
 */
const SIZES = [100, 1000];
const ROUNDS = 3;

interface Member {
  socket: WebSocket;
  next(
    type: string,
    predicate?: (event: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
}

// Nothing to measure without a WebSocket API that speaks the chat's protocol (the README can remove the chat).
if (!roomApiOf()) {
  process.stdout.write(
    `Broadcast fan-out skipped: the template has no WebSocket API with the routes ${ROOM_ROUTES.join(', ')}\n`,
  );
  process.exit(0);
}

const stateDir = await mkdtemp(join(tmpdir(), 'bench-ws-'));
const key = await loadOrCreateSigningKey(join(stateDir, DEV_SIGNING_KEY_FILE));
// Lift the stage throttles: the benchmark measures fan-out, not the template's rate limits.
const lifted = declaredParameters({ ChatRateLimit: '1000000', ChatBurstLimit: '1000000' });
const dev = spawnDev(
  stateDir,
  ['--no-seed', ...Object.entries(lifted).flatMap(([name, value]) => ['--parameter', `${name}=${value}`])],
  { stderr: 'inherit' },
);
process.on('exit', () => dev.child.kill('SIGINT'));
await dev.ready();
const stack = await dev.stack();
const [api] = Object.values(stack.webSocketApis ?? {});
const [issuer] = stack.issuer.issuers;
const [clientId] = stack.issuer.audiences;
if (!api || !issuer || !clientId) throw new Error('The template needs a WebSocket API and a JWT authoriser');
const authoriser = { issuer, clientId };
const webSocketUrl = api.url;

async function connect(sub: string): Promise<Member> {
  const token = await signToken(key, { ...authoriser, sub });
  const socket = new WebSocket(`${webSocketUrl}?token=${encodeURIComponent(token)}`);
  const waiting: {
    type: string;
    predicate: (event: Record<string, unknown>) => boolean;
    resolve: (event: Record<string, unknown>) => void;
  }[] = [];
  socket.on('message', (data) => {
    const event = JSON.parse(data.toString()) as Record<string, unknown>;
    const index = waiting.findIndex((wait) => wait.type === event.type && wait.predicate(event));
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(event);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    socket,
    next: (type, predicate = () => true) =>
      new Promise((resolve) => waiting.push({ type, predicate, resolve })),
  };
}

async function inBatches<T>(count: number, size: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += size) {
    results.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(size, count - start) }, (_, i) => make(start + i)),
      )),
    );
  }
  return results;
}

const rows: string[] = [];
for (const size of SIZES) {
  const room = `bench-${randomUUID().slice(0, 8)}`;
  const members = await inBatches(size, 50, (index) => connect(`member-${index}`));
  await inBatches(size, 50, async (index) => {
    const member = members[index] as Member;
    const joined = member.next('joined');
    member.socket.send(JSON.stringify({ action: 'joinroom', roomId: room }));
    await joined;
  });
  const timings: number[] = [];
  // Round 0 warms the sendmessage function (its cold start is not fan-out) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const text = `round ${round}`;
    const received = members.map((member) => member.next('message', (event) => event.text === text));
    const started = performance.now();
    members[0]?.socket.send(JSON.stringify({ action: 'sendmessage', roomId: room, text }));
    await Promise.all(received);
    if (round > 0) timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  rows.push(
    `| ${size} | ${timings.map((ms) => `${ms.toFixed(0)} ms`).join(' / ')} | ${(timings[1] ?? 0).toFixed(0)} ms |`,
  );
  await Promise.all(
    members.map((member) => new Promise((resolve) => member.socket.once('close', resolve).close())),
  );
}

process.stdout.write(`Broadcast fan-out offline (Node ${process.versions.node}, ${ROUNDS} rounds each)\n`);
process.stdout.write('| room members | send → last member received (each round, sorted) | median |\n');
for (const row of rows) process.stdout.write(`${row}\n`);
await dev.stop();
await rm(stateDir, { recursive: true, force: true });
