import AjvDraft04, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';

// ajv-draft-04 is CommonJS: under NodeNext its class is the module's `default` property.
const Ajv = AjvDraft04.default;

export interface RequestValidatorSettings {
  body: boolean;
  parameters: boolean;
}

export interface ParameterRequirement {
  in: 'path' | 'query' | 'header';
  name: string;
}

export interface ValidationRequest {
  headers: Record<string, string>;
  querystring: Record<string, string>;
  path: Record<string, string>;
  body: string;
  contentType: string | undefined;
}

export type ValidationOutcome =
  | { valid: true }
  | {
      valid: false;
      responseType: 'BAD_REQUEST_PARAMETERS' | 'BAD_REQUEST_BODY';
      message: string;
      validationErrorString: string;
    };

export interface MethodValidation {
  validator: RequestValidatorSettings;
  requiredParameters: ParameterRequirement[];
  /** OpenAPI 3 request body schemas by content type (may contain `$ref: '#/components/schemas/X'`). */
  bodySchemas: Record<string, unknown>;
}

const KNOWN_ISSUES = 'the "important notes for REST APIs" page of the API Gateway developer guide';

export interface KeywordCaveat {
  /** What AWS says or is seen to do, with its sources. */
  aws: string;
  /** Whether the offline validator checks it: only what is both documented and observed. */
  enforcedOffline: boolean;
}

const notSupported = (wording: string): KeywordCaveat => ({
  aws: `${wording} (${KNOWN_ISSUES})`,
  enforcedOffline: false,
});
const ITEMS_CAVEAT: KeywordCaveat = {
  aws:
    `"not included in simple request validation" (${KNOWN_ISSUES}), yet an import recorded against AWS keeps ` +
    'it in the model (LocalStack tests/aws/services/apigateway/test_apigateway_import.py, ' +
    'test_import_with_circular_models): disputed',
  enforcedOffline: false,
};

/**
 * Model keywords whose enforcement by API Gateway's request validator is documented as absent, or disputed.
 * The offline cloud warns at start-up for each one a validated model uses (a design must not depend on it: the
 * backend behind the method checks it too) and enforces only what is both documented and observed.
 * README: fidelity.
 */
export const MODEL_KEYWORD_CAVEATS: Record<string, KeywordCaveat> = {
  minItems: ITEMS_CAVEAT,
  maxItems: ITEMS_CAVEAT,
  additionalProperties: {
    aws:
      `listed as "not supported in Models" on ${KNOWN_ISSUES} until July 2021, no longer listed since, and ` +
      'reported enforced by practitioners (aws/aws-cdk#3993); no recording against AWS: disputed',
    enforcedOffline: true,
  },
  exclusiveMinimum: notSupported('"not supported by API Gateway"'),
  nullable: notSupported('"not supported"'),
  discriminator: notSupported('"not supported in any schema object"'),
  readOnly: notSupported('"not supported"'),
  default: notSupported('"not supported"'),
  example: notSupported('"not supported"'),
};

/** Keys whose value is a map of subschemas, and keys whose value is one subschema or a list of them. */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
const SUBSCHEMAS = ['items', 'additionalItems', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'];

/** Every keyword of MODEL_KEYWORD_CAVEATS that `schema` uses, following `#/components/schemas/…` refs. */
export function caveatKeywordsOf(schema: unknown, components: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const object = node as Record<string, unknown>;
    if (typeof object.$ref === 'string') visit(components[object.$ref.split('/').at(-1) ?? '']);
    for (const keyword of Object.keys(object))
      if (Object.hasOwn(MODEL_KEYWORD_CAVEATS, keyword)) found.add(keyword);
    for (const key of SCHEMA_MAPS) for (const sub of Object.values((object[key] ?? {}) as object)) visit(sub);
    for (const key of SUBSCHEMAS) visit(object[key]);
  };
  visit(schema);
  return [...found].sort();
}

/** `schema` without the keywords not enforced offline, where they are keywords (not property names). */
function enforcedOffline(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map(enforcedOffline);
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (MODEL_KEYWORD_CAVEATS[key]?.enforcedOffline === false) continue;
    copy[key] = SCHEMA_MAPS.includes(key)
      ? Object.fromEntries(Object.entries(value as object).map(([name, sub]) => [name, enforcedOffline(sub)]))
      : SUBSCHEMAS.includes(key)
        ? enforcedOffline(value)
        : value;
  }
  return copy;
}

/** API Gateway's model for any content type without a model of its own. */
const DEFAULT_MODEL = '$default';
/** What API Gateway takes a request without a Content-Type header to be. */
const DEFAULT_CONTENT_TYPE = 'application/json';
/** AWS's validation error for a body that is empty or not JSON at all. */
const UNPARSABLE_BODY = 'Unknown error parsing request body';
const LOCATION = { path: 'path', query: 'querystring', header: 'header' } as const;

/**
 * API Gateway's request validators: required parameters must be present and not blank, and the body must
 * match the model for its content type (JSON Schema draft 4). `components` are the definition's
 * `components.schemas`, the targets of `#/components/schemas/...` references.
 */
export function createValidator(
  components: Record<string, unknown>,
): (method: MethodValidation, request: ValidationRequest) => ValidationOutcome {
  // Formats are left unchecked: AWS checks a few (email, date-time…) that Ajv only knows through a plugin.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: false });
  const compiled = new Map<unknown, ValidateFunction>();
  const compile = (schema: unknown): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) {
      // The components ride along in the schema's root so that its `#/components/...` pointers resolve.
      const enforced = Object.fromEntries(
        Object.entries(components).map(([name, model]) => [name, enforcedOffline(model)]),
      );
      validate = ajv.compile({
        ...(enforcedOffline(schema) as object),
        components: { schemas: enforced },
      });
      compiled.set(schema, validate);
    }
    return validate;
  };

  return (method, request) => {
    if (method.validator.parameters) {
      const missing = missingParameters(method.requiredParameters, request);
      if (missing.length > 0) {
        const message = `Missing required request parameters: [${missing.join(', ')}]`;
        return {
          valid: false,
          responseType: 'BAD_REQUEST_PARAMETERS',
          message,
          validationErrorString: message,
        };
      }
    }
    if (method.validator.body) {
      const schema = modelFor(method.bodySchemas, request.contentType);
      if (schema !== undefined) {
        const errors = bodyErrors(compile(schema), request.body);
        if (errors.length > 0) {
          return {
            valid: false,
            responseType: 'BAD_REQUEST_BODY',
            message: 'Invalid request body',
            validationErrorString: `[${errors.join(', ')}]`,
          };
        }
      }
    }
    return { valid: true };
  };
}

/** Names as the definition writes them, ordered as AWS reports them: by `method.request.<location>.<name>`. */
function missingParameters(required: ParameterRequirement[], request: ValidationRequest): string[] {
  const headers = new Map(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const valueFor = ({ in: location, name }: ParameterRequirement): string | undefined => {
    if (location === 'header') return headers.get(name.toLowerCase());
    return (location === 'path' ? request.path : request.querystring)[name];
  };
  return required
    .filter((parameter) => (valueFor(parameter) ?? '').trim() === '')
    .map((parameter) => ({ name: parameter.name, sortKey: `${LOCATION[parameter.in]}.${parameter.name}` }))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    .map(({ name }) => name);
}

function modelFor(bodySchemas: Record<string, unknown>, contentType: string | undefined): unknown {
  const mediaType = (contentType?.split(';')[0]?.trim() || DEFAULT_CONTENT_TYPE).toLowerCase();
  const models = new Map(Object.entries(bodySchemas).map(([type, schema]) => [type.toLowerCase(), schema]));
  return models.get(mediaType) ?? models.get(DEFAULT_MODEL);
}

function bodyErrors(validate: ValidateFunction, body: string): string[] {
  let instance: unknown;
  try {
    // An empty body is not `{}` to API Gateway: it fails to parse like any other non-JSON body.
    instance = JSON.parse(body);
  } catch {
    return [UNPARSABLE_BODY];
  }
  return validate(instance) ? [] : describe(validate.errors ?? []);
}

/** Ajv's errors in the wording of the JSON-schema-validator (com.github.fge) that API Gateway runs. */
function describe(errors: ErrorObject[]): string[] {
  // That validator reports a failed oneOf/anyOf as one message, not the failures of each branch.
  const combinators = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf');
  const messages = new Map<string, string>();
  for (const error of errors) {
    if (combinators.some((combinator) => error.schemaPath.startsWith(`${combinator.schemaPath}/`))) continue;
    // Missing and unwanted properties are listed together in one message per object.
    const group = `${error.instancePath}\0${error.schemaPath}`;
    if (!messages.has(group)) messages.set(group, message(error, errors));
  }
  return [...messages.values()];
}

function message(error: ErrorObject, all: ErrorObject[]): string {
  const { data, schema, params } = error;
  const siblings = (param: string) =>
    all
      .filter((other) => other.instancePath === error.instancePath && other.schemaPath === error.schemaPath)
      .map((other) => String(other.params[param]))
      .sort();
  const length = (value: unknown) => (Array.isArray(value) ? value.length : [...String(value)].length);
  switch (error.keyword) {
    case 'required':
      return `object has missing required properties (${JSON.stringify(siblings('missingProperty'))})`;
    case 'additionalProperties':
      return `object instance has properties which are not allowed by the schema: ${JSON.stringify(siblings('additionalProperty'))}`;
    case 'type':
      return `instance type (${typeOf(data)}) does not match any allowed primitive type (allowed: ${JSON.stringify([schema].flat().sort())})`;
    case 'enum':
      return `instance value (${JSON.stringify(data)}) not found in enum (possible values: ${JSON.stringify(schema)})`;
    case 'minimum':
      // Never exclusive here: exclusiveMinimum is not enforced (MODEL_KEYWORD_CAVEATS).
      return `numeric instance is lower than the required minimum (minimum: ${params.limit}, found: ${data})`;
    case 'maximum':
      return params.comparison === '<'
        ? `numeric instance is not strictly lower than the required maximum ${params.limit}`
        : `numeric instance is greater than the required maximum (maximum: ${params.limit}, found: ${data})`;
    case 'multipleOf':
      return `remainder of division is not zero (${data} / ${params.multipleOf})`;
    case 'minLength':
      return `string "${data}" is too short (length: ${length(data)}, required minimum: ${params.limit})`;
    case 'maxLength':
      return `string "${data}" is too long (length: ${length(data)}, maximum allowed: ${params.limit})`;
    case 'pattern':
      return `ECMA 262 regex "${params.pattern}" does not match input string "${data}"`;
    case 'additionalItems':
      return `schema only allows ${params.limit} elements in array but instance has ${length(data)} elements`;
    case 'uniqueItems':
      return 'array must not contain duplicate elements';
    case 'minProperties':
      return `object has too few properties (found ${Object.keys(data as object).length} but schema requires at least ${params.limit})`;
    case 'maxProperties':
      return `object has too many properties (found ${Object.keys(data as object).length} but schema requires at most ${params.limit})`;
    case 'oneOf':
      return `instance failed to match exactly one schema (matched ${params.passingSchemas?.length ?? 0} out of ${length(schema)})`;
    case 'anyOf':
      return `instance failed to match at least one required schema among ${length(schema)}`;
    case 'not':
      return 'instance matched a schema which it should not have';
    default:
      return error.message ?? error.keyword;
  }
}

/** JSON Schema's name for a value's type, telling integers from other numbers as draft 4 does. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
