import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LambdaError, LocalLambda } from './lambda.ts';

/**
 * Stopping a function while invocations run and others wait for an environment (a cloud stopping under load:
 * a room's worth of `$disconnect` events queued behind two environments). Found by `npm run bench:faults`,
 * whose process never exited: the waiting invocations started fresh environments after stop() and kept them.
 */
let dir: string;
let handlerFile: string;
let started: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambda-stop-'));
  handlerFile = join(dir, 'handler.mjs');
  started = join(dir, 'started.txt');
  await writeFile(
    handlerFile,
    `import { appendFileSync } from 'node:fs';
export const handler = async (event) => {
  appendFileSync(${JSON.stringify(started)}, event.id + '\\n');
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return event.id;
};\n`,
  );
  await writeFile(started, '');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

test('stop() fails the running and the waiting invocations at once, and starts no environment for them', async () => {
  const fn = new LocalLambda({
    functionName: 'Disconnect',
    bundle: { file: handlerFile, inputs: new Set(), bytes: 0, metafile: { inputs: {}, outputs: {} } },
    exportName: 'handler',
    environment: {},
    timeoutSeconds: 10,
    memorySize: 128,
    region: 'us-east-1',
    accountId: '123456789012',
    maxConcurrency: 1,
    log: () => undefined,
  });
  const running = fn.invoke({ id: 'running', sleepMs: 5_000 });
  const waiting = fn.invoke({ id: 'waiting', sleepMs: 0 });
  const settled = Promise.allSettled([running, waiting]);
  // The first invocation has reached its handler: its environment is busy, the second one waits.
  for (let attempt = 0; attempt < 200 && !(await readFile(started, 'utf8')).includes('running'); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const stopped = performance.now();
  await fn.stop();
  const [first, second] = await settled;
  expect(performance.now() - stopped).toBeLessThan(3_000);
  for (const outcome of [first, second]) {
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LambdaError);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect((await readFile(started, 'utf8')).split('\n').filter(Boolean)).toEqual(['running']);
  await expect(fn.invoke({ id: 'late', sleepMs: 0 })).rejects.toBeInstanceOf(LambdaError);
}, 30_000);
