import { resolve } from 'node:path';
import type { FunctionDefinition, Json, JsonObject, Template } from '../../offline/template/template.ts';
import { mergeGlobals } from '../../offline/template/template.ts';

/**
 * The rules a reviewer checks in template.yaml, each as a function that returns the violations it finds
 * (an empty list when the template keeps the rule). The tests run them on the real template and on
 * broken copies of it, so every rule is shown to fail when it is broken.
 *
 * Each concern's rules are a module of their own (function-rules.ts, iam-rules.ts, websocket-rules.ts, …); this
 * one holds what they share: reading the template, and breaking copies of it.
 */

export const ROOT = resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------- reading the template

export const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export const asList = (value: Json | undefined): Json[] =>
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

export const resourcesOfType = (template: Template, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId]) => logicalId);

export const globalsOf = (template: Template, section: string): JsonObject =>
  ((template.Globals as Record<string, JsonObject | undefined> | undefined)?.[section] ?? {}) as JsonObject;

/** A serverless resource's properties after SAM applies the Globals section for its kind. */
export function effectiveProperties(template: Template, logicalId: string, section: string): JsonObject {
  return (mergeGlobals(globalsOf(template, section), template.Resources[logicalId]?.Properties ?? {}) ??
    {}) as JsonObject;
}

export const functionProperties = (template: Template, fn: FunctionDefinition): JsonObject =>
  effectiveProperties(template, fn.logicalId, 'Function');

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

export const statementsOf = (document: Json | undefined): JsonObject[] =>
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

/**
 * A case of the rules failing on a broken copy of the template: what is broken, the check that must catch it, the
 * edit that breaks the copy, and (part of) the violation the check reports.
 */
export type BrokenCase = [
  name: string,
  check: (template: Template) => string[],
  edit: (copy: Template) => void,
  expected: string,
];
