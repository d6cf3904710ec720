/**
 * API Gateway REST API (v1) mapping templates: Velocity (VTL) rendered by velocityjs, with the `$input`, `$util`,
 * `$context` and `$stageVariables` API Gateway provides, and the Java behaviour (Velocity 1.7, java.lang.String,
 * java.util collections; vtl-java.ts) that templates written for API Gateway rely on.
 */
import { Buffer } from 'node:buffer';
import { JSONPath } from 'jsonpath-plus';
import { Compile, Helper, parse } from 'velocityjs';
import { headerValue } from '../gateway-http.ts';
import { fail, MappingTemplateError } from './mapping-template-error.ts';
import {
  isMap,
  isTrue,
  type JavaMethod,
  javaString,
  jsonArrays,
  listMethods,
  mapMethods,
  parseJson,
  stringMethods,
  velocityEquals,
} from './vtl-java.ts';

export interface MappingInput {
  /** Raw payload `$input` reads: the method request body for request templates, the integration response body for response templates ('' when none). */
  body: string;
  /** Method request parameters by location; header names as the client sent them (lookup case-insensitive). */
  params: {
    path: Record<string, string>;
    querystring: Record<string, string>;
    header: Record<string, string>;
  };
  /** `$context`: a plain JSON-like object (requestId, requestTimeEpoch, identity.apiKeyId, stage, httpMethod, resourcePath, error.* …). */
  context: Record<string, unknown>;
  stageVariables: Record<string, string>;
}

export interface ResponseOverride {
  status?: number;
  headers: Record<string, string>;
}

export interface MappingResult {
  output: string;
  responseOverride: ResponseOverride;
}

type VelocityAst = ReturnType<typeof parse>[number];
type ReferenceAst = Extract<VelocityAst, { type: 'references' }>;
type CompileConfig = NonNullable<ConstructorParameters<typeof Compile>[1]>;
type MethodHandler = NonNullable<CompileConfig['customMethodHandlers']>[number];

/** Java methods on template values, resolved before velocityjs's own (JavaScript-flavoured) method lookup. */
function javaMethods<T>(
  kind: string,
  accepts: (value: unknown) => value is T,
  methods: Record<string, JavaMethod<T>>,
): MethodHandler {
  return {
    uid: `api-gateway: ${kind}`,
    match: ({ context, property }) => accepts(context) && Object.hasOwn(methods, property),
    resolve: ({ context, property, params }) => methods[property]?.(context, ...params),
  };
}

/** A JSONPath is definite (Jayway returns the item, not a list of matches) unless it scans, filters, slices or unions. */
function isDefinitePath(path: string): boolean {
  return JSONPath.toPathArray(path).every(
    (token) => token !== '*' && token !== '..' && !/^[?(]|[:,]/.test(token),
  );
}

function jsonPathMatches(document: unknown, path: string): unknown[] {
  try {
    // jsonpath-plus refuses a null document; the root is the only path into one.
    if (document === null) return JSONPath.toPathArray(path).length === 1 ? [null] : [];
    const matches = JSONPath({ path, json: document, wrap: true });
    return Array.isArray(matches) ? matches : [];
  } catch (error) {
    return fail(`Invalid JSONPath ${JSON.stringify(path)}`, error);
  }
}

/** `$input`: the payload and the method request parameters. */
class InputVariable {
  /** API Gateway reads a missing payload as an empty JSON object. */
  readonly body: string;
  readonly #params: MappingInput['params'];
  #payload: { value: unknown } | undefined;

  constructor(body: string, params: MappingInput['params']) {
    this.body = body === '' ? '{}' : body;
    this.#params = params;
  }

  /** The match serialised as JSON; a missing definite path gives the JSON empty string `""`. */
  json(path: unknown): string {
    const match = this.#select(path);
    return match ? JSON.stringify(match.value) : '""';
  }

  /** The match as a template value; a missing definite path gives the empty string. */
  path(path: unknown): unknown {
    const match = this.#select(path);
    return match ? match.value : '';
  }

  params(...names: unknown[]): unknown {
    const { path, querystring, header } = this.#params;
    if (names.length === 0) {
      return { path: { ...path }, querystring: { ...querystring }, header: { ...header } };
    }
    const name = javaString(names[0]);
    if (Object.hasOwn(path, name)) return path[name];
    if (Object.hasOwn(querystring, name)) return querystring[name];
    return headerValue(header, name) ?? '';
  }

  #select(path: unknown): { value: unknown } | undefined {
    const expression = javaString(path);
    const payload = this.#parsedPayload();
    const matches = jsonPathMatches(payload, expression);
    if (!isDefinitePath(expression)) {
      jsonArrays.add(matches);
      return { value: matches };
    }
    return matches.length === 0 ? undefined : { value: matches[0] };
  }

  #parsedPayload(): unknown {
    if (!this.#payload) {
      try {
        this.#payload = { value: parseJson(this.body) };
      } catch (error) {
        return fail('$input.json and $input.path need a JSON payload', error);
      }
    }
    return this.#payload.value;
  }
}

/** Commons Lang StringEscapeUtils.escapeJavaScript's named escapes; other chars below 0x20 or above 0x7f become `\uXXXX`. */
const javaScriptEscapes: Record<string, string> = {
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
};

function escapeJavaScript(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    const code = text.charCodeAt(i);
    out +=
      javaScriptEscapes[char] ??
      (code < 0x20 || code > 0x7f ? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}` : char);
  }
  return out;
}

/** java.net.URLEncoder with UTF-8: form encoding, where only `A-Za-z0-9.-*_` stay as they are. */
function urlEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9.*_-]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function urlDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch (error) {
    return fail(`$util.urlDecode: ${JSON.stringify(text)} is not form-encoded UTF-8`, error);
  }
}

/** `$util`. Each function gives null for a null argument, which prints as the reference itself. */
class UtilVariable {
  escapeJavaScript(value: unknown): string | null {
    return value === null || value === undefined ? null : escapeJavaScript(javaString(value));
  }

  parseJson(value: unknown): unknown {
    if (value === null || value === undefined) return null;
    try {
      return parseJson(javaString(value));
    } catch (error) {
      return fail('$util.parseJson: the argument is not JSON', error);
    }
  }

  urlEncode(value: unknown): string | null {
    return value === null || value === undefined ? null : urlEncode(javaString(value));
  }

  urlDecode(value: unknown): string | null {
    return value === null || value === undefined ? null : urlDecode(javaString(value));
  }

  base64Encode(value: unknown): string | null {
    return value === null || value === undefined
      ? null
      : Buffer.from(javaString(value), 'utf8').toString('base64');
  }

  base64Decode(value: unknown): string | null {
    return value === null || value === undefined
      ? null
      : Buffer.from(javaString(value), 'base64').toString('utf8');
  }
}

function isBuiltin(value: unknown): value is InputVariable | UtilVariable {
  return value instanceof InputVariable || value instanceof UtilVariable;
}

const methodHandlers: MethodHandler[] = [
  // Called here rather than by velocityjs, which would append its own text to their errors and set `eval` on them.
  {
    uid: 'api-gateway: $input and $util',
    match: ({ context, property }) =>
      isBuiltin(context) &&
      property !== 'constructor' &&
      Object.hasOwn(Object.getPrototypeOf(context), property),
    resolve: ({ context, property, params }) =>
      Reflect.apply(Reflect.get(context, property), context, params),
  },
  javaMethods('String', (value): value is string => typeof value === 'string', stringMethods),
  javaMethods('List', Array.isArray, listMethods),
  javaMethods('Map', isMap, mapMethods),
  {
    uid: 'api-gateway: toString',
    match: ({ property, params }) => property === 'toString' && params.length === 0,
    resolve: ({ context }) => javaString(context),
  },
];

/** The engine hooks overridden below: velocityjs types them protected and string-valued, but they carry template values. */
interface CompileHooks {
  readonly contextId: string;
  render(context: Record<string, unknown>): string;
  renderAstList(asts: VelocityAst[], contextId?: string): string;
  getReferences(ast: ReferenceAst, isVal?: boolean): unknown;
  getExpression(ast: VelocityAst): unknown;
  getBlockIf(block: VelocityAst[]): string;
}

const CompileBase = Compile as unknown as new (asts: VelocityAst[], config: CompileConfig) => CompileHooks;

/** velocityjs with Java Velocity 1.7's printing, conditions and equality. */
class ApiGatewayVelocity extends CompileBase {
  override getReferences(ast: ReferenceAst, isVal?: boolean): unknown {
    const value = super.getReferences(ast, isVal);
    if (!isVal) return value;
    // velocityjs prints null as "null"; Velocity prints the reference, or nothing for `$!`.
    if (value === null || typeof value === 'function')
      return ast.leader === '$!' ? '' : Helper.getRefText(ast);
    return javaString(value);
  }

  override getExpression(ast: VelocityAst): unknown {
    if (ast.type !== 'math') return super.getExpression(ast);
    const [left, right] = ast.expression;
    switch (ast.operator) {
      case 'not':
        return !isTrue(this.#operand(left));
      case '&&':
        return isTrue(this.#operand(left)) && isTrue(this.#operand(right));
      case '||':
        return isTrue(this.#operand(left)) || isTrue(this.#operand(right));
      case '==':
        return velocityEquals(this.#operand(left), this.#operand(right));
      case '!=':
        return !velocityEquals(this.#operand(left), this.#operand(right));
      default:
        return super.getExpression(ast);
    }
  }

  /** velocityjs's #if with Velocity's truth test instead of JavaScript's. */
  override getBlockIf(block: VelocityAst[]): string {
    const body: VelocityAst[] = [];
    let taken = false;
    for (const ast of block) {
      if (ast.type === 'if' || ast.type === 'elseif') {
        if (taken) break;
        taken = isTrue(this.getExpression(ast.condition));
      } else if (ast.type === 'else') {
        if (taken) break;
        taken = true;
      } else if (taken) {
        body.push(ast);
      }
    }
    return this.renderAstList(body, this.contextId);
  }

  #operand(ast: VelocityAst | undefined): unknown {
    return ast === undefined ? undefined : this.getExpression(ast);
  }
}

const parsedTemplates = new Map<string, VelocityAst[]>();

function parsed(template: string): VelocityAst[] {
  let asts = parsedTemplates.get(template);
  if (!asts) {
    try {
      asts = parse(template);
    } catch (error) {
      return fail(`Mapping template syntax error: ${errorMessage(error)}`, error);
    }
    parsedTemplates.set(template, asts);
  }
  return asts;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface OverrideSlots {
  status?: unknown;
  header: Record<string, unknown>;
}

function responseOverrideOf(slots: OverrideSlots): ResponseOverride {
  const headers: Record<string, string> = {};
  if (isMap(slots.header)) {
    for (const [name, value] of Object.entries(slots.header)) {
      if (value !== null && value !== undefined) headers[name] = javaString(value);
    }
  }
  if (slots.status === null || slots.status === undefined) return { headers };
  const status = Number(slots.status);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    fail(`$context.responseOverride.status ${javaString(slots.status)} is not an HTTP status code`);
  }
  return { status, headers };
}

/** Renders a mapping template; `#set($context.responseOverride…)` in it comes back as `responseOverride`. */
export function renderMappingTemplate(template: string, input: MappingInput): MappingResult {
  const asts = parsed(template);
  const responseOverride: OverrideSlots = { header: {} };
  // The parsed template is shared; the engine is per render because velocityjs keeps #stop, #macro and loop state on it.
  const engine = new ApiGatewayVelocity(asts, { customMethodHandlers: methodHandlers });
  try {
    const output = engine.render({
      input: new InputVariable(input.body, input.params),
      util: new UtilVariable(),
      context: { ...structuredClone(input.context), responseOverride },
      stageVariables: { ...input.stageVariables },
    });
    return { output, responseOverride: responseOverrideOf(responseOverride) };
  } catch (error) {
    if (error instanceof MappingTemplateError) throw error;
    return fail(`Mapping template failed: ${errorMessage(error)}`, error);
  }
}
