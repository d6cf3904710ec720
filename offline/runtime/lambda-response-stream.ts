import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Lambda's response streaming as its Node.js runtime offers it to a handler (the `awslambda` global), for the
 * offline execution environments (lambda-worker.ts) and for tests that run a streaming handler in-process. It
 * follows aws/aws-lambda-nodejs-runtime-interface-client: src/utils/globals.ts (the global),
 * src/stream/http-response-stream.ts (the metadata prelude), src/stream/response-stream.ts (the stream) and
 * src/runtime/streaming-invoke-processor.ts (when an invocation is over).
 */

/** How the runtime marks a handler wrapped by `awslambda.streamifyResponse` (UserFunctionLoader). */
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';

/** The content type HttpResponseStream.from sets, and the 8 NUL bytes that end its JSON prelude. */
const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const PRELUDE_DELIMITER = new Uint8Array(8);

type Handler = (...args: unknown[]) => unknown;
type Write = (chunk: string | Uint8Array) => void;

/** Where a response stream's bytes go: each chunk as it is written, then the end of the response. */
export interface ResponseSink {
  write(chunk: Buffer): void;
  end(): void;
}

/**
 * The stream a streaming handler writes its response to. Like the runtime's: a chunk that is neither a string
 * nor bytes is written as JSON; the content type can be set only before the first write; a prelude installed by
 * HttpResponseStream.from goes out just before the first `write()` (and, as in the runtime, not before an
 * `end(chunk)` that was never preceded by a write).
 */
export class ResponseStream extends Writable {
  #written = false;
  readonly #sink: ResponseSink;
  _onBeforeFirstWrite: ((write: Write) => void) | undefined;

  constructor(sink: ResponseSink) {
    super();
    this.#sink = sink;
  }

  /**
   * Lambda reports it as the InvokeWithResponseStream response's content type. What API Gateway does with it is
   * undocumented; the offline gateway reads the prelude whatever it says, so only the runtime's timing rule is kept.
   */
  setContentType(_contentType: string): void {
    if (this.#written) throw new Error('Cannot set content-type, too late.');
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (!this.#written) {
      this.#written = true;
      this._onBeforeFirstWrite?.((prelude) => super.write(prelude));
    }
    return super.write(data, encoding as BufferEncoding, callback as (error?: Error | null) => void);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sink.write(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#sink.end();
    callback();
  }
}

/** `awslambda.HttpResponseStream`: the JSON metadata (status, headers, cookies) an HTTP integration reads first. */
export const HttpResponseStream = {
  from(stream: ResponseStream, prelude: Record<string, unknown>): ResponseStream {
    stream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(PRELUDE_DELIMITER);
    };
    return stream;
  },
};

/** Defines `globalThis.awslambda` as the Node.js runtime does before it loads the function's module. */
export function installLambdaGlobals(): void {
  const global = globalThis as { awslambda?: Record<string, unknown> };
  global.awslambda = {
    ...global.awslambda,
    streamifyResponse: (handler: Handler) => Object.assign(handler, { [HANDLER_STREAMING]: STREAM_RESPONSE }),
    HttpResponseStream,
  };
}

export const isStreamingHandler = (handler: unknown): boolean =>
  typeof handler === 'function' &&
  (handler as unknown as Record<symbol, unknown>)[HANDLER_STREAMING] === STREAM_RESPONSE;

/**
 * Runs a streaming handler once: `sink` gets every byte as it is written, and the end of the stream. Resolves when
 * the handler's promise has settled and the stream has ended, which is when the runtime reports the invocation
 * done (a handler that never ends its stream runs into its timeout); rejects with the handler's error, or the
 * runtime's own when the handler is not async.
 */
export async function runStreamingHandler(
  handler: Handler,
  event: unknown,
  context: unknown,
  sink: ResponseSink,
): Promise<void> {
  const stream = new ResponseStream(sink);
  const result = handler(event, stream, context);
  if (!(result instanceof Promise)) throw new Error('Streaming does not support non-async handlers.');
  if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
  await finished(stream);
}
