import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate, type Template } from '../../offline/template/template.ts';
import { checkLeastPrivilege } from './iam-rules.ts';
import { checkOutputs } from './output-rules.ts';
import { checkQueues, checkSqsEventSources, sqsEventSourcesOf } from './queue-rules.ts';
import { broken, policiesOf, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

const queueEvent = (copy: Template): JsonObject =>
  ((propertiesOf(copy, 'ProcessPartnerOrdersFunction').Events as JsonObject).Queue as JsonObject)
    .Properties as JsonObject;
const redrive = (copy: Template): JsonObject => propertiesOf(copy, 'OrdersQueue').RedrivePolicy as JsonObject;

describe('SQS queues', () => {
  it('are encrypted, and every source queue redrives to a dead-letter queue that outlives it', () => {
    expect(checkQueues(template), 'template.yaml breaks the queue rules').toEqual([]);
  });

  it('include the orders queue and its dead-letter queue', () => {
    expect(redrive(template)).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['OrdersDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it.each([
    [
      'no encryption',
      (copy: Template) => delete propertiesOf(copy, 'OrdersQueue').SqsManagedSseEnabled,
      'OrdersQueue: not encrypted',
    ],
    [
      'an unencrypted dead-letter queue',
      (copy: Template) => {
        propertiesOf(copy, 'OrdersDeadLetterQueue').SqsManagedSseEnabled = false;
      },
      'OrdersDeadLetterQueue: not encrypted',
    ],
    [
      'no redrive policy',
      (copy: Template) => delete propertiesOf(copy, 'OrdersQueue').RedrivePolicy,
      'OrdersQueue: has no RedrivePolicy',
    ],
    [
      'a dead-letter queue outside the template',
      (copy: Template) => {
        redrive(copy).deadLetterTargetArn = 'arn:aws:sqs:eu-west-1:123456789012:somewhere';
      },
      'OrdersQueue: RedrivePolicy.deadLetterTargetArn is not !GetAtt',
    ],
    [
      'no maxReceiveCount',
      (copy: Template) => delete redrive(copy).maxReceiveCount,
      'OrdersQueue: RedrivePolicy.maxReceiveCount is not a whole number',
    ],
    [
      'a dead-letter queue that expires messages first',
      (copy: Template) => {
        propertiesOf(copy, 'OrdersDeadLetterQueue').MessageRetentionPeriod = 345600;
      },
      'OrdersQueue: its dead-letter queue OrdersDeadLetterQueue keeps messages 345600 s, not longer',
    ],
  ] as const)('catch %s', (_name, edit, expected) => {
    expect(checkQueues(broken(template, edit)).join('\n')).toContain(expected);
  });

  it('catch a new queue without encryption or a dead-letter queue', () => {
    const copy = broken(template, (edit) => {
      edit.Resources.AuditQueue = { Type: 'AWS::SQS::Queue', Properties: {} };
    });
    expect(checkQueues(copy)).toEqual([
      'AuditQueue: not encrypted (SqsManagedSseEnabled is not true and there is no KmsMasterKeyId)',
      'AuditQueue: has no RedrivePolicy, so a poison message is retried until it expires',
    ]);
  });
});

describe('SQS event sources', () => {
  it('are found: the partner order consumer reads OrdersQueue', () => {
    expect(
      sqsEventSourcesOf(template).map((source) => [source.fn.logicalId, source.event, source.queue]),
    ).toEqual([['ProcessPartnerOrdersFunction', 'Queue', 'OrdersQueue']]);
  });

  it('report partial batch failures, and the queue hides a batch for at least 6 × the function Timeout', () => {
    expect(checkSqsEventSources(template), 'template.yaml breaks the event source rules').toEqual([]);
  });

  it('catch a consumer without ReportBatchItemFailures', () => {
    const copy = broken(template, (edit) => delete queueEvent(edit).FunctionResponseTypes);
    expect(checkSqsEventSources(copy)).toEqual([
      'ProcessPartnerOrdersFunction (event Queue): FunctionResponseTypes lacks ReportBatchItemFailures',
    ]);
  });

  it('catch a visibility timeout under 6 × the function Timeout, and the defaults of both', () => {
    const longer = broken(template, (edit) => {
      propertiesOf(edit, 'ProcessPartnerOrdersFunction').Timeout = 21;
    });
    expect(checkSqsEventSources(longer)).toEqual([
      'ProcessPartnerOrdersFunction (event Queue): OrdersQueue.VisibilityTimeout 120 is under 6 × the function Timeout 21 (126)',
    ]);
    // No VisibilityTimeout: SQS's 30 s; no Timeout of its own: Globals.Function's 10 s.
    const defaults = broken(template, (edit) => {
      delete propertiesOf(edit, 'OrdersQueue').VisibilityTimeout;
      delete propertiesOf(edit, 'ProcessPartnerOrdersFunction').Timeout;
    });
    expect(checkSqsEventSources(defaults).join('\n')).toContain(
      'VisibilityTimeout 30 is under 6 × the function Timeout 10 (60)',
    );
  });

  it('catch a queue that is not one of this template', () => {
    const copy = broken(template, (edit) => {
      queueEvent(edit).Queue = 'arn:aws:sqs:eu-west-1:123456789012:elsewhere';
    });
    expect(checkSqsEventSources(copy)).toEqual([
      'ProcessPartnerOrdersFunction (event Queue): Queue is not !GetAtt <AWS::SQS::Queue of this template>.Arn',
    ]);
  });

  it('give the consumer read on Products and PutItem on Orders only', () => {
    expect(checkLeastPrivilege(template)).toEqual([]);
    const { statements, templates } = policiesOf(template, 'ProcessPartnerOrdersFunction');
    expect(templates.map((policy) => policy.name)).toEqual(['DynamoDBReadPolicy']);
    expect(templates[0]?.parameters).toEqual({ TableName: { Ref: 'ProductsTable' } });
    expect(statements.map(({ statement }) => statement)).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': ['OrdersTable', 'Arn'] } },
    ]);
  });

  it('have their queue URLs in the Outputs, which the rule catches when missing', () => {
    expect(checkOutputs(template)).toEqual([]);
    const copy = broken(template, (edit) => {
      delete (edit.Outputs as JsonObject).OrdersDeadLetterQueueUrl;
    });
    expect(checkOutputs(copy)).toEqual(['Outputs: nothing gives the URL of the queue OrdersDeadLetterQueue']);
  });
});
