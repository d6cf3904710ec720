import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lib/clients.ts';
import { type Attributes, sendUntilProcessed } from '../lib/dynamodb.ts';
import { HttpError } from '../lib/errors.ts';
import type { ProductRecord } from '../products/product.ts';
import type { CreateOrderInput, Money, OrderLine } from './order.ts';

const BATCH_GET_ATTEMPTS = 4;

export interface PricedOrder {
  items: OrderLine[];
  total: Money;
}

/**
 * Prices an order from the catalogue (never from the client): every product must exist and all must be priced
 * in one currency, or an HttpError 422 (UnknownProduct / MixedCurrencies) says why the order cannot be priced.
 */
export async function priceOrder(productsTable: string, input: CreateOrderInput): Promise<PricedOrder> {
  const lines = priceLines(
    input,
    await loadProducts(
      productsTable,
      input.items.map((item) => item.productId),
    ),
  );
  return {
    items: lines,
    total: {
      amount: lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0),
      currency: lines[0]?.unitPrice.currency ?? '',
    },
  };
}

function priceLines(input: CreateOrderInput, products: Map<string, ProductRecord>): OrderLine[] {
  const unknown = input.items.flatMap((item, index) =>
    products.has(item.productId)
      ? []
      : [{ path: `body.items.${index}.productId`, message: `No product ${item.productId}` }],
  );
  if (unknown.length > 0) {
    throw new HttpError(422, 'UnknownProduct', 'The order names products that do not exist', unknown);
  }
  const lines = input.items.map(({ productId, quantity }) => {
    const product = products.get(productId) as ProductRecord;
    return { productId, name: product.name, quantity, unitPrice: product.price };
  });
  if (new Set(lines.map((line) => line.unitPrice.currency)).size > 1) {
    throw new HttpError(
      422,
      'MixedCurrencies',
      'All products of one order must be priced in the same currency',
    );
  }
  return lines;
}

async function loadProducts(
  productsTable: string,
  productIds: string[],
): Promise<Map<string, ProductRecord>> {
  const found = new Map<string, ProductRecord>();
  const keys: Attributes[] = productIds.map((productId) => ({ productId }));
  await sendUntilProcessed(
    keys,
    async (unread) => {
      const result = await documentClient.send(
        new BatchGetCommand({
          RequestItems: {
            [productsTable]: {
              Keys: unread,
              ProjectionExpression: 'productId, #name, price',
              ExpressionAttributeNames: { '#name': 'name' },
            },
          },
        }),
      );
      for (const item of result.Responses?.[productsTable] ?? [])
        found.set(item.productId, item as ProductRecord);
      return result.UnprocessedKeys?.[productsTable]?.Keys;
    },
    { attempts: BATCH_GET_ATTEMPTS, unprocessed: (count) => `BatchGet left ${count} keys unprocessed` },
  );
  return found;
}
