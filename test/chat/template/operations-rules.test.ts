import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate, type Template } from '../../../offline/template/template.ts';
import {
  checkAlarmCoverage,
  checkWebSocketErrorRates,
  plainAuthorizerErrorsCase,
} from '../../template/alarm-rules.ts';
import { checkLogs } from '../../template/logs-and-tracing-rules.ts';
import { type BrokenCase, broken, propertiesOf, ROOT } from '../../template/rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe("the chat's operations", () => {
  it('its error rate divides by the requests clients make (route invocations), not by MessageCount', () => {
    expect(checkWebSocketErrorRates(template)).toEqual([]);
  });
});

describe('the operations rules catch, on the chat', () => {
  const errorRate = (copy: Template) => propertiesOf(copy, 'ChatApiErrorRateAlarm');
  const queriesOf = (copy: Template) => errorRate(copy).Metrics as JsonObject[];
  /** Takes the query `id` out of the chat's error-rate alarm. */
  const withoutQuery = (id: string) => (copy: Template) => {
    errorRate(copy).Metrics = queriesOf(copy).filter((m) => m.Id !== id);
  };
  const cases: BrokenCase[] = [
    [
      'the WebSocket API without an execution error alarm',
      checkAlarmCoverage,
      withoutQuery('execution'),
      'ChatApi: no alarm on ExecutionError',
    ],
    [
      "the chat's error rate over MessageCount, which counts the messages sent to clients too",
      checkWebSocketErrorRates,
      (copy) => {
        const metrics = queriesOf(copy);
        const messages = structuredClone(metrics.find((m) => m.Id === 'integration') as JsonObject);
        messages.Id = 'messages';
        ((messages.MetricStat as JsonObject).Metric as JsonObject).MetricName = 'MessageCount';
        errorRate(copy).Metrics = [
          ...metrics.filter((m) => m.Id === 'integration' || m.Id === 'execution'),
          messages,
          {
            Id: 'rate',
            Expression: 'IF(messages >= 20, 100 * (FILL(integration, 0) + FILL(execution, 0)) / messages, 0)',
            ReturnData: true,
          },
        ];
      },
      "ChatApiErrorRateAlarm: divides ChatApi's errors by MessageCount",
    ],
    plainAuthorizerErrorsCase('ChatAuthorizerFunction'),
    [
      "a chat route left out of the error rate's request count",
      checkWebSocketErrorRates,
      withoutQuery('unrouted'),
      'ChatApiErrorRateAlarm: its request count leaves out the Invocations of ChatDefaultFunction, a route of ChatApi',
    ],
    [
      'a chat error rate over more metrics than PutMetricAlarm takes',
      checkWebSocketErrorRates,
      (copy) => {
        const unrouted = queriesOf(copy).find((m) => m.Id === 'unrouted') as JsonObject;
        const extra = ['typing', 'presence', 'history'].map((Id) => ({ ...structuredClone(unrouted), Id }));
        errorRate(copy).Metrics = [...queriesOf(copy), ...extra];
      },
      'ChatApiErrorRateAlarm: watches 11 metrics; PutMetricAlarm takes at most 10',
    ],
    [
      'a WebSocket stage without access logs',
      checkLogs,
      (copy) => {
        delete propertiesOf(copy, 'ChatStage').AccessLogSettings;
      },
      'ChatStage: access logs do not go to a log group of the stack',
    ],
  ];

  it.each(cases)('%s', (_, check, edit, expected) => {
    const violations = check(broken(template, edit));
    expect(violations.join('\n')).toContain(expected);
  });
});
