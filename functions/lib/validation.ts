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

/** A JSON payload as API Gateway hands it to a function: text, or base64 of its bytes. */
export interface JsonPayload {
  readonly body?: string | null | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

/** How one protocol (an HTTP request body, a chat frame) limits its JSON payloads and words each refusal. */
export interface JsonPayloadRules {
  readonly maxBytes: number;
  readonly missing: () => HttpError;
  readonly tooLarge: () => HttpError;
  readonly notUtf8: () => HttpError;
  readonly notJson: () => HttpError;
  /** How a payload with a `__proto__`, `constructor` or `prototype` key is refused; without it, it is not. */
  readonly forbiddenKey?: (key: string) => HttpError;
}

/** Decodes a JSON payload (base64 or text, then strict UTF-8), size-checks and parses it. */
export function decodeJsonPayload(payload: JsonPayload, rules: JsonPayloadRules): unknown {
  if (!payload.body) throw rules.missing();
  const bytes = Buffer.from(payload.body, payload.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.byteLength > rules.maxBytes) throw rules.tooLarge();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw rules.notUtf8();
  }
  let forbiddenKey: string | undefined;
  const noteForbiddenKey = (key: string, nested: unknown) => {
    if (FORBIDDEN_KEYS.has(key)) forbiddenKey = key;
    return nested;
  };
  let value: unknown;
  try {
    value = JSON.parse(text, rules.forbiddenKey ? noteForbiddenKey : undefined);
  } catch {
    throw rules.notJson();
  }
  if (forbiddenKey !== undefined && rules.forbiddenKey) throw rules.forbiddenKey(forbiddenKey);
  return value;
}

const REQUEST_BODY: JsonPayloadRules = {
  maxBytes: MAX_BODY_BYTES,
  missing: () => badRequest('A JSON request body is required'),
  tooLarge: () =>
    new HttpError(413, 'PayloadTooLarge', `The request body must not exceed ${MAX_BODY_BYTES} bytes`),
  notUtf8: () => badRequest('The request body is not valid UTF-8'),
  notJson: () => badRequest('The request body is not valid JSON'),
  forbiddenKey: (key) => badRequest(`The request body contains the forbidden key "${key}"`),
};

/** Checks the content type, then decodes, size-checks and parses a JSON request body, and validates it. */
export function parseJsonBody<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S> {
  const contentType = event.headers['content-type'] ?? '';
  if (!JSON_CONTENT_TYPE.test(contentType)) {
    throw new HttpError(415, 'UnsupportedMediaType', 'Content-Type must be application/json');
  }
  return validate(schema, decodeJsonPayload(event, REQUEST_BODY), 'body');
}
