import * as z from 'zod';
import { Utf8Text } from '../lib/validation.ts';

export const ProductId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'Must be 1-64 lower-case letters, digits or hyphens' });

/** A product category: the partition key of the Products table's byCategory index. */
export const Category = z
  .string()
  .regex(/^[a-z0-9-]{1,40}$/, { message: 'Must be 1-40 lower-case letters, digits or hyphens' });

export const ProductInput = z.strictObject({
  name: Utf8Text.trim().min(1).max(200),
  description: Utf8Text.max(2000).optional(),
  category: Category,
  price: z.strictObject({
    amount: z.int().min(0).max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, { message: 'Must be an ISO 4217 code such as EUR' }),
  }),
});
export type ProductInput = z.infer<typeof ProductInput>;

/** A product as stored in the Products table. */
export interface ProductRecord extends ProductInput {
  productId: string;
  updatedAt: string;
  updatedBy: string;
}

export type ProductView = Omit<ProductRecord, 'updatedBy'>;

/** What the catalogue shows of a product: who last edited it stays internal. */
export function toProductView({ updatedBy: _editor, ...view }: ProductRecord): ProductView {
  return view;
}
