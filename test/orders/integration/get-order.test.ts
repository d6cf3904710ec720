import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { handler } from '../../../functions/orders/get-order.ts';
import type { OrderRecord } from '../../../functions/orders/order.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { expectError, invoke, newSub, seedOrder, viewOf } from '../../support/tables.ts';

const getEvent = (sub: string, id: string) =>
  httpApiEvent({ routeKey: 'GET /orders/{id}', sub, pathParameters: { id } });

describe('GET /orders/{id}', () => {
  test('answers the owner with the order, without the owner id', async () => {
    const owner = newSub();
    const view = viewOf(await seedOrder(owner));

    const response = await invoke<Omit<OrderRecord, 'customerId'>>(handler, getEvent(owner, view.orderId));

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual(view);
    expect(response.body).not.toHaveProperty('customerId');
  });

  test("answers somebody else's order exactly like a missing one: 404", async () => {
    const order = await seedOrder(newSub());
    const strangerEvent = getEvent(newSub(), order.orderId);
    const missingEvent = getEvent(newSub(), randomUUID());

    const stranger = await invoke(handler, strangerEvent);
    const missing = await invoke(handler, missingEvent);

    expectError(stranger, strangerEvent, 404, 'NotFound');
    expectError(missing, missingEvent, 404, 'NotFound');
    expect(stranger.body.error).toEqual(missing.body.error);
    expect(stranger.rawBody).not.toContain(order.customerId);
  });

  test.each(['not-a-uuid', '1234', `${randomUUID()}x`, '../orders'])(
    'refuses the id %s with 400',
    async (id) => {
      const event = getEvent(newSub(), id);
      expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['path.id']);
    },
  );
});
