import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { isMap, isScalar, parse, parseDocument } from 'yaml';
import {
  type FunctionDefinition,
  functionsOf,
  type Json,
  type JsonObject,
  mergeGlobals,
  type Template,
} from '../../offline/template/template.ts';

/**
 * The rules a reviewer checks in template.yaml, each as a function that returns the violations it finds
 * (an empty list when the template keeps the rule). The tests run them on the real template and on
 * broken copies of it, so every rule is shown to fail when it is broken.
 */

export const ROOT = resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------- reading the template

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const asList = (value: Json | undefined): Json[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];

const isIntrinsic = (value: Json | undefined): boolean => {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || Boolean(keys[0]?.startsWith('Fn::')));
};

/** The logical id a `!Ref` names, if `value` is one. */
export function refOf(value: Json | undefined): string | undefined {
  return isObject(value) && Object.keys(value).length === 1 && typeof value.Ref === 'string'
    ? value.Ref
    : undefined;
}

/** Every name `value` refers to through Ref, Fn::GetAtt or a `${Name}`/`${Name.Attr}` in Fn::Sub. */
export function referencedNames(value: Json | undefined, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedNames(item, found);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Ref' && typeof item === 'string') found.add(item);
      else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(item) ? item[0] : String(item).split('.')[0];
        if (typeof target === 'string') found.add(target);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(item) ? item : [item, {}];
        for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = (match[1] ?? '').split('.')[0] ?? '';
          if (!isObject(variables) || !(name in variables)) found.add(name);
        }
        if (isObject(variables)) referencedNames(Object.values(variables), found);
      } else referencedNames(item, found);
    }
  }
  for (const name of found) if (name.startsWith('AWS::')) found.delete(name);
  return found;
}

const resourcesOfType = (template: Template, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId]) => logicalId);

const globalsOf = (template: Template, section: string): JsonObject =>
  ((template.Globals as Record<string, JsonObject | undefined> | undefined)?.[section] ?? {}) as JsonObject;

/** A serverless resource's properties after SAM applies the Globals section for its kind. */
export function effectiveProperties(template: Template, logicalId: string, section: string): JsonObject {
  return (mergeGlobals(globalsOf(template, section), template.Resources[logicalId]?.Properties ?? {}) ??
    {}) as JsonObject;
}

const functionProperties = (template: Template, fn: FunctionDefinition): JsonObject =>
  effectiveProperties(template, fn.logicalId, 'Function');

/** The Node.js major version of a Lambda runtime name such as `nodejs24.x`. */
export function runtimeMajor(runtime: Json | undefined): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(String(runtime));
  return match ? Number(match[1]) : undefined;
}

/** The Lambda runtimes the template's functions use. */
export function runtimesOf(template: Template): string[] {
  return [...new Set(functionsOf(template).map((fn) => String(functionProperties(template, fn).Runtime)))];
}

// ---------------------------------------------------------------- functions

const MINIMUM_NODE_MAJOR = 24;

/** Whether TypeScript source exports `name` (declaration or export list). */
function exportsName(source: string, name: string): boolean {
  const declared = new RegExp(`export\\s+(?:async\\s+)?(?:const|let|var|function)\\s+${name}\\b`);
  const listed = new RegExp(`export\\s*\\{[^}]*\\b(?:\\w+\\s+as\\s+)?${name}\\s*(?:,|\\})`);
  return declared.test(source) || listed.test(source);
}

export function checkFunctionSettings(template: Template, root = ROOT): string[] {
  const violations: string[] = [];
  const shared = template.Metadata?.EsbuildProperties;
  if (!isObject(shared)) violations.push('Metadata.EsbuildProperties (the shared esbuild anchor) is missing');
  for (const fn of functionsOf(template)) {
    const where = fn.logicalId;
    const properties = functionProperties(template, fn);
    if (properties.Tracing !== 'Active') violations.push(`${where}: Tracing is not Active`);
    const major = runtimeMajor(properties.Runtime);
    if (major === undefined || major < MINIMUM_NODE_MAJOR) {
      violations.push(
        `${where}: Runtime ${String(properties.Runtime)} is not nodejs${MINIMUM_NODE_MAJOR}.x or newer`,
      );
    }
    if (JSON.stringify(properties.Architectures) !== JSON.stringify(['arm64'])) {
      violations.push(`${where}: Architectures is ${JSON.stringify(properties.Architectures)}, not [arm64]`);
    }
    if ((properties.LoggingConfig as JsonObject | undefined)?.LogFormat !== 'JSON') {
      violations.push(`${where}: LoggingConfig.LogFormat is not JSON`);
    }

    const metadata = template.Resources[fn.logicalId]?.Metadata ?? {};
    if (metadata.BuildMethod !== 'esbuild') violations.push(`${where}: Metadata.BuildMethod is not esbuild`);
    const build = fn.buildProperties ?? {};
    const entryPoints = asList(build.EntryPoints);
    if (entryPoints.length !== 1 || typeof entryPoints[0] !== 'string') {
      violations.push(`${where}: BuildProperties.EntryPoints must name exactly one file`);
    } else {
      const entry = entryPoints[0];
      const codeUri = typeof properties.CodeUri === 'string' ? properties.CodeUri : '.';
      const entryPath = resolve(root, codeUri, entry);
      const handler = String(properties.Handler);
      const exported = handler.slice(handler.lastIndexOf('.') + 1);
      if (!existsSync(entryPath)) violations.push(`${where}: entry point ${entry} does not exist`);
      else if (!exportsName(readFileSync(entryPath, 'utf8'), exported)) {
        violations.push(`${where}: ${entry} does not export ${exported} (Handler ${handler})`);
      }
      const handlerFile = handler.slice(0, handler.lastIndexOf('.'));
      const entryFile = basename(entry, extname(entry));
      if (handlerFile !== entryFile) {
        violations.push(
          `${where}: Handler ${handler} does not match the entry point ${entry} (expected ${entryFile}.<export>)`,
        );
      }
    }
    if (build.Minify !== true) violations.push(`${where}: BuildProperties.Minify is not true`);
    if (build.Format !== 'esm') violations.push(`${where}: BuildProperties.Format is not esm`);
    if (build.MainFields !== 'module,main')
      violations.push(`${where}: BuildProperties.MainFields is not module,main`);
    if (major !== undefined && build.Target !== `node${major}`) {
      violations.push(
        `${where}: BuildProperties.Target ${String(build.Target)} does not match the runtime (node${major})`,
      );
    }
    if (isObject(shared)) {
      for (const [key, value] of Object.entries(shared)) {
        if (JSON.stringify(build[key]) !== JSON.stringify(value)) {
          violations.push(
            `${where}: BuildProperties.${key} differs from Metadata.EsbuildProperties (use <<: *esbuild)`,
          );
        }
      }
    }
  }
  return violations;
}

// Lambda's REPORT line (platform.report: duration, billed duration, memory, Init Duration on a cold start) is an
// INFO-level system log, so WARN drops it (Lambda developer guide, "Log-level filtering").
const SYSTEM_LOG_LEVELS_WITH_REPORT = ['INFO', 'DEBUG'];

export function checkSystemLogLevel(template: Template): string[] {
  return functionsOf(template).flatMap((fn) => {
    const level = (functionProperties(template, fn).LoggingConfig as JsonObject | undefined)?.SystemLogLevel;
    return typeof level === 'string' && SYSTEM_LOG_LEVELS_WITH_REPORT.includes(level)
      ? []
      : [
          `${fn.logicalId}: LoggingConfig.SystemLogLevel is ${String(level)}, not INFO: Lambda's REPORT line ` +
            '(platform.report, with the Init Duration of a cold start) is an INFO system log',
        ];
  });
}

// ---------------------------------------------------------------- HTTP API routes and authorisation

export interface Route {
  fn: FunctionDefinition;
  event: string;
  method: string;
  path: string;
  /** `METHOD /path`, as API Gateway names the route (`$default` for a catch-all). */
  routeKey: string;
  /** The HttpApi resource the route belongs to; `ServerlessHttpApi` is SAM's implicit one. */
  api: string;
  auth: JsonObject;
}

export function routesOf(template: Template): Route[] {
  return functionsOf(template).flatMap((fn) =>
    Object.entries((functionProperties(template, fn).Events ?? {}) as JsonObject)
      .filter(([, event]) => isObject(event) && event.Type === 'HttpApi')
      .map(([name, event]) => {
        const properties = ((event as JsonObject).Properties ?? {}) as JsonObject;
        const method = String(properties.Method ?? 'ANY').toUpperCase();
        const path = properties.Path === undefined ? undefined : String(properties.Path);
        return {
          fn,
          event: name,
          method,
          path: path ?? '',
          routeKey: path === undefined ? '$default' : `${method} ${path}`,
          api: refOf(properties.ApiId) ?? 'ServerlessHttpApi',
          auth: (properties.Auth ?? {}) as JsonObject,
        };
      }),
  );
}

/** An HttpApi's properties (Globals.HttpApi applied); the implicit API has only the Globals. */
export function httpApiProperties(template: Template, api: string): JsonObject | undefined {
  if (api === 'ServerlessHttpApi' && !template.Resources[api]) return globalsOf(template, 'HttpApi');
  if (template.Resources[api]?.Type !== 'AWS::Serverless::HttpApi') return undefined;
  return effectiveProperties(template, api, 'HttpApi');
}

interface JwtAuthorizer {
  name: string;
  issuer: Json | undefined;
  audience: Json[];
}

function jwtAuthorizer(api: JsonObject, name: string | undefined): JwtAuthorizer | undefined {
  if (name === undefined) return undefined;
  const authorizer = ((api.Auth as JsonObject | undefined)?.Authorizers as JsonObject | undefined)?.[name];
  if (!isObject(authorizer) || authorizer.FunctionArn !== undefined) return undefined;
  const config = authorizer.JwtConfiguration;
  if (!isObject(config)) return undefined;
  return { name, issuer: config.issuer, audience: asList(config.audience) };
}

/** The JWT authoriser that guards a route, or undefined when the route is public or not JWT-guarded. */
export function routeAuthorizer(template: Template, route: Route): JwtAuthorizer | undefined {
  const api = httpApiProperties(template, route.api);
  if (!api) return undefined;
  const name = route.auth.Authorizer ?? (api.Auth as JsonObject | undefined)?.DefaultAuthorizer;
  return jwtAuthorizer(api, typeof name === 'string' ? name : undefined);
}

const scopesOf = (route: Route): string[] => asList(route.auth.AuthorizationScopes).map(String);

export function checkRouteAuth(template: Template): string[] {
  const violations: string[] = [];
  for (const route of routesOf(template)) {
    const where = `${route.fn.logicalId} (${route.routeKey})`;
    const api = httpApiProperties(template, route.api);
    if (!api) {
      violations.push(`${where}: ApiId ${route.api} is not an AWS::Serverless::HttpApi of this template`);
      continue;
    }
    const defaultName = (api.Auth as JsonObject | undefined)?.DefaultAuthorizer;
    if (!jwtAuthorizer(api, typeof defaultName === 'string' ? defaultName : undefined)) {
      violations.push(`${where}: ${route.api} has no Auth.DefaultAuthorizer of type JWT`);
    }
    const chosen = route.auth.Authorizer;
    if (chosen === 'NONE') {
      const reason = template.Resources[route.fn.logicalId]?.Metadata?.PublicRoute;
      if (typeof reason !== 'string' || reason.trim() === '') {
        violations.push(
          `${where}: public route (Auth.Authorizer NONE) without Metadata.PublicRoute saying why`,
        );
      }
    } else if (chosen !== undefined && !jwtAuthorizer(api, String(chosen))) {
      violations.push(`${where}: Auth.Authorizer ${String(chosen)} is not a JWT authoriser of ${route.api}`);
    }
    const policies = asList(functionProperties(template, route.fn).Policies);
    if (chosen !== 'NONE' && policies.length > 0 && scopesOf(route).length === 0) {
      violations.push(
        `${where}: the function has Policies but the route declares no Auth.AuthorizationScopes`,
      );
    }
  }
  return violations;
}

/** Routes that opt out of the authoriser. */
export const publicRoutes = (template: Template): Route[] =>
  routesOf(template).filter((route) => route.auth.Authorizer === 'NONE');

// The literal Fn::Sub text of the Cognito issuer URL.
const COGNITO_ISSUER_PREFIX = 'https://cognito-idp.${AWS::Region}.amazonaws.com/';

export function checkJwtAuthorizers(template: Template): string[] {
  const violations: string[] = [];
  const pools = new Set(resourcesOfType(template, 'AWS::Cognito::UserPool'));
  const clients = new Set(resourcesOfType(template, 'AWS::Cognito::UserPoolClient'));
  for (const route of routesOf(template)) {
    const authorizer = routeAuthorizer(template, route);
    if (!authorizer) continue;
    const where = `${route.api}.${authorizer.name}`;
    const issuer = authorizer.issuer;
    const sub = isObject(issuer) ? issuer['Fn::Sub'] : undefined;
    const pool = [...referencedNames(issuer)].find((name) => pools.has(name));
    if (typeof sub !== 'string' || !sub.startsWith(COGNITO_ISSUER_PREFIX) || !pool) {
      violations.push(`${where}: issuer is not the Cognito issuer URL of a user pool in this template`);
    }
    const audience = authorizer.audience.map(refOf);
    if (audience.length === 0 || audience.some((client) => client === undefined || !clients.has(client))) {
      violations.push(`${where}: audience must be !Ref of app clients in this template`);
    }
  }
  return [...new Set(violations)];
}

/** `identifier/scope` for every scope the template's Cognito resource servers define. */
export function definedScopes(template: Template): Set<string> {
  const scopes = new Set<string>();
  for (const id of resourcesOfType(template, 'AWS::Cognito::UserPoolResourceServer')) {
    const properties = template.Resources[id]?.Properties ?? {};
    for (const scope of asList(properties.Scopes)) {
      if (isObject(scope)) scopes.add(`${String(properties.Identifier)}/${String(scope.ScopeName)}`);
    }
  }
  return scopes;
}

export function checkScopes(template: Template): string[] {
  const violations: string[] = [];
  const defined = definedScopes(template);
  for (const route of routesOf(template)) {
    const audience = (routeAuthorizer(template, route)?.audience ?? []).map(refOf);
    const allowed = new Set(
      audience.flatMap((client) =>
        asList(template.Resources[client ?? '']?.Properties?.AllowedOAuthScopes).map(String),
      ),
    );
    for (const scope of scopesOf(route)) {
      const where = `${route.fn.logicalId} (${route.routeKey}) scope ${scope}`;
      if (!defined.has(scope)) violations.push(`${where}: no UserPoolResourceServer defines it`);
      if (!allowed.has(scope))
        violations.push(`${where}: no app client in the authoriser's audience allows it`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------- IAM

interface PolicyTemplate {
  owner: string;
  name: string;
  parameters: JsonObject;
}

interface Policies {
  statements: { owner: string; statement: JsonObject }[];
  templates: PolicyTemplate[];
  managed: { owner: string; name: Json }[];
}

const statementsOf = (document: Json | undefined): JsonObject[] =>
  isObject(document) ? asList(document.Statement).filter(isObject) : [];

/** Every policy the template grants, wherever it is written. */
export function policiesOf(template: Template, only?: string): Policies {
  const found: Policies = { statements: [], templates: [], managed: [] };
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (only !== undefined && id !== only) continue;
    const properties = resource.Properties ?? {};
    const addStatements = (document: Json | undefined) => {
      for (const statement of statementsOf(document)) found.statements.push({ owner: id, statement });
    };
    switch (resource.Type) {
      case 'AWS::Serverless::Function':
      case 'AWS::Serverless::StateMachine': {
        const section = resource.Type === 'AWS::Serverless::Function' ? 'Function' : 'StateMachine';
        for (const policy of asList(effectiveProperties(template, id, section).Policies)) {
          if (isObject(policy) && policy.Statement !== undefined) addStatements(policy);
          else if (isObject(policy) && !isIntrinsic(policy)) {
            for (const [name, parameters] of Object.entries(policy)) {
              found.templates.push({ owner: id, name, parameters: isObject(parameters) ? parameters : {} });
            }
          } else found.managed.push({ owner: id, name: policy });
        }
        break;
      }
      case 'AWS::IAM::Role':
        for (const policy of asList(properties.Policies))
          if (isObject(policy)) addStatements(policy.PolicyDocument);
        for (const name of asList(properties.ManagedPolicyArns)) found.managed.push({ owner: id, name });
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        addStatements(properties.PolicyDocument);
        break;
    }
  }
  return found;
}

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

// ---------------------------------------------------------------- data

/**
 * Tables are on-demand and encrypted. A table is point-in-time recoverable unless its resource Metadata.Ephemeral
 * says why its items are worth nothing once lost (e.g. live WebSocket connections); an ephemeral table expires its
 * items through TTL and pays for no recovery. An explicit marker, because a TTL alone does not make every item
 * transient (a table may expire only some of its items).
 */
export function checkTables(template: Template): string[] {
  const violations: string[] = [];
  for (const id of resourcesOfType(template, 'AWS::Serverless::SimpleTable')) {
    violations.push(
      `${id}: AWS::Serverless::SimpleTable cannot turn on point-in-time recovery; use AWS::DynamoDB::Table`,
    );
  }
  for (const id of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const properties = template.Resources[id]?.Properties ?? {};
    if (properties.BillingMode !== 'PAY_PER_REQUEST')
      violations.push(`${id}: BillingMode is not PAY_PER_REQUEST`);
    const recovery = properties.PointInTimeRecoverySpecification as JsonObject | undefined;
    const ephemeral = template.Resources[id]?.Metadata?.Ephemeral;
    if (ephemeral === undefined) {
      if (recovery?.PointInTimeRecoveryEnabled !== true)
        violations.push(`${id}: PointInTimeRecoveryEnabled is not true`);
    } else violations.push(...checkEphemeralTable(id, ephemeral, properties));
    if ((properties.SSESpecification as JsonObject | undefined)?.SSEEnabled !== true) {
      violations.push(`${id}: SSESpecification.SSEEnabled is not true`);
    }
    violations.push(...checkTimeToLive(template, id));
  }
  return violations;
}

function checkEphemeralTable(table: string, reason: Json, properties: JsonObject): string[] {
  const violations: string[] = [];
  if (typeof reason !== 'string' || reason.trim() === '')
    violations.push(`${table}: Metadata.Ephemeral must say why its items need no recovery`);
  const recovery = properties.PointInTimeRecoverySpecification as JsonObject | undefined;
  if (recovery?.PointInTimeRecoveryEnabled === true) {
    violations.push(
      `${table}: Metadata.Ephemeral marks it ephemeral, yet PointInTimeRecoveryEnabled is true (billed, nothing worth restoring)`,
    );
  }
  return violations;
}

/**
 * A table's TTL, where it has one, is on and names an attribute outside the key. Tables that WebSocket
 * functions use must have one: a connection that vanishes without `$disconnect` would otherwise stay forever;
 * so must an ephemeral table (Metadata.Ephemeral), whose items are worth keeping only while they are live.
 */
function checkTimeToLive(template: Template, table: string): string[] {
  const violations: string[] = [];
  const properties = template.Resources[table]?.Properties ?? {};
  const ttl = properties.TimeToLiveSpecification;
  const users = webSocketFunctions(template).filter((fn) =>
    referencedNames((fn.properties.Environment as JsonObject | undefined)?.Variables).has(table),
  );
  if (ttl === undefined || ttl === null) {
    if (users.length > 0) {
      violations.push(
        `${table}: has no TimeToLiveSpecification, but WebSocket functions keep connections in it (${users
          .map((fn) => fn.logicalId)
          .join(', ')})`,
      );
    } else if (template.Resources[table]?.Metadata?.Ephemeral !== undefined) {
      violations.push(
        `${table}: Metadata.Ephemeral marks it ephemeral, but no TimeToLiveSpecification expires its items`,
      );
    }
    return violations;
  }
  if (!isObject(ttl) || ttl.Enabled !== true) {
    violations.push(`${table}: TimeToLiveSpecification.Enabled is not true`);
  }
  const attribute = isObject(ttl) ? ttl.AttributeName : undefined;
  const keys = [
    ...asList(properties.KeySchema),
    ...asList(properties.GlobalSecondaryIndexes).flatMap((index) =>
      isObject(index) ? asList(index.KeySchema) : [],
    ),
  ].map((key) => (isObject(key) ? key.AttributeName : undefined));
  if (typeof attribute !== 'string' || attribute === '') {
    violations.push(`${table}: TimeToLiveSpecification.AttributeName is not set`);
  } else if (keys.includes(attribute)) {
    violations.push(`${table}: the TTL attribute ${attribute} is a key attribute`);
  }
  return violations;
}

// ---------------------------------------------------------------- queues

const SQS_QUEUE = 'AWS::SQS::Queue';
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

// ---------------------------------------------------------------- CORS

export const ORIGINS_PARAMETER = 'AllowedOrigins';

export function checkCors(template: Template): string[] {
  const violations: string[] = [];
  const parameter = template.Parameters?.[ORIGINS_PARAMETER];
  if (!parameter) violations.push(`the ${ORIGINS_PARAMETER} parameter is missing`);
  else if (
    String(parameter.Default ?? '')
      .split(',')
      .some((origin) => origin.trim() === '*')
  ) {
    violations.push(`the ${ORIGINS_PARAMETER} parameter defaults to "*"`);
  }
  const apis = resourcesOfType(template, 'AWS::Serverless::HttpApi');
  const routes = routesOf(template);
  if (routes.some((route) => route.api === 'ServerlessHttpApi')) apis.push('ServerlessHttpApi');
  for (const api of apis) {
    const cors = httpApiProperties(template, api)?.CorsConfiguration;
    if (!isObject(cors)) {
      violations.push(
        `${api}: CorsConfiguration must be an object whose AllowOrigins is !Ref ${ORIGINS_PARAMETER}`,
      );
      continue;
    }
    if (refOf(cors.AllowOrigins) !== ORIGINS_PARAMETER) {
      violations.push(`${api}: CorsConfiguration.AllowOrigins is not !Ref ${ORIGINS_PARAMETER}`);
    }
    const origins =
      refOf(cors.AllowOrigins) === ORIGINS_PARAMETER
        ? String(parameter?.Default ?? '')
            .split(',')
            .map((origin) => origin.trim())
        : asList(cors.AllowOrigins);
    if (origins.includes('*')) {
      violations.push(`${api}: CorsConfiguration.AllowOrigins allows "*"`);
      if (cors.AllowCredentials === true)
        violations.push(`${api}: AllowCredentials is true together with "*"`);
    }
    const guarded = routes.some((route) => route.api === api && routeAuthorizer(template, route));
    const headers = asList(cors.AllowHeaders).map((header) => String(header).toLowerCase());
    if (guarded && !headers.includes('authorization') && !headers.includes('*')) {
      violations.push(
        `${api}: CorsConfiguration.AllowHeaders lacks authorization, so browsers cannot send the JWT`,
      );
    }
  }
  return violations;
}

// ---------------------------------------------------------------- WebSocket APIs

/** One AWS::ApiGatewayV2::Route of a WebSocket API, with what it leads to. */
export interface WebSocketRoute {
  logicalId: string;
  api: string;
  routeKey: string;
  authorizationType: string;
  /** The AWS::ApiGatewayV2::Authorizer named by AuthorizerId. */
  authorizer: string | undefined;
  /** The AWS::ApiGatewayV2::Integration named by Target (`integrations/<id>`). */
  integration: string | undefined;
  /** The function the integration invokes. */
  fn: string | undefined;
}

const LAMBDA_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);

/** The WebSocket APIs of the template (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET). */
export const webSocketApisOf = (template: Template): string[] =>
  resourcesOfType(template, 'AWS::ApiGatewayV2::Api').filter(
    (id) => template.Resources[id]?.Properties?.ProtocolType === 'WEBSOCKET',
  );

// An API Gateway → Lambda invocation URI, as Fn::Sub text: `${Fn.Arn}` names the function.
const INVOCATION_URI =
  /^arn:(?:\$\{AWS::Partition\}|aws):apigateway:\$\{AWS::Region\}:lambda:path\/2015-03-31\/functions\/\$\{(\w+)\.Arn\}\/invocations$/;

/** The function of this template that an IntegrationUri/AuthorizerUri invokes, if it is in the usual form. */
export function invokedFunction(template: Template, uri: Json | undefined): string | undefined {
  const text = isObject(uri) ? uri['Fn::Sub'] : undefined;
  const name = typeof text === 'string' ? INVOCATION_URI.exec(text)?.[1] : undefined;
  return name !== undefined && LAMBDA_TYPES.has(template.Resources[name]?.Type ?? '') ? name : undefined;
}

/** The integration a route's Target names: `!Join ['/', [integrations, !Ref X]]` or `!Sub integrations/${X}`. */
function targetIntegration(target: Json | undefined): string | undefined {
  if (!isObject(target)) return undefined;
  const join = target['Fn::Join'];
  if (Array.isArray(join) && join[0] === '/' && Array.isArray(join[1]) && join[1].length === 2) {
    return join[1][0] === 'integrations' ? refOf(join[1][1]) : undefined;
  }
  const sub = target['Fn::Sub'];
  return typeof sub === 'string' ? /^integrations\/\$\{(\w+)\}$/.exec(sub)?.[1] : undefined;
}

export function webSocketRoutesOf(template: Template): WebSocketRoute[] {
  const apis = new Set(webSocketApisOf(template));
  return resourcesOfType(template, 'AWS::ApiGatewayV2::Route').flatMap((logicalId) => {
    const properties = template.Resources[logicalId]?.Properties ?? {};
    const api = refOf(properties.ApiId);
    if (!api || !apis.has(api)) return [];
    const integration = targetIntegration(properties.Target);
    const integrationProperties = template.Resources[integration ?? '']?.Properties ?? {};
    return [
      {
        logicalId,
        api,
        routeKey: String(properties.RouteKey),
        authorizationType: String(properties.AuthorizationType ?? 'NONE'),
        authorizer: refOf(properties.AuthorizerId),
        integration,
        fn: invokedFunction(template, integrationProperties.IntegrationUri),
      },
    ];
  });
}

/** The functions API Gateway invokes for a WebSocket API: route integrations and authorisers. */
export function webSocketInvocations(template: Template): { api: string; fn: string; via: string }[] {
  const apis = new Set(webSocketApisOf(template));
  const invocations = webSocketRoutesOf(template).flatMap((route) =>
    route.fn ? [{ api: route.api, fn: route.fn, via: route.logicalId }] : [],
  );
  for (const id of resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')) {
    const properties = template.Resources[id]?.Properties ?? {};
    const api = refOf(properties.ApiId);
    const fn = invokedFunction(template, properties.AuthorizerUri);
    if (api && apis.has(api) && fn) invocations.push({ api, fn, via: id });
  }
  return invocations;
}

/** The template's functions that serve a WebSocket API (as a route or as its authoriser). */
export function webSocketFunctions(template: Template): FunctionDefinition[] {
  const ids = new Set(webSocketInvocations(template).map((invocation) => invocation.fn));
  return functionsOf(template).filter((fn) => ids.has(fn.logicalId));
}

export function checkWebSocketRoutes(template: Template): string[] {
  const violations: string[] = [];
  const routes = webSocketRoutesOf(template);
  for (const api of webSocketApisOf(template)) {
    const properties = template.Resources[api]?.Properties ?? {};
    if (typeof properties.RouteSelectionExpression !== 'string') {
      violations.push(`${api}: has no RouteSelectionExpression`);
    }
    const keys = routes.filter((route) => route.api === api).map((route) => route.routeKey);
    if (!keys.includes('$connect'))
      violations.push(`${api}: has no $connect route, so nothing authorises it`);
    for (const key of new Set(keys)) {
      if (keys.filter((other) => other === key).length > 1)
        violations.push(`${api}: route ${key} is defined twice`);
    }
  }
  for (const route of routes) {
    const where = `${route.logicalId} (${route.api} ${route.routeKey})`;
    if (route.routeKey === '$connect') {
      if (route.authorizationType !== 'CUSTOM') {
        violations.push(
          `${where}: AuthorizationType is ${route.authorizationType}, not CUSTOM (a Lambda authoriser)`,
        );
      }
      const authorizer = template.Resources[route.authorizer ?? ''];
      const settings = authorizer?.Properties ?? {};
      if (!route.authorizer || authorizer?.Type !== 'AWS::ApiGatewayV2::Authorizer') {
        violations.push(
          `${where}: AuthorizerId is not !Ref of an AWS::ApiGatewayV2::Authorizer of this template`,
        );
      } else {
        if (refOf(settings.ApiId) !== route.api) {
          violations.push(`${where}: the authoriser ${route.authorizer} belongs to another API`);
        }
        if (settings.AuthorizerType !== 'REQUEST') {
          violations.push(`${where}: the authoriser ${route.authorizer} is not of type REQUEST`);
        }
        if (!invokedFunction(template, settings.AuthorizerUri)) {
          violations.push(
            `${where}: the authoriser ${route.authorizer} does not invoke a function of this template`,
          );
        }
        if (asList(settings.IdentitySource).length === 0) {
          violations.push(`${where}: the authoriser ${route.authorizer} has no IdentitySource`);
        }
      }
    } else if (route.authorizationType !== 'NONE') {
      violations.push(
        `${where}: AuthorizationType ${route.authorizationType}; WebSocket APIs authorise $connect only`,
      );
    }
    const integration = template.Resources[route.integration ?? ''];
    if (!route.integration || integration?.Type !== 'AWS::ApiGatewayV2::Integration') {
      violations.push(`${where}: Target does not name an AWS::ApiGatewayV2::Integration of this template`);
      continue;
    }
    const settings = integration.Properties ?? {};
    if (refOf(settings.ApiId) !== route.api) {
      violations.push(`${where}: the integration ${route.integration} belongs to another API`);
    }
    if (settings.IntegrationType !== 'AWS_PROXY') {
      violations.push(`${where}: the integration ${route.integration} is not AWS_PROXY`);
    }
    if (!route.fn) {
      violations.push(
        `${where}: the integration ${route.integration} does not invoke a function of this template`,
      );
    }
  }
  return violations;
}

// The literal Fn::Sub prefix of an execute-api ARN in this account and region.
const EXECUTE_API_PREFIX = 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:';

/** The API an execute-api ARN (Fn::Sub) starts with: `…:${Api}/…`; undefined for `*` or anything else. */
function executeApiOf(arn: Json | undefined): string | undefined {
  const text = isObject(arn) ? arn['Fn::Sub'] : undefined;
  if (typeof text !== 'string' || !text.startsWith(EXECUTE_API_PREFIX)) return undefined;
  return /^\$\{(\w+)\}\//.exec(text.slice(EXECUTE_API_PREFIX.length))?.[1];
}

const functionOf = (value: Json | undefined): string | undefined => {
  const ref = refOf(value);
  if (ref) return ref;
  const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
};

/**
 * Every function a WebSocket API invokes has a Lambda::Permission for API Gateway whose SourceArn is that
 * API's own execute-api ARN; no permission lets API Gateway in without naming an API of this template.
 */
export function checkWebSocketPermissions(template: Template): string[] {
  const violations: string[] = [];
  const apis = new Set(
    [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGateway::RestApi',
      'AWS::Serverless::Api',
      'AWS::Serverless::HttpApi',
    ].flatMap((type) => resourcesOfType(template, type)),
  );
  const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map((id) => {
    const properties = template.Resources[id]?.Properties ?? {};
    return {
      id,
      fn: functionOf(properties.FunctionName),
      principal: properties.Principal,
      action: properties.Action,
      api: executeApiOf(properties.SourceArn),
      sourceArn: properties.SourceArn,
    };
  });
  for (const permission of permissions) {
    if (permission.principal !== 'apigateway.amazonaws.com') continue;
    if (permission.sourceArn === undefined) {
      violations.push(`${permission.id}: lets any API Gateway API invoke ${permission.fn} (no SourceArn)`);
    } else if (!permission.api || !apis.has(permission.api)) {
      violations.push(`${permission.id}: SourceArn is not the execute-api ARN of an API of this template`);
    }
  }
  for (const { api, fn, via } of webSocketInvocations(template)) {
    const granted = permissions.some(
      (permission) =>
        permission.fn === fn &&
        permission.principal === 'apigateway.amazonaws.com' &&
        permission.action === 'lambda:InvokeFunction' &&
        permission.api === api,
    );
    if (!granted) {
      violations.push(
        `${fn} (invoked by ${via}): no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it with a SourceArn on ${api}`,
      );
    }
  }
  return violations;
}

// `<api>/<stage>/<method>/@connections/*` after the execute-api prefix.
const CONNECTIONS_ARN = /^\$\{(\w+)\}\/([^/*]+)\/(POST|GET|DELETE)\/@connections\/\*$/;

/**
 * `execute-api:ManageConnections` names one WebSocket API of this template and one stage (never `*`), and only
 * functions that serve a route of that API hold it.
 */
export function checkManageConnections(template: Template): string[] {
  const violations: string[] = [];
  const apis = new Set(webSocketApisOf(template));
  const routeFunctions = webSocketRoutesOf(template);
  for (const { owner, statement } of policiesOf(template).statements) {
    const actions = asList(statement.Action).map(String);
    if (!actions.some((action) => /^execute-api:(ManageConnections|\*)$/.test(action))) continue;
    for (const resource of asList(statement.Resource)) {
      const text = isObject(resource) ? resource['Fn::Sub'] : resource;
      const match =
        typeof text === 'string' && text.startsWith(EXECUTE_API_PREFIX)
          ? CONNECTIONS_ARN.exec(text.slice(EXECUTE_API_PREFIX.length))
          : null;
      const api = match?.[1];
      if (!match || !api || !apis.has(api)) {
        violations.push(
          `${owner}: execute-api:ManageConnections on ${JSON.stringify(resource)}, not <WebSocket API of this template>/<stage>/POST/@connections/*`,
        );
      } else if (!routeFunctions.some((route) => route.api === api && route.fn === owner)) {
        violations.push(`${owner}: may manage connections of ${api} but serves none of its routes`);
      }
    }
  }
  return violations;
}

/** Each WebSocket API has a stage with throttling and JSON access logs to a log group that expires. */
export function checkWebSocketStages(template: Template): string[] {
  const violations: string[] = [];
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  for (const api of webSocketApisOf(template)) {
    const own = stages.filter((id) => refOf(template.Resources[id]?.Properties?.ApiId) === api);
    if (own.length === 0) violations.push(`${api}: has no AWS::ApiGatewayV2::Stage`);
    for (const stage of own) {
      const properties = template.Resources[stage]?.Properties ?? {};
      const settings = (properties.DefaultRouteSettings ?? {}) as JsonObject;
      if (settings.ThrottlingRateLimit === undefined || settings.ThrottlingBurstLimit === undefined) {
        violations.push(`${stage}: DefaultRouteSettings lack ThrottlingRateLimit/ThrottlingBurstLimit`);
      }
      const logs = properties.AccessLogSettings;
      const destination = isObject(logs) ? logs.DestinationArn : undefined;
      const getAtt = isObject(destination) ? destination['Fn::GetAtt'] : undefined;
      const group = Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
      const groupResource = template.Resources[group ?? ''];
      if (!group || groupResource?.Type !== 'AWS::Logs::LogGroup') {
        violations.push(
          `${stage}: AccessLogSettings.DestinationArn is not !GetAtt <LogGroup>.Arn of this template`,
        );
      } else if (groupResource.Properties?.RetentionInDays === undefined) {
        violations.push(`${stage}: the access log group ${group} keeps logs forever (no RetentionInDays)`);
      }
      let format: unknown;
      try {
        format = JSON.parse(String(isObject(logs) ? logs.Format : ''));
      } catch {
        format = undefined;
      }
      if (
        !isObject(format as Json) ||
        !String(isObject(logs) ? logs.Format : '').includes('$context.requestId')
      ) {
        violations.push(`${stage}: AccessLogSettings.Format is not a JSON object with $context.requestId`);
      }
    }
  }
  return violations;
}

// ---------------------------------------------------------------- REST API stages

/**
 * Every AWS::Serverless::Api deploys on every stack update. Without AlwaysDeploy, SAM names the deployment after a
 * hash of the definition's text, so a changed parameter or a replaced resource that the definition references never
 * reaches the stage (aws/serverless-application-model#914, #1605).
 */
export function checkRestDeployments(template: Template): string[] {
  return resourcesOfType(template, 'AWS::Serverless::Api')
    .filter((api) => effectiveProperties(template, api, 'Api').AlwaysDeploy !== true)
    .map(
      (api) =>
        `${api}: AlwaysDeploy is not true, so a changed parameter or replaced resource would leave the stage on its old deployment`,
    );
}

/**
 * The `$context` variables the API Gateway developer guide documents for REST API access logs ("Variables for
 * access logging for API Gateway"; before 2024 the "$context Variables for data models, authorizers, mapping
 * templates, and CloudWatch access logging" and "... for access logging only" tables of
 * api-gateway-mapping-template-reference, awsdocs/amazon-api-gateway-developer-guide@781597d).
 * `*` stands for one name the API chooses (a claim, a Lambda authoriser context key, a header …).
 * What a stage logs for any other name is not documented, so a typo or an invented variable is refused here.
 */
export const REST_ACCESS_LOG_VARIABLES = [
  'accountId',
  'apiId',
  'authenticate.error',
  'authenticate.latency',
  'authenticate.status',
  'authorize.error',
  'authorize.latency',
  'authorize.status',
  'authorizer.*',
  'authorizer.claims.*',
  'authorizer.error',
  'authorizer.integrationLatency',
  'authorizer.integrationStatus',
  'authorizer.latency',
  'authorizer.principalId',
  'authorizer.requestId',
  'authorizer.status',
  'awsEndpointRequestId',
  'customDomain.basePathMatched',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'error.validationErrorString',
  'extendedRequestId',
  'httpMethod',
  'identity.accountId',
  'identity.apiKey',
  'identity.apiKeyId',
  'identity.caller',
  'identity.clientCert.clientCertPem',
  'identity.clientCert.issuerDN',
  'identity.clientCert.serialNumber',
  'identity.clientCert.subjectDN',
  'identity.clientCert.validity.notAfter',
  'identity.clientCert.validity.notBefore',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestOverride.header.*',
  'requestOverride.path.*',
  'requestOverride.querystring.*',
  'requestTime',
  'requestTimeEpoch',
  'resourceId',
  'resourcePath',
  'responseLatency',
  'responseLength',
  'responseOverride.header.*',
  'responseOverride.status',
  'stage',
  'status',
  'waf.error',
  'waf.latency',
  'waf.status',
  'wafResponseCode',
  'webaclArn',
  'xrayTraceId',
];

const isDocumentedRestAccessLogVariable = (name: string): boolean =>
  REST_ACCESS_LOG_VARIABLES.some((documented) => {
    const expected = documented.split('.');
    const actual = name.split('.');
    return (
      expected.length === actual.length &&
      expected.every((part, index) => part === '*' || part === actual[index])
    );
  });

/** The access log format text of every REST stage (SAM's AccessLogSetting, or an AWS::ApiGateway::Stage's). */
function restAccessLogFormats(template: Template): [string, Json | undefined][] {
  const formatOf = (settings: Json | undefined) => {
    const format = isObject(settings) ? settings.Format : undefined;
    const sub = isObject(format) ? format['Fn::Sub'] : undefined;
    return sub === undefined ? format : Array.isArray(sub) ? sub[0] : sub;
  };
  return [
    ...resourcesOfType(template, 'AWS::Serverless::Api').map((api): [string, Json | undefined] => [
      api,
      formatOf(effectiveProperties(template, api, 'Api').AccessLogSetting),
    ]),
    ...resourcesOfType(template, 'AWS::ApiGateway::Stage').map((stage): [string, Json | undefined] => [
      stage,
      formatOf(template.Resources[stage]?.Properties?.AccessLogSetting),
    ]),
  ];
}

/** Every `$context.*` in a REST stage's access log format is one the developer guide documents for access logs. */
export function checkRestAccessLogVariables(template: Template): string[] {
  return restAccessLogFormats(template).flatMap(([where, format]) =>
    [...String(format ?? '').matchAll(/\$context\.(\w+(?:\.\w+)*)/g)]
      .map((match) => match[1] ?? '')
      .filter((name) => !isDocumentedRestAccessLogVariable(name))
      .map(
        (name) =>
          `${where}: AccessLogSetting.Format uses $context.${name}, which is not a documented REST access-log variable`,
      ),
  );
}

// ---------------------------------------------------------------- `sam local start-api` guard

export interface OrderedResource {
  logicalId: string;
  type: string;
  protocolType: string | undefined;
  routeKey: string | undefined;
}

/** The template's resources in document order, read from the YAML itself (not from a parsed object). */
export function resourcesInDocumentOrder(text: string): OrderedResource[] {
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
  const resources = document.get('Resources');
  if (!isMap(resources)) throw new Error('The template has no Resources map');
  const scalar = (value: unknown) =>
    isScalar(value) && value.value !== null ? String(value.value) : undefined;
  return resources.items.map((item) => {
    const logicalId = String(isScalar(item.key) ? item.key.value : item.key);
    const body = isMap(item.value) ? item.value : undefined;
    const properties = body?.get('Properties');
    return {
      logicalId,
      type: scalar(body?.get('Type', true)) ?? '',
      protocolType: isMap(properties) ? scalar(properties.get('ProtocolType', true)) : undefined,
      routeKey: isMap(properties) ? scalar(properties.get('RouteKey', true)) : undefined,
    };
  });
}

const RAW_API = /^AWS::ApiGateway(V2)?::/;
const SAM_API = new Set(['AWS::Serverless::Api', 'AWS::Serverless::HttpApi']);

/**
 * SAM CLI 1.164 splits every route key it finds on a space when the first API resource it meets is a raw
 * AWS::ApiGateway or AWS::ApiGatewayV2 one, and crashes on WebSocket keys such as `$connect`. WebSocket
 * resources are therefore either kept out of this template (a nested stack) or placed after a SAM API.
 */
export function checkStartApiOrder(resources: OrderedResource[]): string[] {
  const webSocket = resources.filter(
    (resource) =>
      (resource.type === 'AWS::ApiGatewayV2::Api' && resource.protocolType === 'WEBSOCKET') ||
      (resource.type === 'AWS::ApiGatewayV2::Route' &&
        resource.routeKey !== undefined &&
        !resource.routeKey.includes(' ')),
  );
  if (webSocket.length === 0) return [];
  const firstSamApi = resources.findIndex((resource) => SAM_API.has(resource.type));
  const before = (firstSamApi < 0 ? resources : resources.slice(0, firstSamApi)).filter((resource) =>
    RAW_API.test(resource.type),
  );
  return before.map(
    (resource) =>
      `${resource.logicalId} (${resource.type}) comes before the first AWS::Serverless::Api/HttpApi while the ` +
      `template has WebSocket resources (${webSocket.map((item) => item.logicalId).join(', ')}): ` +
      '`sam local start-api` would crash; move it below the SAM APIs or the WebSocket API into a nested stack',
  );
}

// ---------------------------------------------------------------- outputs

export function checkOutputs(template: Template): string[] {
  const violations: string[] = [];
  const values = Object.values(template.Outputs ?? {}).map((output) =>
    isObject(output) ? output.Value : undefined,
  );
  const has = (predicate: (value: Json | undefined) => boolean, what: string) => {
    if (!values.some(predicate)) violations.push(`Outputs: nothing gives ${what}`);
  };
  const refersTo = (value: Json | undefined, id: string) => referencedNames(value).has(id);
  for (const api of resourcesOfType(template, 'AWS::Serverless::HttpApi')) {
    has(
      (value) => refersTo(value, api) && JSON.stringify(value).includes('execute-api'),
      `the URL of ${api}`,
    );
  }
  for (const pool of resourcesOfType(template, 'AWS::Cognito::UserPool')) {
    has((value) => refOf(value) === pool, `the id of the user pool ${pool}`);
  }
  const issuers = new Map<string, Json | undefined>();
  for (const route of routesOf(template)) {
    const authorizer = routeAuthorizer(template, route);
    if (!authorizer) continue;
    issuers.set(JSON.stringify(authorizer.issuer), authorizer.issuer);
    for (const client of authorizer.audience.map(refOf)) {
      if (client) has((value) => refOf(value) === client, `the client id of ${client}`);
    }
  }
  for (const [text] of issuers) has((value) => JSON.stringify(value) === text, `the JWT issuer ${text}`);
  for (const table of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    has((value) => refOf(value) === table, `the table name of ${table}`);
  }
  for (const queue of resourcesOfType(template, SQS_QUEUE)) {
    has((value) => refOf(value) === queue, `the URL of the queue ${queue}`);
  }
  const subText = (value: Json | undefined) => String(isObject(value) ? value['Fn::Sub'] : '');
  for (const api of webSocketApisOf(template)) {
    has(
      (value) => refersTo(value, api) && subText(value).startsWith('wss://'),
      `the WebSocket URL (wss://) of ${api}`,
    );
    has(
      (value) =>
        refersTo(value, api) &&
        subText(value).startsWith('https://') &&
        subText(value).endsWith('/@connections'),
      `the @connections endpoint of ${api}`,
    );
  }
  return [...new Set(violations)];
}

// ---------------------------------------------------------------- breaking copies of the template

/** A deep copy of `template` with `edit` applied: the tests use it to show each rule catches a breach. */
export function broken(template: Template, edit: (copy: Template) => void): Template {
  const copy = structuredClone(template);
  edit(copy);
  return copy;
}

/** The properties of a resource in a copy being edited (created if missing). */
export function propertiesOf(template: Template, logicalId: string): JsonObject {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`No resource ${logicalId} in the template`);
  resource.Properties ??= {};
  return resource.Properties;
}
