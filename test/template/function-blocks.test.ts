import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { httpApiDefinitions } from '../../offline/template/http-api-definition.ts';
import { createResolver } from '../../offline/template/resolver.ts';
import { functionsOf, parseTemplate, type Template } from '../../offline/template/template.ts';
import {
  checkAlarmActions,
  checkAlarmCoverage,
  checkDashboards,
  checkLogs,
  checkMetricReferences,
  checkTracing,
} from './operations.ts';
import {
  checkFunctionSettings,
  checkLeastPrivilege,
  checkOutputs,
  checkRouteAuth,
  checkStartApiOrder,
  ROOT,
  resourcesInDocumentOrder,
} from './rules.ts';
import { withoutResources } from './template-text.ts';

/**
 * One route in one place: a function's block in template.yaml (the function, its log group and its alarms, which
 * all start with the function's logical id) is everything the template holds of it. So deleting the block, as a
 * forker deletes an example, leaves a template that cfn-lint, the template rules and the offline cloud accept:
 * no shared setting lives in an example, and the dashboard finds functions by SEARCH instead of naming them.
 */
const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
const template = parseTemplate(text);

/** The HTTP API's route functions: the examples whose whole definition is their block. */
const routeFunctions = functionsOf(template)
  .filter((fn) =>
    Object.values((fn.properties.Events ?? {}) as Record<string, { Type?: string }>).some(
      (event) => event.Type === 'HttpApi',
    ),
  )
  .map((fn) => fn.logicalId);

const RULES: [string, (copy: Template, copyText: string) => string[]][] = [
  ['alarm coverage', (copy) => checkAlarmCoverage(copy)],
  ['alarm actions', (copy) => checkAlarmActions(copy)],
  ['metric references', (copy) => checkMetricReferences(copy)],
  ['dashboard', (copy) => checkDashboards(copy)],
  ['logs', (copy) => checkLogs(copy)],
  ['tracing', (copy) => checkTracing(copy)],
  ['function settings', (copy) => checkFunctionSettings(copy)],
  ['least privilege', (copy) => checkLeastPrivilege(copy)],
  ['route auth', (copy) => checkRouteAuth(copy)],
  ['outputs', (copy) => checkOutputs(copy)],
  ['start-api order', (_, copyText) => checkStartApiOrder(resourcesInDocumentOrder(copyText))],
];

const workDir = mkdtempSync(join(tmpdir(), 'function-blocks-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe("deleting one example function's block", () => {
  test('the HTTP API has route functions to delete', () => {
    expect(routeFunctions.length).toBeGreaterThan(1);
  });

  test.each(routeFunctions)('without %s, every template rule holds and the offline cloud reads it', (fn) => {
    const copyText = withoutResources(text, fn);
    const copy = parseTemplate(copyText);
    expect(Object.keys(copy.Resources).filter((id) => id.startsWith(fn))).toEqual([]);
    expect(Object.keys(copy.Resources).length).toBeGreaterThan(Object.keys(template.Resources).length - 8);
    for (const [rule, check] of RULES) expect(check(copy, copyText), rule).toEqual([]);
    const routes = httpApiDefinitions(createResolver(copy, undefined)).flatMap((api) => api.routes);
    expect(routes.map((route) => route.functionName)).not.toContain(fn);
    expect(routes.length).toBe(routeFunctions.length - 1);
  });

  test('cfn-lint accepts every copy', { timeout: 120_000 }, async () => {
    const files = routeFunctions.map((fn) => {
      const file = join(workDir, `without-${fn}.yaml`);
      writeFileSync(file, withoutResources(text, fn));
      return file;
    });
    const lint = await promisify(execFile)('cfn-lint', files).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
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
