import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type Bundle, type LambdaConfig, LambdaError, LocalLambda } from './lambda.ts';
import { installLambdaGlobals, PRELUDE_DELIMITER, runStreamingHandler } from './lambda-response-stream.ts';

/**
 * A streaming handler as Lambda's Node.js runtime runs one: wrapped in awslambda.streamifyResponse, its status in
 * a prelude through awslambda.HttpResponseStream.from, then `parts` written `gapMs` apart. It counts its
 * invocations (reset by a cold start) and misbehaves on request.
 */
const STREAMING = `
let invocations = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  invocations += 1;
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'x-invocation': String(invocations) } });
  for (const [index, part] of (event.parts ?? ['first', 'second']).entries()) {
    if (index > 0) await sleep(event.gapMs ?? 0);
    stream.write(part);
  }
  if (event.fail) throw Object.assign(new Error(event.fail), { name: 'PageFailed' });
  if (event.leaveOpen) return;
  stream.end();
});
`;

/** A handler that does not stream, for InvokeWithResponseStream on a buffered function. */
const BUFFERED = 'export const handler = async () => ({ statusCode: 200, body: "whole" });\n';

let dir: string;
let streaming: Bundle;
let buffered: Bundle;

const bundleAt = (file: string): Bundle => ({
  file,
  inputs: new Set(),
  bytes: 0,
  metafile: { inputs: {}, outputs: {} },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-lambda-streaming-'));
  await writeFile(join(dir, 'streaming.mjs'), STREAMING);
  await writeFile(join(dir, 'buffered.mjs'), BUFFERED);
  streaming = bundleAt(join(dir, 'streaming.mjs'));
  buffered = bundleAt(join(dir, 'buffered.mjs'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const lambdas: LocalLambda[] = [];
afterEach(async () => {
  await Promise.all(lambdas.splice(0).map((fn) => fn.stop()));
});

function localLambda(overrides: Partial<LambdaConfig> = {}): LocalLambda {
  const fn = new LocalLambda({
    functionName: 'StreamFunction',
    bundle: streaming,
    exportName: 'handler',
    environment: {},
    timeoutSeconds: 3,
    memorySize: 128,
    region: 'us-east-1',
    accountId: '000000000000',
    maxConcurrency: 2,
    log: () => undefined,
    ...overrides,
  });
  lambdas.push(fn);
  return fn;
}

interface Received {
  chunks: { at: number; text: string }[];
  /** When the body ended, or undefined when it failed. */
  endedAt?: number;
  error?: Error;
}

/** Everything a streamed body delivers, each chunk with the time it arrived. */
function receive(body: Readable): Promise<Received> {
  const received: Received = { chunks: [] };
  return new Promise((resolve) => {
    body.on('data', (chunk: Buffer) =>
      received.chunks.push({ at: Date.now(), text: chunk.toString('latin1') }),
    );
    body.once('end', () => resolve({ ...received, endedAt: Date.now() }));
    body.once('error', (error) => resolve({ ...received, error }));
  });
}

const text = (received: Received) => received.chunks.map((chunk) => chunk.text).join('');
const prelude = (metadata: object) => `${JSON.stringify(metadata)}${'\0'.repeat(PRELUDE_DELIMITER.length)}`;

describe('LocalLambda.invokeWithResponseStream', () => {
  test('delivers each write as it happens, the prelude first, long before the invocation is over', async () => {
    const fn = localLambda();
    const { body, completed } = fn.invokeWithResponseStream({
      parts: ['one\n', 'two\n', 'three\n'],
      gapMs: 300,
    });
    const received = receive(body);
    let completedAt = 0;
    await completed.then(() => {
      completedAt = Date.now();
    });
    const { chunks, endedAt } = await received;
    expect(text(await received)).toBe(
      `${prelude({ statusCode: 200, headers: { 'x-invocation': '1' } })}one\ntwo\nthree\n`,
    );
    const first = chunks.find((chunk) => chunk.text.includes('one'));
    expect(completedAt - (first?.at ?? completedAt)).toBeGreaterThanOrEqual(500);
    expect(endedAt).toBeLessThanOrEqual(completedAt);
  });

  test('a handler that fails mid-stream: the bytes written so far, then the LambdaError', async () => {
    const fn = localLambda();
    const { body, completed } = fn.invokeWithResponseStream({ parts: ['one\n'], fail: 'DynamoDB went away' });
    const received = await receive(body);
    expect(text(received)).toContain('one\n');
    expect(received.error).toBeInstanceOf(LambdaError);
    expect((received.error as LambdaError).errorType).toBe('PageFailed');
    expect(received.error?.message).toBe('DynamoDB went away');
    await completed;
    // The environment stays warm, like after any function error.
    const next = await receive(fn.invokeWithResponseStream({}).body);
    expect(text(next)).toContain('"x-invocation":"2"');
  });

  test('its Timeout bounds the whole stream: a stream left open is cut with Sandbox.Timedout, the next starts cold', async () => {
    const fn = localLambda({ timeoutSeconds: 1 });
    const startedAt = Date.now();
    const received = await receive(fn.invokeWithResponseStream({ parts: ['one\n'], leaveOpen: true }).body);
    expect(text(received)).toContain('one\n');
    expect((received.error as LambdaError).errorType).toBe('Sandbox.Timedout');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(990);
    const next = await receive(fn.invokeWithResponseStream({}).body);
    expect(text(next)).toContain('"x-invocation":"1"');
  });

  test('runs one invocation at a time per environment: with one, the second streams after the first is over', async () => {
    const fn = localLambda({ maxConcurrency: 1 });
    const first = fn.invokeWithResponseStream({ parts: ['a', 'b'], gapMs: 300 });
    const firstCompletedAt = first.completed.then(() => Date.now());
    const second = fn.invokeWithResponseStream({ parts: ['c'] });
    const [, secondReceived] = await Promise.all([receive(first.body), receive(second.body)]);
    expect(secondReceived.chunks[0]?.at).toBeGreaterThanOrEqual(await firstCompletedAt);
    expect(text(secondReceived)).toContain('"x-invocation":"2"');
  });

  test('a function that does not stream answers its result in one chunk, which has no prelude', async () => {
    const fn = localLambda({ bundle: buffered });
    const received = await receive(fn.invokeWithResponseStream({}).body);
    expect(text(received)).toBe('{"statusCode":200,"body":"whole"}');
  });

  test('Invoke of a streaming function buffers what it writes, prelude included', async () => {
    const fn = localLambda();
    expect(await fn.invoke({ parts: ['x'] })).toBe(
      `${prelude({ statusCode: 200, headers: { 'x-invocation': '1' } })}x`,
    );
  });

  test('a stopped function fails a stream in flight at once', async () => {
    const fn = localLambda();
    const { body } = fn.invokeWithResponseStream({ parts: ['one', 'two'], gapMs: 5000 });
    const received = receive(body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fn.stop();
    expect(((await received).error as LambdaError).errorType).toBe('Runtime.Stopped');
  });
});

describe("the runtime's response stream (Lambda's Node.js runtime interface client)", () => {
  installLambdaGlobals();
  const { awslambda } = globalThis as unknown as {
    awslambda: {
      streamifyResponse: (handler: unknown) => (...args: unknown[]) => Promise<void>;
      HttpResponseStream: { from: (stream: unknown, prelude: object) => NodeJS.WritableStream };
    };
  };
  const run = async (
    handler: (stream: NodeJS.WritableStream & { setContentType(type: string): void }) => Promise<void>,
  ) => {
    const chunks: Buffer[] = [];
    let ended = false;
    await runStreamingHandler(
      awslambda.streamifyResponse((_event: unknown, stream: never) => handler(stream)),
      {},
      {},
      { write: (chunk) => chunks.push(chunk), end: () => (ended = true) },
    );
    return { text: Buffer.concat(chunks).toString('latin1'), ended };
  };

  test('writes the prelude just before the first write, and objects as JSON', async () => {
    const answer = await run(async (stream) => {
      const http = awslambda.HttpResponseStream.from(stream, { statusCode: 201 });
      http.write({ a: 1 } as never);
      http.end('!');
    });
    expect(answer).toEqual({ text: `${prelude({ statusCode: 201 })}{"a":1}!`, ended: true });
  });

  test('refuses a content type set after the first write, and a handler that is not async', async () => {
    await expect(
      run(async (stream) => {
        stream.write('x');
        stream.setContentType('text/plain');
      }),
    ).rejects.toThrow('Cannot set content-type, too late.');
    const notAsync = awslambda.streamifyResponse(() => undefined);
    await expect(
      runStreamingHandler(notAsync, {}, {}, { write: () => undefined, end: () => undefined }),
    ).rejects.toThrow('Streaming does not support non-async handlers.');
  });
});
