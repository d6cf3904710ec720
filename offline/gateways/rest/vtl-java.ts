/**
 * The Java behaviour (Velocity 1.7, java.lang.String, java.util collections) of the values in API Gateway's
 * mapping templates, which templates written for API Gateway rely on: printing, truth, equality, regular
 * expressions, and the String, List and Map methods.
 */
import { fail } from './mapping-template-error.ts';

/**
 * Arrays parsed from JSON are json-smart JSONArrays in API Gateway and print as JSON; every other list
 * (VTL literals, `keySet()`) prints as a java.util list does: `[a, b]`.
 */
export const jsonArrays = new WeakSet<unknown[]>();

export function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (Array.isArray(value)) jsonArrays.add(value);
    return value;
  });
}

export function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `String.valueOf` of the Java object API Gateway's Velocity would hold: maps print `{a=b, c=d}`. */
export function javaString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    return jsonArrays.has(value) ? JSON.stringify(value) : `[${value.map(javaString).join(', ')}]`;
  }
  if (isMap(value)) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}=${javaString(item)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** Velocity 1.7 conditions: only null and false are false, so "" and 0 are true. */
export const isTrue = (value: unknown): boolean => value !== null && value !== undefined && value !== false;

/** Velocity 1.7 `==`: null equals only null, same-kind scalars by value, anything else by toString(). */
export function velocityEquals(left: unknown, right: unknown): boolean {
  if (left === null || left === undefined || right === null || right === undefined) {
    return (left === null || left === undefined) && (right === null || right === undefined);
  }
  if (typeof left === typeof right && typeof left !== 'object') return left === right;
  return javaString(left) === javaString(right);
}

/**
 * A java.util.regex pattern as a RegExp. The two share the syntax templates use; Java's leading inline
 * flags (`(?i)`) become RegExp flags. `whole` anchors it the way String.matches() does.
 */
function javaRegex(pattern: string, flags: string, whole = false): RegExp {
  const inline = /^\(\?([ims]+)\)/.exec(pattern);
  const source = inline ? pattern.slice(inline[0].length) : pattern;
  try {
    // Sticky plus a lookahead for the true end: `^`/`$` would also match at line breaks under (?m).
    return whole
      ? new RegExp(`(?:${source})(?![\\s\\S])`, `${flags}${inline?.[1] ?? ''}y`)
      : new RegExp(source, `${flags}${inline?.[1] ?? ''}`);
  } catch (error) {
    return fail(`Invalid regular expression ${JSON.stringify(pattern)}`, error);
  }
}

/** A java.util.regex replacement (`$1`, `${name}`, `\` quoting the next character) as a RegExp replacement. */
function javaReplacement(replacement: string): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const char = replacement.charAt(i);
    if (char === '\\') {
      i++;
      if (i >= replacement.length) fail(`Replacement ${JSON.stringify(replacement)} ends with an escape`);
      out += replacement.charAt(i) === '$' ? '$$' : replacement.charAt(i);
    } else if (char === '$') {
      const group = /^(?:\{([A-Za-z][A-Za-z0-9]*)\}|(\d+))/.exec(replacement.slice(i + 1));
      if (!group) fail(`Replacement ${JSON.stringify(replacement)} has an illegal group reference`);
      out += group[1] !== undefined ? `$<${group[1]}>` : group[2] === '0' ? '$&' : `$${group[2]}`;
      i += group[0].length;
    } else {
      out += char;
    }
  }
  return out;
}

/** String.split(regex): no leading empty part from a zero-width match, trailing empty parts dropped. */
function javaSplit(text: string, pattern: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const match of text.matchAll(javaRegex(pattern, 'g'))) {
    if (match[0] === '' && match.index === 0) continue;
    parts.push(text.slice(start, match.index));
    start = match.index + match[0].length;
  }
  if (parts.length === 0) return [text];
  parts.push(text.slice(start));
  while (parts.at(-1) === '') parts.pop();
  return parts;
}

/** String.trim() strips every char up to U+0020, not Unicode whitespace. */
function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

/** A String argument: Java throws NullPointerException on null. */
function textArgument(value: unknown, method: string): string {
  if (value === null || value === undefined) fail(`${method}: the argument is null`);
  return javaString(value);
}

function intArgument(value: unknown, method: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail(`${method}: ${javaString(value)} is not an int`);
  }
  return value;
}

export type JavaMethod<T> = (receiver: T, ...args: unknown[]) => unknown;

export const stringMethods: Record<string, JavaMethod<string>> = {
  contains: (text, part) => text.includes(textArgument(part, 'String.contains')),
  endsWith: (text, suffix) => text.endsWith(textArgument(suffix, 'String.endsWith')),
  equals: (text, other) => text === other,
  indexOf: (text, part, from = 0) =>
    text.indexOf(textArgument(part, 'String.indexOf'), intArgument(from, 'String.indexOf')),
  isEmpty: (text) => text.length === 0,
  length: (text) => text.length,
  matches: (text, regex) => javaRegex(textArgument(regex, 'String.matches'), '', true).test(text),
  replace: (text, target, replacement) => {
    const literal = textArgument(replacement, 'String.replace');
    return text.replaceAll(textArgument(target, 'String.replace'), () => literal);
  },
  replaceAll: (text, regex, replacement) =>
    text.replace(
      javaRegex(textArgument(regex, 'String.replaceAll'), 'g'),
      javaReplacement(textArgument(replacement, 'String.replaceAll')),
    ),
  replaceFirst: (text, regex, replacement) =>
    text.replace(
      javaRegex(textArgument(regex, 'String.replaceFirst'), ''),
      javaReplacement(textArgument(replacement, 'String.replaceFirst')),
    ),
  split: (text, regex) => javaSplit(text, textArgument(regex, 'String.split')),
  startsWith: (text, prefix) => text.startsWith(textArgument(prefix, 'String.startsWith')),
  substring: (text, begin, end = text.length) => {
    const from = intArgument(begin, 'String.substring');
    const to = intArgument(end, 'String.substring');
    if (from < 0 || to > text.length || from > to) {
      fail(`String.substring(${from}, ${to}) is out of range for length ${text.length}`);
    }
    return text.slice(from, to);
  },
  toLowerCase: (text) => text.toLowerCase(),
  toUpperCase: (text) => text.toUpperCase(),
  trim: javaTrim,
};

export const listMethods: Record<string, JavaMethod<unknown[]>> = {
  contains: (list, item) => list.includes(item),
  get: (list, index) => {
    const at = intArgument(index, 'List.get');
    if (at < 0 || at >= list.length) fail(`List.get(${at}) is out of range for size ${list.length}`);
    return list[at];
  },
  isEmpty: (list) => list.length === 0,
  size: (list) => list.length,
};

export const mapMethods: Record<string, JavaMethod<Record<string, unknown>>> = {
  containsKey: (map, key) => Object.hasOwn(map, javaString(key)),
  get: (map, key) => {
    const name = javaString(key);
    return Object.hasOwn(map, name) ? map[name] : null;
  },
  isEmpty: (map) => Object.keys(map).length === 0,
  keySet: (map) => Object.keys(map),
  size: (map) => Object.keys(map).length,
};
