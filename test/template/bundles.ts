import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type BundleSize, measureBundles } from '../../offline/bench/bundle-sizes.ts';
import type { FunctionDefinition } from '../../offline/template/template.ts';
import { ROOT } from './rules.ts';

/**
 * Bundles `functions` as `sam build` builds them, once before the tests of the suite this is called in (the build
 * is removed after them), and returns how to look up a function's bundle size in those tests.
 */
export function bundledSizes(functions: readonly FunctionDefinition[]): (logicalId: string) => BundleSize {
  let outDir: string | undefined;
  const sizes = new Map<string, BundleSize>();

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'bundle-budgets-'));
    for (const size of await measureBundles(functions, ROOT, outDir)) sizes.set(size.logicalId, size);
  }, 120_000);

  afterAll(() => (outDir ? rm(outDir, { recursive: true, force: true }) : undefined));

  return (logicalId) => {
    const size = sizes.get(logicalId);
    if (!size) throw new Error(`${logicalId} was not bundled`);
    return size;
  };
}
