import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { FunctionDefinition, Json, JsonObject, Template } from '../../offline/template/template.ts';
import { functionsOf } from '../../offline/template/template.ts';
import {
  asList,
  isObject,
  policiesOf,
  ROOT,
  referencedNames,
  refOf,
  resourcesOfType,
  statementsOf,
} from './rules.ts';

/** The IAM rules: no wildcards, least privilege, and the roles API Gateway assumes. */

const BROAD_MANAGED_POLICY = /AdministratorAccess|PowerUserAccess|FullAccess/;

export function checkIamWildcards(template: Template): string[] {
  const violations: string[] = [];
  const { statements, templates, managed } = policiesOf(template);
  for (const { owner, statement } of statements) {
    const where = `${owner}: statement ${JSON.stringify(statement.Sid ?? statement.Action ?? statement.NotAction)}`;
    if (asList(statement.Resource).includes('*')) violations.push(`${where} has Resource "*"`);
    const actions = asList(statement.Action);
    if (actions.some((action) => typeof action === 'string' && action.includes('*'))) {
      violations.push(`${where} has an Action with "*"`);
    }
    if (
      statement.Effect === 'Allow' &&
      (statement.NotAction !== undefined || statement.NotResource !== undefined)
    ) {
      violations.push(`${where} allows through NotAction/NotResource`);
    }
  }
  for (const { owner, name } of managed) {
    if (BROAD_MANAGED_POLICY.test(JSON.stringify(name)))
      violations.push(`${owner}: broad managed policy ${JSON.stringify(name)}`);
  }
  const tables = new Set(resourcesOfType(template, 'AWS::DynamoDB::Table'));
  for (const { owner, name, parameters } of templates) {
    for (const [parameter, value] of Object.entries(parameters)) {
      if (value === '*') violations.push(`${owner}: ${name}.${parameter} is "*"`);
    }
    if (name.startsWith('DynamoDB') || 'TableName' in parameters) {
      const table = refOf(parameters.TableName);
      if (!table || !tables.has(table)) {
        violations.push(
          `${owner}: ${name}.TableName must be !Ref of an AWS::DynamoDB::Table in this template`,
        );
      }
    }
  }
  return violations;
}

/** Tables a function names in its environment, and tables its policies reach. */
export function tableAccess(
  template: Template,
  fn: FunctionDefinition,
): { named: Set<string>; granted: Set<string> } {
  const tables = new Set(resourcesOfType(template, 'AWS::DynamoDB::Table'));
  const onlyTables = (names: Set<string>) => new Set([...names].filter((name) => tables.has(name)));
  const variables = ((fn.properties.Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject;
  const { statements, templates } = policiesOf(template, fn.logicalId);
  const granted = new Set<string>();
  for (const { statement } of statements) referencedNames(statement.Resource, granted);
  for (const { parameters } of templates) referencedNames(parameters, granted);
  return { named: onlyTables(referencedNames(variables)), granted: onlyTables(granted) };
}

export function checkLeastPrivilege(template: Template): string[] {
  const violations: string[] = [];
  for (const fn of functionsOf(template)) {
    const { named, granted } = tableAccess(template, fn);
    for (const table of named) {
      if (!granted.has(table))
        violations.push(`${fn.logicalId}: its environment names ${table} but no policy covers it`);
    }
    for (const table of granted) {
      if (!named.has(table))
        violations.push(`${fn.logicalId}: has a policy on ${table}, which its environment never names`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------- roles API Gateway assumes

/** An API's OpenAPI definition, as CloudFormation would see it after AWS::Include. */
export interface ApiDefinition {
  api: string;
  definition: Json;
}

// Where each kind of API keeps its definition: inline (or Fn::Transform AWS::Include), or a local file path.
const DEFINITION_PROPERTIES: Record<string, { body: string; file?: string }> = {
  'AWS::Serverless::Api': { body: 'DefinitionBody', file: 'DefinitionUri' },
  'AWS::Serverless::HttpApi': { body: 'DefinitionBody', file: 'DefinitionUri' },
  'AWS::ApiGateway::RestApi': { body: 'Body' },
  'AWS::ApiGatewayV2::Api': { body: 'Body' },
};

const readDefinitionFile = (root: string, location: string): Json =>
  parse(readFileSync(resolve(root, location), 'utf8')) as Json;

/** The definition of every API of the template that lives in the template or in a local file (not in S3). */
export function apiDefinitionsOf(template: Template, root = ROOT): ApiDefinition[] {
  return Object.entries(template.Resources).flatMap(([api, resource]) => {
    const names = DEFINITION_PROPERTIES[resource.Type];
    if (!names) return [];
    const properties = resource.Properties ?? {};
    const body = properties[names.body];
    const include = isObject(body) ? body['Fn::Transform'] : undefined;
    const location = isObject(include) ? (include.Parameters as JsonObject | undefined)?.Location : undefined;
    if (isObject(include) && include.Name === 'AWS::Include' && typeof location === 'string') {
      return location.startsWith('s3://') ? [] : [{ api, definition: readDefinitionFile(root, location) }];
    }
    if (body !== undefined) return [{ api, definition: body }];
    const file = names.file === undefined ? undefined : properties[names.file];
    return typeof file === 'string' && !file.startsWith('s3://')
      ? [{ api, definition: readDefinitionFile(root, file) }]
      : [];
  });
}

/** A role API Gateway assumes, and what makes it assume that role. */
export interface AssumedRole {
  role: string;
  via: string;
}

// OpenAPI extensions whose property names a role API Gateway assumes to call the backend or the authoriser.
const DEFINITION_CREDENTIALS: Record<string, string> = {
  'x-amazon-apigateway-integration': 'credentials',
  'x-amazon-apigateway-authorizer': 'authorizerCredentials',
};

// Resource properties that do the same outside an OpenAPI definition (`Integration.Credentials` is nested).
const RESOURCE_CREDENTIALS: Record<string, string[]> = {
  'AWS::ApiGatewayV2::Integration': ['CredentialsArn'],
  'AWS::ApiGatewayV2::Authorizer': ['AuthorizerCredentialsArn'],
  'AWS::ApiGateway::Method': ['Integration', 'Credentials'],
  'AWS::ApiGateway::Authorizer': ['AuthorizerCredentials'],
};

const API_GATEWAY_PRINCIPAL = 'apigateway.amazonaws.com';

function credentialsInDefinition(value: Json | undefined, where: string, found: [string, Json][] = []) {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) credentialsInDefinition(item, `${where}[${index}]`, found);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const credentialKey = DEFINITION_CREDENTIALS[key];
      if (credentialKey && isObject(item) && item[credentialKey] !== undefined) {
        found.push([`${where}.${key}.${credentialKey}`, item[credentialKey] as Json]);
      }
      credentialsInDefinition(item, `${where}.${key}`, found);
    }
  }
  return found;
}

/** Statements of a role's trust policy that let API Gateway assume it. */
function apiGatewayTrustStatements(template: Template, role: string): JsonObject[] {
  return statementsOf(template.Resources[role]?.Properties?.AssumeRolePolicyDocument).filter(
    (statement) =>
      statement.Effect === 'Allow' &&
      asList(statement.Action).includes('sts:AssumeRole') &&
      isObject(statement.Principal) &&
      asList(statement.Principal.Service).includes(API_GATEWAY_PRINCIPAL),
  );
}

/**
 * The roles of this template that API Gateway assumes: the credentials of integrations and authorisers (in OpenAPI
 * definitions and in resources), and every role that trusts apigateway.amazonaws.com.
 */
export function apiGatewayAssumedRoles(
  template: Template,
  definitions: ApiDefinition[] = apiDefinitionsOf(template),
): AssumedRole[] {
  const roles = new Set(resourcesOfType(template, 'AWS::IAM::Role'));
  const named: [string, Json | undefined][] = definitions.flatMap(({ api, definition }) =>
    credentialsInDefinition(definition, api),
  );
  for (const [type, path] of Object.entries(RESOURCE_CREDENTIALS)) {
    for (const id of resourcesOfType(template, type)) {
      let value: Json | undefined = template.Resources[id]?.Properties;
      for (const key of path) value = isObject(value) ? value[key] : undefined;
      if (value !== undefined) named.push([`${id}.${path.join('.')}`, value]);
    }
  }
  const assumed = named.flatMap(([via, value]) =>
    [...referencedNames(value)].filter((name) => roles.has(name)).map((role) => ({ role, via })),
  );
  for (const role of roles) {
    if (apiGatewayTrustStatements(template, role).length > 0)
      assumed.push({ role, via: `its trust policy (${API_GATEWAY_PRINCIPAL})` });
  }
  return assumed;
}

// Confused-deputy condition keys; IAM condition keys are case-insensitive.
const SOURCE_CONDITION_KEY = /^aws:source(account|arn|orgid|orgpaths)$/i;

/**
 * A role API Gateway assumes lets apigateway.amazonaws.com call sts:AssumeRole with no aws:SourceAccount /
 * aws:SourceArn-style condition: API Gateway does not set those keys when it assumes integration credentials, so
 * such a condition denies every call ("API Gateway does not have permission to assume the provided role", seen
 * with test-invoke-method in aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws#479,
 * for aws:SourceAccount). Whether API Gateway sets aws:SourceArn or the aws:SourceOrg* keys there is undocumented
 * (no first-hand report either way); they are refused with it, being the same family of service-set keys, since a
 * positive condition on a key the request lacks is false (IAM "AWS global condition context keys").
 */
export function checkApiGatewayRoleTrust(
  template: Template,
  definitions: ApiDefinition[] = apiDefinitionsOf(template),
): string[] {
  const violations: string[] = [];
  const assumed = apiGatewayAssumedRoles(template, definitions);
  for (const role of new Set(assumed.map((entry) => entry.role))) {
    const vias = assumed.filter((entry) => entry.role === role).map((entry) => entry.via);
    const statements = apiGatewayTrustStatements(template, role);
    if (statements.length === 0) {
      violations.push(
        `${role} (assumed through ${vias.join(', ')}): its trust policy does not allow ${API_GATEWAY_PRINCIPAL} sts:AssumeRole`,
      );
    }
    for (const statement of statements) {
      const conditions = isObject(statement.Condition) ? statement.Condition : {};
      for (const [operator, keys] of Object.entries(conditions)) {
        const named = Object.keys(isObject(keys) ? keys : {});
        for (const key of named.filter((name) => SOURCE_CONDITION_KEY.test(name))) {
          // A missing key fails a positive condition; an …IfExists one passes, so it guards nothing.
          const effect = operator.endsWith('IfExists') ? 'protects nothing' : 'denies API Gateway';
          violations.push(
            `${role} (assumed through ${vias.join(', ')}): the trust policy's ${operator} ${key} condition ${effect}, ` +
              'which does not set that key when it assumes a role for an integration; remove the condition',
          );
        }
      }
    }
  }
  return violations;
}
