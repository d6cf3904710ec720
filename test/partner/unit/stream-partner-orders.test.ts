import { randomUUID } from 'node:crypto';
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { documentClient } from '../../../functions/lib/clients.ts';
import { logger } from '../../../functions/lib/powertools.ts';
import { restApiEvent } from '../../support/rest-api-event.ts';
import { invokeStreaming, ndjsonLines } from '../../support/streaming-handler.ts';

// After the support module above: the handler's module calls awslambda.streamifyResponse as it loads.
const { handler } = await import('../../../functions/orders/stream-partner-orders.ts');

// DynamoDB Local cannot be made to fail on demand, so these paths use a mock; test/partner/integration runs the
// handler on DynamoDB Local.
const dynamo = mockClient(documentClient);

beforeEach(() => {
  dynamo.reset();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const failure = () =>
  new InternalServerError({
    message: 'Internal server error on partition 7f3a',
    $metadata: { httpStatusCode: 500 },
  });
const order = () => ({
  orderId: randomUUID(),
  customerId: 'partner#k7x2m9q4r1',
  status: 'PLACED',
  items: [],
  total: { amount: 0, currency: 'EUR' },
  createdAt: '2025-11-21T10:00:00.000Z',
  source: 'partner',
});

describe('GET /orders (streamed) when DynamoDB fails', () => {
  test('on the first page: a bare 500 in the error shape, as any route answers, and nothing streamed', async () => {
    dynamo.on(QueryCommand).rejects(failure());
    const event = restApiEvent({ route: 'GET /orders' });
    const answer = await invokeStreaming(handler, event);
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toStrictEqual({
      error: { code: 'InternalError', message: 'An internal error occurred' },
      requestId: event.requestContext.requestId,
    });
    expect(answer.error).toBeUndefined();
  });

  test('after the answer began: the pages read so far, then the invocation fails and the failure is logged', async () => {
    const first = [order(), order()];
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: first, LastEvaluatedKey: { orderId: first[1]?.orderId } })
      .rejectsOnce(failure());
    const logged = vi.spyOn(logger, 'error');
    const event = restApiEvent({ route: 'GET /orders' });
    const answer = await invokeStreaming(handler, event);
    expect(answer.statusCode).toBe(200);
    expect(ndjsonLines(answer.body)).toHaveLength(2);
    expect(answer.error?.message).toBe('Internal server error on partition 7f3a');
    expect(logged).toHaveBeenCalledWith('Streaming partner orders failed after the answer began', {
      requestId: event.requestContext.requestId,
      orders: 2,
      error: expect.any(InternalServerError),
    });
    // The second page continued where the first ended, on the partner's own partition.
    const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[1]).toMatchObject({
      ExclusiveStartKey: { orderId: first[1]?.orderId },
      ExpressionAttributeValues: { ':customer': 'partner#k7x2m9q4r1' },
    });
  });
});
