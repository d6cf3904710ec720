import { request } from 'node:http';
import { resolve } from 'node:path';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createResolver } from '../../template/resolver.ts';
import { restApiDefinitions } from '../../template/rest-api-definition.ts';
import { parseTemplate } from '../../template/template.ts';
import { LocalRestApi } from './rest-api.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const THRESHOLD = 100;
const LAMBDA_URI =
  'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:Echo/invocations';

/** A MOCK GET whose response template is `body`. */
const mock = (body: string) => `
            get:
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
                type: mock
                requestTemplates:
                  application/json: '{"statusCode": 200}'
                responses:
                  default:
                    statusCode: "200"
                    responseTemplates:
                      application/json: '${body}'`;

const template = (properties: string) =>
  parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
${properties}
      CacheClusterEnabled: true
      MethodSettings:
        - ResourcePath: /*
          HttpMethod: "*"
          CachingEnabled: false
        - ResourcePath: /~1lambda
          HttpMethod: GET
          CachingEnabled: true
          CacheTtlInSeconds: 300
      DefinitionBody:
        openapi: 3.0.3
        x-amazon-apigateway-gateway-responses:
          DEFAULT_4XX:
            responseTemplates:
              application/json: '{"message":$context.error.messageString,"padding":"${'p'.repeat(THRESHOLD)}"}'
        paths:
          /at-threshold:${mock('a'.repeat(THRESHOLD))}
          /below-threshold:${mock('b'.repeat(THRESHOLD - 1))}
          /lambda:
            get:
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: ${LAMBDA_URI}
                cacheKeyParameters: [method.request.querystring.size, method.request.querystring.encoding]
            post:
              responses:
                "200":
                  description: ok
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: ${LAMBDA_URI}
`);

/** The function behind /lambda: GET answers `?size=` bytes (with `?encoding=` as its Content-Encoding), POST echoes. */
const invocations: APIGatewayProxyEvent[] = [];
const echo = {
  async invoke(event: unknown) {
    const proxy = event as APIGatewayProxyEvent;
    invocations.push(proxy);
    if (proxy.httpMethod === 'POST')
      return { statusCode: 200, body: JSON.stringify({ received: proxy.body }) };
    const { size = '0', encoding } = proxy.queryStringParameters ?? {};
    return {
      statusCode: 200,
      headers: encoding ? { 'Content-Encoding': encoding } : {},
      body: 'l'.repeat(Number(size)),
    };
  },
};

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes as sent, never decompressed. */
  body: Buffer;
}

function raw(url: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer) {
  return new Promise<RawAnswer>((done, fail) => {
    const sent = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        done({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    sent.on('error', fail);
    sent.end(body);
  });
}

function startApi(properties: string): Promise<{ api: LocalRestApi; url: string }> {
  const [config] = restApiDefinitions(createResolver(template(properties), {}), ROOT);
  if (!config) throw new Error('no REST API');
  const api = new LocalRestApi(config, {
    functions: new Map([['Echo', echo]]),
    sqs: {} as SQSClient,
    queueUrls: () => ({}),
    dynamodbEndpoint: 'http://127.0.0.1:1',
  });
  return api.listen(0).then((url) => ({ api, url }));
}

describe('the REST emulator compresses as API Gateway does with MinimumCompressionSize', () => {
  let api: LocalRestApi;
  let url: string;

  beforeAll(async () => {
    ({ api, url } = await startApi(`      MinimumCompressionSize: ${THRESHOLD}`));
  });
  afterAll(() => api.stop());

  test('a mapped answer of exactly the threshold is compressed; one byte less is not', async () => {
    const at = await raw(`${url}/at-threshold`, { 'accept-encoding': 'gzip' });
    expect(at.headers['content-encoding']).toBe('gzip');
    expect(Number(at.headers['content-length'])).toBe(at.body.length);
    expect(gunzipSync(at.body).toString()).toBe('a'.repeat(THRESHOLD));
    const below = await raw(`${url}/below-threshold`, { 'accept-encoding': 'gzip' });
    expect(below.headers['content-encoding']).toBeUndefined();
    expect(below.body.toString()).toBe('b'.repeat(THRESHOLD - 1));
  });

  test('no Accept-Encoding, identity, or a first choice API Gateway lacks: the bytes as mapped', async () => {
    const clients: Record<string, string>[] = [
      {},
      { 'accept-encoding': 'identity' },
      { 'accept-encoding': 'br, gzip;q=0.5' },
    ];
    for (const headers of clients) {
      const answer = await raw(`${url}/at-threshold`, headers);
      expect(answer.headers['content-encoding']).toBeUndefined();
      expect(answer.body.toString()).toBe('a'.repeat(THRESHOLD));
    }
  });

  test('a Lambda proxy answer that sets its own Content-Encoding is passed on as it is', async () => {
    const answer = await raw(`${url}/lambda?size=500&encoding=br`, { 'accept-encoding': 'gzip' });
    expect(answer.headers['content-encoding']).toBe('br');
    expect(answer.body.toString()).toBe('l'.repeat(500));
  });

  test('a cache hit is compressed for its own request: gzip, then deflate, then identity, one invocation', async () => {
    const before = invocations.length;
    const path = `${url}/lambda?size=400`;
    const gzipped = await raw(path, { 'accept-encoding': 'gzip' });
    const deflated = await raw(path, { 'accept-encoding': 'deflate' });
    const plain = await raw(path);
    expect(invocations.length - before).toBe(1);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzipped.body).toString()).toBe('l'.repeat(400));
    expect(deflated.headers['content-encoding']).toBe('deflate');
    expect(inflateSync(deflated.body).toString()).toBe('l'.repeat(400));
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe('l'.repeat(400));
  });

  test('a gateway response over the threshold is never compressed', async () => {
    const answer = await raw(`${url}/nowhere`, { 'accept-encoding': 'gzip' });
    expect(answer.status).toBe(403);
    expect(answer.body.length).toBeGreaterThan(THRESHOLD);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(answer.body.toString())).toMatchObject({ message: 'Missing Authentication Token' });
  });

  test('a gzip or deflate request body reaches the function decompressed', async () => {
    const order = JSON.stringify({ items: [{ productId: 'green-tea', quantity: 1 }] });
    for (const [coding, encode] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
    ] as const) {
      const answer = await raw(
        `${url}/lambda`,
        { 'content-type': 'application/json', 'content-encoding': coding },
        'POST',
        encode(order),
      );
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ received: order });
    }
  });

  test('a corrupt or unsupported request encoding is 415 and never reaches the function', async () => {
    const before = invocations.length;
    for (const [coding, body] of [
      ['gzip', Buffer.from('{"not":"gzip"}')],
      ['gzip', gzipSync('{"cut":"short"}').subarray(0, 10)],
      ['br', Buffer.from('{}')],
    ] as const) {
      const answer = await raw(`${url}/lambda`, { 'content-encoding': coding }, 'POST', body);
      expect(answer.status).toBe(415);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ message: 'Unsupported Media Type' });
    }
    expect(invocations.length).toBe(before);
  });

  test('a body that inflates past the 10 MB payload limit is 413, like an oversized one', async () => {
    const before = invocations.length;
    const bomb = gzipSync(Buffer.alloc(11 * 1024 * 1024));
    const answer = await raw(`${url}/lambda`, { 'content-encoding': 'gzip' }, 'POST', bomb);
    expect(answer.status).toBe(413);
    expect(invocations.length).toBe(before);
  });
});

describe('MinimumCompressionSize', () => {
  test('without it nothing is compressed', async () => {
    const { api, url } = await startApi('');
    try {
      const answer = await raw(`${url}/at-threshold`, { 'accept-encoding': 'gzip' });
      expect(answer.headers['content-encoding']).toBeUndefined();
    } finally {
      await api.stop();
    }
  });

  test.each(['-1', '10485761', '1.5', 'some'])(
    '%s is refused at start-up with the words of the API',
    (value) => {
      expect(() =>
        restApiDefinitions(createResolver(template(`      MinimumCompressionSize: ${value}`), {}), ROOT),
      ).toThrow(
        /Resources\.Api\.Properties\.MinimumCompressionSize: .*"Invalid minimum compression size, must be between 0 and 10485760"/,
      );
    },
  );
});
