import type { Json, JsonObject, Template } from '../../offline/template/template.ts';
import { asList, isObject } from './rules.ts';

/**
 * The operations rules: every alarm and dashboard graph names a metric with the dimensions its service really
 * publishes for that kind of resource, every resource has the alarms it needs, notifications can be delivered,
 * every log group expires, every API logs and every function traces. Like rules.ts, each check returns the
 * violations it finds, so the tests can show it failing on a broken copy of the template.
 *
 * This module reads the metrics that alarms and dashboards name; the rules are in dashboard-rules.ts,
 * metric-reference-rules.ts, alarm-rules.ts and logs-and-tracing-rules.ts.
 */

/**
 * A dimension's value: what it refers to in the template, the text of a `Fn::Sub`, or, in a dashboard's SEARCH,
 * every resource of the stack (a partial match on the stack's name, which CloudFormation puts first in the names
 * it generates).
 */
export type Reference = { name: string; attribute?: string } | { text: string } | { stackSearch: true };

/** A metric named by an alarm or a dashboard graph. */
export interface MetricUse {
  where: string;
  namespace: string;
  metric: string;
  dimensions: Record<string, Reference | undefined>;
}

/** Reads `${Name}` / `${Name.Attribute}` as a reference, any other text as itself. */
export function referenceInText(text: string): Reference {
  const whole = /^\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}$/.exec(text);
  if (!whole?.[1]) return { text };
  return whole[2] ? { name: whole[1], attribute: whole[2] } : { name: whole[1] };
}

export function referenceOf(value: Json | undefined): Reference | undefined {
  if (typeof value === 'string') return { text: value };
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return { name: value.Ref };
  const getAtt = value['Fn::GetAtt'];
  if (getAtt !== undefined) {
    const [name, attribute] = Array.isArray(getAtt) ? getAtt.map(String) : String(getAtt).split('.');
    return { name: name ?? '', ...(attribute ? { attribute } : {}) };
  }
  if (typeof value['Fn::Sub'] === 'string') return referenceInText(value['Fn::Sub']);
  return undefined;
}

function dimensionsOf(list: Json | undefined): Record<string, Reference | undefined> {
  const dimensions: Record<string, Reference | undefined> = {};
  for (const dimension of asList(list)) {
    if (isObject(dimension)) dimensions[String(dimension.Name)] = referenceOf(dimension.Value);
  }
  return dimensions;
}

/** `SELECT SUM(Metric) FROM SCHEMA("Namespace", Dim, ...) WHERE Dim = '${Ref}' OR ...`: one use per WHERE value. */
function metricsInQuery(where: string, query: string): MetricUse[] {
  const parsed = /^SELECT\s+\w+\((\w+)\)\s+FROM\s+SCHEMA\("([^"]+)",\s*([^)]*)\)(?:\s+WHERE\s+(.*))?$/is.exec(
    query.trim(),
  );
  if (!parsed) return [{ where, namespace: '?', metric: `unreadable query ${query}`, dimensions: {} }];
  const [, metric = '', namespace = '', schema = '', filter = ''] = parsed;
  const keys = schema.split(',').map((key) => key.trim());
  const filters = [...filter.matchAll(/(\w+)\s*=\s*'([^']*)'/g)];
  const uses: MetricUse[] = [];
  for (const [, key = '', value = ''] of filters.length ? filters : [[]]) {
    const dimensions: Record<string, Reference | undefined> = Object.fromEntries(
      keys.map((k) => [k, undefined]),
    );
    if (key) dimensions[key] = referenceInText(value);
    uses.push({ where, namespace, metric, dimensions });
  }
  return uses;
}

export const subText = (value: Json | undefined): string | undefined => {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['Fn::Sub'] === 'string') return value['Fn::Sub'];
  return undefined;
};

/** Every metric an alarm watches: its own, each metric of its math, and the metrics of Metrics Insights queries. */
export function alarmMetrics(logicalId: string, properties: JsonObject): MetricUse[] {
  const uses: MetricUse[] = [];
  if (properties.MetricName !== undefined) {
    uses.push({
      where: logicalId,
      namespace: subText(properties.Namespace) ?? String(properties.Namespace),
      metric: String(properties.MetricName),
      dimensions: dimensionsOf(properties.Dimensions),
    });
  }
  for (const query of asList(properties.Metrics)) {
    if (!isObject(query)) continue;
    const stat = query.MetricStat;
    if (isObject(stat) && isObject(stat.Metric)) {
      uses.push({
        where: `${logicalId} ${String(query.Id)}`,
        namespace: subText(stat.Metric.Namespace) ?? String(stat.Metric.Namespace),
        metric: String(stat.Metric.MetricName),
        dimensions: dimensionsOf(stat.Metric.Dimensions),
      });
    }
    const expression = subText(query.Expression);
    if (expression && /^\s*SELECT\b/i.test(expression)) {
      uses.push(...metricsInQuery(`${logicalId} ${String(query.Id)}`, expression));
    }
  }
  return uses;
}

export const resourcesWithProperties = (template: Template, ...types: string[]): [string, JsonObject][] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => types.includes(resource.Type))
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);

export const alarmsOf = (template: Template) => resourcesWithProperties(template, 'AWS::CloudWatch::Alarm');

export const restApiNamed = (template: Template, text: string): string | undefined =>
  resourcesWithProperties(template, 'AWS::Serverless::Api').find(
    ([, properties]) => subText(properties.Name) === text,
  )?.[0];
