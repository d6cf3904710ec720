import { type IncomingMessage, request } from 'node:http';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { LambdaError } from '../../runtime/lambda.ts';
import { PRELUDE_DELIMITER } from '../../runtime/lambda-response-stream.ts';
import { createResolver } from '../../template/resolver.ts';
import { restApiDefinitions } from '../../template/rest-api-definition.ts';
import { ApiGatewayImportError } from '../../template/rest-api-import.ts';
import { parseTemplate, UnsupportedTemplateError } from '../../template/template.ts';
import { LocalRestApi } from './rest-api.ts';

/**
 * The REST emulator's Lambda proxy integration with `responseTransferMode: STREAM` (offline/gateways/rest/rest-api-stream.ts),
 * against a function whose response stream the test writes by hand: what reaches the client, and when.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:Things';
const STREAMING_URI = `arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/${FUNCTION_ARN}/response-streaming-invocations`;
const INVOKE_URI = `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${FUNCTION_ARN}/invocations`;
const INTEGRATION_TIMEOUT_MS = 400;

/** A REST API with one GET /things whose integration is `integration` (YAML, indented for it). */
const template = (integration: string, properties = '') =>
  parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
${properties}
      DefinitionBody:
        openapi: 3.0.3
        paths:
          /things:
            get:
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
${integration.replace(/^/gm, '                ')}
`);

const STREAMING = `type: aws_proxy
httpMethod: POST
uri: ${STREAMING_URI}
responseTransferMode: STREAM
timeoutInMillis: ${INTEGRATION_TIMEOUT_MS}`;

/** Each invocation's response stream, for the test to write. */
const streams: Readable[] = [];
const things = {
  invoke: () => Promise.reject(new Error('a STREAM integration must not call Invoke')),
  invokeWithResponseStream: () => {
    const body = new Readable({ read: () => undefined });
    body.on('error', () => undefined);
    streams.push(body);
    return { body, completed: Promise.resolve() };
  },
};

const prelude = (metadata: object) =>
  Buffer.concat([Buffer.from(JSON.stringify(metadata)), Buffer.from(PRELUDE_DELIMITER)]);

interface Exchange {
  response: Promise<IncomingMessage>;
  /** Every chunk the client received, as text, in order. */
  chunks: string[];
  /** Settles when the response is over: complete, or cut before its end. */
  over: Promise<{ complete: boolean; text: string }>;
  abort(): void;
}

function get(url: string, headers: Record<string, string> = {}): Exchange {
  const chunks: string[] = [];
  let settle: (outcome: { complete: boolean; text: string }) => void = () => undefined;
  const over = new Promise<{ complete: boolean; text: string }>((done) => {
    settle = done;
  });
  const sent = request(`${url}/things`, { headers });
  const response = new Promise<IncomingMessage>((done, fail) => {
    sent.on('response', (answer) => {
      answer.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
      answer.on('close', () => settle({ complete: answer.complete, text: chunks.join('') }));
      done(answer);
    });
    sent.on('error', (error) => {
      settle({ complete: false, text: chunks.join('') });
      fail(error);
    });
  });
  response.catch(() => undefined);
  sent.end();
  return { response, chunks, over, abort: () => sent.destroy() };
}

/** The newest invocation's stream, once the gateway has invoked the function. */
async function nextStream(count: number): Promise<Readable> {
  await vi.waitFor(() => expect(streams.length).toBe(count));
  return streams[count - 1] as Readable;
}

describe('a STREAM integration', () => {
  let api: LocalRestApi;
  let url: string;

  beforeAll(async () => {
    const [config] = restApiDefinitions(
      // MinimumCompressionSize 0 would compress any buffered answer a client accepts gzip for.
      createResolver(template(STREAMING, '      MinimumCompressionSize: 0'), {}),
      ROOT,
    );
    if (!config) throw new Error('no REST API');
    expect(config.methods[0]?.integration.responseTransferMode).toBe('STREAM');
    api = new LocalRestApi(config, {
      functions: new Map([['Things', things]]),
      sqs: {} as SQSClient,
      queueUrls: () => ({}),
      dynamodbEndpoint: 'http://127.0.0.1:1',
    });
    url = await api.listen(0);
  });

  afterAll(() => api.stop());

  test('sends the head from the prelude at once, then each chunk as the function writes it, uncompressed', async () => {
    const exchange = get(url, { 'accept-encoding': 'gzip, deflate' });
    const stream = await nextStream(streams.length + 1);
    stream.push(
      prelude({
        statusCode: 201,
        headers: { 'Content-Type': 'application/x-ndjson', 'X-Page': '1' },
        multiValueHeaders: { 'X-Tag': ['a', 'b'] },
        cookies: ['c1=blue', 'c2=red'],
      }),
    );
    const response = await exchange.response;
    expect(response.statusCode).toBe(201);
    expect(response.headers).toMatchObject({
      'content-type': 'application/x-ndjson',
      'x-page': '1',
      'x-tag': 'a, b',
      'set-cookie': ['c1=blue', 'c2=red'],
      'transfer-encoding': 'chunked',
      'x-amzn-requestid': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['content-encoding']).toBeUndefined();
    // Each line reaches the client before the function writes the next one.
    for (const line of ['{"n":1}\n', '{"n":2}\n']) {
      stream.push(line);
      await vi.waitFor(() => expect(exchange.chunks.join('')).toContain(line));
    }
    stream.push(null);
    expect(await exchange.over).toEqual({ complete: true, text: '{"n":1}\n{"n":2}\n' });
  });

  test('a prelude without a content type gets application/json, as any integration response does', async () => {
    const exchange = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.push(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('[]')]));
    stream.push(null);
    expect((await exchange.response).headers['content-type']).toBe('application/json');
    expect((await exchange.over).text).toBe('[]');
  });

  test.each([
    ['no prelude at all', '{"statusCode":200,"body":"buffered"}'],
    ['a prelude that is not JSON', `{"statusCode":${'\0'.repeat(8)}body`],
    ['a prelude without a statusCode', `{"headers":{}}${'\0'.repeat(8)}body`],
  ])('%s is a 502, as a malformed proxy response', async (_case, written) => {
    const exchange = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.push(written);
    stream.push(null);
    const response = await exchange.response;
    expect(response.statusCode).toBe(502);
    expect(JSON.parse((await exchange.over).text)).toEqual({ message: 'Internal server error' });
  });

  test('a function that fails before its prelude is a 502', async () => {
    const exchange = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.destroy(new LambdaError('Runtime.ExitError', 'Runtime exited with error: exit status 1'));
    expect((await exchange.response).statusCode).toBe(502);
  });

  test('no prelude within the integration timeout is a 504', async () => {
    const exchange = get(url);
    await nextStream(streams.length + 1);
    const response = await exchange.response;
    expect(response.statusCode).toBe(504);
    expect(JSON.parse((await exchange.over).text)).toEqual({ message: 'Endpoint request timed out' });
  });

  test('a function that fails mid-stream cuts the connection: the client sees an incomplete transfer', async () => {
    const exchange = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.push(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"n":1}\n')]));
    expect((await exchange.response).statusCode).toBe(200);
    await vi.waitFor(() => expect(exchange.chunks.join('')).toBe('{"n":1}\n'));
    stream.destroy(new LambdaError('PageFailed', 'DynamoDB went away'));
    expect(await exchange.over).toEqual({ complete: false, text: '{"n":1}\n' });
  });

  test('the integration timeout cuts a stream that is still going, whatever was sent', async () => {
    const startedAt = Date.now();
    const exchange = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.push(prelude({ statusCode: 200 }));
    stream.push('{"n":1}\n');
    expect(await exchange.over).toEqual({ complete: false, text: '{"n":1}\n' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(INTEGRATION_TIMEOUT_MS - 10);
  });

  test('a client that goes away mid-stream: the rest is discarded, the gateway serves the next request', async () => {
    const leaving = get(url);
    const stream = await nextStream(streams.length + 1);
    stream.push(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('{"n":1}\n')]));
    await vi.waitFor(() => expect(leaving.chunks.join('')).toBe('{"n":1}\n'));
    leaving.abort();
    expect((await leaving.over).complete).toBe(false);
    // The function writes on to its end; nothing of it reaches anyone, and nothing fails.
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.push('{"n":2}\n');
    stream.push(null);
    await vi.waitFor(() => expect(stream.readableEnded).toBe(true));

    const next = get(url);
    const nextBody = await nextStream(streams.length + 1);
    nextBody.push(Buffer.concat([prelude({ statusCode: 200 }), Buffer.from('ok')]));
    nextBody.push(null);
    expect(await next.over).toEqual({ complete: true, text: 'ok' });
  });
});

describe('the definition of a STREAM integration is refused where AWS refuses it or does not say what it does', () => {
  const definitionOf = (integration: string, properties = '') =>
    restApiDefinitions(createResolver(template(integration, properties), {}), ROOT);
  const where = 'Resources.Api.Properties.DefinitionBody.paths./things.get.x-amazon-apigateway-integration';

  test('a transfer mode API Gateway does not have', () => {
    expect(() => definitionOf(STREAMING.replace('STREAM', 'CHUNKED'))).toThrow(ApiGatewayImportError);
    expect(() => definitionOf(STREAMING.replace('STREAM', 'CHUNKED'))).toThrow(
      `${where}.responseTransferMode`,
    );
  });

  test('STREAM on an integration that is not a proxy', () => {
    const mock = 'type: mock\nresponseTransferMode: STREAM\nresponses:\n  default:\n    statusCode: "200"';
    expect(() => definitionOf(mock)).toThrow(/only for HTTP_PROXY and AWS_PROXY integrations/);
  });

  test('STREAM with the buffered Invoke URI, and the streaming URI without STREAM', () => {
    expect(() => definitionOf(STREAMING.replace(STREAMING_URI, INVOKE_URI))).toThrow(
      UnsupportedTemplateError,
    );
    expect(() => definitionOf(STREAMING.replace(STREAMING_URI, INVOKE_URI))).toThrow(`${where}.uri`);
    expect(() => definitionOf(STREAMING.replace('responseTransferMode: STREAM', ''))).toThrow(
      /response-streaming-invocations URI without responseTransferMode: STREAM/,
    );
  });

  test('a timeout over 15 minutes, and response templates (VTL)', () => {
    expect(() =>
      definitionOf(
        STREAMING.replace(`timeoutInMillis: ${INTEGRATION_TIMEOUT_MS}`, 'timeoutInMillis: 900001'),
      ),
    ).toThrow(/at most 15 minutes/);
    expect(
      definitionOf(STREAMING.replace(`${INTEGRATION_TIMEOUT_MS}`, '900000'))[0]?.methods[0]?.integration,
    ).toMatchObject({ timeoutMs: 900_000, responseTransferMode: 'STREAM' });
    const mapped = `${STREAMING}\nresponses:\n  default:\n    statusCode: "200"\n    responseTemplates:\n      application/json: '{}'`;
    expect(() => definitionOf(mapped)).toThrow(/response transformations with VTL/);
  });

  test('caching the method', () => {
    const cached = `      CacheClusterEnabled: true
      MethodSettings:
        - ResourcePath: /~1things
          HttpMethod: GET
          CachingEnabled: true`;
    expect(() => definitionOf(STREAMING, cached)).toThrow(
      /Resources\.Api\.Properties\.MethodSettings: CachingEnabled for GET \/things, a STREAM integration/,
    );
  });
});
