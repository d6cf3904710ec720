import * as z from 'zod';
import { OrderId } from '../lib/ids.ts';
import type { CreateOrderInput } from './order.ts';

/** Who sent a partner order: the id of the partner's REST API key. */
export const PartnerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
  message: 'Must be 1-128 letters, digits, dots, underscores or hyphens',
});

/** Epoch milliseconds as a Number attribute holds them: digits only (API Gateway never sends "1.7e12"). */
const EpochMillis = z
  .string()
  .regex(/^\d{1,15}$/, { message: 'Must be epoch milliseconds' })
  .transform(Number);

/** One message attribute of the given SQS data type, in Lambda's form `{stringValue, …, dataType}`. */
const attribute = <T extends z.ZodType>(dataType: 'String' | 'Number', value: T) =>
  z.object(
    { dataType: z.literal(dataType, { message: `Must be a ${dataType} attribute` }), stringValue: value },
    {
      error: (issue) =>
        issue.input === undefined ? `Missing (a ${dataType} attribute)` : `Must be a ${dataType} attribute`,
    },
  );

/**
 * The envelope of one message on the orders queue, carried in its message attributes as the REST API's
 * `POST /orders` integration sets them: `orderId` (String: API Gateway's request id, which the partner was
 * answered with), `partnerId` (String: the id of the partner's API key) and `receivedAt` (Number: when API
 * Gateway received the request, epoch milliseconds). Any other attribute is ignored. The message body is the
 * partner's order itself, in the schema of the HTTP API's `POST /orders` body (`CreateOrderInput`).
 */
export const PartnerOrderAttributes = z
  .object({
    orderId: attribute('String', OrderId),
    partnerId: attribute('String', PartnerId),
    receivedAt: attribute('Number', EpochMillis),
  })
  .transform(({ orderId, partnerId, receivedAt }) => ({
    orderId: orderId.stringValue,
    partnerId: partnerId.stringValue,
    receivedAt: receivedAt.stringValue,
  }));
export type PartnerOrderEnvelope = z.output<typeof PartnerOrderAttributes>;

/** One partner order as the consumer reads it from a message: the envelope and the order. */
export interface PartnerOrder extends PartnerOrderEnvelope {
  order: CreateOrderInput;
}

/** The customer a partner's orders belong to (never a Cognito subject, which is a UUID). */
export const partnerCustomerId = (partnerId: string) => `partner#${partnerId}`;
