import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import { HttpError } from '../../functions/lib/errors.ts';
import type { HttpResult } from '../../functions/lib/http.ts';
import type { ApiEvent } from '../../functions/lib/http-route.ts';
import { lambdaContext } from './http-api-event.ts';

/** A route handler of either kind of API; each test passes it the kind of event its API sends. */
type Handler = (event: never, context: Context) => Promise<HttpResult>;

/** Runs `action` and returns the HttpError it throws (the test fails when it throws nothing or something else). */
export function refusal(action: () => unknown): HttpError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('Expected an HttpError, but nothing was thrown');
}

export interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
  requestId: string;
}

/** Invokes a middy-wrapped handler the way Lambda does and parses its JSON body (an empty one is `undefined`). */
export async function invoke(handler: Handler, event: ApiEvent) {
  const result = await handler(event as never, lambdaContext());
  return { ...result, json: result.body ? (JSON.parse(result.body) as unknown) : undefined };
}
