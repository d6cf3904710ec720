import { badRequest } from './errors.ts';

type Key = Record<string, string | number>;

/** An opaque pagination cursor: the DynamoDB LastEvaluatedKey, base64url-encoded. */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | undefined {
  return lastEvaluatedKey ? Buffer.from(JSON.stringify(lastEvaluatedKey)).toString('base64url') : undefined;
}

/**
 * Decodes a cursor and checks it holds exactly the expected key attributes, so a crafted cursor can neither
 * break the query nor start it inside somebody else's partition (`pinned` values must match).
 */
export function decodeCursor(
  cursor: string | undefined,
  attributes: readonly string[],
  pinned: Key = {},
): Key | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalidCursor();
  const entries = Object.entries(key);
  const valid =
    entries.length === attributes.length &&
    entries.every(
      ([name, value]) =>
        attributes.includes(name) &&
        (typeof value === 'string' || typeof value === 'number') &&
        (pinned[name] === undefined || pinned[name] === value),
    );
  if (!valid) throw invalidCursor();
  return key as Key;
}

const invalidCursor = () =>
  badRequest('The cursor is not valid', [{ path: 'query.cursor', message: 'Invalid cursor' }]);
