import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { badRequest, HttpError } from '../lib/errors.ts';
import { observability } from '../lib/middleware.ts';
import { logger, metrics } from '../lib/powertools.ts';
import { validate } from '../lib/validation.ts';
import { CreateOrderInput, type OrderRecord } from './order.ts';
import { type PartnerOrder, PartnerOrderAttributes, partnerCustomerId } from './partner-order.ts';
import { placeOrder } from './place-order.ts';
import { priceOrder } from './pricing.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');

const processor = new BatchProcessor(EventType.SQS);

/**
 * SQS consumer of the orders queue: each message is one partner order (its envelope in message attributes, the
 * order in the body; see partner-order.ts), priced from the catalogue and written to the Orders table under
 * `partner#<partnerId>`. Records fail one by one (partial batch response): a message that cannot become an order
 * is retried and, after the queue's maxReceiveCount, lands in the dead-letter queue, without holding up the
 * rest of its batch. A redelivered message whose order exists already succeeds without writing again
 * (idempotent on orderId).
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(observability())
  .handler(async (event, context) =>
    // A batch in which every record fails is answered like any other (each record listed), not with an
    // error: poison messages are an expected outcome here, measured by PartnerOrderRejected.
    processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false }),
  );

async function processRecord(record: SQSRecord): Promise<void> {
  const { messageId } = record;
  try {
    await placePartnerOrder(parseMessage(record), messageId);
  } catch (error) {
    if (error instanceof HttpError) {
      // The message itself is wrong (malformed, invalid, unpriceable): retrying cannot help, the DLQ keeps it.
      logger.warn('Partner order refused', {
        messageId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        code: error.code,
        reason: error.message,
        details: error.details,
      });
      metrics.addMetric('PartnerOrderRejected', MetricUnit.Count, 1);
    } else {
      logger.error('Partner order failed', { messageId, error: error as Error });
      metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
    }
    throw error;
  }
}

/**
 * A record as one partner order: the envelope from its message attributes, the order from its JSON body. Anything
 * missing or invalid is an HttpError naming the attribute or field, so the record is refused like any poison
 * message (retried, then kept by the dead-letter queue).
 */
export function parseMessage(record: Pick<SQSRecord, 'body' | 'messageAttributes'>): PartnerOrder {
  const envelope = validate(PartnerOrderAttributes, record.messageAttributes, 'messageAttributes');
  let value: unknown;
  try {
    value = JSON.parse(record.body);
  } catch {
    throw badRequest('The message body is not valid JSON');
  }
  return { ...envelope, order: validate(CreateOrderInput, value, 'body') };
}

async function placePartnerOrder(message: PartnerOrder, messageId: string): Promise<void> {
  const { items, total } = await priceOrder(PRODUCTS_TABLE, message.order);
  const order: OrderRecord = {
    orderId: message.orderId,
    customerId: partnerCustomerId(message.partnerId),
    status: 'PLACED',
    items,
    total,
    note: message.order.note,
    // When API Gateway received it, in the ISO 8601 UTC form of every other order, so byCustomer sorts them alike.
    createdAt: new Date(message.receivedAt).toISOString(),
    source: 'partner',
  };
  const existing = await placeOrder(ORDERS_TABLE, order);
  if (existing) {
    // A redelivery of a message already written (SQS delivers at least once) succeeds as it is. An order id
    // that belongs to somebody else is never overwritten, and the message is kept for a human.
    if (existing.customerId !== order.customerId) {
      throw new HttpError(409, 'OrderIdTaken', "The order id belongs to another customer's order");
    }
    logger.info('Partner order is a duplicate; already placed', { messageId, orderId: order.orderId });
    metrics.addMetric('PartnerOrderDuplicate', MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric('PartnerOrderCreated', MetricUnit.Count, 1);
  logger.info('Partner order placed', {
    messageId,
    orderId: order.orderId,
    partnerId: message.partnerId,
    lines: items.length,
  });
}
