import { createHash } from 'node:crypto';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { dynamoClient } from './clients.ts';
import { badRequest, conflict, HttpError } from './errors.ts';

const KEY_FORMAT = /^[\x21-\x7e]{8,128}$/;

export const idempotencyKeyReused = () =>
  new HttpError(
    422,
    'IdempotencyKeyReused',
    'This Idempotency-Key was already used with a different request body',
  );

/**
 * A UUID (version 8) derived from the caller and their Idempotency-Key. Powertools completes its record only
 * after the handler's own write, so a crash or a lost answer in between leaves the write done and the record
 * not COMPLETED; a handler that names what it creates with this id finds it again on the retry, instead of
 * creating it a second time.
 */
export function idFromIdempotencyKey(sub: string, key: string): string {
  const hex = createHash('sha256').update(`${sub}\n${key}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Makes an HTTP route safe to retry with an `Idempotency-Key` header (Powertools idempotency on DynamoDB):
 * the first response is stored per caller and key for a day and replayed for every retry. Keys are scoped
 * to the JWT subject, so two users can never see each other's stored response. Requests without the
 * header are processed normally.
 */
export function idempotencyKeyHeader(tableName: string): MiddlewareObj<APIGatewayProxyEventV2>[] {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamoClient });
  const config = new IdempotencyConfig({
    eventKeyJmesPath:
      'headers."idempotency-key" && [requestContext.authorizer.jwt.claims.sub, headers."idempotency-key"]',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: 24 * 60 * 60,
  });
  const translateErrors: MiddlewareObj<APIGatewayProxyEventV2> = {
    before: async ({ event }) => {
      const key = event.headers['idempotency-key'];
      if (key !== undefined && !KEY_FORMAT.test(key)) {
        throw badRequest('The Idempotency-Key header is not valid', [
          { path: 'headers.idempotency-key', message: 'Must be 8-128 printable ASCII characters' },
        ]);
      }
    },
    onError: async (request) => {
      const name = request.error?.name;
      if (name === 'IdempotencyAlreadyInProgressError') {
        request.error = conflict('A request with this Idempotency-Key is still in progress; retry shortly');
      } else if (name === 'IdempotencyValidationError') {
        request.error = idempotencyKeyReused();
      }
    },
  };
  // Middy runs onError handlers in reverse order: Powertools first releases its record, then the translation.
  return [translateErrors, makeHandlerIdempotent({ persistenceStore, config })];
}
