import type { Json, JsonObject, Resource, Template } from '../../offline/template/template.ts';
import { functionsOf } from '../../offline/template/template.ts';
import { webSocketApiIdsOf } from '../../offline/template/websocket-api-definition.ts';
import { apiDefinitionsOf } from './iam-rules.ts';
import type { Reference } from './metrics.ts';
import {
  alarmMetrics,
  alarmsOf,
  referenceOf,
  resourcesWithProperties,
  restApiNamed,
  subText,
} from './metrics.ts';
import { asList, type BrokenCase, effectiveProperties, isObject, propertiesOf } from './rules.ts';
import { webSocketRoutesOf } from './websocket-rules.ts';

/** The alarm rules: what each resource is alarmed on, how rates and authorisers' errors count, who is told. */

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
  for (const [api] of resourcesWithProperties(template, 'AWS::Serverless::HttpApi')) {
    need(api, '5xx', isRate, '5xx rate');
    need(api, 'Latency', isP99, 'Latency p99');
  }
  for (const [api, properties] of resourcesWithProperties(template, 'AWS::Serverless::Api')) {
    need(api, '5XXError', isRate, '5XXError rate');
    need(api, '4XXError', isRate, '4XXError rate');
    need(api, 'Latency', isP99, 'Latency p99');
    if (properties.CacheClusterEnabled !== undefined && properties.CacheClusterEnabled !== false) {
      need(api, 'CacheHitCount', isRate, 'cache hit ratio');
      need(api, 'CacheMissCount', isRate, 'cache hit ratio');
    }
  }
  for (const [api, properties] of resourcesWithProperties(template, 'AWS::ApiGatewayV2::Api')) {
    if (properties.ProtocolType !== 'WEBSOCKET') continue;
    need(api, 'IntegrationError');
    need(api, 'ExecutionError');
  }
  for (const [table] of resourcesWithProperties(template, 'AWS::DynamoDB::Table')) {
    need(table, 'ThrottledRequests');
    need(table, 'SystemErrors');
  }
  const deadLetterQueues = new Set(
    resourcesWithProperties(template, 'AWS::SQS::Queue').flatMap(([, properties]) => {
      const target = (properties.RedrivePolicy as JsonObject | undefined)?.deadLetterTargetArn;
      const reference = referenceOf(target);
      return reference && 'name' in reference ? [reference.name] : [];
    }),
  );
  for (const [queue] of resourcesWithProperties(template, 'AWS::SQS::Queue')) {
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
  for (const api of webSocketApiIdsOf(template)) {
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
  const uris: Json[] = resourcesWithProperties(template, 'AWS::ApiGatewayV2::Authorizer').map(
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
  const topics = new Set(resourcesWithProperties(template, 'AWS::SNS::Topic').map(([id]) => id));
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

// ---------------------------------------------------------------- broken copies

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
