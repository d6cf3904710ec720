import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import {
  type FunctionDefinition,
  functionsOf,
  type Json,
  type JsonObject,
  mergeGlobals,
  type Template,
} from '../../local/template.ts';

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

/** The Node.js major version of a Lambda runtime name such as `nodejs22.x`. */
export function runtimeMajor(runtime: Json | undefined): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(String(runtime));
  return match ? Number(match[1]) : undefined;
}

/** The Lambda runtimes the template's functions use. */
export function runtimesOf(template: Template): string[] {
  return [...new Set(functionsOf(template).map((fn) => String(functionProperties(template, fn).Runtime)))];
}

// ---------------------------------------------------------------- functions

const MINIMUM_NODE_MAJOR = 22;

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

// ---------------------------------------------------------------- data

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
    if (recovery?.PointInTimeRecoveryEnabled !== true)
      violations.push(`${id}: PointInTimeRecoveryEnabled is not true`);
    if ((properties.SSESpecification as JsonObject | undefined)?.SSEEnabled !== true) {
      violations.push(`${id}: SSESpecification.SSEEnabled is not true`);
    }
    violations.push(...checkTimeToLive(template, id));
  }
  return violations;
}

/**
 * A table's TTL, where it has one, is on and names an attribute outside the key. Tables that WebSocket
 * functions use must have one: a connection that vanishes without `$disconnect` would otherwise stay forever.
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
