import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { handler } from '../../../functions/orders/delete-order.ts';
import { httpApiEvent } from '../../support/http-api-event.ts';
import { expectError, getOrder, invoke, newSub, seedOrder } from '../../support/tables.ts';

const deleteEvent = (sub: string, id: string) =>
  httpApiEvent({ routeKey: 'DELETE /orders/{id}', sub, pathParameters: { id } });

describe('DELETE /orders/{id}', () => {
  test("refuses to delete somebody else's order with 404, and keeps it", async () => {
    const order = await seedOrder(newSub());
    const event = deleteEvent(newSub(), order.orderId);

    expectError(await invoke(handler, event), event, 404, 'NotFound');
    expect(await getOrder(order.orderId)).toEqual(order);
  });

  test('deletes the owner’s order with 204 and no body', async () => {
    const owner = newSub();
    const order = await seedOrder(owner);

    const response = await invoke(handler, deleteEvent(owner, order.orderId));

    expect(response.statusCode).toBe(204);
    expect(response.rawBody).toBe('');
    expect(await getOrder(order.orderId)).toBeUndefined();
  });

  test('answers a repeated delete with 404', async () => {
    const owner = newSub();
    const order = await seedOrder(owner);
    await invoke(handler, deleteEvent(owner, order.orderId));

    const event = deleteEvent(owner, order.orderId);
    expectError(await invoke(handler, event), event, 404, 'NotFound');
  });

  test('deletes only the order named', async () => {
    const owner = newSub();
    const [kept, deleted] = [await seedOrder(owner), await seedOrder(owner)];
    await invoke(handler, deleteEvent(owner, deleted.orderId));
    expect(await getOrder(kept.orderId)).toEqual(kept);
  });

  test.each(['not-a-uuid', '', `${randomUUID()}x`])('refuses the id "%s" with 400', async (id) => {
    const event = deleteEvent(newSub(), id);
    expect(expectError(await invoke(handler, event), event, 400, 'ValidationError')).toEqual(['path.id']);
  });
});
