import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FaultInjector, type InjectedFault } from './faults.ts';
import { LambdaError, LocalLambda } from './lambda.ts';

const sqsEvent = (...receiveCounts: number[]) => ({
  Records: receiveCounts.map((count) => ({ attributes: { ApproximateReceiveCount: String(count) } })),
});

describe('FaultInjector', () => {
  const draws = (injector: FaultInjector, name: string, count: number) => {
    const faults = injector.forFunction(name);
    return Array.from({ length: count }, () => faults?.draw({}));
  };

  test('the same seed gives the same faults; another seed, other ones', () => {
    const plan = (seed: number) => ({
      seed,
      functions: { Consumer: { beforeHandler: 0.1, afterHandler: 0.3 } },
    });
    const first = draws(new FaultInjector(plan(7)), 'Consumer', 200);
    expect(draws(new FaultInjector(plan(7)), 'Consumer', 200)).toEqual(first);
    expect(draws(new FaultInjector(plan(8)), 'Consumer', 200)).not.toEqual(first);
  });

  test('faults come at the planned rates and are counted', () => {
    const injector = new FaultInjector({
      seed: 1,
      functions: { Consumer: { beforeHandler: 0.1, afterHandler: 0.3 } },
    });
    const outcomes = draws(injector, 'Consumer', 5_000);
    const count = (fault: InjectedFault) => outcomes.filter((outcome) => outcome === fault).length;
    expect(count('beforeHandler') / 5_000).toBeCloseTo(0.1, 1);
    expect(count('afterHandler') / 5_000).toBeCloseTo(0.3, 1);
    expect(injector.counts('Consumer')).toEqual({
      invocations: 5_000,
      records: 0,
      beforeHandler: count('beforeHandler'),
      afterHandler: count('afterHandler'),
      spared: 0,
    });
  });

  test('a function the plan does not name has no faults', () => {
    expect(
      new FaultInjector({ seed: 1, functions: { Consumer: { afterHandler: 1 } } }).forFunction('Other'),
    ).toBe(undefined);
  });

  test('an invocation carrying a record at spareReceiveCount is never failed, whatever the draw', () => {
    const injector = new FaultInjector({
      seed: 3,
      functions: { Consumer: { afterHandler: 1, spareReceiveCount: 5 } },
    });
    const faults = injector.forFunction('Consumer');
    expect(faults?.draw(sqsEvent(1, 4))).toBe('afterHandler');
    expect(faults?.draw(sqsEvent(1, 5))).toBeUndefined();
    expect(faults?.draw(sqsEvent(6))).toBeUndefined();
    expect(injector.counts('Consumer')).toMatchObject({
      invocations: 3,
      records: 5,
      afterHandler: 1,
      spared: 2,
    });
  });

  test('probabilities outside 0–1, or adding up to more than 1, are refused', () => {
    expect(
      () => new FaultInjector({ seed: 1, functions: { F: { beforeHandler: 0.6, afterHandler: 0.5 } } }),
    ).toThrow(/at most 1/);
    expect(() => new FaultInjector({ seed: 1, functions: { F: { afterHandler: -0.1 } } })).toThrow();
  });
});

describe('LocalLambda with injected faults', () => {
  let dir: string;
  let handlerFile: string;
  let sideEffects: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faults-'));
    handlerFile = join(dir, 'handler.mjs');
    sideEffects = join(dir, 'side-effects.txt');
    // The handler's work is an append to a file: whether it ran is visible after the invocation failed.
    await writeFile(
      handlerFile,
      `import { appendFileSync } from 'node:fs';
export const handler = async (event) => { appendFileSync(${JSON.stringify(sideEffects)}, event.id + '\\n'); return 'done'; };\n`,
    );
    await writeFile(sideEffects, '');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  const lambdaFailing = (fault: InjectedFault | undefined) =>
    new LocalLambda({
      functionName: 'Consumer',
      bundle: { file: handlerFile, inputs: new Set(), bytes: 0, metafile: { inputs: {}, outputs: {} } },
      exportName: 'handler',
      environment: {},
      timeoutSeconds: 10,
      memorySize: 128,
      region: 'us-east-1',
      accountId: '123456789012',
      maxConcurrency: 1,
      log: () => undefined,
      faults: { draw: () => fault },
    });

  const ran = async () => (await readFile(sideEffects, 'utf8')).split('\n').filter(Boolean);

  test('before the handler: the invocation fails and nothing was done', async () => {
    const fn = lambdaFailing('beforeHandler');
    try {
      await expect(fn.invoke({ id: 'before' })).rejects.toMatchObject({
        name: 'LambdaError',
        errorType: 'InjectedFault',
      });
      expect(await ran()).not.toContain('before');
    } finally {
      await fn.stop();
    }
  });

  test('after the handler: its work is done, yet the invocation fails', async () => {
    const fn = lambdaFailing('afterHandler');
    try {
      await expect(fn.invoke({ id: 'after' })).rejects.toBeInstanceOf(LambdaError);
      expect(await ran()).toContain('after');
    } finally {
      await fn.stop();
    }
  });

  test('no fault drawn: the handler answers', async () => {
    const fn = lambdaFailing(undefined);
    try {
      expect(await fn.invoke({ id: 'clean' })).toBe('done');
    } finally {
      await fn.stop();
    }
  });
});
