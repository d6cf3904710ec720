import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isMap, parseDocument } from 'yaml';
import { httpApiDefinitions } from '../../offline/template/http-api-definition.ts';
import { createResolver } from '../../offline/template/resolver.ts';
import { restApiDefinitions } from '../../offline/template/rest-api-definition.ts';
import { functionsOf, parseTemplate } from '../../offline/template/template.ts';
import { cfnLintFindings, wholeTemplateViolations } from './copy-checks.ts';
import { checkDashboards } from './dashboard-rules.ts';
import { ROOT } from './rules.ts';
import { withoutResources } from './template-text.ts';

/**
 * One route in one place: a route function's block in template.yaml (its permission, the function, its log group
 * and its alarms, which all start with its name) is everything the template holds of it; a partner route also has
 * its operation in openapi/partner-api.yaml. So deleting them, as a forker deletes an example, leaves a template
 * that cfn-lint, the template rules and the offline cloud accept: no shared setting lives in an example, and the
 * dashboard finds functions by SEARCH instead of naming them. (The authorisers, the queue's consumer and the
 * chat's route functions are parts of their API or pipeline: they go with it, as the README's recipes say.)
 */
const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
const OPENAPI = 'openapi/partner-api.yaml';
const openapi = readFileSync(resolve(ROOT, OPENAPI), 'utf8');
const template = parseTemplate(text);

const hasEvent = (events: unknown, type: string) =>
  Object.values((events ?? {}) as Record<string, { Type?: string }>).some((event) => event.Type === type);

/** The HTTP API's route functions, and the partner API's Lambda routes (the functions its operations invoke). */
const httpRouteFunctions = functionsOf(template)
  .filter((fn) => hasEvent(fn.properties.Events, 'HttpApi'))
  .map((fn) => fn.logicalId);
const restRouteFunctions = functionsOf(template)
  .map((fn) => fn.logicalId)
  .filter((fn) => operationsInvoking(fn).length > 0);
const routeFunctions = [...httpRouteFunctions, ...restRouteFunctions];

/** The `[path, method]` of each partner API operation whose integration invokes `fn`. */
function operationsInvoking(fn: string): [string, string][] {
  const paths = parseDocument(openapi).get('paths');
  if (!isMap(paths)) return [];
  return paths.items.flatMap((path) =>
    (isMap(path.value) ? path.value.items : [])
      .filter((operation) => String(operation.value).includes(`\${${fn}.Arn}`))
      .map((operation): [string, string] => [String(path.key), String(operation.key)]),
  );
}

/** The OpenAPI definition without the operations that invoke `fn`, and without a path left with only OPTIONS. */
function openapiWithout(fn: string): string {
  const document = parseDocument(openapi);
  for (const [path, method] of operationsInvoking(fn)) {
    document.deleteIn(['paths', path, method]);
    const left = document.getIn(['paths', path]);
    if (isMap(left) && left.items.every((item) => String(item.key) === 'options'))
      document.deleteIn(['paths', path]);
  }
  return document.toString();
}

/** The name the resources of a function's block start with: its permission is `<name>Permission`. */
const blockPrefix = (fn: string) => fn.replace(/Function$/, '');

const workDir = mkdtempSync(join(tmpdir(), 'function-blocks-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A folder holding the template and the OpenAPI definition without `fn`'s block and operations. */
function copyWithout(fn: string): string {
  const dir = join(workDir, `without-${fn}`);
  mkdirSync(join(dir, 'openapi'), { recursive: true });
  writeFileSync(join(dir, 'template.yaml'), withoutResources(text, blockPrefix(fn)));
  writeFileSync(join(dir, OPENAPI), openapiWithout(fn));
  return dir;
}

describe("deleting one example function's block", () => {
  test('both APIs have route functions to delete', () => {
    expect(httpRouteFunctions.length).toBeGreaterThan(1);
    expect(restRouteFunctions).toEqual([
      'ListProductsFunction',
      'GetProductFunction',
      'StreamPartnerOrdersFunction',
    ]);
  });

  test.each(routeFunctions)('without %s, every template rule holds and the offline cloud reads it', (fn) => {
    const dir = copyWithout(fn);
    const copyText = readFileSync(join(dir, 'template.yaml'), 'utf8');
    const copy = parseTemplate(copyText);
    expect(Object.keys(copy.Resources).filter((id) => id.startsWith(blockPrefix(fn)))).toEqual([]);
    expect(Object.keys(copy.Resources).length).toBeGreaterThan(Object.keys(template.Resources).length - 8);
    expect(wholeTemplateViolations(copy, copyText)).toEqual([]);
    const resolver = createResolver(copy, undefined);
    // What the offline cloud binds when it creates each queue, which the SQS integration's URI names.
    for (const [queue, resource] of Object.entries(copy.Resources)) {
      if (resource.Type === 'AWS::SQS::Queue') resolver.bind(queue, { attributes: { QueueName: queue } });
    }
    const invoked = [
      ...httpApiDefinitions(resolver).flatMap((api) => api.routes.map((route) => route.functionName)),
      ...restApiDefinitions(resolver, dir).flatMap((api) =>
        api.methods.flatMap(({ integration: { target } }) =>
          target.service === 'lambda' ? [target.functionName] : [],
        ),
      ),
    ];
    expect(invoked).not.toContain(fn);
    expect(new Set(invoked)).toEqual(new Set(routeFunctions.filter((other) => other !== fn)));
  });

  test('cfn-lint accepts every copy', { timeout: 300_000 }, async () => {
    const files = routeFunctions.map((fn) => join(copyWithout(fn), 'template.yaml'));
    const lint = await cfnLintFindings(files);
    expect(lint).toBe('');
  });

  test('the block deleter removes only the block: a copy without a missing prefix is the template', () => {
    expect(withoutResources(text, 'NoSuchFunction')).toBe(text);
  });

  test('a dashboard that names an example breaks when the example goes, and the rules say where', () => {
    const naming = text.replace(
      '"metrics": [',
      '"metrics": [\n                ["AWS/Lambda","Errors","FunctionName","${GetMeFunction}"],',
    );
    expect(naming).not.toBe(text);
    expect(checkDashboards(parseTemplate(withoutResources(naming, 'GetMeFunction')))).toContainEqual(
      expect.stringMatching(/^\w+Dashboard: \$\{GetMeFunction\} is not in the template$/),
    );
  });
});
