import { describe, expect, test } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../functions/lib/cursor.ts';
import { refusal } from '../../support/unit-invoke.ts';

const INDEX_KEY = ['orderId', 'customerId', 'createdAt'];
const lastKey = {
  orderId: '6f1c1a9e-2b7d-4a53-9d4e-0e6f2f4b8c11',
  customerId: 'user-alice',
  createdAt: '2025-11-21T10:00:00.000Z',
};

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalid(cursor: string, pinned = {}) {
  const error = refusal(() => decodeCursor(cursor, INDEX_KEY, pinned));
  expect(error).toMatchObject({ statusCode: 400, code: 'BadRequest' });
  expect(error.details).toEqual([{ path: 'query.cursor', message: 'Invalid cursor' }]);
}

describe('cursor', () => {
  test('round-trips a LastEvaluatedKey through an opaque URL-safe string', () => {
    const cursor = encodeCursor(lastKey);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('user-alice');
    expect(decodeCursor(cursor, INDEX_KEY, { customerId: 'user-alice' })).toEqual(lastKey);
  });

  test('round-trips numeric key attributes', () => {
    const key = { pk: 'a', sk: 42 };
    expect(decodeCursor(encodeCursor(key), ['pk', 'sk'])).toEqual(key);
  });

  test('has no cursor when there is no next page, and no start key without a cursor', () => {
    expect(encodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor(undefined, INDEX_KEY)).toBeUndefined();
  });

  test.each([
    ['garbage', '%%%not-a-cursor%%%'],
    ['base64 of text that is not JSON', Buffer.from('hello').toString('base64url')],
    ['truncated', (encodeCursor(lastKey) ?? '').slice(0, 20)],
    ['a JSON array', cursorOf(Object.values(lastKey))],
    ['JSON null', cursorOf(null)],
    ['a JSON string', cursorOf('user-alice')],
  ])('refuses %s', (_name, cursor) => {
    expectInvalid(cursor);
  });

  test('refuses a key with the wrong attributes', () => {
    expectInvalid(
      cursorOf({ id: lastKey.orderId, customerId: lastKey.customerId, createdAt: lastKey.createdAt }),
    );
  });

  test('refuses a key with a missing attribute', () => {
    expectInvalid(cursorOf({ orderId: lastKey.orderId, customerId: lastKey.customerId }));
  });

  test('refuses a key with an extra attribute', () => {
    expectInvalid(cursorOf({ ...lastKey, status: 'PLACED' }));
  });

  test.each([
    ['an object', { S: 'user-alice' }],
    ['an array', ['user-alice']],
    ['a boolean', true],
    ['null', null],
  ])('refuses a key attribute that is %s', (_name, value) => {
    expectInvalid(cursorOf({ ...lastKey, createdAt: value }));
  });

  test("refuses a cursor whose pinned attribute differs (somebody else's partition)", () => {
    const cursor = encodeCursor(lastKey) ?? '';
    expectInvalid(cursor, { customerId: 'user-mallory' });
  });
});
