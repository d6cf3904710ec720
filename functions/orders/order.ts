import * as z from 'zod';
import { Utf8Text } from '../lib/validation.ts';
import { ProductId } from '../products/product.ts';

export const OrderId = z.uuid({ message: 'Must be a UUID' });

export const CreateOrderInput = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          productId: ProductId,
          quantity: z.int().min(1).max(100),
        }),
      )
      .min(1)
      .max(25),
    note: Utf8Text.max(500).optional(),
  })
  .refine((order) => new Set(order.items.map((item) => item.productId)).size === order.items.length, {
    message: 'Each product may appear only once',
    path: ['items'],
  });
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPrice: Money;
}

/** An order as stored in the Orders table. */
export interface OrderRecord {
  orderId: string;
  customerId: string;
  status: 'PLACED';
  items: OrderLine[];
  total: Money;
  note?: string;
  createdAt: string;
  /** How the order arrived: absent for the HTTP API, `partner` for the partner queue. */
  source?: 'partner';
}

/** Why an order could never be accepted: the field (`body` for the whole order) and what is wrong with it. */
export interface RejectionReason {
  path: string;
  message: string;
}

/**
 * A partner order the consumer can never accept (not JSON, invalid, or naming products it cannot price), kept
 * under its id with the reasons so that its partner can read why; it has no lines, total or note.
 */
export interface RejectedOrderRecord {
  orderId: string;
  customerId: string;
  status: 'REJECTED';
  reasons: RejectionReason[];
  createdAt: string;
  source: 'partner';
}

/** Anything the Orders table holds under an order id. */
export type StoredOrder = OrderRecord | RejectedOrderRecord;

/** What a customer sees of an order (the owner's id stays internal). */
export function toOrderView({ customerId: _owner, ...view }: OrderRecord) {
  return view;
}
