import { functionsOf, type Json, type JsonObject, type Template } from '../../offline/template/template.ts';
import { metricsNamespace } from './metric-reference-rules.ts';
import { referenceOf, resourcesWithProperties, subText } from './metrics.ts';
import { effectiveProperties, isObject } from './rules.ts';

/** The rules over logs and tracing: every log group expires, every API logs, every function traces. */

/** Every log group expires; every function logs JSON to its own; every API writes JSON access logs to one. */
export function checkLogs(template: Template): string[] {
  const violations: string[] = [];
  const logGroups = new Set(resourcesWithProperties(template, 'AWS::Logs::LogGroup').map(([id]) => id));
  for (const [group, properties] of resourcesWithProperties(template, 'AWS::Logs::LogGroup')) {
    if (properties.RetentionInDays === undefined) violations.push(`${group}: no RetentionInDays`);
  }
  const ownGroups = new Map<string, string>();
  for (const fn of functionsOf(template)) {
    const logging = (effectiveProperties(template, fn.logicalId, 'Function').LoggingConfig ??
      {}) as JsonObject;
    const group = referenceOf(logging.LogGroup);
    if (!group || !('name' in group) || !logGroups.has(group.name)) {
      violations.push(`${fn.logicalId}: LoggingConfig.LogGroup is not !Ref of a log group with a retention`);
    } else if (ownGroups.has(group.name)) {
      violations.push(`${fn.logicalId}: shares ${group.name} with ${ownGroups.get(group.name)}`);
    } else ownGroups.set(group.name, fn.logicalId);
    if (logging.LogFormat !== 'JSON') violations.push(`${fn.logicalId}: LogFormat is not JSON`);
  }
  const accessLogs: [string, Json | undefined][] = [
    ...resourcesWithProperties(template, 'AWS::Serverless::HttpApi').map(
      ([id, p]): [string, Json | undefined] => [id, p.AccessLogSettings],
    ),
    ...resourcesWithProperties(template, 'AWS::Serverless::Api').map(
      ([id, p]): [string, Json | undefined] => [id, p.AccessLogSetting],
    ),
    ...resourcesWithProperties(template, 'AWS::ApiGatewayV2::Stage').map(
      ([id, p]): [string, Json | undefined] => [id, p.AccessLogSettings],
    ),
  ];
  for (const [api, settings] of accessLogs) {
    const destination = isObject(settings) ? referenceOf(settings.DestinationArn) : undefined;
    if (!destination || !('name' in destination) || !logGroups.has(destination.name)) {
      violations.push(`${api}: access logs do not go to a log group of the stack`);
      continue;
    }
    try {
      JSON.parse(String((settings as JsonObject).Format));
    } catch {
      violations.push(`${api}: the access log format is not JSON`);
    }
  }
  return violations;
}

/** Functions trace actively and name their service; REST stages trace, sampled by a rule of the stack. */
export function checkTracing(template: Template): string[] {
  const violations: string[] = [];
  for (const fn of functionsOf(template)) {
    const properties = effectiveProperties(template, fn.logicalId, 'Function');
    if (properties.Tracing !== 'Active') violations.push(`${fn.logicalId}: Tracing is not Active`);
    const own = (template.Resources[fn.logicalId]?.Properties?.Environment as JsonObject | undefined)
      ?.Variables;
    if (!isObject(own) || typeof own.POWERTOOLS_SERVICE_NAME !== 'string') {
      violations.push(`${fn.logicalId}: sets no POWERTOOLS_SERVICE_NAME of its own`);
    }
  }
  if (!metricsNamespace(template))
    violations.push('Globals: no POWERTOOLS_METRICS_NAMESPACE for every function');
  const rules = resourcesWithProperties(template, 'AWS::XRay::SamplingRule').map(
    ([, p]) => p.SamplingRule as JsonObject,
  );
  for (const [api, properties] of resourcesWithProperties(template, 'AWS::Serverless::Api')) {
    if (properties.TracingEnabled !== true) violations.push(`${api}: TracingEnabled is not true`);
    const sampled = rules.some((rule) => {
      const arn = subText(rule.ResourceARN) ?? '';
      return arn.includes(`/restapis/\${${api}}/stages/\${${api}.Stage}`) && Number(rule.ReservoirSize) >= 0;
    });
    if (!sampled) violations.push(`${api}: no X-Ray sampling rule for its stage`);
  }
  return violations;
}
