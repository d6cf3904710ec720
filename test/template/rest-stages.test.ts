import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate } from '../../offline/template/template.ts';
import { checkRestAccessLogVariables, checkRestDeployments } from './rest-api-rules.ts';
import { broken, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('REST API stages', () => {
  it('redeploy on every stack update (AlwaysDeploy)', () => {
    expect(checkRestDeployments(template), 'template.yaml can leave a REST stage stale').toEqual([]);
  });

  it('catch an API that redeploys only when its definition text changes', () => {
    const copy = broken(template, (edit) => {
      delete propertiesOf(edit, 'PartnerApi').AlwaysDeploy;
    });
    expect(checkRestDeployments(copy)).toEqual([
      'PartnerApi: AlwaysDeploy is not true, so a changed parameter or replaced resource would leave the stage on its old deployment',
    ]);
  });

  it('accept AlwaysDeploy from Globals.Api, as SAM applies it', () => {
    const copy = broken(template, (edit) => {
      delete propertiesOf(edit, 'PartnerApi').AlwaysDeploy;
      (edit.Globals as Record<string, JsonObject>).Api = { AlwaysDeploy: true };
    });
    expect(checkRestDeployments(copy)).toEqual([]);
  });

  it('log only documented REST access-log variables', () => {
    expect(checkRestAccessLogVariables(template), 'template.yaml logs an undocumented variable').toEqual([]);
  });

  it('catch $context.cacheHit and a misspelt variable, and allow a named claim', () => {
    const copy = broken(template, (edit) => {
      const settings = propertiesOf(edit, 'PartnerApi').AccessLogSetting as JsonObject;
      settings.Format = String(settings.Format).replace(
        '"requestId":"$context.requestId"',
        '"requestId":"$context.requestId","cacheHit":"$context.cacheHit","ms":"$context.responselatency",' +
          '"sub":"$context.authorizer.claims.sub"',
      );
    });
    expect(checkRestAccessLogVariables(copy)).toEqual([
      'PartnerApi: AccessLogSetting.Format uses $context.cacheHit, which is not a documented REST access-log variable',
      'PartnerApi: AccessLogSetting.Format uses $context.responselatency, which is not a documented REST access-log variable',
    ]);
  });

  it('read the format of an AWS::ApiGateway::Stage written with Fn::Sub', () => {
    const copy = broken(template, (edit) => {
      edit.Resources.ExtraStage = {
        Type: 'AWS::ApiGateway::Stage',
        Properties: {
          AccessLogSetting: {
            Format: { 'Fn::Sub': '{"stack":"${AWS::StackName}","hit":"$context.cacheHit"}' },
          },
        },
      };
    });
    expect(checkRestAccessLogVariables(copy)).toEqual([
      'ExtraStage: AccessLogSetting.Format uses $context.cacheHit, which is not a documented REST access-log variable',
    ]);
  });
});
