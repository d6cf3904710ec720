import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { PRELUDE_DELIMITER } from '../../runtime/lambda-response-stream.ts';

/**
 * A REST API's Lambda proxy integration with `responseTransferMode: STREAM`, on the gateway's side: API Gateway
 * "begins the payload stream after it receives the valid metadata and delimiter from Lambda", the metadata being
 * the JSON prelude `{"statusCode","headers","multiValueHeaders","cookies"}` and the delimiter 8 NUL bytes (API
 * Gateway developer guide, "Set up a Lambda proxy integration with payload response streaming"). What follows is
 * written to the client as it arrives, never buffered, cached, compressed or mapped ("Stream the integration
 * response for your proxy integrations": endpoint caching, content encoding and VTL response transformations are
 * not supported in STREAM mode).
 */

/** The status and headers of a streamed response, from its prelude. */
export interface StreamHead {
  statusCode: number;
  headers: Record<string, string | string[]>;
}

/** A response the gateway streams: its head, then its body's first bytes and the rest as the function writes them. */
export interface StreamedReply {
  head: StreamHead;
  start: Buffer;
  body: Readable;
  /** When the integration's timeout (`timeoutInMillis`) ends the stream, epoch ms. */
  deadline: number;
}

/** What came of waiting for a streamed response's prelude. */
export type StreamOpening =
  | { kind: 'opened'; head: StreamHead; start: Buffer }
  | { kind: 'malformed'; reason: string }
  | { kind: 'failed'; error: Error }
  | { kind: 'timedOut' };

/**
 * Reads `body` up to the end of its prelude, or until it fails, ends without one, or `deadline` passes. A response
 * without a valid prelude gets no stream: what API Gateway answers then is undocumented; offline it is the
 * malformed-response 502 of a buffered proxy integration.
 */
export function awaitPrelude(body: Readable, deadline: number): Promise<StreamOpening> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const settle = (opening: StreamOpening) => {
      clearTimeout(timer);
      body.pause();
      body.off('data', onData).off('end', onEnd).off('error', onError);
      resolve(opening);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const at = received.indexOf(PRELUDE_DELIMITER);
      if (at < 0) return;
      const head = headOf(received.subarray(0, at).toString('utf8'));
      if (typeof head === 'string') return settle({ kind: 'malformed', reason: head });
      settle({ kind: 'opened', head, start: received.subarray(at + PRELUDE_DELIMITER.length) });
    };
    const onEnd = () =>
      settle({
        kind: 'malformed',
        reason:
          'the response ended without a metadata prelude and its 8-NUL delimiter: wrap the handler in ' +
          'awslambda.streamifyResponse and write through awslambda.HttpResponseStream.from',
      });
    const onError = (error: Error) => settle({ kind: 'failed', error });
    const timer = setTimeout(() => settle({ kind: 'timedOut' }), Math.max(0, deadline - Date.now()));
    body.on('data', onData).once('end', onEnd).once('error', onError);
    if (body.errored) onError(body.errored);
  });
}

/** The prelude as a response head, or why it is not one. */
function headOf(text: string): StreamHead | string {
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    return 'the metadata prelude is not JSON';
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    return 'the metadata prelude is not a JSON object';
  const { statusCode, headers, multiValueHeaders, cookies } = metadata as Record<string, unknown>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    return 'the metadata prelude has no statusCode between 100 and 599';
  // As for a buffered proxy response (payload 1.0): multi-value headers joined, single values over them.
  const merged: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries((multiValueHeaders ?? {}) as Record<string, unknown[]>))
    merged[name.toLowerCase()] = values.map(String).join(', ');
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>))
    merged[name.toLowerCase()] = String(value);
  if (Array.isArray(cookies) && cookies.length > 0) merged['set-cookie'] = cookies.map(String);
  return { statusCode, headers: merged };
}

/**
 * Writes the head at once, then each chunk as it arrives, and ends the response with the function's stream.
 * - The function fails, or the integration timeout passes, mid-stream: the connection is cut, so the client sees
 *   a transfer that never completed (the status already sent stands). AWS documents this for a timeout ("curl:
 *   (18) transfer closed with outstanding read data remaining": "Troubleshoot issues with response streaming");
 *   for a function error mid-stream it is undocumented and treated alike.
 * - The client goes away mid-stream: forwarding stops and the rest is discarded, while the invocation runs on to
 *   its end or its timeout. AWS: the function "might continue to execute" when the connection is closed ("Stream
 *   the integration response…"), and Lambda does not stop a streamed response when the invoking client's
 *   connection breaks, billing its whole duration (Lambda developer guide, "Response streaming for Lambda
 *   functions"). Nothing of it reaches the gateway as an error.
 */
export function sendStreamed(response: ServerResponse, reply: StreamedReply): void {
  const { body } = reply;
  try {
    // At once, not with the first chunk of the body (Node's default): the stream begins with the prelude.
    response.writeHead(reply.head.statusCode, reply.head.headers).flushHeaders();
  } catch (error) {
    // A head Node refuses (a control character in a header value) is the gateway's 500; the body is discarded.
    body.resume();
    throw error;
  }
  const stop = () => {
    clearTimeout(timer);
    body.off('data', forward).off('end', finish).off('error', cut);
    body.resume();
  };
  const forward = (chunk: Buffer) => response.write(chunk);
  const finish = () => {
    stop();
    response.end();
  };
  const cut = () => {
    stop();
    response.destroy();
  };
  const timer = setTimeout(cut, Math.max(0, reply.deadline - Date.now()));
  // A write racing the client's disconnect fails on a socket that is gone: that is the client's loss, not an error.
  response.on('error', () => undefined);
  response.once('close', () => {
    if (!response.writableFinished) stop();
  });
  if (reply.start.length > 0) response.write(reply.start);
  body.on('data', forward).once('end', finish).once('error', cut);
  // The function may have failed while the head was on its way.
  if (body.errored) cut();
  else body.resume();
}
