import { Readable } from 'node:stream';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { queryPages } from '../lib/dynamodb.ts';
import { requireEnv } from '../lib/env.ts';
import { forbidden } from '../lib/errors.ts';
import { logger, metrics } from '../lib/powertools.ts';
import { httpStreamRoute } from '../lib/stream-route.ts';
import { validate } from '../lib/validation.ts';
import type { StoredOrder } from './order.ts';
import { PartnerId, partnerCustomerId } from './partner-order.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
/** Orders per DynamoDB Query, and so per chunk of the stream. */
const PAGE_SIZE = 100;

const Query = z.strictObject({
  // byCustomer sorts on createdAt, ISO 8601 UTC as process-partner-orders.ts writes it: `since` is compared in that form.
  since: z.iso
    .datetime({ message: 'Must be an ISO 8601 UTC date-time, such as 2025-11-21T10:00:00Z' })
    .transform((since) => new Date(since).toISOString())
    .optional(),
});

/**
 * GET /orders (partner REST API, `responseTransferMode: STREAM`): every order of the calling partner, placed or
 * rejected, newest first, as NDJSON (one JSON order per line, as GET /orders/{id} shows it), read from the
 * byCustomer index a page at a time and streamed as each page arrives; `?since=` keeps the orders created at or
 * after it. The first page is read before the answer starts, so that a failure there is still a 500 in the error
 * shape; a failure after it ends the stream early (the status has been sent) and fails the invocation.
 */
export const handler = httpStreamRoute(async (event: APIGatewayProxyEvent) => {
  const { since } = validate(Query, event.queryStringParameters ?? {}, 'query');
  const partner = PartnerId.safeParse(event.requestContext.identity.apiKeyId);
  if (!partner.success) throw forbidden('An API key is required');

  const pages = orderPages(partnerCustomerId(partner.data), since);
  const first = await pages.next();
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/x-ndjson' },
    body: Readable.from(ndjson(first, pages, event.requestContext.requestId)),
  };
});

async function* orderPages(customerId: string, since: string | undefined): AsyncGenerator<StoredOrder[]> {
  const pages = queryPages({
    TableName: ORDERS_TABLE,
    IndexName: 'byCustomer',
    KeyConditionExpression: `customerId = :customer${since === undefined ? '' : ' AND createdAt >= :since'}`,
    ExpressionAttributeValues: {
      ':customer': customerId,
      ...(since === undefined ? {} : { ':since': since }),
    },
    ScanIndexForward: false,
    Limit: PAGE_SIZE,
  });
  for await (const items of pages) yield items as StoredOrder[];
}

/** One chunk per page: its orders, a line each. */
async function* ndjson(
  first: IteratorResult<StoredOrder[]>,
  rest: AsyncGenerator<StoredOrder[]>,
  requestId: string,
): AsyncGenerator<string> {
  let orders = 0;
  try {
    for (let page = first; !page.done; page = await rest.next()) {
      orders += page.value.length;
      if (page.value.length > 0)
        yield page.value.map((order) => `${JSON.stringify(viewOf(order))}\n`).join('');
    }
  } catch (error) {
    // The middlewares have run and published their metrics: this failure is logged and counted here.
    logger.error('Streaming partner orders failed after the answer began', { requestId, orders, error });
    metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    throw error;
  }
  logger.info('Partner orders streamed', { requestId, orders });
}

/** What a partner sees of an order: neither the owner's id nor how it arrived. */
function viewOf({ customerId: _owner, source: _source, ...view }: StoredOrder) {
  return view;
}
