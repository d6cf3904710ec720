import { functionsOf, type JsonObject, type Template } from '../../offline/template/template.ts';
import { dashboardBody, dashboardMetrics } from './dashboard-rules.ts';
import type { MetricUse, Reference } from './metrics.ts';
import {
  alarmMetrics,
  alarmsOf,
  referenceOf,
  resourcesWithProperties,
  restApiNamed,
  subText,
} from './metrics.ts';
import { emittedMetrics, type Kind, PUBLISHED } from './published-metrics.ts';
import { isObject, ROOT } from './rules.ts';

/** The rule that every metric an alarm or dashboard graph names is one its service publishes for that resource. */

/** What kind of resource a dimension value refers to, and whether the reference is the right one for that key. */
function kindOf(template: Template, key: string, value: Reference | undefined): Kind | string {
  if (!value) return 'any';
  if ('stackSearch' in value) {
    if (key === 'FunctionName') return 'function';
    if (key === 'TableName') return 'table';
    return `a SEARCH cannot find the stack's resources by ${key}`;
  }
  const type = 'name' in value ? template.Resources[value.name.split('.')[0] ?? '']?.Type : undefined;
  const restApiNames = resourcesWithProperties(template, 'AWS::Serverless::Api').map(([, p]) =>
    subText(p.Name),
  );
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
export const metricsNamespace = (template: Template): string | undefined => {
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
    ...resourcesWithProperties(template, 'AWS::CloudWatch::Dashboard').flatMap(([logicalId, properties]) => {
      try {
        return dashboardMetrics(logicalId, dashboardBody(properties) ?? {});
      } catch {
        return [];
      }
    }),
  ];
  return uses.flatMap((use) => checkMetricUse(template, use, emitted));
}
