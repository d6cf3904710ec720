import type { MiddlewareObj, Request } from '@middy/core';
import type { HttpResult } from './http.ts';

const HEADER = 'access-control-allow-origin';

/**
 * Adds `Access-Control-Allow-Origin: <origin>` to every response, success or error, so that a browser may read
 * it. The origin comes from the function's optional CORS_ALLOW_ORIGIN (read once, at cold start); without it
 * responses are left as they are. A REST API's Lambda proxy routes need this: API Gateway adds CORS headers only
 * to the answers it makes itself (gateway responses, mapping templates), never to a proxy integration's.
 *
 * Its onError must run after the one that turns the error into a response: middy runs onError middlewares in
 * reverse order, so it is used before `httpErrors()` (as `httpRoute` does).
 */
export function allowOrigin<TEvent>(
  origin: string | undefined = process.env.CORS_ALLOW_ORIGIN,
): MiddlewareObj<TEvent, HttpResult> {
  const addHeader = async (request: Request<TEvent, HttpResult>) => {
    const { response } = request;
    if (!origin || !response) return;
    request.response = { ...response, headers: { ...response.headers, [HEADER]: origin } };
  };
  return { after: addHeader, onError: addHeader };
}
