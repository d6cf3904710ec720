import type { Json, JsonObject, Template } from '../../offline/template/template.ts';

/**
 * The edge and key rules: WAF in front of every REST API stage (behind a parameter), TLS 1.2 or newer on every
 * custom domain, and KMS key policies no wider than AWS's required form. Tables, queues, CORS and function
 * policies have their rules in table-rules.ts, queue-rules.ts, cors-rules.ts and iam-rules.ts; the alarm topic's
 * key in alarm-rules.ts.
 */

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const asList = (value: Json | undefined): Json[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];

const resourcesOfType = (template: Template, type: string): [string, JsonObject][] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);

const subText = (value: Json | undefined): string =>
  isObject(value) && typeof value['Fn::Sub'] === 'string' ? value['Fn::Sub'] : '';

const getAttName = (value: Json | undefined): string | undefined => {
  const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
  if (getAtt === undefined) return undefined;
  return Array.isArray(getAtt) ? String(getAtt[0]) : String(getAtt).split('.')[0];
};

/** Whether a condition depends on a template parameter (so the operator turns the protection on or off). */
function conditionUsesParameter(template: Template, condition: string | undefined): boolean {
  if (!condition) return false;
  const text = JSON.stringify(template.Conditions?.[condition] ?? null);
  return Object.keys(template.Parameters ?? {}).some((parameter) => text.includes(`"Ref":"${parameter}"`));
}

/** Every REST API stage has a web ACL with a per-IP rate rule and AWS's common rule set, behind a parameter. */
export function checkWaf(template: Template): string[] {
  const violations: string[] = [];
  const associations = resourcesOfType(template, 'AWS::WAFv2::WebACLAssociation');
  for (const [api] of resourcesOfType(template, 'AWS::Serverless::Api')) {
    const stageArn = `/restapis/\${${api}}/stages/\${${api}.Stage}`;
    const association = associations.find(([, properties]) =>
      subText(properties.ResourceArn).endsWith(stageArn),
    );
    if (!association) {
      violations.push(`${api}: no web ACL associated with its stage`);
      continue;
    }
    const [associationId, properties] = association;
    if (!conditionUsesParameter(template, template.Resources[associationId]?.Condition)) {
      violations.push(`${associationId}: not switched by a parameter`);
    }
    const acl = getAttName(properties.WebACLArn);
    const aclProperties = acl ? template.Resources[acl]?.Properties : undefined;
    if (!acl || template.Resources[acl]?.Type !== 'AWS::WAFv2::WebACL' || !aclProperties) {
      violations.push(`${associationId}: WebACLArn is not !GetAtt of a web ACL of the stack`);
      continue;
    }
    if (aclProperties.Scope !== 'REGIONAL') violations.push(`${acl}: Scope is not REGIONAL`);
    const rules = asList(aclProperties.Rules).filter(isObject);
    const rateRule = rules.find((rule) => {
      const rate = isObject(rule.Statement) ? rule.Statement.RateBasedStatement : undefined;
      return (
        isObject(rate) && rate.AggregateKeyType === 'IP' && isObject(rule.Action) && 'Block' in rule.Action
      );
    });
    if (!rateRule) violations.push(`${acl}: no rule blocking an IP over a rate`);
    const commonRules = rules.find((rule) => {
      const group = isObject(rule.Statement) ? rule.Statement.ManagedRuleGroupStatement : undefined;
      return (
        isObject(group) &&
        group.VendorName === 'AWS' &&
        group.Name === 'AWSManagedRulesCommonRuleSet' &&
        isObject(rule.OverrideAction) &&
        'None' in rule.OverrideAction
      );
    });
    if (!commonRules)
      violations.push(`${acl}: AWSManagedRulesCommonRuleSet is not applied (OverrideAction None)`);
  }
  return violations;
}

const MODERN_TLS = /^TLS_1_2$|^SecurityPolicy_TLS1[23]/;

/** Every custom domain refuses clients older than TLS 1.2. */
export function checkCustomDomains(template: Template): string[] {
  const violations: string[] = [];
  for (const [domain, properties] of resourcesOfType(template, 'AWS::ApiGatewayV2::DomainName')) {
    const configurations = asList(properties.DomainNameConfigurations).filter(isObject);
    if (configurations.length === 0) violations.push(`${domain}: no DomainNameConfigurations`);
    for (const configuration of configurations) {
      if (!MODERN_TLS.test(String(configuration.SecurityPolicy))) {
        violations.push(
          `${domain}: SecurityPolicy ${String(configuration.SecurityPolicy)} allows TLS older than 1.2`,
        );
      }
    }
  }
  for (const [domain, properties] of resourcesOfType(template, 'AWS::ApiGateway::DomainName')) {
    if (!MODERN_TLS.test(String(properties.SecurityPolicy))) {
      violations.push(
        `${domain}: SecurityPolicy ${String(properties.SecurityPolicy)} allows TLS older than 1.2`,
      );
    }
  }
  return violations;
}

/**
 * A key policy must say Resource "*" (it means the key itself). Beyond that: only the account root may hold
 * `kms:*` (AWS's default, which hands control to the account's IAM policies), services get named actions only,
 * and keys rotate.
 */
export function checkKeyPolicies(template: Template): string[] {
  const violations: string[] = [];
  for (const [key, properties] of resourcesOfType(template, 'AWS::KMS::Key')) {
    if (properties.EnableKeyRotation !== true) violations.push(`${key}: EnableKeyRotation is not true`);
    const statements = asList((properties.KeyPolicy as JsonObject | undefined)?.Statement).filter(isObject);
    for (const statement of statements) {
      const where = `${key}: statement ${String(statement.Sid ?? JSON.stringify(statement.Action))}`;
      const principal = isObject(statement.Principal) ? statement.Principal : {};
      const isAccountRoot = subText(principal.AWS).endsWith(':iam::${AWS::AccountId}:root');
      const wildcardActions = asList(statement.Action).some((action) => String(action).endsWith(':*'));
      if (wildcardActions && !isAccountRoot)
        violations.push(`${where} gives all KMS actions to someone else than the account`);
      if (statement.Principal === '*' || asList(principal.AWS).includes('*')) {
        violations.push(`${where} names any principal`);
      }
    }
  }
  return violations;
}
