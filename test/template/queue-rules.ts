import type { FunctionDefinition, Json, JsonObject, Template } from '../../offline/template/template.ts';
import { functionsOf } from '../../offline/template/template.ts';
import { asList, functionProperties, isObject, resourcesOfType } from './rules.ts';

/** The rules over the SQS queues and the functions they trigger. */

export const SQS_QUEUE = 'AWS::SQS::Queue';
// CloudFormation's defaults when a queue or function leaves these out.
const DEFAULT_VISIBILITY_TIMEOUT = 30;
const DEFAULT_RETENTION = 345_600;
const DEFAULT_FUNCTION_TIMEOUT = 3;
/** AWS's advice for a queue that is a Lambda event source: visibility timeout ≥ 6 × the function's Timeout. */
export const VISIBILITY_FACTOR = 6;

/** The queue of this template an ARN names (`!GetAtt Queue.Arn`), if it does. */
function queueArnOf(template: Template, value: Json | undefined): string | undefined {
  const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
  const [target, attribute] = Array.isArray(getAtt)
    ? getAtt.map(String)
    : typeof getAtt === 'string'
      ? getAtt.split('.')
      : [];
  return attribute === 'Arn' && template.Resources[target ?? '']?.Type === SQS_QUEUE ? target : undefined;
}

const numberOr = (value: Json | undefined, fallback: number): number | undefined =>
  value === undefined || value === null ? fallback : typeof value === 'number' ? value : undefined;

/**
 * Every queue is encrypted (SQS-managed SSE or a KMS key). Every queue that is not itself a dead-letter queue
 * redrives to one of this template's queues after a whole number of receives, and that dead-letter queue keeps
 * messages longer than its source (a moved message keeps its first enqueue time, so it would expire early).
 */
export function checkQueues(template: Template): string[] {
  const violations: string[] = [];
  const queues = resourcesOfType(template, SQS_QUEUE);
  const redrives = new Map(
    queues.map((id) => {
      const policy = template.Resources[id]?.Properties?.RedrivePolicy;
      return [id, isObject(policy) ? policy : undefined] as const;
    }),
  );
  const deadLetterQueues = new Set(
    [...redrives.values()].flatMap((policy) => queueArnOf(template, policy?.deadLetterTargetArn) ?? []),
  );
  for (const id of queues) {
    const properties = template.Resources[id]?.Properties ?? {};
    if (properties.SqsManagedSseEnabled !== true && properties.KmsMasterKeyId === undefined) {
      violations.push(
        `${id}: not encrypted (SqsManagedSseEnabled is not true and there is no KmsMasterKeyId)`,
      );
    }
    if (deadLetterQueues.has(id)) continue;
    const policy = redrives.get(id);
    if (!policy) {
      violations.push(`${id}: has no RedrivePolicy, so a poison message is retried until it expires`);
      continue;
    }
    const target = queueArnOf(template, policy.deadLetterTargetArn);
    if (!target) {
      violations.push(`${id}: RedrivePolicy.deadLetterTargetArn is not !GetAtt <queue of this template>.Arn`);
    }
    const receives = policy.maxReceiveCount;
    if (typeof receives !== 'number' || !Number.isInteger(receives) || receives < 1 || receives > 1000) {
      violations.push(`${id}: RedrivePolicy.maxReceiveCount is not a whole number from 1 to 1000`);
    }
    if (target) {
      const own = numberOr(properties.MessageRetentionPeriod, DEFAULT_RETENTION);
      const dlq = numberOr(template.Resources[target]?.Properties?.MessageRetentionPeriod, DEFAULT_RETENTION);
      if (own === undefined || dlq === undefined || dlq <= own) {
        violations.push(
          `${id}: its dead-letter queue ${target} keeps messages ${dlq ?? '?'} s, not longer than the queue's ${own ?? '?'} s`,
        );
      }
    }
  }
  return violations;
}

export interface SqsEventSource {
  fn: FunctionDefinition;
  event: string;
  /** The queue of this template the event names (`Queue: !GetAtt X.Arn`). */
  queue: string | undefined;
  properties: JsonObject;
}

/** The functions' `Type: SQS` events. */
export function sqsEventSourcesOf(template: Template): SqsEventSource[] {
  return functionsOf(template).flatMap((fn) =>
    Object.entries((functionProperties(template, fn).Events ?? {}) as JsonObject)
      .filter(([, event]) => isObject(event) && event.Type === 'SQS')
      .map(([name, event]) => {
        const properties = ((event as JsonObject).Properties ?? {}) as JsonObject;
        return { fn, event: name, queue: queueArnOf(template, properties.Queue), properties };
      }),
  );
}

/**
 * A function triggered by a queue reads a queue of this template, reports partial batch failures (one poison
 * message never sends its whole batch round again), and the queue's visibility timeout is at least
 * VISIBILITY_FACTOR × the function's Timeout.
 */
export function checkSqsEventSources(template: Template): string[] {
  const violations: string[] = [];
  for (const source of sqsEventSourcesOf(template)) {
    const where = `${source.fn.logicalId} (event ${source.event})`;
    if (!source.queue) {
      violations.push(`${where}: Queue is not !GetAtt <AWS::SQS::Queue of this template>.Arn`);
    }
    if (!asList(source.properties.FunctionResponseTypes).includes('ReportBatchItemFailures')) {
      violations.push(`${where}: FunctionResponseTypes lacks ReportBatchItemFailures`);
    }
    if (!source.queue) continue;
    const timeout = numberOr(functionProperties(template, source.fn).Timeout, DEFAULT_FUNCTION_TIMEOUT);
    const visibility = numberOr(
      template.Resources[source.queue]?.Properties?.VisibilityTimeout,
      DEFAULT_VISIBILITY_TIMEOUT,
    );
    if (timeout === undefined || visibility === undefined) {
      violations.push(`${where}: the function Timeout and ${source.queue}.VisibilityTimeout must be numbers`);
    } else if (visibility < VISIBILITY_FACTOR * timeout) {
      violations.push(
        `${where}: ${source.queue}.VisibilityTimeout ${visibility} is under ${VISIBILITY_FACTOR} × the function Timeout ${timeout} (${VISIBILITY_FACTOR * timeout})`,
      );
    }
  }
  return violations;
}
