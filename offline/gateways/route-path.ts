import { safeDecode } from './gateway-http.ts';

/** A route's path as API Gateway matches it: `{name}` takes one segment, a final `{name+}` the rest. */
export interface CompiledPath {
  pattern: RegExp;
  /** Path parameter names, in the order of the pattern's groups. */
  parameters: string[];
  /** Sort key: exact paths before parameterised ones, those before greedy ones, longer before shorter. */
  rank: number[];
}

export function compilePath(path: string): CompiledPath {
  const parameters: string[] = [];
  const segments = path.split('/').filter(Boolean);
  const greedy = segments.at(-1)?.endsWith('+}') ?? false;
  const source = segments
    .map((segment) => {
      const parameter = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!parameter?.[1]) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      parameters.push(parameter[1]);
      return parameter[2] ? '/(.+)' : '/([^/]+)';
    })
    .join('');
  return {
    pattern: new RegExp(`^${source || '/'}/?$`),
    parameters,
    rank: [greedy ? 1 : 0, parameters.length, -segments.length],
  };
}

/** The path parameters (percent-decoded, as API Gateway passes them) when `path` matches, else undefined. */
export function matchPath(compiled: CompiledPath, path: string): Record<string, string> | undefined {
  const found = compiled.pattern.exec(path);
  if (!found) return undefined;
  return Object.fromEntries(
    compiled.parameters.map((name, index) => [name, safeDecode(found[index + 1] ?? '')]),
  );
}

export function comparePathRank(a: number[], b: number[]): number {
  for (let index = 0; index < a.length; index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
