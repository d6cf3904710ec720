import { describe, expect, test, vi } from 'vitest';
import { json } from '../../../functions/lib/http.ts';
import { httpRoute } from '../../../functions/lib/http-route.ts';
import { idempotencyKeyHeader } from '../../../functions/lib/idempotency.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { type ErrorBody, invoke } from '../../support/unit-invoke.ts';

// Refusals happen before the idempotency store is touched, so no table is needed here; keys that pass the
// format check are exercised against DynamoDB Local in the integration tests of POST /orders.
describe('Idempotency-Key header format', () => {
  test.each([
    ['too short (7 characters)', 'abcdefg'],
    ['too long (129 characters)', 'k'.repeat(129)],
    ['non-ASCII', 'schlüssel-123'],
    ['containing a space', 'order 12345'],
    ['containing a control character', 'order\t12345'],
    ['empty', ''],
  ])('refuses a key that is %s with 400 before the handler runs', async (_name, key) => {
    const work = vi.fn(async () => json(201, {}));
    const handler = httpRoute(work).use(idempotencyKeyHeader('IdempotencyTable'));
    const event = httpApiEvent({ routeKey: 'POST /orders', body: {}, headers: { 'idempotency-key': key } });

    const response = await invoke(handler, event);

    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({
      error: {
        code: 'BadRequest',
        message: expect.any(String),
        details: [{ path: 'headers.idempotency-key', message: expect.any(String) }],
      },
      requestId: event.requestContext.requestId,
    } satisfies ErrorBody);
    expect(work).not.toHaveBeenCalled();
  });

  test('lets a request without the header through untouched', async () => {
    const work = vi.fn(async () => json(201, { created: true }));
    const handler = httpRoute(work).use(idempotencyKeyHeader('IdempotencyTable'));
    const response = await invoke(handler, httpApiEvent({ routeKey: 'POST /orders', body: {} }));
    expect(response).toMatchObject({ statusCode: 201, json: { created: true } });
    expect(work).toHaveBeenCalledOnce();
  });
});
