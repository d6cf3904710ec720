import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnDev } from '../cli/dev-process.ts';
import { stringifyClaims } from '../gateways/http/jwt-authorizer.ts';
import { DEV_SIGNING_KEY_FILE, loadOrCreateSigningKey, signToken } from '../services/issuer.ts';
import { httpApiDefinitions } from '../template/http-api-definition.ts';
import { createResolver } from '../template/resolver.ts';
import { environmentOf, functionsOf, loadTemplate } from '../template/template.ts';

/**
 * `npm run bench`: the offline cloud's HTTP API against a bare node:http server calling the same bundled
 * handler, in the same run, on loopback. The load comes from a separate process (offline/bench/load.ts).
 */
const SEQUENTIAL = 3000;
const CONNECTIONS = 10;
const SECONDS = 5;
const run = promisify(execFile);
const node = process.execPath;

const stateDir = await mkdtemp(join(tmpdir(), 'bench-'));
const resolver = createResolver(loadTemplate(), undefined);
const authorizer = httpApiDefinitions(resolver).flatMap((api) => api.authorizers)[0];
if (!authorizer?.audience[0]) throw new Error('template.yaml has no JWT authoriser with an audience');
const key = await loadOrCreateSigningKey(join(stateDir, DEV_SIGNING_KEY_FILE));
const token = await signToken(key, {
  issuer: authorizer.issuer,
  clientId: authorizer.audience[0],
  sub: 'bench',
  scopes: ['api/orders.read'],
});

async function load(url: string, authorization: string, ...args: string[]) {
  const { stdout } = await run(node, ['offline/bench/load.ts', url, authorization, ...args], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as { requests: number; rps: number; p50: number; p99: number };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  await once(child, 'exit');
}

// 1. `npm run dev` from spawn to the first request answered by a function (DynamoDB Local included).
const bootStarted = performance.now();
// The template's stage throttle would cap the measurement at its rate limit.
const dev = spawnDev(stateDir, [
  '--no-seed',
  '--parameter',
  'HttpApiRateLimit=1000000',
  '--parameter',
  'HttpApiBurstLimit=1000000',
]);
// Whatever happens below, no server outlives the benchmark.
process.on('exit', () => dev.child.kill('SIGINT'));
await dev.ready();
const httpApi = (await dev.stack()).httpApis.HttpApi;
if (!httpApi) throw new Error('The template has no HttpApi');
const meUrl = `${httpApi.url}/me`;
let bootMs = 0;
for (;;) {
  const answer = await fetch(meUrl, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  if (answer?.status === 200) {
    bootMs = performance.now() - bootStarted;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}

// 2. The warm route through the offline cloud: JWT verification, routing, a worker-thread Lambda.
// Warm every execution environment the concurrent phase will use, not just the first one.
await load(meUrl, `Bearer ${token}`, 'concurrent', String(CONNECTIONS), '2');
const cloudSequential = await load(meUrl, `Bearer ${token}`, 'sequential', String(SEQUENTIAL));
const cloudConcurrent = await load(
  meUrl,
  `Bearer ${token}`,
  'concurrent',
  String(CONNECTIONS),
  String(SECONDS),
);
await dev.stop();

// 3. The floor: the same bundle behind a bare node:http server, with the claims the authoriser would pass.
const getMe = functionsOf(resolver.template).find((fn) => fn.properties.Handler === 'get-me.handler');
if (!getMe) throw new Error('No GetMe function in the template');
const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
const event = {
  version: '2.0',
  routeKey: 'GET /me',
  rawPath: '/me',
  rawQueryString: '',
  headers: { host: '127.0.0.1' },
  requestContext: {
    requestId: 'bench',
    authorizer: { jwt: { claims: stringifyClaims(payload), scopes: ['api/orders.read'] } },
  },
  isBase64Encoded: false,
};
const bundle = join(stateDir, 'build', getMe.logicalId, 'get-me.mjs');
const bare = spawn(node, ['offline/bench/bare-server.ts', bundle, JSON.stringify(event)], {
  env: { ...process.env, ...environmentOf(getMe, resolver) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.on('exit', () => bare.kill());
const [portLine] = (await once(bare.stdout, 'data')) as [Buffer];
const bareUrl = `http://127.0.0.1:${portLine.toString().trim()}/me`;
await load(bareUrl, '-', 'concurrent', String(CONNECTIONS), '2');
const bareSequential = await load(bareUrl, '-', 'sequential', String(SEQUENTIAL));
const bareConcurrent = await load(bareUrl, '-', 'concurrent', String(CONNECTIONS), String(SECONDS));
await stop(bare);
await rm(stateDir, { recursive: true, force: true });

const ms = (value: number) => `${value.toFixed(2)} ms`;
const rows = [
  ['', 'offline cloud', 'bare node:http', 'ratio / overhead'],
  [
    'p50, sequential',
    ms(cloudSequential.p50),
    ms(bareSequential.p50),
    `+${ms(cloudSequential.p50 - bareSequential.p50)}`,
  ],
  [
    'p99, sequential',
    ms(cloudSequential.p99),
    ms(bareSequential.p99),
    `+${ms(cloudSequential.p99 - bareSequential.p99)}`,
  ],
  [
    `requests/s, ${CONNECTIONS} connections`,
    cloudConcurrent.rps.toFixed(0),
    bareConcurrent.rps.toFixed(0),
    `${((cloudConcurrent.rps / bareConcurrent.rps) * 100).toFixed(0)} %`,
  ],
  ['boot to first answered request', `${(bootMs / 1000).toFixed(2)} s`, '', ''],
];
process.stdout.write(
  `GET /me (JWT-authorised, Node ${process.versions.node}, ${SEQUENTIAL} sequential, ${CONNECTIONS}×${SECONDS} s concurrent)\n`,
);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
