import * as z from 'zod';

export const OrderId = z.uuid({ message: 'Must be a UUID' });

export const ProductId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'Must be 1-64 lower-case letters, digits or hyphens' });
