import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { MAX_BODY_BYTES, parseJsonBody, validate } from '../../../functions/lib/validation.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { refusal } from '../../support/unit-invoke.ts';

const Order = z.strictObject({
  items: z.array(z.strictObject({ productId: z.string(), quantity: z.int().min(1) })).min(1),
  note: z.string().optional(),
});
const anything = z.unknown();
const validOrder = { items: [{ productId: 'mug', quantity: 2 }] };

function postEvent(body: string | undefined, headers: Record<string, string> = {}) {
  return httpApiEvent({
    routeKey: 'POST /orders',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function withoutContentType(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  delete event.headers['content-type'];
  return event;
}

describe('parseJsonBody content type', () => {
  test.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8'])(
    'accepts %s',
    (contentType) => {
      const event = postEvent(JSON.stringify(validOrder), { 'content-type': contentType });
      expect(parseJsonBody(event, Order)).toEqual(validOrder);
    },
  );

  test.each(['text/plain', 'application/jsonp', 'application/x-www-form-urlencoded', 'multipart/form-data'])(
    'refuses %s with 415',
    (contentType) => {
      const error = refusal(() =>
        parseJsonBody(postEvent(JSON.stringify(validOrder), { 'content-type': contentType }), Order),
      );
      expect(error).toMatchObject({ statusCode: 415, code: 'UnsupportedMediaType' });
    },
  );

  test('refuses a request without a Content-Type with 415', () => {
    const error = refusal(() =>
      parseJsonBody(withoutContentType(postEvent(JSON.stringify(validOrder))), Order),
    );
    expect(error).toMatchObject({ statusCode: 415, code: 'UnsupportedMediaType' });
  });
});

describe('parseJsonBody body checks', () => {
  test.each([
    ['no body', undefined],
    ['an empty body', ''],
  ])('refuses %s with 400', (_name, body) => {
    const error = refusal(() => parseJsonBody(postEvent(body), Order));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'BadRequest',
      message: 'A JSON request body is required',
    });
  });

  test('accepts a body of exactly MAX_BODY_BYTES', () => {
    const padding = 'x'.repeat(MAX_BODY_BYTES - JSON.stringify({ ...validOrder, note: '' }).length);
    const body = JSON.stringify({ ...validOrder, note: padding });
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect(parseJsonBody(postEvent(body), Order).note).toBe(padding);
  });

  test('refuses a body one byte over MAX_BODY_BYTES with 413', () => {
    const padding = 'x'.repeat(MAX_BODY_BYTES + 1 - JSON.stringify({ ...validOrder, note: '' }).length);
    const error = refusal(() =>
      parseJsonBody(postEvent(JSON.stringify({ ...validOrder, note: padding })), Order),
    );
    expect(error).toMatchObject({ statusCode: 413, code: 'PayloadTooLarge' });
  });

  test('counts the size in bytes, not characters', () => {
    const note = 'é'.repeat(MAX_BODY_BYTES / 2);
    const body = JSON.stringify({ ...validOrder, note });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(refusal(() => parseJsonBody(postEvent(body), Order)).statusCode).toBe(413);
  });

  test('decodes a base64-encoded body', () => {
    const event = postEvent(Buffer.from(JSON.stringify({ ...validOrder, note: 'grüße' })).toString('base64'));
    event.isBase64Encoded = true;
    expect(parseJsonBody(event, Order)).toEqual({ ...validOrder, note: 'grüße' });
  });

  test('refuses a base64-encoded body that is not valid UTF-8 with 400', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"note":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    const event = postEvent(bytes.toString('base64'));
    event.isBase64Encoded = true;
    const error = refusal(() => parseJsonBody(event, anything));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'BadRequest',
      message: 'The request body is not valid UTF-8',
    });
  });

  test.each([
    ['truncated JSON', '{"items":[{"productId":"mug"'],
    ['a trailing comma', '{"items":[],}'],
    ['single quotes', "{'items':[]}"],
    ['bare text', 'items=1'],
    ['two documents', '{}{}'],
  ])('refuses %s with 400', (_name, body) => {
    const error = refusal(() => parseJsonBody(postEvent(body), anything));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'BadRequest',
      message: 'The request body is not valid JSON',
    });
  });

  test.each([
    ['__proto__ at the top', '{"__proto__":{"isAdmin":true}}', '__proto__'],
    ['constructor at the top', '{"constructor":{"prototype":{}}}', 'constructor'],
    ['prototype nested in an array', '{"items":[{"productId":"mug","prototype":1}]}', 'prototype'],
    ['__proto__ deep down', '{"a":{"b":[{"c":{"__proto__":null}}]}}', '__proto__'],
  ])('refuses %s with 400, even when the schema accepts anything', (_name, body, key) => {
    const error = refusal(() => parseJsonBody(postEvent(body), anything));
    expect(error).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(error.message).toContain(`"${key}"`);
  });

  test('allows the forbidden words as values', () => {
    const body = '{"note":"constructor __proto__ prototype"}';
    expect(parseJsonBody(postEvent(body), anything)).toEqual({ note: 'constructor __proto__ prototype' });
  });
});

describe('validate', () => {
  test('lists every failing field with its path under the location', () => {
    const error = refusal(() =>
      parseJsonBody(
        postEvent(
          JSON.stringify({
            items: [
              { productId: 'mug', quantity: 1 },
              { productId: 7, quantity: 0 },
            ],
          }),
        ),
        Order,
      ),
    );
    expect(error).toMatchObject({ statusCode: 400, code: 'ValidationError' });
    expect(error.details?.map((issue) => issue.path).sort()).toEqual([
      'body.items.1.productId',
      'body.items.1.quantity',
    ]);
    expect(error.details?.every((issue) => issue.message.length > 0)).toBe(true);
  });

  test('names unknown fields in the message', () => {
    const error = refusal(() => validate(Order, { ...validOrder, price: 1 }, 'body'));
    expect(error.details).toEqual([{ path: 'body', message: expect.stringContaining('price') }]);
  });

  test('prefixes query and path locations', () => {
    const Query = z.strictObject({ limit: z.coerce.number().int() });
    expect(refusal(() => validate(Query, { limit: 'abc' }, 'query')).details?.[0]?.path).toBe('query.limit');
    const Path = z.object({ id: z.uuid() });
    expect(refusal(() => validate(Path, { id: 'x' }, 'path')).details?.[0]?.path).toBe('path.id');
  });

  test('returns the parsed value, with defaults and coercions applied', () => {
    const Query = z.object({ limit: z.coerce.number().default(20) });
    expect(validate(Query, { limit: '5' }, 'query')).toEqual({ limit: 5 });
    expect(validate(Query, {}, 'query')).toEqual({ limit: 20 });
  });
});
