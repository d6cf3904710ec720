import { z } from 'zod';
import { OrderId } from '../lib/ids.ts';
import { CreateOrderInput } from './order.ts';

/** Who sent a partner order: the REST API key id or the partner's name, as the mapping template puts it. */
export const PartnerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
  message: 'Must be 1-128 letters, digits, dots, underscores or hyphens',
});

/**
 * The body of one message on the orders queue (what the REST API's `POST /orders` mapping template enqueues):
 * the order id the partner was answered with, who sent it, when API Gateway received it (ISO 8601, UTC) and
 * the order itself, in the same shape as the HTTP API's `POST /orders` body.
 */
export const PartnerOrderMessage = z.strictObject({
  orderId: OrderId,
  partnerId: PartnerId,
  receivedAt: z.iso.datetime({ message: 'Must be an ISO 8601 date-time in UTC' }),
  order: CreateOrderInput,
});
export type PartnerOrderMessage = z.infer<typeof PartnerOrderMessage>;

/** The customer a partner's orders belong to (never a Cognito subject, which is a UUID). */
export const partnerCustomerId = (partnerId: string) => `partner#${partnerId}`;
