import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { badRequest, type FieldIssue, HttpError, validationFailed } from './errors.ts';

/** Request bodies above this are refused before parsing (API Gateway itself allows up to 10 MB). */
export const MAX_BODY_BYTES = 16 * 1024;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Free text from a request. API Gateway hands a function a text body already decoded, every byte that is not
 * UTF-8 replaced by U+FFFD, so that character is all that is left of invalid UTF-8: it is refused, never stored.
 */
export const Utf8Text = z.string().regex(/^[^\uFFFD]*$/, {
  message: 'Must be valid UTF-8 (U+FFFD stands for bytes that were not)',
});

/** Where the value came from: the first part of every detail's path (`query.limit`, `messageAttributes.orderId`). */
type Location = 'body' | 'query' | 'path' | 'messageAttributes';

/** Checks `value` against `schema`; failures become one 400 listing every field and its reason. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, location: Location): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details: FieldIssue[] = result.error.issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw validationFailed(details);
}

/** Decodes, size-checks and parses a JSON request body, then validates it. */
export function parseJsonBody<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S> {
  const contentType = event.headers['content-type'] ?? '';
  if (!JSON_CONTENT_TYPE.test(contentType)) {
    throw new HttpError(415, 'UnsupportedMediaType', 'Content-Type must be application/json');
  }
  if (!event.body) throw badRequest('A JSON request body is required');

  const bytes = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new HttpError(413, 'PayloadTooLarge', `The request body must not exceed ${MAX_BODY_BYTES} bytes`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw badRequest('The request body is not valid UTF-8');
  }
  return validate(schema, parseJson(text), 'body');
}

function parseJson(text: string): unknown {
  let forbiddenKey: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, nested) => {
      if (FORBIDDEN_KEYS.has(key)) forbiddenKey = key;
      return nested;
    });
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
  if (forbiddenKey !== undefined) {
    throw badRequest(`The request body contains the forbidden key "${forbiddenKey}"`);
  }
  return value;
}
