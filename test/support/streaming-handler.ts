import {
  installLambdaGlobals,
  PRELUDE_DELIMITER,
  runStreamingHandler,
} from '../../offline/runtime/lambda-response-stream.ts';
import { lambdaContext } from './http-api-event.ts';

/**
 * Runs a response-streaming handler in the test's process as Lambda's Node.js runtime would (the emulation the
 * offline execution environments use, offline/runtime/lambda-response-stream.ts). Importing this module defines the
 * `awslambda` global, which a streaming handler needs as its module loads: import the handler afterwards, with a
 * dynamic import.
 */
installLambdaGlobals();

export interface StreamedAnswer {
  /** From the metadata prelude, as API Gateway reads it. */
  statusCode: number;
  headers: Record<string, string>;
  /** What followed the prelude, whole and as the writes that made it. */
  body: string;
  writes: string[];
  /** The invocation's failure, when it failed (after the answer began, or before any prelude). */
  error?: Error;
}

export async function invokeStreaming(handler: unknown, event: unknown): Promise<StreamedAnswer> {
  const chunks: Buffer[] = [];
  let error: Error | undefined;
  try {
    await runStreamingHandler(handler as (...args: unknown[]) => unknown, event, lambdaContext(), {
      write: (chunk) => chunks.push(chunk),
      end: () => undefined,
    });
  } catch (failure) {
    error = failure as Error;
  }
  const all = Buffer.concat(chunks);
  const end = all.indexOf(PRELUDE_DELIMITER);
  if (end < 0) throw error ?? new Error(`No metadata prelude in ${JSON.stringify(all.toString('utf8'))}`);
  const { statusCode, headers = {} } = JSON.parse(all.subarray(0, end).toString('utf8'));
  // The prelude goes out in writes of its own (the JSON, then the delimiter), before the body's first write.
  const delimiterAt = chunks.findIndex((chunk) => chunk.equals(Buffer.from(PRELUDE_DELIMITER)));
  const writes = chunks
    .slice(delimiterAt + 1)
    .filter((chunk) => chunk.length > 0)
    .map((chunk) => chunk.toString('utf8'));
  return {
    statusCode,
    headers,
    body: all.subarray(end + PRELUDE_DELIMITER.length).toString('utf8'),
    writes,
    ...(error ? { error } : {}),
  };
}

/** The body's lines, each parsed as JSON (NDJSON). */
export const ndjsonLines = (body: string): unknown[] =>
  body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
