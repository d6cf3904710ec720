import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { version as esbuildVersion } from 'esbuild';
import { esbuildOptions, runtimeEnvironmentOf } from '../runtime/lambda.ts';
import { createResolver } from '../template/resolver.ts';
import {
  type FunctionDefinition,
  functionsOf,
  type JsonObject,
  loadTemplate,
  type Template,
} from '../template/template.ts';
import {
  type BundleSize,
  budgetOf,
  countedBytes,
  kb,
  measureBundles,
  TRACER_PACKAGES,
} from './bundle-sizes.ts';

/**
 * `npm run bench:bundles`: every function's bundle as `sam build` makes it (size, the tracer's share, its byte
 * budget), and the time a fresh Node process takes to import it (module load + init, with the function's
 * template environment), as a ratio against an empty handler bundled with the same settings in the same run.
 * `--runs N` sets the imports per bundle (default 21); the bundles are imported round-robin, so load from
 * elsewhere on the machine spreads over all of them.
 */
const PROJECT = resolve(import.meta.dirname, '../..');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs takes a positive integer');
const run = promisify(execFile);

const template = loadTemplate(join(PROJECT, 'template.yaml'));
const resolver = createResolver(template, undefined);
const functions = functionsOf(template);
const workDir = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

/**
 * Bundles of generated entry points, built with the given esbuild settings (a function's own, or the template's
 * shared ones), by the same build as the functions.
 */
async function generatedFunctions(
  sources: { logicalId: string; source: string; buildProperties: JsonObject }[],
): Promise<FunctionDefinition[]> {
  const resources: Template['Resources'] = {};
  for (const { logicalId, source, buildProperties } of sources) {
    const entry = join(workDir, `${logicalId}.ts`);
    await writeFile(entry, source);
    resources[logicalId] = {
      Type: 'AWS::Serverless::Function',
      Metadata: { BuildMethod: 'esbuild', BuildProperties: { ...buildProperties, EntryPoints: [entry] } },
      Properties: { Handler: `${logicalId}.handler` },
    };
  }
  return functionsOf({ ...template, Resources: resources });
}

/**
 * The references, with the template's shared esbuild settings: the empty handler (the floor every ratio is
 * against) and the tracer alone, set up as the functions that trace set it up (functions/lib/tracing.ts).
 */
const EMPTY_HANDLER = 'export const handler = async () => ({});\n';
const TRACING_MODULE = JSON.stringify(join(PROJECT, 'functions/lib/tracing.ts'));
const shared = template.Metadata?.EsbuildProperties as JsonObject | undefined;
if (!shared) throw new Error('template.yaml has no Metadata.EsbuildProperties');
const [emptyHandler, tracerAlone] = await generatedFunctions([
  { logicalId: 'EmptyHandler', source: EMPTY_HANDLER, buildProperties: shared },
  {
    logicalId: 'TracerAlone',
    source: `export { tracer } from ${TRACING_MODULE};\n${EMPTY_HANDLER}`,
    buildProperties: shared,
  },
]);
if (!emptyHandler || !tracerAlone) throw new Error('No reference functions');
const buildDir = join(workDir, 'build');
const measured = await measureBundles([...functions, emptyHandler, tracerAlone], PROJECT, buildDir);
const sizeOf = new Map(measured.map((size) => [size.logicalId, size]));

/**
 * What the functions that do not trace would pay if they did: each one's own entry point with the tracer set up
 * beside it, built with the function's own settings.
 */
const untraced = functions.filter((fn) => sizeOf.get(fn.logicalId)?.tracerBytes === 0);
const tracedVariants = await generatedFunctions(
  untraced.map((fn) => {
    const [entry] = esbuildOptions(fn, PROJECT).entryPoints as string[];
    return {
      logicalId: `${fn.logicalId}WithTracer`,
      source: `export * from ${JSON.stringify(entry)};\nexport { tracer } from ${TRACING_MODULE};\n`,
      buildProperties: fn.buildProperties ?? {},
    };
  }),
);
for (const size of await measureBundles(tracedVariants, PROJECT, buildDir)) sizeOf.set(size.logicalId, size);

/** The function's environment as Lambda gives it, with the execution environment's name (which turns the tracer on). */
function lambdaEnvironment(fn: FunctionDefinition, bundleFile: string): Record<string, string> {
  return {
    ...runtimeEnvironmentOf(fn, resolver),
    AWS_EXECUTION_ENV: `AWS_Lambda_${String(fn.properties.Runtime)}`,
    LAMBDA_TASK_ROOT: dirname(bundleFile),
  };
}

/**
 * Milliseconds a fresh Node process spends in `await import(bundle)`: loading, parsing and the module's init.
 * A streaming handler calls `awslambda.streamifyResponse` while its module loads, so the global the runtime
 * provides is stubbed first (the handler is never invoked here), without loading anything that would make
 * every other import look cheaper.
 */
async function importTime(file: string, env: Record<string, string>): Promise<number> {
  const script = [
    'globalThis.awslambda = { streamifyResponse: (handler) => handler, HttpResponseStream: { from: (stream) => stream } };',
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'process.stdout.write(String(performance.now() - started));',
    'process.exit(0);',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', script], { env });
  return Number(stdout);
}

/** Each bundle to time, with the environment of the function it belongs to (a variant: its function's). */
const timed = [
  ...[...functions, emptyHandler, tracerAlone].map((fn) => ({ logicalId: fn.logicalId, fn })),
  ...untraced.map((fn) => ({ logicalId: `${fn.logicalId}WithTracer`, fn })),
].map(({ logicalId, fn }) => {
  const size = sizeOf.get(logicalId) as BundleSize;
  return { logicalId, size, env: lambdaEnvironment(fn, size.file), times: [] as number[] };
});
for (let round = 0; round < RUNS; round++) {
  for (const target of timed) target.times.push(await importTime(target.size.file, target.env));
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const medians = new Map(timed.map(({ logicalId, times }) => [logicalId, median(times)]));
const medianOf = (logicalId: string) => medians.get(logicalId) as number;
const bytesOf = (logicalId: string) => (sizeOf.get(logicalId) as BundleSize).bytes;

const emptyMs = medianOf(emptyHandler.logicalId);
const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number) => `× ${(value / emptyMs).toFixed(1)}`;
const rows = functions.map((fn) => {
  const size = sizeOf.get(fn.logicalId) as BundleSize;
  const budget = budgetOf(template, size);
  const counted = countedBytes(size, budget);
  const variant = `${fn.logicalId}WithTracer`;
  const tracer =
    size.tracerBytes > 0
      ? `${kb(size.tracerBytes)}, traced`
      : `none; traced: +${kb(bytesOf(variant) - size.bytes)}, +${ms(medianOf(variant) - medianOf(fn.logicalId))}`;
  return [
    fn.logicalId,
    budget.kind,
    kb(size.bytes),
    tracer,
    `${kb(counted)} of ${kb(budget.limitBytes)}${budget.excludesTracer ? ' w/o tracer' : ''}`,
    counted <= budget.limitBytes ? 'within' : 'OVER',
    ms(medianOf(fn.logicalId)),
    ratio(medianOf(fn.logicalId)),
  ];
});
const tracerMs = medianOf(tracerAlone.logicalId);
rows.push(
  [
    'empty handler (reference)',
    '',
    kb(bytesOf(emptyHandler.logicalId)),
    'none',
    '',
    '',
    ms(emptyMs),
    '× 1.0',
  ],
  [
    'tracer alone (reference)',
    '',
    kb(bytesOf(tracerAlone.logicalId)),
    '',
    '',
    '',
    ms(tracerMs),
    ratio(tracerMs),
  ],
);

process.stdout.write(
  `Bundles as sam build makes them (esbuild ${esbuildVersion}); import of each bundle in a fresh ` +
    `Node ${process.versions.node} process with its template environment, median of ${RUNS} runs\n\n`,
);
const header = ['function', 'kind', 'bundle', 'tracer', 'budget', '', 'load + init', 'vs empty'];
process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
process.stdout.write(
  `\nThe tracer alone (${TRACER_PACKAGES.join(', ')} and what only they import) adds ` +
    `${kb(bytesOf(tracerAlone.logicalId) - bytesOf(emptyHandler.logicalId))} and ${ms(tracerMs - emptyMs)} ` +
    'to the empty handler.\n',
);
