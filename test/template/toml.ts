/**
 * Just enough TOML for samconfig.toml: comments, [dotted.tables], `key = value` with basic and literal
 * strings, booleans, numbers and (multi-line) arrays of those. Anything else is an error, not a guess.
 */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let table = root;
  let position = 0;
  let line = 1;

  const error = (message: string) => new Error(`samconfig.toml line ${line}: ${message}`);
  const peek = () => text[position] ?? '';
  const skipSpace = (newlines: boolean) => {
    for (;;) {
      const char = peek();
      if (char === ' ' || char === '\t' || char === '\r') position++;
      else if (char === '#') while (position < text.length && peek() !== '\n') position++;
      else if (char === '\n' && newlines) {
        position++;
        line++;
      } else return;
    }
  };
  const key = (): string => {
    const match = /^[A-Za-z0-9_-]+/.exec(text.slice(position));
    if (match) {
      position += match[0].length;
      return match[0];
    }
    if (peek() === '"' || peek() === "'") return string();
    throw error('expected a key');
  };
  const dottedKey = (): string[] => {
    const parts = [key()];
    skipSpace(false);
    while (peek() === '.') {
      position++;
      skipSpace(false);
      parts.push(key());
      skipSpace(false);
    }
    return parts;
  };
  const string = (): string => {
    const quote = peek();
    position++;
    let result = '';
    while (peek() !== quote) {
      const char = peek();
      if (char === '' || char === '\n') throw error('unterminated string');
      position++;
      if (quote === '"' && char === '\\') {
        const escaped = peek();
        position++;
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          n: '\n',
          t: '\t',
          r: '\r',
          b: '\b',
          f: '\f',
        };
        if (simple[escaped] !== undefined) result += simple[escaped];
        else if (escaped === 'u' || escaped === 'U') {
          const length = escaped === 'u' ? 4 : 8;
          result += String.fromCodePoint(Number.parseInt(text.slice(position, position + length), 16));
          position += length;
        } else throw error(`unknown escape \\${escaped}`);
      } else result += char;
    }
    position++;
    return result;
  };
  const value = (): TomlValue => {
    const char = peek();
    if (char === '"' || char === "'") {
      if (text.startsWith(char.repeat(3), position)) throw error('multi-line strings are not supported');
      return string();
    }
    if (char === '[') {
      position++;
      const items: TomlValue[] = [];
      for (;;) {
        skipSpace(true);
        if (peek() === ']') break;
        items.push(value());
        skipSpace(true);
        if (peek() === ',') position++;
        else if (peek() !== ']') throw error('expected , or ] in an array');
      }
      position++;
      return items;
    }
    const match = /^(true|false|[+-]?\d[\d_]*(\.\d+)?)/.exec(text.slice(position));
    if (!match) throw error('unsupported value');
    position += match[0].length;
    return match[0] === 'true' ? true : match[0] === 'false' ? false : Number(match[0].replaceAll('_', ''));
  };
  const descend = (from: TomlTable, path: string[]): TomlTable => {
    let current = from;
    for (const part of path) {
      const next = current[part] ?? {};
      if (typeof next !== 'object' || Array.isArray(next)) throw error(`${part} is not a table`);
      current[part] = next;
      current = next;
    }
    return current;
  };

  for (;;) {
    skipSpace(true);
    if (position >= text.length) return root;
    if (peek() === '[') {
      position++;
      skipSpace(false);
      table = descend(root, dottedKey());
      if (peek() !== ']') throw error('expected ]');
      position++;
    } else {
      const path = dottedKey();
      if (peek() !== '=') throw error('expected =');
      position++;
      skipSpace(false);
      const name = path.pop() as string;
      const target = descend(table, path);
      if (name in target) throw error(`${name} is defined twice`);
      target[name] = value();
    }
    skipSpace(false);
    if (position < text.length && peek() !== '\n') throw error('expected the end of the line');
  }
}

/**
 * `parameter_overrides` as SAM CLI reads it: one string or a list of strings of `Key=Value` pairs, values
 * optionally in double or single quotes (the patterns of samcli's CfnParameterOverridesType).
 */
export function parseParameterOverrides(value: TomlValue | undefined): Record<string, string> {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const result: Record<string, string> = {};
  const pair = /(?: )([A-Za-z0-9"']+)=("(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ "\\]+)+)/g;
  for (const item of items) {
    if (typeof item !== 'string') throw new Error('parameter_overrides must be strings');
    const normalised = ` ${item.trim()}`;
    const matches = [...normalised.matchAll(pair)];
    if (matches.length === 0 || matches.map((match) => match[0]).join('') !== normalised) {
      throw new Error(`parameter_overrides entry is not Key=Value pairs: ${item}`);
    }
    for (const [, key = '', raw = ''] of matches) {
      const unquoted = /^(["']).*\1$/s.test(raw) ? raw.slice(1, -1) : raw;
      result[key] = unquoted.replaceAll('\\ ', ' ').replaceAll('\\"', '"').replaceAll("\\'", "'");
    }
  }
  return result;
}
