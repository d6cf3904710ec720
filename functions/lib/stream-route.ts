import type { Readable } from 'node:stream';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { Context } from 'aws-lambda';
import { allowOrigin } from './cors.ts';
import { type ApiEvent, httpErrors } from './http-route.ts';
import { API_REQUEST_ID, observability } from './powertools.ts';

/**
 * What a streaming route answers: the status and headers go first, as the metadata prelude API Gateway reads
 * before it streams ("Set up a Lambda proxy integration with payload response streaming"), then the body as the
 * handler produces it. An error answer is a string body like any other route's.
 */
export interface StreamedResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: Readable | string;
}

/**
 * The middy stack of a route behind a REST integration with `responseTransferMode: STREAM`: middy's
 * streamify-response mode (awslambda.streamifyResponse, HttpResponseStream.from for the prelude, the body piped
 * into Lambda's response stream) around the same observability, CORS origin and error model as httpRoute. Every
 * middleware runs before the body is streamed, so a failure while streaming cannot become an error answer: the
 * status has been sent. The handler must therefore do what may fail for the caller (validation, the first read)
 * before it returns, and a later failure ends the stream early, failing the invocation.
 */
export function httpStreamRoute<TEvent extends ApiEvent>(
  handler: (event: TEvent, context: Context) => Promise<StreamedResult>,
) {
  return middy<TEvent, StreamedResult>({ executionMode: executionModeStreamifyResponse })
    .use(observability(API_REQUEST_ID))
    .use(allowOrigin())
    .use(httpErrors())
    .handler(handler);
}
