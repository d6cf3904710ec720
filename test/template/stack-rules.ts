import type { Json, JsonObject, Template } from '../../offline/template/template.ts';

/**
 * The template's `Rules` section, evaluated the way CloudFormation does before it creates or updates a stack: a rule
 * applies when its RuleCondition holds (or it has none), and each of its assertions that is false stops the deploy
 * with its AssertDescription (CloudFormation user guide, "Rules" and "Rule functions"). The tests run it on
 * samconfig.toml's parameters to show what a `sam deploy` would be refused.
 */

/** A parameter's value: a list for CommaDelimitedList and List<…> parameters, otherwise a string. */
export type ParameterValues = Record<string, string | string[]>;

type RuleValue = string | string[] | boolean;

export interface FailedAssertion {
  rule: string;
  description: string;
}

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The template's rules; `Rules` is a section the offline cloud never reads, so it is not in its Template type. */
export function rulesOf(template: Template): Record<string, JsonObject> {
  const rules = (template as Template & { Rules?: Json }).Rules;
  return isObject(rules) ? (rules as Record<string, JsonObject>) : {};
}

/** The assertions a deploy with these parameter values would fail. */
export function failedAssertions(template: Template, parameters: ParameterValues): FailedAssertion[] {
  return Object.entries(rulesOf(template)).flatMap(([rule, definition]) => {
    const where = `Rules.${rule}`;
    if (
      definition.RuleCondition !== undefined &&
      !truth(definition.RuleCondition, parameters, `${where}.RuleCondition`)
    )
      return [];
    const assertions = Array.isArray(definition.Assertions) ? definition.Assertions : [];
    return assertions.flatMap((assertion, index) => {
      if (!isObject(assertion)) throw new Error(`${where}.Assertions[${index}] is not an object`);
      return truth(assertion.Assert, parameters, `${where}.Assertions[${index}].Assert`)
        ? []
        : [{ rule, description: String(assertion.AssertDescription) }];
    });
  });
}

function truth(value: Json | undefined, parameters: ParameterValues, where: string): boolean {
  const result = evaluate(value, parameters, where);
  if (typeof result !== 'boolean')
    throw new Error(`${where} is ${JSON.stringify(result)}, not true or false`);
  return result;
}

function list(value: Json | undefined, parameters: ParameterValues, where: string): string[] {
  const result = evaluate(value, parameters, where);
  if (!Array.isArray(result)) throw new Error(`${where} is ${JSON.stringify(result)}, not a list of strings`);
  return result;
}

function text(value: Json | undefined, parameters: ParameterValues, where: string): string {
  const result = evaluate(value, parameters, where);
  if (typeof result !== 'string') throw new Error(`${where} is ${JSON.stringify(result)}, not a string`);
  return result;
}

const argumentsOf = (value: Json, count: number, where: string): Json[] => {
  if (!Array.isArray(value) || value.length !== count)
    throw new Error(`${where} does not take ${count} arguments`);
  return value;
};

function evaluate(value: Json | undefined, parameters: ParameterValues, where: string): RuleValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item, index) => text(item, parameters, `${where}[${index}]`));
  if (!isObject(value) || Object.keys(value).length !== 1)
    throw new Error(`${where}: ${JSON.stringify(value)} is not a rule function`);
  const [name, argument] = Object.entries(value)[0] as [string, Json];
  const at = `${where}.${name}`;
  switch (name) {
    case 'Ref': {
      const found = parameters[String(argument)];
      if (found === undefined) throw new Error(`${at}: ${String(argument)} is not a parameter`);
      return found;
    }
    case 'Fn::Equals': {
      const [left, right] = argumentsOf(argument, 2, at).map((item) => evaluate(item, parameters, at));
      return JSON.stringify(left) === JSON.stringify(right);
    }
    case 'Fn::Not':
      return !truth(argumentsOf(argument, 1, at)[0], parameters, at);
    case 'Fn::And':
      return (argument as Json[]).every((item) => truth(item, parameters, at));
    case 'Fn::Or':
      return (argument as Json[]).some((item) => truth(item, parameters, at));
    case 'Fn::Contains': {
      const [values, wanted] = argumentsOf(argument, 2, at);
      return list(values, parameters, at).includes(text(wanted, parameters, at));
    }
    case 'Fn::EachMemberEquals': {
      const [values, wanted] = argumentsOf(argument, 2, at);
      const expected = text(wanted, parameters, at);
      return list(values, parameters, at).every((item) => item === expected);
    }
    case 'Fn::EachMemberIn': {
      const [values, allowed] = argumentsOf(argument, 2, at).map((item) => list(item, parameters, at));
      return (values ?? []).every((item) => (allowed ?? []).includes(item));
    }
    default:
      throw new Error(
        `${at}: this evaluator does not know the rule function ${name}; add it with its documented meaning`,
      );
  }
}
