import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { badRequest, HttpError } from '../lib/errors.ts';
import { logger, metrics, observability } from '../lib/powertools.ts';
import { validate } from '../lib/validation.ts';
import {
  CreateOrderInput,
  type OrderRecord,
  type RejectedOrderRecord,
  type RejectionReason,
  type StoredOrder,
} from './order.ts';
import { PartnerOrderAttributes, type PartnerOrderEnvelope, partnerCustomerId } from './partner-order.ts';
import { placeOrder } from './place-order.ts';
import { priceOrder } from './pricing.ts';

const ORDERS_TABLE = requireEnv('ORDERS_TABLE');
const PRODUCTS_TABLE = requireEnv('PRODUCTS_TABLE');

const processor = new BatchProcessor(EventType.SQS);

/**
 * SQS consumer of the orders queue: each message is one partner order (its envelope in message attributes, the
 * order in the body, its id the MessageId; see partner-order.ts), written to the Orders table under
 * `partner#<partnerId>` with a condition on its id, so that a redelivery never writes twice. An order that can
 * never be accepted (not JSON, invalid, unpriceable) is written too, as REJECTED with its reasons, for its
 * partner to read: retrying cannot change it, so it succeeds. Records fail one by one (partial batch response)
 * only for what a retry may fix (DynamoDB unavailable, throttled) or what needs a human (a message no partner can
 * be found for, an order id holding a different order); after the queue's maxReceiveCount those land in the
 * dead-letter queue, whose alarm pages.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(observability())
  .handler(async (event, context) =>
    // A batch in which every record fails is answered like any other (each record listed), not with an
    // error: Lambda would retry the whole batch, the records that succeeded too.
    processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false }),
  );

async function processRecord(record: SQSRecord): Promise<void> {
  const envelope = envelopeOf(record);
  try {
    await settle(envelope, record);
  } catch (error) {
    logger.error('Partner order failed', { messageId: record.messageId, error: error as Error });
    metrics.addMetric('UnhandledError', MetricUnit.Count, 1);
    throw error;
  }
}

/**
 * Whose order a record is, when it arrived and its id. A record without a valid envelope belongs to no partner,
 * so no partner could ever read a rejection of it: only a broken integration sends one, and it is failed, to be
 * dead-lettered (and page), with every attribute that is wrong named in the log.
 */
function envelopeOf(record: Pick<SQSRecord, 'messageId' | 'messageAttributes'>): PartnerOrderEnvelope {
  try {
    const attributes = validate(PartnerOrderAttributes, record.messageAttributes, 'messageAttributes');
    return { orderId: record.messageId, ...attributes };
  } catch (error) {
    if (error instanceof HttpError) {
      logger.error('Partner order message has no valid envelope; no partner to reject it to', {
        messageId: record.messageId,
        details: error.details,
      });
    }
    throw error;
  }
}

/** What the message asks for, as far as its body can be read: the order's lines and note, if it is one. */
type Requested = CreateOrderInput | undefined;

/** Places the order, or records it as rejected; a redelivery finds its own earlier outcome and leaves it be. */
async function settle(envelope: PartnerOrderEnvelope, record: SQSRecord): Promise<void> {
  const { orderId, partnerId } = envelope;
  const { requested, outcome } = await decide(envelope, record.body);
  const existing = await placeOrder(ORDERS_TABLE, outcome);
  const logged = { messageId: record.messageId, orderId, partnerId };
  if (existing) {
    // SQS delivers at least once, and a redelivery carries the same MessageId; anything else under this id
    // means something is badly wrong, and it is never overwritten.
    if (!isSameOrder(existing, outcome, requested)) {
      throw new Error(`Order ${orderId} holds a different order than message ${record.messageId} asks for`);
    }
    logger.info('Partner order is a duplicate; already settled', { ...logged, status: existing.status });
    metrics.addMetric('PartnerOrderDuplicate', MetricUnit.Count, 1);
    return;
  }
  if (outcome.status === 'REJECTED') {
    logger.warn('Partner order rejected', {
      ...logged,
      receiveCount: record.attributes.ApproximateReceiveCount,
      reasons: outcome.reasons,
    });
    metrics.addMetric('PartnerOrderRejected', MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric('PartnerOrderCreated', MetricUnit.Count, 1);
  logger.info('Partner order placed', { ...logged, lines: outcome.items.length });
}

/**
 * The order to write for a message: placed and priced, or rejected with the reasons it can never be placed
 * (a body that is not JSON, fails CreateOrderInput, or names products the catalogue cannot price). Whatever
 * the gateway checked, every rule is checked here. A failure to read the catalogue is not a reason: it is
 * thrown, to be retried.
 */
async function decide(
  envelope: PartnerOrderEnvelope,
  body: string,
): Promise<{ requested: Requested; outcome: StoredOrder }> {
  const common = {
    orderId: envelope.orderId,
    customerId: partnerCustomerId(envelope.partnerId),
    // When API Gateway received it, in the ISO 8601 UTC form of every other order, so byCustomer sorts them alike.
    createdAt: new Date(envelope.receivedAt).toISOString(),
    source: 'partner',
  } as const;
  let requested: Requested;
  try {
    requested = validate(CreateOrderInput, parseOrderJson(body), 'body');
    const { items, total } = await priceOrder(PRODUCTS_TABLE, requested);
    const placed: OrderRecord = { ...common, status: 'PLACED', items, total, note: requested.note };
    return { requested, outcome: placed };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    const rejected: RejectedOrderRecord = { ...common, status: 'REJECTED', reasons: reasonsOf(error) };
    return { requested, outcome: rejected };
  }
}

function parseOrderJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw badRequest('The message body is not valid JSON');
  }
}

/** One reason per field the error names, or the error's own message for the order as a whole. */
const reasonsOf = (error: HttpError): RejectionReason[] =>
  error.details && error.details.length > 0
    ? error.details.map(({ path, message }) => ({ path, message }))
    : [{ path: 'body', message: error.message }];

/**
 * Whether the stored order is this message's own, settled by an earlier delivery: the same customer and
 * arrival, and, when a placed order is stored, the same requested lines (product and quantity) and note. Prices
 * are not compared (the catalogue may have changed between deliveries), nor the outcome: a product added or
 * removed meanwhile may turn a rejection into a placed order, and the first outcome stands. A rejected order
 * keeps no lines to compare; a placed one cannot be a body that did not even parse.
 */
function isSameOrder(existing: StoredOrder, outcome: StoredOrder, requested: Requested): boolean {
  if (existing.customerId !== outcome.customerId || existing.createdAt !== outcome.createdAt) return false;
  if (existing.status === 'REJECTED') return true;
  return requested !== undefined && linesOf(existing) === linesOf(requested);
}

const linesOf = (order: { items: { productId: string; quantity: number }[]; note?: string }) =>
  JSON.stringify([order.items.map(({ productId, quantity }) => [productId, quantity]), order.note ?? null]);
