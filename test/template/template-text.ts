/**
 * template.yaml edited as text, the way a forker edits it: a resource's block is its lines and the comments just
 * above it, and the resources of one function or table (the function, its permission, log group and alarms) all
 * start with its name. The recipe and block-deletion tests use these to apply the README's recipes to a copy.
 */

const RESOURCE_HEADER = /^ {2}([A-Za-z0-9]+):\s*$/;
const SECTION_COMMENT = /^ {2}# -/;

interface Span {
  start: number;
  end: number;
}

/** The line spans of the resources whose logical ids start with `prefix`, each with its comments above. */
function spansOf(lines: string[], prefix: string): Span[] {
  const spans: Span[] = [];
  let current: Span | undefined;
  let inResources = false;
  lines.forEach((line, index) => {
    if (/^\S/.test(line)) inResources = line === 'Resources:';
    const header = inResources ? RESOURCE_HEADER.exec(line) : null;
    if (header || /^\S/.test(line) || SECTION_COMMENT.test(line)) {
      if (current) spans.push({ ...current, end: index });
      current = undefined;
    }
    if (header?.[1]?.startsWith(prefix)) {
      let start = index;
      while (
        start > 0 &&
        /^ {2}#/.test(lines[start - 1] ?? '') &&
        !SECTION_COMMENT.test(lines[start - 1] ?? '')
      )
        start -= 1;
      current = { start, end: lines.length };
    }
  });
  if (current) spans.push(current);
  // A resource's trailing blank line belongs to it; the comments of the next resource do not.
  return spans.map(({ start, end }) => {
    let last = end;
    while (last > start && /^ {2}#/.test(lines[last - 1] ?? '')) last -= 1;
    return { start, end: last };
  });
}

/** The template without the resources whose logical ids start with `prefix` (and their comments). */
export function withoutResources(source: string, prefix: string): string {
  const lines = source.split('\n');
  const dropped = new Set(spansOf(lines, prefix).flatMap(({ start, end }) => range(start, end)));
  return lines.filter((_, index) => !dropped.has(index)).join('\n');
}

/** The text of the resources whose logical ids start with `prefix`, in document order. */
export function resourcesText(source: string, prefix: string): string {
  const lines = source.split('\n');
  const spans = spansOf(lines, prefix);
  if (spans.length === 0) throw new Error(`template.yaml has no resource starting with ${prefix}`);
  return spans.flatMap(({ start, end }) => lines.slice(start, end)).join('\n');
}

/** The template with `text` inserted after the last resource whose logical id starts with `prefix`. */
export function insertAfterResources(source: string, prefix: string, text: string): string {
  const lines = source.split('\n');
  const last = spansOf(lines, prefix).at(-1);
  if (!last) throw new Error(`template.yaml has no resource starting with ${prefix}`);
  const before = lines.slice(0, last.end);
  while (before.at(-1) === '') before.pop();
  const after = lines.slice(last.end);
  while (after[0] === '') after.shift();
  return [...before, '', text.trimEnd(), '', ...after].join('\n');
}

/** The template with `text` appended to a top-level section (`Outputs:`, `Parameters:`). */
export function appendToSection(source: string, section: string, text: string): string {
  const lines = source.split('\n');
  const header = lines.indexOf(`${section}:`);
  if (header < 0) throw new Error(`template.yaml has no ${section} section`);
  let end = lines.findIndex((line, index) => index > header && /^\S/.test(line));
  if (end < 0) end = lines.length;
  while (end > header + 1 && lines[end - 1] === '') end -= 1;
  return [...lines.slice(0, end), text.trimEnd(), ...lines.slice(end)].join('\n');
}

/** The template without every region between `# >>> name` and `# <<< name` (the marker lines included). */
export function withoutMarkedRegions(source: string, name: string): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of source.split('\n')) {
    if (line.trim() === `# >>> ${name}`) inside = true;
    else if (line.trim() === `# <<< ${name}`) inside = false;
    else if (!inside) kept.push(line);
  }
  if (inside) throw new Error(`template.yaml: # >>> ${name} is never closed`);
  return kept.join('\n');
}

const range = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => start + i);
