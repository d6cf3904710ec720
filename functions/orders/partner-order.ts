import * as z from 'zod';

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
 * `POST /orders` integration sets them: `partnerId` (String: the id of the partner's API key) and `receivedAt`
 * (Number: when API Gateway received the request, epoch milliseconds). Any other attribute is ignored. The
 * order's id is not an attribute: it is the message's own MessageId (see `PartnerOrderEnvelope`). The message
 * body is the partner's order itself, in the schema of the HTTP API's `POST /orders` body (`CreateOrderInput`).
 */
export const PartnerOrderAttributes = z
  .object({
    partnerId: attribute('String', PartnerId),
    receivedAt: attribute('Number', EpochMillis),
  })
  .transform(({ partnerId, receivedAt }) => ({
    partnerId: partnerId.stringValue,
    receivedAt: receivedAt.stringValue,
  }));

/**
 * Whose order a message is, when it arrived and its id: the id is the message's MessageId, which SQS generates
 * (a UUID no client can choose), returned to the integration by SendMessage and so to the partner, and the same
 * on every redelivery of the message.
 */
export interface PartnerOrderEnvelope extends z.output<typeof PartnerOrderAttributes> {
  orderId: string;
}

/** The customer a partner's orders belong to (never a Cognito subject, which is a UUID). */
export const partnerCustomerId = (partnerId: string) => `partner#${partnerId}`;
