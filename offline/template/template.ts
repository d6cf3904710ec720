import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Properties?: JsonObject;
  Metadata?: JsonObject;
  Condition?: string;
}

export interface Template {
  Parameters?: Record<string, { Type: string; Default?: Json; AllowedValues?: Json[] }>;
  Conditions?: Record<string, Json>;
  Globals?: { Function?: JsonObject };
  Resources: Record<string, Resource>;
  Outputs?: JsonObject;
  Metadata?: JsonObject;
}

const INTRINSICS = [
  'Ref',
  'Condition',
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'FindInMap',
  'Base64',
  'Cidr',
  'GetAZs',
  'ImportValue',
  'Transform',
];

/** CloudFormation's short-form tags (`!Ref`, `!Sub` …) read as their long form (`{ "Fn::Sub": … }`). */
const cloudFormationTags: Tags = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar = (value: string) => ({ [key]: name === 'GetAtt' ? splitGetAtt(value) : value });
  return [
    { tag: `!${name}`, resolve: scalar },
    {
      tag: `!${name}`,
      collection: 'seq' as const,
      resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }),
    },
    {
      tag: `!${name}`,
      collection: 'map' as const,
      resolve: (map: { toJSON(): unknown }) => ({ [key]: map.toJSON() }),
    },
  ];
});

function splitGetAtt(value: string): string[] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

export function parseTemplate(text: string): Template {
  // `merge` resolves the YAML merge keys the template uses to share build and alarm settings, as SAM and cfn-lint
  // do. Every function merges four of them, so the yaml package's alias budget (100, a guard against hostile
  // documents) would refuse a template of about 25 functions; the template is the project's own file.
  const template = parse(text, {
    customTags: cloudFormationTags,
    merge: true,
    maxAliasCount: -1,
  }) as Template;
  if (!template?.Resources) throw new Error('The template has no Resources section');
  return template;
}

export function loadTemplate(path = 'template.yaml'): Template {
  return parseTemplate(readFileSync(path, 'utf8'));
}

/** Raised for anything in the template the offline cloud cannot honour: it names the resource and the construct. */
export class UnsupportedTemplateError extends Error {
  constructor(where: string, what: string) {
    super(`${where}: ${what} is not supported by the offline cloud`);
    this.name = 'UnsupportedTemplateError';
  }
}

export interface Pseudo {
  region: string;
  accountId: string;
  stackName: string;
}

export const LOCAL_PSEUDO: Pseudo = { region: 'us-east-1', accountId: '000000000000', stackName: 'local' };

/** How a resource answers `Ref` and `Fn::GetAtt` offline. */
export interface Binding {
  ref?: string;
  attributes?: Record<string, string>;
}

const NO_VALUE = Symbol('AWS::NoValue');

export interface ResolverOptions {
  parameters?: Record<string, string>;
  pseudo?: Pseudo;
  /** Local identities of resources (API ids, user pool ids, queue URLs …), by logical id. */
  bindings?: Record<string, Binding>;
}

/**
 * Resolves CloudFormation intrinsic functions against local values: parameters (template defaults unless
 * overridden), conditions, pseudo parameters and the local identity of each resource.
 */
export class Resolver {
  readonly template: Template;
  readonly pseudo: Pseudo;
  readonly parameters: Record<string, string | string[]>;
  readonly #bindings: Record<string, Binding>;
  readonly #conditions = new Map<string, boolean>();

  constructor(template: Template, options: ResolverOptions = {}) {
    this.template = template;
    this.pseudo = options.pseudo ?? LOCAL_PSEUDO;
    this.#bindings = options.bindings ?? {};
    this.parameters = {};
    for (const name of Object.keys(options.parameters ?? {})) {
      if (!template.Parameters?.[name]) {
        throw new UnsupportedTemplateError(
          `Parameter ${name}`,
          'an override of a parameter the template does not declare',
        );
      }
    }
    for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
      const value = options.parameters?.[name] ?? parameter.Default;
      if (value === undefined)
        throw new UnsupportedTemplateError(`Parameter ${name}`, 'a parameter without a value');
      const text = String(value);
      this.parameters[name] =
        parameter.Type.startsWith('CommaDelimitedList') || parameter.Type.startsWith('List<')
          ? text.split(',').map((item) => item.trim())
          : text;
    }
  }

  /** Adds or replaces the local identity of a resource. */
  bind(logicalId: string, binding: Binding): void {
    const current = this.#bindings[logicalId] ?? {};
    this.#bindings[logicalId] = {
      ref: binding.ref ?? current.ref,
      attributes: { ...current.attributes, ...binding.attributes },
    };
  }

  condition(name: string): boolean {
    const known = this.#conditions.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined)
      throw new UnsupportedTemplateError(`Condition ${name}`, 'an undefined condition');
    const value = Boolean(this.resolve(definition, `Conditions.${name}`));
    this.#conditions.set(name, value);
    return value;
  }

  /** Whether a resource exists in this deployment (its `Condition`, if any, holds). */
  exists(logicalId: string): boolean {
    const condition = this.template.Resources[logicalId]?.Condition;
    return condition === undefined || this.condition(condition);
  }

  resolve(value: Json, where: string): Json {
    const resolved = this.#resolve(value, where);
    return resolved === NO_VALUE ? null : resolved;
  }

  #resolve(value: Json, where: string): Json | typeof NO_VALUE {
    if (Array.isArray(value)) {
      return value
        .map((item, index) => this.#resolve(item, `${where}[${index}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    const [key] = keys;
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))
    ) {
      return this.#intrinsic(key, value[key] as Json, where);
    }
    const result: JsonObject = {};
    for (const [name, item] of Object.entries(value)) {
      const resolved = this.#resolve(item, `${where}.${name}`);
      if (resolved !== NO_VALUE) result[name] = resolved;
    }
    return result;
  }

  #intrinsic(name: string, argument: Json, where: string): Json | typeof NO_VALUE {
    const args = (count: number): Json[] => {
      if (!Array.isArray(argument) || argument.length !== count) {
        throw new UnsupportedTemplateError(where, `${name} without ${count} arguments`);
      }
      return argument;
    };
    switch (name) {
      case 'Ref':
        return this.#ref(String(argument), where);
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument)
          ? argument.map(String)
          : splitGetAtt(String(argument));
        return this.#getAtt(String(logicalId), String(attribute), where);
      }
      case 'Fn::Sub':
        return this.#sub(argument, where);
      case 'Fn::Join': {
        const [separator, list] = args(2);
        const items = this.resolve(list as Json, where);
        if (!Array.isArray(items))
          throw new UnsupportedTemplateError(where, 'Fn::Join of something not a list');
        return items.map(String).join(String(separator));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args(3);
        return this.#resolve((this.condition(String(condition)) ? whenTrue : whenFalse) as Json, where);
      }
      case 'Fn::Equals': {
        const [left, right] = args(2).map((item) => JSON.stringify(this.resolve(item, where)));
        return left === right;
      }
      case 'Fn::Not':
        return !this.resolve(args(1)[0] as Json, where);
      case 'Fn::And':
        return (argument as Json[]).every((item) => Boolean(this.resolve(item, where)));
      case 'Fn::Or':
        return (argument as Json[]).some((item) => Boolean(this.resolve(item, where)));
      case 'Fn::Select': {
        const [index, list] = args(2);
        const items = this.resolve(list as Json, where);
        if (!Array.isArray(items))
          throw new UnsupportedTemplateError(where, 'Fn::Select of something not a list');
        return items[Number(this.resolve(index as Json, where))] ?? null;
      }
      case 'Fn::Split': {
        const [separator, text] = args(2);
        return String(this.resolve(text as Json, where)).split(String(separator));
      }
      default:
        throw new UnsupportedTemplateError(where, `the intrinsic function ${name}`);
    }
  }

  #ref(name: string, where: string): Json | typeof NO_VALUE {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo: Record<string, string> = {
      'AWS::Region': this.pseudo.region,
      'AWS::AccountId': this.pseudo.accountId,
      'AWS::StackName': this.pseudo.stackName,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackId': `arn:aws:cloudformation:${this.pseudo.region}:${this.pseudo.accountId}:stack/${this.pseudo.stackName}/local`,
    };
    if (pseudo[name] !== undefined) return pseudo[name];
    if (this.parameters[name] !== undefined) return this.parameters[name];
    // SAM's generated resources (`MyApi.Stage`) are bound under their dotted name.
    if (name.includes('.') && this.#bindings[name]?.ref !== undefined) return this.#bindings[name].ref;
    const resource = this.template.Resources[name];
    if (!resource) throw new UnsupportedTemplateError(where, `Ref to the unknown name ${name}`);
    const bound = this.#bindings[name]?.ref;
    if (bound !== undefined) return bound;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.tableName(name);
      case 'AWS::Serverless::Function':
      case 'AWS::Lambda::Function':
        return name;
      default:
        throw new UnsupportedTemplateError(`${where} (Ref ${name})`, `a Ref to a ${resource.Type}`);
    }
  }

  #getAtt(logicalId: string, attribute: string, where: string): Json {
    const resource = this.template.Resources[logicalId];
    if (!resource)
      throw new UnsupportedTemplateError(where, `Fn::GetAtt of the unknown resource ${logicalId}`);
    const bound = this.#bindings[logicalId]?.attributes?.[attribute];
    if (bound !== undefined) return bound;
    const { region, accountId } = this.pseudo;
    if (resource.Type === 'AWS::DynamoDB::Table' && attribute === 'Arn') {
      return `arn:aws:dynamodb:${region}:${accountId}:table/${this.tableName(logicalId)}`;
    }
    if (resource.Type === 'AWS::Logs::LogGroup' && attribute === 'Arn') {
      return `arn:aws:logs:${region}:${accountId}:log-group:${logicalId}`;
    }
    throw new UnsupportedTemplateError(
      `${where} (${logicalId}.${attribute})`,
      `Fn::GetAtt ${attribute} of a ${resource.Type}`,
    );
  }

  #sub(argument: Json, where: string): string {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    if (typeof text !== 'string')
      throw new UnsupportedTemplateError(where, 'Fn::Sub of something not a string');
    const local = (variables ?? {}) as JsonObject;
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (local[name] !== undefined) return String(this.resolve(local[name], where));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return String(this.#getAtt(name.slice(0, dot), name.slice(dot + 1), where));
      return String(this.#ref(name, where));
    });
  }

  /** A table's local name: its TableName if the template sets one, otherwise its logical id. */
  tableName(logicalId: string): string {
    const declared = this.template.Resources[logicalId]?.Properties?.TableName;
    return declared === undefined
      ? logicalId
      : String(this.resolve(declared, `Resources.${logicalId}.Properties.TableName`));
  }
}

export interface FunctionDefinition {
  logicalId: string;
  /** Properties after SAM's Globals are applied (environment variables merged, the rest overridden). */
  properties: JsonObject;
  buildProperties: JsonObject | undefined;
}

/** Every AWS::Serverless::Function with Globals.Function applied the way SAM applies them. */
export function functionsOf(template: Template): FunctionDefinition[] {
  const globals = template.Globals?.Function ?? {};
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([logicalId, resource]) => {
      const properties = mergeGlobals(globals, resource.Properties ?? {}) as JsonObject;
      properties.Environment = {
        Variables: {},
        ...((properties.Environment as JsonObject | undefined) ?? {}),
      };
      return {
        logicalId,
        properties,
        buildProperties: resource.Metadata?.BuildProperties as JsonObject | undefined,
      };
    });
}

/**
 * SAM's Globals rules: maps merge key by key (the resource wins), lists are concatenated (globals first),
 * anything else is replaced by the resource's value. Intrinsic functions count as values, not maps.
 */
export function mergeGlobals(global: Json | undefined, own: Json | undefined): Json | undefined {
  if (own === undefined) return global;
  if (global === undefined) return own;
  if (Array.isArray(global) && Array.isArray(own)) return [...global, ...own];
  if (isPlainMap(global) && isPlainMap(own)) {
    const merged: JsonObject = { ...global };
    for (const [key, value] of Object.entries(own)) merged[key] = mergeGlobals(global[key], value) as Json;
    return merged;
  }
  return own;
}

function isPlainMap(value: Json): value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return !(keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::')));
}

/** A function's environment variables, resolved to local values. */
export function environmentOf(fn: FunctionDefinition, resolver: Resolver): Record<string, string> {
  const where = `Resources.${fn.logicalId}.Properties.Environment.Variables`;
  const variables = resolver.resolve(
    ((fn.properties.Environment as JsonObject).Variables ?? {}) as Json,
    where,
  );
  return Object.fromEntries(
    Object.entries(variables as JsonObject).map(([name, value]) => [name, String(value)]),
  );
}
