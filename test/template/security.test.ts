import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, loadTemplate, type Template } from '../../offline/template/template.ts';
import { broken, propertiesOf, ROOT } from './rules.ts';
import { checkCustomDomains, checkKeyPolicies, checkWaf } from './security.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('edge protection and keys', () => {
  it('the partner API stage can be put behind WAF (rate limit per IP + AWS common rules) by a parameter', () => {
    expect(checkWaf(template)).toEqual([]);
  });

  it('custom domains refuse TLS older than 1.2', () => {
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::ApiGatewayV2::DomainName')).toBe(
      true,
    );
    expect(checkCustomDomains(template)).toEqual([]);
  });

  it('key policies are no wider than AWS requires, and keys rotate', () => {
    expect(checkKeyPolicies(template)).toEqual([]);
  });
});

type Edit = (copy: Template) => void;
const webAclRules = (copy: Template) => propertiesOf(copy, 'PartnerApiWebAcl').Rules as JsonObject[];

describe('the edge and key rules catch', () => {
  const cases: [string, (t: Template) => string[], Edit, string][] = [
    [
      'no WAF association',
      checkWaf,
      (copy) => {
        delete copy.Resources.PartnerApiWebAclAssociation;
      },
      'PartnerApi: no web ACL associated with its stage',
    ],
    [
      'a web ACL that is always on (no parameter to turn it off in dev)',
      checkWaf,
      (copy) => {
        delete (copy.Resources.PartnerApiWebAclAssociation as { Condition?: string }).Condition;
      },
      'PartnerApiWebAclAssociation: not switched by a parameter',
    ],
    [
      'no rate-based rule',
      checkWaf,
      (copy) => {
        propertiesOf(copy, 'PartnerApiWebAcl').Rules = webAclRules(copy).slice(1);
      },
      'no rule blocking an IP over a rate',
    ],
    [
      'the common rule set only counted',
      checkWaf,
      (copy) => {
        const [, common] = webAclRules(copy);
        if (common) common.OverrideAction = { Count: {} };
      },
      'AWSManagedRulesCommonRuleSet is not applied',
    ],
    [
      'TLS 1.0 on the custom domain',
      checkCustomDomains,
      (copy) => {
        const [configuration] = propertiesOf(copy, 'ApiDomain').DomainNameConfigurations as JsonObject[];
        if (configuration) configuration.SecurityPolicy = 'TLS_1_0';
      },
      'ApiDomain: SecurityPolicy TLS_1_0 allows TLS older than 1.2',
    ],
    [
      'a service given every KMS action',
      checkKeyPolicies,
      (copy) => {
        const policy = propertiesOf(copy, 'AlarmTopicKey').KeyPolicy as JsonObject;
        const [, cloudWatch] = policy.Statement as JsonObject[];
        if (cloudWatch) cloudWatch.Action = 'kms:*';
      },
      'gives all KMS actions to someone else than the account',
    ],
    [
      'a key that does not rotate',
      checkKeyPolicies,
      (copy) => {
        propertiesOf(copy, 'AlarmTopicKey').EnableKeyRotation = false;
      },
      'AlarmTopicKey: EnableKeyRotation is not true',
    ],
  ];

  it.each(cases)('%s', (_, check, edit, expected) => {
    expect(check(broken(template, edit)).join('\n')).toContain(expected);
  });
});
