import { describe, expect, test } from 'vitest';
import { createResolver } from './resolver.ts';
import { loadTemplate, parseTemplate, UnsupportedTemplateError } from './template.ts';

describe('createResolver', () => {
  test('refuses a resource type the offline cloud does not run, naming the resource', () => {
    const template = parseTemplate('Resources:\n  Box:\n    Type: AWS::EC2::Instance\n');
    expect(() => createResolver(template, undefined)).toThrow(UnsupportedTemplateError);
    expect(() => createResolver(template, undefined)).toThrow(
      'Resources.Box: the resource type AWS::EC2::Instance is not supported by the offline cloud',
    );
  });

  test('binds the local identities of Cognito, the HTTP API and cloud-only resources', () => {
    const resolver = createResolver(loadTemplate(), undefined);
    expect(resolver.resolve({ Ref: 'UserPool' }, 'test')).toBe('us-east-1_UserPool');
    expect(resolver.resolve({ Ref: 'UserPoolClient' }, 'test')).toBe('localUserPoolClient');
    expect(resolver.resolve({ Ref: 'HttpApi' }, 'test')).toBe('httpapi');
    expect(resolver.resolve({ 'Fn::GetAtt': ['HttpApiAccessLogs', 'Arn'] }, 'test')).toBe(
      'arn:aws:logs:us-east-1:000000000000:log-group:HttpApiAccessLogs',
    );
    expect(resolver.resolve({ Ref: 'AlarmTopic' }, 'test')).toBe(
      'arn:aws:sns:us-east-1:000000000000:AlarmTopic',
    );
  });
});
