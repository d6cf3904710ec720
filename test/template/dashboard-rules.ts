import type { JsonObject, Template } from '../../offline/template/template.ts';
import type { MetricUse, Reference } from './metrics.ts';
import { alarmMetrics, alarmsOf, referenceInText, resourcesWithProperties, subText } from './metrics.ts';
import { emittedMetrics } from './published-metrics.ts';
import { asList, isObject, ROOT } from './rules.ts';

/** The rules over the dashboards: references only, every resource shown, the business metrics graphed. */

/** The dashboard body as JSON, its `${...}` references kept as text. */
export function dashboardBody(properties: JsonObject): JsonObject | undefined {
  const body = subText(properties.DashboardBody);
  if (body === undefined) return undefined;
  return JSON.parse(body) as JsonObject;
}

/**
 * `SEARCH('{Namespace,Dim,...} MetricName="Metric" Dim=${AWS::StackName}', 'Stat', Period)`: the metric by that
 * dimension set, for every resource whose name holds the stack's ("CloudWatch search expression syntax").
 */
function metricInSearch(where: string, expression: string): MetricUse {
  const parsed =
    /^SEARCH\('\{([^}]*)\}\s+MetricName="(\w+)"(?:\s+(\w+)=(\S+))?'\s*,\s*'\w+'\s*,\s*\d+\)$/.exec(
      expression.trim(),
    );
  if (!parsed) return { where, namespace: '?', metric: `unreadable search ${expression}`, dimensions: {} };
  const [, schema = '', metric = '', key, value] = parsed;
  const [namespace = '', ...keys] = schema.split(',').map((part) => part.trim());
  const dimensions: Record<string, Reference | undefined> = Object.fromEntries(
    keys.map((k) => [k, undefined]),
  );
  if (key && keys.includes(key))
    dimensions[key] = value === '${AWS::StackName}' ? { stackSearch: true } : referenceInText(value ?? '');
  return { where, namespace, metric, dimensions };
}

/** The metrics of a dashboard's graphs: `[namespace, metric, name, value, ..., {options}]` lines and SEARCHes. */
export function dashboardMetrics(logicalId: string, body: JsonObject): MetricUse[] {
  const uses: MetricUse[] = [];
  for (const widget of asList(body.widgets)) {
    const properties = isObject(widget) && isObject(widget.properties) ? widget.properties : {};
    for (const line of asList(properties.metrics)) {
      const [first] = asList(line);
      if (isObject(first) && typeof first.expression === 'string') {
        uses.push(metricInSearch(`${logicalId} "${String(properties.title)}"`, first.expression));
        continue;
      }
      const fields = asList(line).filter((field): field is string => typeof field === 'string');
      const [namespace = '', metric = '', ...pairs] = fields;
      const dimensions: Record<string, Reference | undefined> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2)
        dimensions[pairs[i] ?? ''] = referenceInText(pairs[i + 1] ?? '');
      uses.push({ where: `${logicalId} "${String(properties.title)}"`, namespace, metric, dimensions });
    }
  }
  return uses;
}

/** Every `${...}` name in a Fn::Sub text (pseudo parameters included). */
const namesInText = (text: string): string[] =>
  [...text.matchAll(/\$\{([^!}][^}]*)\}/g)].map((match) => (match[1] ?? '').split('.')[0] ?? '');

/** Literal account ids, regions or ARNs: a dashboard that names one works in one account and region only. */
const PHYSICAL = /arn:aws|\b\d{12}\b|\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d\b/;

/**
 * The dashboards: references only, in the stack's region. Together they show every API, queue and alarm that is
 * not a function's or a table's own, SEARCH every function and table of the stack, and graph the business
 * metrics the functions emit; a feature may have a dashboard of its own (the chat's goes with it).
 */
export function checkDashboards(template: Template, root = ROOT): string[] {
  const violations: string[] = [];
  const dashboards = resourcesWithProperties(template, 'AWS::CloudWatch::Dashboard');
  if (dashboards.length === 0) violations.push('no AWS::CloudWatch::Dashboard');
  const known = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})]);
  const ownAlarms = new Set(perResourceAlarms(template));
  const named = new Set<string>();
  const uses: MetricUse[] = [];
  for (const [logicalId, properties] of dashboards) {
    if (properties.DashboardName !== undefined) violations.push(`${logicalId}: sets a DashboardName`);
    const text = subText(properties.DashboardBody);
    if (text === undefined) {
      violations.push(`${logicalId}: DashboardBody is not a Fn::Sub text`);
      continue;
    }
    for (const name of namesInText(text)) {
      if (!name.startsWith('AWS::') && !known.has(name))
        violations.push(`${logicalId}: \${${name}} is not in the template`);
    }
    const literal = PHYSICAL.exec(text.replace(/\$\{[^}]*\}/g, ''));
    if (literal) violations.push(`${logicalId}: names ${literal[0]} literally`);
    let body: JsonObject | undefined;
    try {
      body = dashboardBody(properties);
    } catch (error) {
      violations.push(`${logicalId}: the body is not JSON (${(error as Error).message})`);
      continue;
    }
    for (const widget of asList(body?.widgets)) {
      const widgetProperties = isObject(widget) && isObject(widget.properties) ? widget.properties : {};
      if (widgetProperties.region !== '${AWS::Region}') {
        violations.push(`${logicalId} "${String(widgetProperties.title)}": region is not \${AWS::Region}`);
      }
    }
    // Functions and tables, and their own alarms, live in one block each: the dashboards find them by SEARCH,
    // so that adding or deleting one never touches a dashboard.
    const names = new Set(namesInText(text));
    for (const [resource] of resourcesWithProperties(
      template,
      'AWS::Serverless::Function',
      'AWS::DynamoDB::Table',
    )) {
      if (names.has(resource)) violations.push(`${logicalId}: names ${resource} (find it by SEARCH instead)`);
    }
    for (const alarm of ownAlarms) {
      if (names.has(alarm))
        violations.push(`${logicalId}: names ${alarm}, a function's or table's own alarm`);
    }
    for (const name of names) named.add(name);
    uses.push(...dashboardMetrics(logicalId, body ?? {}));
  }
  // A resource that exists only under a condition cannot be referenced unconditionally.
  for (const [resource] of resourcesWithProperties(
    template,
    'AWS::Serverless::HttpApi',
    'AWS::Serverless::Api',
    'AWS::ApiGatewayV2::Api',
    'AWS::SQS::Queue',
    'AWS::CloudWatch::Alarm',
  )) {
    if (template.Resources[resource]?.Condition || ownAlarms.has(resource)) continue;
    if (!named.has(resource)) violations.push(`no dashboard shows ${resource}`);
  }
  const searched = (namespace: string, metric: string) =>
    uses.some(
      (use) =>
        use.namespace === namespace &&
        use.metric === metric &&
        Object.values(use.dimensions).some((value) => value && 'stackSearch' in value),
    );
  for (const [namespace, metrics] of STACK_SEARCHES) {
    for (const metric of metrics) {
      if (!searched(namespace, metric))
        violations.push(`no dashboard SEARCHes ${namespace} ${metric} over the stack's resources`);
    }
  }
  const emitted = emittedMetrics(root);
  const custom = uses.filter((use) => !use.namespace.startsWith('AWS/'));
  for (const metric of BUSINESS_METRICS) {
    if (emitted.has(metric) && !custom.some((use) => use.metric === metric))
      violations.push(`no dashboard graphs ${metric}`);
  }
  return violations;
}

/** What the dashboard graphs for every function and every table of the stack. */
const STACK_SEARCHES: [string, string[]][] = [
  ['AWS/Lambda', ['Invocations', 'Errors', 'Throttles', 'Duration']],
  [
    'AWS/DynamoDB',
    ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ThrottledRequests', 'SystemErrors'],
  ],
];

/** The alarms that watch only functions or tables: each belongs to its resource's block. */
function perResourceAlarms(template: Template): string[] {
  return alarmsOf(template)
    .filter(([alarm, properties]) => {
      const resources = alarmMetrics(alarm, properties).flatMap((use) =>
        Object.values(use.dimensions).flatMap((value) => (value && 'name' in value ? [value.name] : [])),
      );
      const types = resources.map((name) => template.Resources[name]?.Type);
      return (
        types.length > 0 &&
        types.every((type) => type === 'AWS::Serverless::Function' || type === 'AWS::DynamoDB::Table')
      );
    })
    .map(([alarm]) => alarm);
}

/** What the business looks at first, when a function emits it: orders placed and chat messages sent. */
const BUSINESS_METRICS = ['OrderCreated', 'PartnerOrderCreated', 'MessagesBroadcast'];
