import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate, type Template } from '../../offline/template/template.ts';
import {
  checkAlarmActions,
  checkAlarmCoverage,
  checkAlarmTopics,
  checkAuthorizerErrorAlarms,
  plainAuthorizerErrorsCase,
} from './alarm-rules.ts';
import { checkDashboards } from './dashboard-rules.ts';
import { checkLogs, checkTracing } from './logs-and-tracing-rules.ts';
import { checkMetricReferences } from './metric-reference-rules.ts';
import { alarmsOf } from './metrics.ts';
import { type BrokenCase, broken, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('operations', () => {
  it('alarms and dashboard graphs name only metrics their service publishes for that kind of resource', () => {
    expect(checkMetricReferences(template)).toEqual([]);
  });

  it('every function, API, table and queue has its alarms', () => {
    expect(alarmsOf(template).length).toBeGreaterThan(0);
    expect(checkAlarmCoverage(template)).toEqual([]);
  });

  it("the authorisers' Errors alarms leave out the tokens they refuse", () => {
    expect(checkAuthorizerErrorAlarms(template)).toEqual([]);
  });

  it('every alarm notifies the alarm topic when it fires and clears, and says what missing data means', () => {
    expect(checkAlarmActions(template)).toEqual([]);
  });

  it('the alarm topic is encrypted with a key CloudWatch may use', () => {
    expect(checkAlarmTopics(template)).toEqual([]);
  });

  it('the dashboard is built from references only and shows every resource and the business metrics', () => {
    expect(checkDashboards(template)).toEqual([]);
  });

  it('every log group expires; functions and APIs log JSON to their own log groups', () => {
    expect(checkLogs(template)).toEqual([]);
  });

  it('functions trace and name their service; the REST stage traces under a sampling rule', () => {
    expect(checkTracing(template)).toEqual([]);
  });
});

const alarm = (copy: Template, id: string) => propertiesOf(copy, id);
const firstMetric = (copy: Template, id: string) => {
  const [first] = alarm(copy, id).Metrics as JsonObject[];
  if (!first) throw new Error(`${id} has no Metrics`);
  return (first.MetricStat as JsonObject).Metric as JsonObject;
};
const dashboardText = (copy: Template) =>
  (propertiesOf(copy, 'OperationsDashboard').DashboardBody as JsonObject)['Fn::Sub'] as string;
const setDashboardText = (copy: Template, text: string) => {
  propertiesOf(copy, 'OperationsDashboard').DashboardBody = { 'Fn::Sub': text };
};

describe('the operations rules catch', () => {
  const cases: BrokenCase[] = [
    [
      "the REST API's metric name on the HTTP API (5XXError by ApiId)",
      checkMetricReferences,
      (copy) => {
        firstMetric(copy, 'HttpApi5xxRateAlarm').MetricName = '5XXError';
      },
      'HttpApi5xxRateAlarm failed: AWS/ApiGateway 5XXError by [ApiId]: AWS/ApiGateway publishes no 5XXError for a httpApi',
    ],
    [
      'the REST API named by ApiId',
      checkMetricReferences,
      (copy) => {
        firstMetric(copy, 'PartnerApi5xxRateAlarm').Dimensions = [
          { Name: 'ApiId', Value: { Ref: 'PartnerApi' } },
        ];
      },
      'ApiId names PartnerApi, which is not an HTTP or WebSocket API',
    ],
    [
      'a REST API name that is not the API’s',
      checkMetricReferences,
      (copy) => {
        alarm(copy, 'PartnerApiLatencyAlarm').Dimensions = [
          { Name: 'ApiName', Value: 'partner' },
          { Name: 'Stage', Value: { Ref: 'PartnerApi.Stage' } },
        ];
      },
      'ApiName {"text":"partner"} is not the Name of a REST API',
    ],
    [
      'a Lambda metric without its dimension',
      checkMetricReferences,
      (copy) => {
        alarm(copy, 'GetMeFunctionErrorsAlarm').Dimensions = [];
      },
      'GetMeFunctionErrorsAlarm: AWS/Lambda Errors by []',
    ],
    [
      'ThrottledRequests by TableName alone (DynamoDB publishes it per operation)',
      checkMetricReferences,
      (copy) => {
        const metrics = alarm(copy, 'OrdersTableThrottledAlarm').Metrics as JsonObject[];
        (metrics[0] as JsonObject).Expression = {
          'Fn::Sub': `SELECT SUM(ThrottledRequests) FROM SCHEMA("AWS/DynamoDB", TableName) WHERE TableName = '\${OrdersTable}'`,
        };
      },
      'ThrottledRequests is published by [TableName, Operation]',
    ],
    [
      'a queue named by its URL instead of its name',
      checkMetricReferences,
      (copy) => {
        alarm(copy, 'OrdersQueueAgeAlarm').Dimensions = [
          { Name: 'QueueName', Value: { Ref: 'OrdersQueue' } },
        ];
      },
      'is not !GetAtt <queue>.QueueName',
    ],
    [
      'a business metric no function emits',
      checkMetricReferences,
      (copy) => setDashboardText(copy, dashboardText(copy).replace('"OrderCreated"', '"OrdersPlaced"')),
      'no function emits OrdersPlaced',
    ],
    [
      'a function without a throttle alarm',
      checkAlarmCoverage,
      (copy) => {
        delete copy.Resources.GetMeFunctionThrottlesAlarm;
      },
      'GetMeFunction: no alarm on Throttles',
    ],
    [
      'a duration alarm at the timeout itself',
      checkAlarmCoverage,
      (copy) => {
        alarm(copy, 'ProcessPartnerOrdersFunctionDurationAlarm').Threshold = 20000;
      },
      'ProcessPartnerOrdersFunction: no alarm on Duration p99 below its 20000 ms timeout',
    ],
    [
      'an HTTP 5xx alarm on a count instead of a rate',
      checkAlarmCoverage,
      (copy) => {
        const metrics = alarm(copy, 'HttpApi5xxRateAlarm').Metrics as JsonObject[];
        alarm(copy, 'HttpApi5xxRateAlarm').Metrics = metrics
          .slice(0, 1)
          .map((m) => ({ ...m, ReturnData: true }));
      },
      'HttpApi: no alarm on 5xx rate',
    ],
    [
      'a table whose throttle alarm queries another table',
      checkAlarmCoverage,
      (copy) => {
        const metrics = alarm(copy, 'ProductsTableThrottledAlarm').Metrics as JsonObject[];
        const query = metrics[0] as JsonObject;
        query.Expression = {
          'Fn::Sub': String((query.Expression as JsonObject)['Fn::Sub']).replace(
            '${ProductsTable}',
            '${OrdersTable}',
          ),
        };
      },
      'ProductsTable: no alarm on ThrottledRequests',
    ],
    [
      'a dead-letter queue without its alarm',
      checkAlarmCoverage,
      (copy) => {
        delete copy.Resources.OrdersDeadLetterAlarm;
      },
      'OrdersDeadLetterQueue: no alarm on ApproximateNumberOfMessagesVisible',
    ],
    plainAuthorizerErrorsCase('PartnerAuthorizerFunction'),
    [
      'an alarm that clears silently',
      checkAlarmActions,
      (copy) => {
        delete alarm(copy, 'OrdersQueueAgeAlarm').OKActions;
      },
      'OrdersQueueAgeAlarm: OKActions does not notify an SNS topic of the stack',
    ],
    [
      'an alarm with no decision on missing data',
      checkAlarmActions,
      (copy) => {
        delete alarm(copy, 'HttpApiLatencyAlarm').TreatMissingData;
      },
      'HttpApiLatencyAlarm: TreatMissingData is not set',
    ],
    [
      'the alarm topic on the AWS managed key, which CloudWatch cannot use',
      checkAlarmTopics,
      (copy) => {
        propertiesOf(copy, 'AlarmTopic').KmsMasterKeyId = 'alias/aws/sns';
      },
      'AlarmTopic: not encrypted with a customer managed AWS::KMS::Key',
    ],
    [
      'a key policy without CloudWatch',
      checkAlarmTopics,
      (copy) => {
        const policy = propertiesOf(copy, 'AlarmTopicKey').KeyPolicy as JsonObject;
        policy.Statement = (policy.Statement as JsonObject[]).slice(0, 1);
      },
      'AlarmTopic: its key does not let cloudwatch.amazonaws.com encrypt',
    ],
    [
      'a hard-coded region in the dashboard',
      checkDashboards,
      (copy) => setDashboardText(copy, dashboardText(copy).replace('"${AWS::Region}"', '"eu-west-1"')),
      'names eu-west-1 literally',
    ],
    [
      'a physical queue name in the dashboard',
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replaceAll('${OrdersQueue.QueueName}', 'orders-api-dev-OrdersQueue-1A2B'),
        ),
      'no dashboard shows OrdersQueue',
    ],
    [
      'a function named in the dashboard (each new function would need a dashboard edit)',
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace(
            '"metrics": [',
            '"metrics": [\n["AWS/Lambda","Errors","FunctionName","${GetMeFunction}"],',
          ),
        ),
      'OperationsDashboard: names GetMeFunction (find it by SEARCH instead)',
    ],
    [
      "a function's own alarm in the dashboard's alarm list",
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace('"alarms": [', '"alarms": [\n"${GetMeFunctionErrorsAlarm.Arn}",'),
        ),
      "OperationsDashboard: names GetMeFunctionErrorsAlarm, a function's or table's own alarm",
    ],
    [
      "a SEARCH of the functions' errors that is not scoped to the stack",
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace(
            'MetricName=\\"Errors\\" FunctionName=${AWS::StackName}',
            'MetricName=\\"Errors\\"',
          ),
        ),
      "no dashboard SEARCHes AWS/Lambda Errors over the stack's resources",
    ],
    [
      'a SEARCH by a dimension set Lambda does not publish',
      checkMetricReferences,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace(
            '{AWS/Lambda,FunctionName} MetricName=\\"Errors\\"',
            '{AWS/Lambda,FunctionName,Operation} MetricName=\\"Errors\\"',
          ),
        ),
      'Errors is published by [FunctionName] or [FunctionName, Resource]',
    ],
    [
      'a business metric a function emits that no dashboard graphs',
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace('["${AWS::StackName}","OrderCreated","service","orders"],', ''),
        ),
      'no dashboard graphs OrderCreated',
    ],
    [
      'a reference to nothing in the dashboard',
      checkDashboards,
      (copy) =>
        setDashboardText(
          copy,
          dashboardText(copy).replace('${OrdersQueue.QueueName}', '${OrderQueue.QueueName}'),
        ),
      '${OrderQueue} is not in the template',
    ],
    [
      'a log group without retention',
      checkLogs,
      (copy) => {
        delete propertiesOf(copy, 'PartnerApiAccessLogs').RetentionInDays;
      },
      'PartnerApiAccessLogs: no RetentionInDays',
    ],
    [
      'a function logging to the default log group (created by Lambda, kept forever)',
      checkLogs,
      (copy) => {
        delete (propertiesOf(copy, 'GetOrderFunction').LoggingConfig as JsonObject).LogGroup;
      },
      'GetOrderFunction: LoggingConfig.LogGroup is not !Ref of a log group with a retention',
    ],
    [
      'an access log format that is not JSON',
      checkLogs,
      (copy) => {
        (propertiesOf(copy, 'HttpApi').AccessLogSettings as JsonObject).Format =
          '$context.requestId $context.status';
      },
      'HttpApi: the access log format is not JSON',
    ],
    [
      'an untraced REST stage',
      checkTracing,
      (copy) => {
        propertiesOf(copy, 'PartnerApi').TracingEnabled = false;
      },
      'PartnerApi: TracingEnabled is not true',
    ],
    [
      'a function without its own service name',
      checkTracing,
      (copy) => {
        const variables = (propertiesOf(copy, 'GetMeFunction').Environment as JsonObject)
          .Variables as JsonObject;
        delete variables.POWERTOOLS_SERVICE_NAME;
      },
      'GetMeFunction: sets no POWERTOOLS_SERVICE_NAME of its own',
    ],
    [
      'no sampling rule for the REST stage',
      checkTracing,
      (copy) => {
        delete copy.Resources.PartnerApiSamplingRule;
      },
      'PartnerApi: no X-Ray sampling rule for its stage',
    ],
  ];

  it.each(cases)('%s', (_, check, edit, expected) => {
    const violations = check(broken(template, edit));
    expect(violations.join('\n')).toContain(expected);
  });
});
