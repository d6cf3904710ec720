import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { functionsOf, type Json, type JsonObject, type Template } from '../../offline/template/template.ts';
import { asList, functionProperties, isObject, ROOT } from './rules.ts';

/** The rules over the template's functions: runtime, architecture, build, logging. */

/** The Node.js major version of a Lambda runtime name such as `nodejs24.x`. */
export function runtimeMajor(runtime: Json | undefined): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(String(runtime));
  return match ? Number(match[1]) : undefined;
}

/** The Lambda runtimes the template's functions use. */
export function runtimesOf(template: Template): string[] {
  return [...new Set(functionsOf(template).map((fn) => String(functionProperties(template, fn).Runtime)))];
}

const MINIMUM_NODE_MAJOR = 24;

/** Whether TypeScript source exports `name` (declaration or export list). */
function exportsName(source: string, name: string): boolean {
  const declared = new RegExp(`export\\s+(?:async\\s+)?(?:const|let|var|function)\\s+${name}\\b`);
  const listed = new RegExp(`export\\s*\\{[^}]*\\b(?:\\w+\\s+as\\s+)?${name}\\s*(?:,|\\})`);
  return declared.test(source) || listed.test(source);
}

export function checkFunctionSettings(template: Template, root = ROOT): string[] {
  const violations: string[] = [];
  const shared = template.Metadata?.EsbuildProperties;
  if (!isObject(shared)) violations.push('Metadata.EsbuildProperties (the shared esbuild anchor) is missing');
  for (const fn of functionsOf(template)) {
    const where = fn.logicalId;
    const properties = functionProperties(template, fn);
    if (properties.Tracing !== 'Active') violations.push(`${where}: Tracing is not Active`);
    const major = runtimeMajor(properties.Runtime);
    if (major === undefined || major < MINIMUM_NODE_MAJOR) {
      violations.push(
        `${where}: Runtime ${String(properties.Runtime)} is not nodejs${MINIMUM_NODE_MAJOR}.x or newer`,
      );
    }
    if (JSON.stringify(properties.Architectures) !== JSON.stringify(['arm64'])) {
      violations.push(`${where}: Architectures is ${JSON.stringify(properties.Architectures)}, not [arm64]`);
    }
    if ((properties.LoggingConfig as JsonObject | undefined)?.LogFormat !== 'JSON') {
      violations.push(`${where}: LoggingConfig.LogFormat is not JSON`);
    }

    const metadata = template.Resources[fn.logicalId]?.Metadata ?? {};
    if (metadata.BuildMethod !== 'esbuild') violations.push(`${where}: Metadata.BuildMethod is not esbuild`);
    const build = fn.buildProperties ?? {};
    const entryPoints = asList(build.EntryPoints);
    if (entryPoints.length !== 1 || typeof entryPoints[0] !== 'string') {
      violations.push(`${where}: BuildProperties.EntryPoints must name exactly one file`);
    } else {
      const entry = entryPoints[0];
      const codeUri = typeof properties.CodeUri === 'string' ? properties.CodeUri : '.';
      const entryPath = resolve(root, codeUri, entry);
      const handler = String(properties.Handler);
      const exported = handler.slice(handler.lastIndexOf('.') + 1);
      if (!existsSync(entryPath)) violations.push(`${where}: entry point ${entry} does not exist`);
      else if (!exportsName(readFileSync(entryPath, 'utf8'), exported)) {
        violations.push(`${where}: ${entry} does not export ${exported} (Handler ${handler})`);
      }
      const handlerFile = handler.slice(0, handler.lastIndexOf('.'));
      const entryFile = basename(entry, extname(entry));
      if (handlerFile !== entryFile) {
        violations.push(
          `${where}: Handler ${handler} does not match the entry point ${entry} (expected ${entryFile}.<export>)`,
        );
      }
    }
    if (build.Minify !== true) violations.push(`${where}: BuildProperties.Minify is not true`);
    if (build.Format !== 'esm') violations.push(`${where}: BuildProperties.Format is not esm`);
    if (build.MainFields !== 'module,main')
      violations.push(`${where}: BuildProperties.MainFields is not module,main`);
    if (major !== undefined && build.Target !== `node${major}`) {
      violations.push(
        `${where}: BuildProperties.Target ${String(build.Target)} does not match the runtime (node${major})`,
      );
    }
    if (isObject(shared)) {
      for (const [key, value] of Object.entries(shared)) {
        if (JSON.stringify(build[key]) !== JSON.stringify(value)) {
          violations.push(
            `${where}: BuildProperties.${key} differs from Metadata.EsbuildProperties (use <<: *esbuild)`,
          );
        }
      }
    }
  }
  return violations;
}

// Lambda's REPORT line (platform.report: duration, billed duration, memory, Init Duration on a cold start) is an
// INFO-level system log, so WARN drops it (Lambda developer guide, "Log-level filtering").
const SYSTEM_LOG_LEVELS_WITH_REPORT = ['INFO', 'DEBUG'];

export function checkSystemLogLevel(template: Template): string[] {
  return functionsOf(template).flatMap((fn) => {
    const level = (functionProperties(template, fn).LoggingConfig as JsonObject | undefined)?.SystemLogLevel;
    return typeof level === 'string' && SYSTEM_LOG_LEVELS_WITH_REPORT.includes(level)
      ? []
      : [
          `${fn.logicalId}: LoggingConfig.SystemLogLevel is ${String(level)}, not INFO: Lambda's REPORT line ` +
            '(platform.report, with the Init Duration of a cold start) is an INFO system log',
        ];
  });
}
