import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  functionsOf,
  type Json,
  type JsonObject,
  type Resource,
  type Template,
} from '../../offline/template/template.ts';
import {
  apiDefinitionsOf,
  effectiveProperties,
  propertiesOf,
  ROOT,
  webSocketApisOf,
  webSocketRoutesOf,
} from './rules.ts';

/**
 * The operations rules: every alarm and dashboard graph names a metric with the dimensions its service really
 * publishes for that kind of resource, every resource has the alarms it needs, notifications can be delivered,
 * every log group expires, every API logs and every function traces. Like rules.ts, each check returns the
 * violations it finds, so the tests can show it failing on a broken copy of the template.
 */

// ---------------------------------------------------------------- what AWS publishes

/** The kinds of resource a metric can be about; the API kinds publish different metrics under one namespace. */
type Kind = 'httpApi' | 'restApi' | 'webSocketApi' | 'function' | 'table' | 'queue' | 'custom';

interface Catalogue {
  namespace: string;
  metrics: readonly string[];
  /** Each dimension set the service publishes these metrics with (order does not matter). */
  dimensionSets: readonly (readonly string[])[];
}

/**
 * From the CloudWatch metrics pages of API Gateway (HTTP, REST, WebSocket), Lambda, DynamoDB and SQS. A metric
 * named with any other dimension set has no data, and an alarm on it never fires.
 */
const PUBLISHED: Record<Exclude<Kind, 'custom'>, Catalogue[]> = {
  httpApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: ['4xx', '5xx', 'Count', 'Latency', 'IntegrationLatency', 'DataProcessed'],
      dimensionSets: [['ApiId'], ['ApiId', 'Stage'], ['ApiId', 'Method', 'Resource', 'Stage']],
    },
  ],
  restApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: [
        '4XXError',
        '5XXError',
        'CacheHitCount',
        'CacheMissCount',
        'Count',
        'IntegrationLatency',
        'Latency',
      ],
      dimensionSets: [['ApiName'], ['ApiName', 'Stage'], ['ApiName', 'Method', 'Resource', 'Stage']],
    },
  ],
  webSocketApi: [
    {
      namespace: 'AWS/ApiGateway',
      metrics: [
        'ConnectCount',
        'MessageCount',
        'IntegrationError',
        'ClientError',
        'ExecutionError',
        'IntegrationLatency',
      ],
      dimensionSets: [['ApiId'], ['ApiId', 'Stage'], ['ApiId', 'Stage', 'Route']],
    },
  ],
  function: [
    {
      namespace: 'AWS/Lambda',
      metrics: ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'DeadLetterErrors'],
      dimensionSets: [['FunctionName'], ['FunctionName', 'Resource']],
    },
  ],
  table: [
    {
      namespace: 'AWS/DynamoDB',
      metrics: [
        'ConsumedReadCapacityUnits',
        'ConsumedWriteCapacityUnits',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ],
      dimensionSets: [['TableName'], ['TableName', 'GlobalSecondaryIndexName']],
    },
    {
      namespace: 'AWS/DynamoDB',
      metrics: ['ThrottledRequests', 'SystemErrors', 'SuccessfulRequestLatency', 'ReturnedItemCount'],
      dimensionSets: [['TableName', 'Operation']],
    },
  ],
  queue: [
    {
      namespace: 'AWS/SQS',
      metrics: [
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'NumberOfMessagesSent',
        'NumberOfMessagesReceived',
        'NumberOfMessagesDeleted',
      ],
      dimensionSets: [['QueueName']],
    },
  ],
};

// ---------------------------------------------------------------- reading metric references

/**
 * A dimension's value: what it refers to in the template, the text of a `Fn::Sub`, or, in a dashboard's SEARCH,
 * every resource of the stack (a partial match on the stack's name, which CloudFormation puts first in the names
 * it generates).
 */
type Reference = { name: string; attribute?: string } | { text: string } | { stackSearch: true };

/** A metric named by an alarm or a dashboard graph. */
export interface MetricUse {
  where: string;
  namespace: string;
  metric: string;
  dimensions: Record<string, Reference | undefined>;
}

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const asList = (value: Json | undefined): Json[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];

/** Reads `${Name}` / `${Name.Attribute}` as a reference, any other text as itself. */
function referenceInText(text: string): Reference {
  const whole = /^\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}$/.exec(text);
  if (!whole?.[1]) return { text };
  return whole[2] ? { name: whole[1], attribute: whole[2] } : { name: whole[1] };
}

function referenceOf(value: Json | undefined): Reference | undefined {
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

const subText = (value: Json | undefined): string | undefined => {
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

const resourcesOfType = (template: Template, ...types: string[]): [string, JsonObject][] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => types.includes(resource.Type))
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);

export const alarmsOf = (template: Template) => resourcesOfType(template, 'AWS::CloudWatch::Alarm');

// ---------------------------------------------------------------- the dashboard

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
  const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
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
    for (const [resource] of resourcesOfType(template, 'AWS::Serverless::Function', 'AWS::DynamoDB::Table')) {
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
  for (const [resource] of resourcesOfType(
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

// ---------------------------------------------------------------- checking metric references

/** The metric names the functions' code emits (Powertools `addMetric('Name', ...)`). */
export function emittedMetrics(root = ROOT): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(/addMetric\(\s*'([^']+)'/g))
          names.add(match[1] ?? '');
      }
    }
  };
  walk(join(root, 'functions'));
  return names;
}

/** What kind of resource a dimension value refers to, and whether the reference is the right one for that key. */
function kindOf(template: Template, key: string, value: Reference | undefined): Kind | string {
  if (!value) return 'any';
  if ('stackSearch' in value) {
    if (key === 'FunctionName') return 'function';
    if (key === 'TableName') return 'table';
    return `a SEARCH cannot find the stack's resources by ${key}`;
  }
  const type = 'name' in value ? template.Resources[value.name.split('.')[0] ?? '']?.Type : undefined;
  const restApiNames = resourcesOfType(template, 'AWS::Serverless::Api').map(([, p]) => subText(p.Name));
  switch (key) {
    case 'ApiId':
      if (!('name' in value) || value.attribute) return `ApiId must be !Ref of an API`;
      if (type === 'AWS::Serverless::HttpApi') return 'httpApi';
      if (type === 'AWS::ApiGatewayV2::Api') {
        const protocol = template.Resources[value.name]?.Properties?.ProtocolType;
        return protocol === 'WEBSOCKET' ? 'webSocketApi' : 'httpApi';
      }
      return `ApiId names ${value.name}, which is not an HTTP or WebSocket API`;
    case 'ApiName':
      if ('text' in value && restApiNames.includes(value.text)) return 'restApi';
      return `ApiName ${JSON.stringify(value)} is not the Name of a REST API in the template`;
    case 'FunctionName':
      return 'name' in value && !value.attribute && type === 'AWS::Serverless::Function'
        ? 'function'
        : `FunctionName ${JSON.stringify(value)} is not !Ref of a function`;
    case 'TableName':
      return 'name' in value && !value.attribute && type === 'AWS::DynamoDB::Table'
        ? 'table'
        : `TableName ${JSON.stringify(value)} is not !Ref of a table`;
    case 'QueueName':
      return 'name' in value && value.attribute === 'QueueName' && type === 'AWS::SQS::Queue'
        ? 'queue'
        : `QueueName ${JSON.stringify(value)} is not !GetAtt <queue>.QueueName`;
    default:
      return 'any';
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item) => b.includes(item));

/** The namespace the functions' Powertools metrics go to, as the template writes it. */
const metricsNamespace = (template: Template): string | undefined => {
  const variables = (template.Globals?.Function?.Environment as JsonObject | undefined)?.Variables;
  return isObject(variables) ? subText(variables.POWERTOOLS_METRICS_NAMESPACE) : undefined;
};

const serviceNames = (template: Template): Set<string> =>
  new Set(
    functionsOf(template).map((fn) =>
      String(((fn.properties.Environment as JsonObject).Variables as JsonObject).POWERTOOLS_SERVICE_NAME),
    ),
  );

/** Whether the service publishes `use.metric` with exactly these dimensions, for the resource they name. */
export function checkMetricUse(template: Template, use: MetricUse, emitted = emittedMetrics()): string[] {
  const keys = Object.keys(use.dimensions);
  const at = `${use.where}: ${use.namespace} ${use.metric} by [${keys.join(', ')}]`;
  if (!use.namespace.startsWith('AWS/')) {
    const violations: string[] = [];
    if (use.namespace !== metricsNamespace(template))
      violations.push(`${at}: not the functions' metrics namespace`);
    if (!emitted.has(use.metric)) violations.push(`${at}: no function emits ${use.metric}`);
    const service = use.dimensions.service;
    if (
      !sameSet(keys, ['service']) ||
      !service ||
      !('text' in service) ||
      !serviceNames(template).has(service.text)
    ) {
      violations.push(`${at}: Powertools metrics carry one dimension, service, naming a function's service`);
    }
    return violations;
  }
  const kinds = new Set(keys.map((key) => kindOf(template, key, use.dimensions[key])));
  kinds.delete('any');
  const problems = [...kinds].filter((kind) => !(kind in PUBLISHED));
  if (problems.length) return problems.map((problem) => `${at}: ${problem}`);
  if (kinds.size !== 1) return [`${at}: the dimensions name no single resource`];
  const [kind] = kinds as Set<Exclude<Kind, 'custom'>>;
  const catalogue = PUBLISHED[kind as Exclude<Kind, 'custom'>].find(
    (entry) => entry.namespace === use.namespace && entry.metrics.includes(use.metric),
  );
  if (!catalogue) return [`${at}: ${use.namespace} publishes no ${use.metric} for a ${kind}`];
  if (!catalogue.dimensionSets.some((set) => sameSet(set, keys))) {
    return [
      `${at}: ${use.metric} is published by ${catalogue.dimensionSets.map((s) => `[${s.join(', ')}]`).join(' or ')}`,
    ];
  }
  const stage = use.dimensions.Stage;
  if (stage && 'name' in stage) {
    const stageName = stage.attribute ? `${stage.name}.${stage.attribute}` : stage.name;
    const apiId = use.dimensions.ApiId;
    const apiName = use.dimensions.ApiName;
    const api =
      apiId && 'name' in apiId
        ? apiId.name
        : apiName && 'text' in apiName
          ? restApiNamed(template, apiName.text)
          : '';
    if (!api || !stageBelongsTo(template, stageName, api))
      return [`${at}: Stage ${stageName} is not a stage of ${api}`];
  }
  return [];
}

function stageBelongsTo(template: Template, stage: string, api: string): boolean {
  if (stage === `${api}.Stage`) return true;
  const resource = template.Resources[stage];
  const owner = referenceOf(resource?.Properties?.ApiId);
  return (
    resource?.Type === 'AWS::ApiGatewayV2::Stage' &&
    owner !== undefined &&
    'name' in owner &&
    owner.name === api
  );
}

/** Every metric of every alarm and dashboard graph exists for the resource it names. */
export function checkMetricReferences(template: Template, root = ROOT): string[] {
  const emitted = emittedMetrics(root);
  const uses = [
    ...alarmsOf(template).flatMap(([logicalId, properties]) => alarmMetrics(logicalId, properties)),
    ...resourcesOfType(template, 'AWS::CloudWatch::Dashboard').flatMap(([logicalId, properties]) => {
      try {
        return dashboardMetrics(logicalId, dashboardBody(properties) ?? {});
      } catch {
        return [];
      }
    }),
  ];
  return uses.flatMap((use) => checkMetricUse(template, use, emitted));
}

// ---------------------------------------------------------------- coverage

interface Watched {
  resource: string;
  metric: string;
  alarm: string;
  properties: JsonObject;
}

/** Which resource each alarm watches, through which metric. */
function watched(template: Template): Watched[] {
  return alarmsOf(template).flatMap(([alarm, properties]) =>
    alarmMetrics(alarm, properties).flatMap((use) =>
      Object.values(use.dimensions).flatMap((value) => {
        if (!value || 'stackSearch' in value) return [];
        const name = 'name' in value ? value.name : restApiNamed(template, value.text);
        return name ? [{ resource: name, metric: use.metric, alarm, properties }] : [];
      }),
    ),
  );
}

const restApiNamed = (template: Template, text: string): string | undefined =>
  resourcesOfType(template, 'AWS::Serverless::Api').find(
    ([, properties]) => subText(properties.Name) === text,
  )?.[0];

/** Whether the alarm computes a rate: a math expression dividing by the request count. */
const isRate = (properties: JsonObject): boolean =>
  asList(properties.Metrics).some(
    (query) => isObject(query) && /\/\s*[\w(]/.test(String(query.Expression ?? '')),
  );

const isP99 = (properties: JsonObject) => properties.ExtendedStatistic === 'p99';

/** What each kind of resource must be alarmed on. */
export function checkAlarmCoverage(template: Template): string[] {
  const violations: string[] = [];
  const all = watched(template);
  const need = (resource: string, metric: string, how = (_: JsonObject) => true, what = metric) => {
    if (
      !all.some((entry) => entry.resource === resource && entry.metric === metric && how(entry.properties))
    ) {
      violations.push(`${resource}: no alarm on ${what}`);
    }
  };
  for (const fn of functionsOf(template)) {
    need(fn.logicalId, 'Errors');
    need(fn.logicalId, 'Throttles');
    const timeoutMs = Number(effectiveProperties(template, fn.logicalId, 'Function').Timeout ?? 3) * 1000;
    need(
      fn.logicalId,
      'Duration',
      (properties) => isP99(properties) && Number(properties.Threshold) < timeoutMs,
      `Duration p99 below its ${timeoutMs} ms timeout`,
    );
  }
  for (const [api] of resourcesOfType(template, 'AWS::Serverless::HttpApi')) {
    need(api, '5xx', isRate, '5xx rate');
    need(api, 'Latency', isP99, 'Latency p99');
  }
  for (const [api, properties] of resourcesOfType(template, 'AWS::Serverless::Api')) {
    need(api, '5XXError', isRate, '5XXError rate');
    need(api, '4XXError', isRate, '4XXError rate');
    need(api, 'Latency', isP99, 'Latency p99');
    if (properties.CacheClusterEnabled !== undefined && properties.CacheClusterEnabled !== false) {
      need(api, 'CacheHitCount', isRate, 'cache hit ratio');
      need(api, 'CacheMissCount', isRate, 'cache hit ratio');
    }
  }
  for (const [api, properties] of resourcesOfType(template, 'AWS::ApiGatewayV2::Api')) {
    if (properties.ProtocolType !== 'WEBSOCKET') continue;
    need(api, 'IntegrationError');
    need(api, 'ExecutionError');
  }
  for (const [table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    need(table, 'ThrottledRequests');
    need(table, 'SystemErrors');
  }
  const deadLetterQueues = new Set(
    resourcesOfType(template, 'AWS::SQS::Queue').flatMap(([, properties]) => {
      const target = (properties.RedrivePolicy as JsonObject | undefined)?.deadLetterTargetArn;
      const reference = referenceOf(target);
      return reference && 'name' in reference ? [reference.name] : [];
    }),
  );
  for (const [queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
    if (deadLetterQueues.has(queue)) need(queue, 'ApproximateNumberOfMessagesVisible');
    else need(queue, 'ApproximateAgeOfOldestMessage');
  }
  return violations;
}

/** PutMetricAlarm takes "as many as 10 structures that contain a MetricStat parameter" (CloudWatch API reference). */
const MAX_ALARM_METRICS = 10;

const nameOf = (reference: Reference | undefined) =>
  reference && 'name' in reference ? reference.name : undefined;

/**
 * A WebSocket API's error-rate alarm divides by what clients ask for: the Invocations of every function a route of
 * the API integrates. MessageCount counts messages "either from or to the client" ("Monitor WebSocket API execution
 * with CloudWatch metrics"), so every message a chat posts through @connections would dilute its error rate.
 */
export function checkWebSocketErrorRates(template: Template): string[] {
  const violations: string[] = [];
  const routes = webSocketRoutesOf(template);
  for (const api of webSocketApisOf(template)) {
    const routeFunctions = new Set(
      routes.flatMap((route) => (route.api === api && route.fn ? [route.fn] : [])),
    );
    for (const [alarm, properties] of alarmsOf(template)) {
      const uses = alarmMetrics(alarm, properties);
      const ofApi = (metric: string) =>
        uses.some((use) => use.metric === metric && nameOf(use.dimensions.ApiId) === api);
      if (!ofApi('IntegrationError') || !isRate(properties)) continue;
      if (ofApi('MessageCount')) {
        violations.push(
          `${alarm}: divides ${api}'s errors by MessageCount, which also counts every message sent to clients through @connections; divide by the route functions' Invocations`,
        );
      }
      const counted = new Set(
        uses
          .filter((use) => use.namespace === 'AWS/Lambda' && use.metric === 'Invocations')
          .map((use) => nameOf(use.dimensions.FunctionName)),
      );
      for (const fn of routeFunctions) {
        if (!counted.has(fn))
          violations.push(
            `${alarm}: its request count leaves out the Invocations of ${fn}, a route of ${api}`,
          );
      }
      const metricStats = asList(properties.Metrics).filter(
        (query) => isObject(query) && query.MetricStat !== undefined,
      ).length;
      if (metricStats > MAX_ALARM_METRICS) {
        violations.push(
          `${alarm}: watches ${metricStats} metrics; PutMetricAlarm takes at most ${MAX_ALARM_METRICS} (split the alarm)`,
        );
      }
    }
  }
  return violations;
}

/** The functions API Gateway runs as Lambda authorisers: a WebSocket authoriser's or an OpenAPI scheme's URI. */
function authorizerFunctions(template: Template): Set<string> {
  const uris: Json[] = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer').map(
    ([, properties]) => properties.AuthorizerUri ?? null,
  );
  for (const { definition } of apiDefinitionsOf(template)) {
    const schemes =
      isObject(definition) && isObject(definition.components)
        ? definition.components.securitySchemes
        : undefined;
    for (const scheme of isObject(schemes) ? Object.values(schemes) : []) {
      const settings = isObject(scheme) ? scheme['x-amazon-apigateway-authorizer'] : undefined;
      if (isObject(settings)) uris.push(settings.authorizerUri ?? null);
    }
  }
  return new Set(
    uris.flatMap((uri) => {
      const name = /\$\{(\w+)\.Arn\}/.exec(subText(uri) ?? '')?.[1];
      return name ? [name] : [];
    }),
  );
}

/**
 * A Lambda authoriser refuses a token by throwing `Unauthorized` (API Gateway's documented contract), and Lambda
 * counts every thrown error in Errors (Lambda developer guide, "Types of metrics for Lambda functions"). An
 * authoriser's Errors alarm therefore subtracts the refusals the function counts itself, or it pages on every
 * expired token.
 */
export function checkAuthorizerErrorAlarms(template: Template): string[] {
  const violations: string[] = [];
  for (const fn of authorizerFunctions(template)) {
    for (const [alarm, properties] of alarmsOf(template)) {
      const uses = alarmMetrics(alarm, properties);
      const errors = uses.some(
        (use) =>
          use.namespace === 'AWS/Lambda' &&
          use.metric === 'Errors' &&
          nameOf(use.dimensions.FunctionName) === fn,
      );
      if (!errors) continue;
      const refusals = uses.some((use) => !use.namespace.startsWith('AWS/'));
      const subtracts = asList(properties.Metrics).some(
        (query) => isObject(query) && query.ReturnData === true && /-/.test(subText(query.Expression) ?? ''),
      );
      if (!refusals || !subtracts)
        violations.push(
          `${alarm}: ${fn} is a Lambda authoriser, whose refused tokens count as Errors; alarm on Errors minus the refusals it counts (a metric math expression)`,
        );
    }
  }
  return violations;
}

/** Every alarm notifies the alarm topic both ways and says what missing data means. */
export function checkAlarmActions(template: Template): string[] {
  const violations: string[] = [];
  const topics = new Set(resourcesOfType(template, 'AWS::SNS::Topic').map(([id]) => id));
  for (const [alarm, properties] of alarmsOf(template)) {
    for (const key of ['AlarmActions', 'OKActions']) {
      const targets = asList(properties[key]).map((target) => referenceOf(target));
      if (!targets.some((target) => target && 'name' in target && topics.has(target.name))) {
        violations.push(`${alarm}: ${key} does not notify an SNS topic of the stack`);
      }
    }
    if (properties.TreatMissingData === undefined) violations.push(`${alarm}: TreatMissingData is not set`);
  }
  return violations;
}

/** Alarm topics are encrypted with a customer managed key that CloudWatch may use (it cannot use alias/aws/sns). */
export function checkAlarmTopics(template: Template): string[] {
  const violations: string[] = [];
  const notified = new Set(
    alarmsOf(template).flatMap(([, properties]) =>
      asList(properties.AlarmActions).flatMap((target) => {
        const reference = referenceOf(target);
        return reference && 'name' in reference ? [reference.name] : [];
      }),
    ),
  );
  for (const topic of notified) {
    const key = referenceOf(template.Resources[topic]?.Properties?.KmsMasterKeyId);
    const keyResource = key && 'name' in key ? template.Resources[key.name] : undefined;
    if (keyResource?.Type !== 'AWS::KMS::Key') {
      violations.push(`${topic}: not encrypted with a customer managed AWS::KMS::Key of the stack`);
      continue;
    }
    const statements = asList((keyResource.Properties?.KeyPolicy as JsonObject | undefined)?.Statement);
    const allowsCloudWatch = statements.some((statement) => {
      if (!isObject(statement) || statement.Effect !== 'Allow') return false;
      const principal = isObject(statement.Principal) ? asList(statement.Principal.Service) : [];
      const actions = asList(statement.Action).map(String);
      return (
        principal.includes('cloudwatch.amazonaws.com') &&
        actions.includes('kms:Decrypt') &&
        actions.some((action) => action.startsWith('kms:GenerateDataKey'))
      );
    });
    if (!allowsCloudWatch) violations.push(`${topic}: its key does not let cloudwatch.amazonaws.com encrypt`);
    if (keyResource.Properties?.EnableKeyRotation !== true)
      violations.push(`${topic}: its key does not rotate`);
  }
  return violations;
}

// ---------------------------------------------------------------- logs and tracing

/** Every log group expires; every function logs JSON to its own; every API writes JSON access logs to one. */
export function checkLogs(template: Template): string[] {
  const violations: string[] = [];
  const logGroups = new Set(resourcesOfType(template, 'AWS::Logs::LogGroup').map(([id]) => id));
  for (const [group, properties] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
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
    ...resourcesOfType(template, 'AWS::Serverless::HttpApi').map(([id, p]): [string, Json | undefined] => [
      id,
      p.AccessLogSettings,
    ]),
    ...resourcesOfType(template, 'AWS::Serverless::Api').map(([id, p]): [string, Json | undefined] => [
      id,
      p.AccessLogSetting,
    ]),
    ...resourcesOfType(template, 'AWS::ApiGatewayV2::Stage').map(([id, p]): [string, Json | undefined] => [
      id,
      p.AccessLogSettings,
    ]),
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
  const rules = resourcesOfType(template, 'AWS::XRay::SamplingRule').map(
    ([, p]) => p.SamplingRule as JsonObject,
  );
  for (const [api, properties] of resourcesOfType(template, 'AWS::Serverless::Api')) {
    if (properties.TracingEnabled !== true) violations.push(`${api}: TracingEnabled is not true`);
    const sampled = rules.some((rule) => {
      const arn = subText(rule.ResourceARN) ?? '';
      return arn.includes(`/restapis/\${${api}}/stages/\${${api}.Stage}`) && Number(rule.ReservoirSize) >= 0;
    });
    if (!sampled) violations.push(`${api}: no X-Ray sampling rule for its stage`);
  }
  return violations;
}

// ---------------------------------------------------------------- broken copies

/**
 * A case of the rules failing on a broken copy of the template: what is broken, the check that must catch it, the
 * edit that breaks the copy, and (part of) the violation the check reports.
 */
export type BrokenCase = [
  name: string,
  check: (template: Template) => string[],
  edit: (copy: Template) => void,
  expected: string,
];

/** The case of a Lambda authoriser's Errors alarm on plain Errors (the GetMeFunction alarm, pointed at `fn`). */
export function plainAuthorizerErrorsCase(fn: string): BrokenCase {
  return [
    `${fn}'s Errors alarm on plain Errors, which counts every token it refuses`,
    checkAuthorizerErrorAlarms,
    (copy) => {
      copy.Resources[`${fn}ErrorsAlarm`] = structuredClone(
        copy.Resources.GetMeFunctionErrorsAlarm as Resource,
      );
      propertiesOf(copy, `${fn}ErrorsAlarm`).Dimensions = [{ Name: 'FunctionName', Value: { Ref: fn } }];
    },
    `${fn}ErrorsAlarm: ${fn} is a Lambda authoriser, whose refused tokens count as Errors`,
  ];
}
