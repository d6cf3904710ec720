import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Template } from '../../offline/template/template.ts';
import { checkAlarmActions, checkAlarmCoverage } from './alarm-rules.ts';
import { checkDashboards } from './dashboard-rules.ts';
import { checkFunctionSettings } from './function-rules.ts';
import { checkLeastPrivilege } from './iam-rules.ts';
import { checkLogs, checkTracing } from './logs-and-tracing-rules.ts';
import { checkMetricReferences } from './metric-reference-rules.ts';
import { checkOutputs } from './output-rules.ts';
import { checkRouteAuth } from './route-auth-rules.ts';
import { ROOT } from './rules.ts';
import { checkStartApiOrder, resourcesInDocumentOrder } from './start-api-rules.ts';

/**
 * What the block-deletion and recipe tests ask of an edited copy of the template: every rule that judges a whole
 * template on its own. `text` is the copy's YAML (the start-api order is read from it), `root` the folder whose
 * functions/ the rules read (the copy's own when it has one).
 */
export function wholeTemplateViolations(template: Template, text: string, root = ROOT): string[] {
  return [
    ...checkAlarmCoverage(template),
    ...checkAlarmActions(template),
    ...checkMetricReferences(template, root),
    ...checkDashboards(template, root),
    ...checkLogs(template),
    ...checkTracing(template),
    ...checkFunctionSettings(template, root),
    ...checkLeastPrivilege(template),
    ...checkRouteAuth(template),
    ...checkOutputs(template),
    ...checkStartApiOrder(resourcesInDocumentOrder(text)),
  ];
}

/** What cfn-lint reports on these template files: '' when it finds nothing. */
export function cfnLintFindings(files: string[]): Promise<string> {
  return promisify(execFile)('cfn-lint', files).then(
    () => '',
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
}
