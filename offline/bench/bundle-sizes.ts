import { resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { effectiveProperties, policiesOf, referencedNames } from '../../test/template/rules.ts';
import { type Bundle, bundleFunctions } from '../runtime/lambda.ts';
import type { FunctionDefinition, Template } from '../template/template.ts';

/**
 * What each function's bundle weighs, read from esbuild's metafile of the same build `sam build` runs (the
 * offline cloud's bundleFunctions, with the template's esbuild settings), and the byte budget its kind of
 * function must keep (README: Figures, bundle size and cold start). Used by `npm run bench:bundles` and by
 * test/template/bundle-budgets.test.ts.
 */

export const KB = 1024;

export const kb = (bytes: number): string => `${(bytes / KB).toFixed(1)} KB`;

/** The Powertools tracer and the X-Ray SDK under it: what a function that does not trace must not bundle. */
export const TRACER_PACKAGES: readonly string[] = ['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core'];

/** The name under which the project's own source (functions/**) is counted. */
export const OWN_CODE = '(own code)';

export interface BundleSize {
  logicalId: string;
  /** The .mjs file Lambda loads. */
  file: string;
  /** Its size, without the source map next to it. */
  bytes: number;
  /** Bytes in the bundle per npm package, and the project's own source under OWN_CODE. */
  packages: Map<string, number>;
  /** Bytes in the bundle only because of the tracer: its packages and what nothing but them imports. */
  tracerBytes: number;
  /** The AWS SDK clients (`@aws-sdk/client-*`) that have code in the bundle. */
  sdkClients: string[];
}

/** The npm package an esbuild input path belongs to (the innermost node_modules wins), if any. */
export function packageOf(input: string): string | undefined {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at < 0) return undefined;
  const [scope = '', name = ''] = input.slice(at + marker.length).split('/');
  return scope.startsWith('@') ? `${scope}/${name}` : scope;
}

/** Every input reachable from `entryPoint` through the import graph, not entering inputs `skip` refuses. */
function reachableInputs(
  metafile: Metafile,
  entryPoint: string,
  skip: (input: string) => boolean,
): Set<string> {
  const reached = new Set<string>();
  const pending = [entryPoint];
  for (let input = pending.pop(); input !== undefined; input = pending.pop()) {
    if (reached.has(input) || skip(input)) continue;
    reached.add(input);
    for (const imported of metafile.inputs[input]?.imports ?? []) {
      if (!imported.external) pending.push(imported.path);
    }
  }
  return reached;
}

/** Sizes one output of an esbuild metafile (`output`: its key in `metafile.outputs`). */
export function sizeOfOutput(
  logicalId: string,
  metafile: Metafile,
  output: string,
  file = output,
): BundleSize {
  const built = metafile.outputs[output];
  if (!built?.entryPoint) throw new Error(`${output} is not an entry point's output in the metafile`);
  const isTracer = (input: string) => TRACER_PACKAGES.includes(packageOf(input) ?? '');
  const everything = reachableInputs(metafile, built.entryPoint, () => false);
  const withoutTracer = reachableInputs(metafile, built.entryPoint, isTracer);
  const packages = new Map<string, number>();
  let tracerBytes = 0;
  for (const [input, { bytesInOutput }] of Object.entries(built.inputs)) {
    const name = packageOf(input) ?? OWN_CODE;
    packages.set(name, (packages.get(name) ?? 0) + bytesInOutput);
    if (everything.has(input) && !withoutTracer.has(input)) tracerBytes += bytesInOutput;
  }
  const sdkClients = [...packages]
    .filter(([name, bytes]) => name.startsWith('@aws-sdk/client-') && bytes > 0)
    .map(([name]) => name)
    .sort();
  return { logicalId, file, bytes: built.bytes, packages, tracerBytes, sdkClients };
}

/** Sizes a bundle built by bundleFunctions. */
export function sizeOfBundle(logicalId: string, bundle: Bundle, projectDir: string): BundleSize {
  const output = Object.keys(bundle.metafile.outputs).find(
    (path) => resolve(projectDir, path) === bundle.file,
  );
  if (!output) throw new Error(`${bundle.file} is not in its own build's metafile`);
  return sizeOfOutput(logicalId, bundle.metafile, output, bundle.file);
}

/** Bundles `functions` exactly as `sam build` would (one esbuild run per set of settings) into `outDir`. */
export async function measureBundles(
  functions: readonly FunctionDefinition[],
  projectDir: string,
  outDir: string,
): Promise<BundleSize[]> {
  const bundles = await bundleFunctions(functions, projectDir, outDir);
  return functions.map((fn) => {
    const bundle = bundles.get(fn.logicalId);
    if (!bundle) throw new Error(`No bundle for ${fn.logicalId}`);
    return sizeOfBundle(fn.logicalId, bundle, projectDir);
  });
}

// ---------------------------------------------------------------- budgets

export type FunctionKind = 'no AWS' | 'DynamoDB' | 'other AWS';

export interface Budget {
  kind: FunctionKind;
  /** The template resources the function's environment or policies name. */
  resources: string[];
  limitBytes: number;
  /** Whether the tracer's bytes are left out of what counts against the limit. */
  excludesTracer: boolean;
}

/** Issue #6's budgets: a handler that does not touch AWS ≤ 50 KB; one that does ≤ 400 KB without the tracer. */
export const NO_AWS_LIMIT = 50 * KB;
export const AWS_LIMIT = 400 * KB;

/** The resources of this template a function's environment variables and IAM policies name. */
export function resourcesNamedBy(template: Template, logicalId: string): string[] {
  const named = referencedNames(effectiveProperties(template, logicalId, 'Function').Environment);
  const { statements, templates, managed } = policiesOf(template, logicalId);
  for (const { statement } of statements) referencedNames(statement, named);
  for (const { parameters } of templates) referencedNames(parameters, named);
  for (const { name } of managed) referencedNames(name, named);
  return [...named].filter((name) => name in template.Resources).sort();
}

/**
 * A function's budget, from the template and its bundle: it does not touch AWS when its environment and
 * policies name no AWS resource and it bundles no AWS SDK client; it is a DynamoDB function when it names a
 * table or bundles the DynamoDB client. Any other AWS function gets the DynamoDB ceiling, so none is unbudgeted.
 */
export function budgetOf(template: Template, size: BundleSize): Budget {
  const resources = resourcesNamedBy(template, size.logicalId);
  const namesTable = resources.some((id) => template.Resources[id]?.Type === 'AWS::DynamoDB::Table');
  if (namesTable || size.sdkClients.includes('@aws-sdk/client-dynamodb')) {
    return { kind: 'DynamoDB', resources, limitBytes: AWS_LIMIT, excludesTracer: true };
  }
  if (resources.length === 0 && size.sdkClients.length === 0) {
    return { kind: 'no AWS', resources, limitBytes: NO_AWS_LIMIT, excludesTracer: false };
  }
  return { kind: 'other AWS', resources, limitBytes: AWS_LIMIT, excludesTracer: true };
}

/** The bytes that count against a budget. */
export const countedBytes = (size: BundleSize, budget: Budget): number =>
  budget.excludesTracer ? size.bytes - size.tracerBytes : size.bytes;

/** What breaks the budget, naming the function, the numbers and the heaviest packages; undefined if nothing. */
export function budgetViolation(size: BundleSize, budget: Budget): string | undefined {
  const counted = countedBytes(size, budget);
  if (counted <= budget.limitBytes) return undefined;
  const heaviest = [...size.packages]
    .filter(([name]) => !(budget.excludesTracer && TRACER_PACKAGES.includes(name)))
    .sort(([, a], [, b]) => b - a)
    .slice(0, 5)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
  const what = budget.excludesTracer ? 'without the tracer' : 'in all';
  return (
    `${size.logicalId} (${budget.kind}) bundles ${kb(counted)} ${what}, over its ${kb(budget.limitBytes)} ` +
    `budget; heaviest: ${heaviest}`
  );
}
