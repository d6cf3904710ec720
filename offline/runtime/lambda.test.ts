import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { type Bundle, type LambdaConfig, LambdaError, LocalLambda } from './lambda.ts';

/**
 * A tiny ESM handler: it counts its invocations in module state (reset only by a cold start), reports its
 * version, context and environment, and misbehaves on request.
 */
const handlerSource = (version: string) => `
let invocations = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const handler = async (event, context) => {
  const started = Date.now();
  invocations += 1;
  if (event.log) console.log(event.log);
  if (event.fail) throw Object.assign(new Error(event.fail), { name: 'OrderRejected' });
  if (event.crash) setTimeout(() => { throw new Error('crashed'); }, event.crash);
  if (event.exit) process.exit(3);
  if (event.sleepMs) await sleep(event.sleepMs);
  return {
    version: '${version}',
    invocations,
    started,
    finished: Date.now(),
    requestId: context.awsRequestId,
    functionName: context.functionName,
    remainingMs: context.getRemainingTimeInMillis(),
    greeting: process.env.GREETING ?? null,
    parentVariable: process.env.PARENT_ONLY ?? null,
  };
};
`;

interface HandlerResult {
  version: string;
  invocations: number;
  started: number;
  finished: number;
  requestId: string;
  functionName: string;
  remainingMs: number;
  greeting: string | null;
  parentVariable: string | null;
}

let dir: string;
let v1: Bundle;
let v2: Bundle;

const bundleAt = (file: string): Bundle => ({
  file,
  inputs: new Set(),
  bytes: 0,
  metafile: { inputs: {}, outputs: {} },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-lambda-'));
  await writeFile(join(dir, 'v1.mjs'), handlerSource('v1'));
  await writeFile(join(dir, 'v2.mjs'), handlerSource('v2'));
  await writeFile(join(dir, 'no-handler.mjs'), 'export const main = async () => 1;\n');
  v1 = bundleAt(join(dir, 'v1.mjs'));
  v2 = bundleAt(join(dir, 'v2.mjs'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const lambdas: LocalLambda[] = [];

afterEach(async () => {
  await Promise.all(lambdas.splice(0).map((fn) => fn.stop()));
  vi.unstubAllEnvs();
});

const configOf = (overrides: Partial<LambdaConfig> = {}): LambdaConfig => ({
  functionName: 'OrdersFunction',
  bundle: v1,
  exportName: 'handler',
  environment: {},
  timeoutSeconds: 3,
  memorySize: 128,
  region: 'us-east-1',
  accountId: '000000000000',
  maxConcurrency: 2,
  log: () => undefined,
  ...overrides,
});

function localLambda(overrides: Partial<LambdaConfig> = {}): LocalLambda {
  const fn = new LocalLambda(configOf(overrides));
  lambdas.push(fn);
  return fn;
}

const invoke = (fn: LocalLambda, event: Record<string, unknown> = {}) =>
  fn.invoke(event) as Promise<HandlerResult>;

/** The LambdaError an invocation rejects with. */
async function failure(invocation: Promise<unknown>): Promise<LambdaError> {
  const error = await invocation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LambdaError);
  return error as LambdaError;
}

describe('LocalLambda', () => {
  test("returns the handler's result, with a Lambda context", async () => {
    const result = await invoke(localLambda());
    expect(result).toMatchObject({ version: 'v1', invocations: 1, functionName: 'OrdersFunction' });
    expect(result.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(result.remainingMs).toBeGreaterThan(2000);
    expect(result.remainingMs).toBeLessThanOrEqual(3000);
  });

  test('loads the module once and reuses it while warm, with a new request id each time', async () => {
    const fn = localLambda();
    const results = [await invoke(fn), await invoke(fn), await invoke(fn)];
    expect(results.map((result) => result.invocations)).toEqual([1, 2, 3]);
    expect(new Set(results.map((result) => result.requestId)).size).toBe(3);
  });

  test("gives each function its own environment, not the test process's", async () => {
    vi.stubEnv('PARENT_ONLY', 'leaked');
    const english = localLambda({ environment: { GREETING: 'hello' } });
    const french = localLambda({ environment: { GREETING: 'bonjour' } });
    const [first, second] = await Promise.all([invoke(english), invoke(french)]);
    expect(first).toMatchObject({ greeting: 'hello', parentVariable: null });
    expect(second).toMatchObject({ greeting: 'bonjour', parentVariable: null });
  });

  test('a thrown error rejects with a LambdaError carrying its type; the environment stays warm', async () => {
    const lines: string[] = [];
    const fn = localLambda({ log: (_name, line) => lines.push(line) });
    const error = await failure(invoke(fn, { fail: 'out of stock' }));
    expect(error.errorType).toBe('OrderRejected');
    expect(error.message).toBe('out of stock');
    expect(lines.join('\n')).toContain('Invoke Error\tOrderRejected: out of stock');
    expect((await invoke(fn)).invocations).toBe(2);
  });

  test('a module without the export fails every invocation with Runtime.HandlerNotFound', async () => {
    const fn = localLambda({ bundle: bundleAt(join(dir, 'no-handler.mjs')) });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await failure(fn.invoke({}));
      expect(error.errorType).toBe('Runtime.HandlerNotFound');
      expect(error.message).toContain('does not export handler');
    }
  });

  test('an invocation over its timeout fails with Sandbox.Timedout and the next one starts cold', async () => {
    const lines: string[] = [];
    const fn = localLambda({ timeoutSeconds: 1, log: (_name, line) => lines.push(line) });
    expect((await invoke(fn)).invocations).toBe(1);
    const startedAt = Date.now();
    const error = await failure(invoke(fn, { sleepMs: 4000 }));
    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.message).toBe('Task timed out after 1 seconds');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(990);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(lines.some((line) => line.endsWith('Task timed out after 1.00 seconds'))).toBe(true);
    expect((await invoke(fn)).invocations).toBe(1);
  });

  test('an environment that dies during an invocation fails it with Runtime.ExitError; the next starts cold', async () => {
    const fn = localLambda({ timeoutSeconds: 2 });
    expect((await invoke(fn)).invocations).toBe(1);
    const error = await failure(invoke(fn, { exit: true }));
    expect(error.errorType).toBe('Runtime.ExitError');
    expect(error.message).toContain('exit status 3');
    expect((await invoke(fn)).invocations).toBe(1);
  });

  test('an environment that dies while idle is replaced, not handed the next invocation', async () => {
    const lines: string[] = [];
    const fn = localLambda({ timeoutSeconds: 2, maxConcurrency: 1, log: (_name, line) => lines.push(line) });
    expect((await invoke(fn, { crash: 10 })).invocations).toBe(1);
    await vi.waitFor(() => expect(lines.join('\n')).toContain('Runtime exited with error: Error: crashed'));
    expect((await invoke(fn)).invocations).toBe(1);
  });

  test.each([1, 2])(
    'update() lets an invocation in flight finish on the old code; the next runs the new (maxConcurrency %i)',
    async (maxConcurrency) => {
      const fn = localLambda({ maxConcurrency });
      const inFlight = invoke(fn, { sleepMs: 300 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      fn.update(configOf({ maxConcurrency, bundle: v2 }));
      const next = invoke(fn);
      expect((await inFlight).version).toBe('v1');
      expect((await next).version).toBe('v2');
      expect((await invoke(fn)).version).toBe('v2');
    },
  );

  test('update() replaces an idle environment at once, with the new environment variables', async () => {
    const fn = localLambda({ environment: { GREETING: 'hello' } });
    expect(await invoke(fn)).toMatchObject({ version: 'v1', invocations: 1, greeting: 'hello' });
    fn.update(configOf({ bundle: v2, environment: { GREETING: 'hi' } }));
    expect(await invoke(fn)).toMatchObject({ version: 'v2', invocations: 1, greeting: 'hi' });
  });

  test('maxConcurrency 1 runs concurrent invocations one after the other', async () => {
    const fn = localLambda({ maxConcurrency: 1 });
    const [first, second] = await Promise.all([invoke(fn, { sleepMs: 200 }), invoke(fn, { sleepMs: 200 })]);
    const [earlier, later] = [first, second].sort((a, b) => a.started - b.started);
    expect(later?.started).toBeGreaterThanOrEqual(earlier?.finished ?? Number.POSITIVE_INFINITY);
    expect(later?.invocations).toBe(2);
  });

  test('maxConcurrency 2 runs two invocations at once, in two environments', async () => {
    const fn = localLambda({ maxConcurrency: 2 });
    const [first, second] = await Promise.all([invoke(fn, { sleepMs: 500 }), invoke(fn, { sleepMs: 500 })]);
    const [earlier, later] = [first, second].sort((a, b) => a.started - b.started);
    expect(later?.started).toBeLessThan(earlier?.finished ?? 0);
    expect([first.invocations, second.invocations]).toEqual([1, 1]);
  });

  test("the log sink receives the handler's console output, named by function", async () => {
    const lines: [string, string][] = [];
    const fn = localLambda({ log: (name, line) => lines.push([name, line]) });
    await invoke(fn, { log: 'order o-1 placed' });
    await vi.waitFor(() => expect(lines).toContainEqual(['OrdersFunction', 'order o-1 placed']));
  });
});
