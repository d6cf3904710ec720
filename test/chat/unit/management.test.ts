import { createServer, type Server } from 'node:http';
import { GoneException } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  encodeFrame,
  isGone,
  managementClient,
  managementEndpoint,
  reply,
} from '../../../functions/chat/management.ts';
import { tracer } from '../../../functions/lib/tracing.ts';

const ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI';

describe('managementEndpoint', () => {
  const defaultDomain = { domainName: 'k3m8q2w7z1.execute-api.eu-west-1.amazonaws.com', stage: 'dev' };
  const customDomain = { domainName: 'chat.example.com', stage: 'prod' };

  test('is the stage URL on the default execute-api domain', () => {
    expect(managementEndpoint(defaultDomain, {})).toBe(
      'https://k3m8q2w7z1.execute-api.eu-west-1.amazonaws.com/dev',
    );
  });

  test('ignores the base path on the default domain (the stage is the path there)', () => {
    expect(managementEndpoint(defaultDomain, { WEBSOCKET_BASE_PATH: 'chat' })).toBe(
      'https://k3m8q2w7z1.execute-api.eu-west-1.amazonaws.com/dev',
    );
  });

  test('is the bare custom domain when the API is mapped without a base path', () => {
    expect(managementEndpoint(customDomain, {})).toBe('https://chat.example.com');
    expect(managementEndpoint(customDomain, { WEBSOCKET_BASE_PATH: '' })).toBe('https://chat.example.com');
  });

  test('is the custom domain plus the base path of the API mapping (never the stage)', () => {
    expect(managementEndpoint(customDomain, { WEBSOCKET_BASE_PATH: 'support' })).toBe(
      'https://chat.example.com/support',
    );
    expect(managementEndpoint(customDomain, { WEBSOCKET_BASE_PATH: '/support/' })).toBe(
      'https://chat.example.com/support',
    );
  });

  test('is left to the SDK when its own AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI is set', () => {
    const environment = { [ENDPOINT_VARIABLE]: 'http://127.0.0.1:3002/local', WEBSOCKET_BASE_PATH: 'x' };
    expect(managementEndpoint(defaultDomain, environment)).toBeUndefined();
    expect(managementEndpoint(customDomain, environment)).toBeUndefined();
  });
});

describe('managementClient', () => {
  test('builds one client per endpoint and reuses it', async () => {
    const first = managementClient({
      domainName: 'aaaaaaaaaa.execute-api.eu-west-1.amazonaws.com',
      stage: 'dev',
    });
    const again = managementClient({
      domainName: 'aaaaaaaaaa.execute-api.eu-west-1.amazonaws.com',
      stage: 'dev',
    });
    const otherStage = managementClient({
      domainName: 'aaaaaaaaaa.execute-api.eu-west-1.amazonaws.com',
      stage: 'prod',
    });
    expect(again).toBe(first);
    expect(otherStage).not.toBe(first);
    expect(await first.config.endpoint?.()).toMatchObject({
      protocol: 'https:',
      hostname: 'aaaaaaaaaa.execute-api.eu-west-1.amazonaws.com',
      path: '/dev',
    });
  });
});

describe('isGone', () => {
  test.each([
    ['a GoneException', new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }), true],
    ['an error named GoneException', Object.assign(new Error('x'), { name: 'GoneException' }), true],
    ['any 410', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 410 } }), true],
    [
      'a 429',
      Object.assign(new Error('x'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 429 } }),
      false,
    ],
    ['a 500', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 500 } }), false],
    ['a network error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), false],
    ['a string', 'GoneException', false],
    ['nothing', undefined, false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isGone(error)).toBe(expected);
  });
});

describe('reply through the real SDK client to a local @connections endpoint', () => {
  // Answers like API Gateway's @connections: 200 for known ids, 410 GoneException for unknown ones.
  const known = new Set(['live-connection']);
  const received: { method?: string; url?: string; body: string }[] = [];
  let server: Server;
  let previous: string | undefined;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, body });
        const id = decodeURIComponent(String(request.url).split('/@connections/')[1] ?? '');
        if (id === 'broken-connection') {
          response
            .writeHead(500, { 'x-amzn-errortype': 'InternalServerErrorException' })
            .end('{"message":"boom"}');
        } else if (known.has(id)) {
          response.writeHead(200).end();
        } else {
          response
            .writeHead(410, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'GoneException' })
            .end('{"message":null}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    previous = process.env[ENDPOINT_VARIABLE];
    process.env[ENDPOINT_VARIABLE] = `http://127.0.0.1:${port}/local`;
  });

  afterAll(async () => {
    if (previous === undefined) delete process.env[ENDPOINT_VARIABLE];
    else process.env[ENDPOINT_VARIABLE] = previous;
    await new Promise((resolve) => server.close(resolve));
  });

  afterEach(() => {
    received.length = 0;
  });

  const location = (connectionId: string) => ({
    domainName: 'k3m8q2w7z1.execute-api.eu-west-1.amazonaws.com',
    stage: 'dev',
    connectionId,
  });

  test('POSTs the JSON frame to <endpoint>/@connections/<id> named by the SDK variable', async () => {
    expect(await reply(location('live-connection'), { type: 'joined', roomId: 'general' })).toBe(true);
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/local/@connections/live-connection',
        body: '{"type":"joined","roomId":"general"}',
      },
    ]);
  });

  test('turns a 410 GoneException from the endpoint into "nobody to tell" (false), not an error', async () => {
    expect(await reply(location('vanished-connection'), { type: 'left', roomId: 'general' })).toBe(false);
    expect(received).toHaveLength(1);
  });

  test('lets any other failure propagate', async () => {
    await expect(
      reply(location('broken-connection'), { type: 'left', roomId: 'general' }),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
    });
  });

  test('encodes frames as UTF-8 JSON', () => {
    expect(Buffer.from(encodeFrame({ type: 'joined', roomId: 'café' })).toString('utf8')).toBe(
      '{"type":"joined","roomId":"café"}',
    );
  });
});

describe('the @connections client, built by shared code', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test('is captured by the tracer once a function has loaded it', () => {
    const capture = vi.spyOn(tracer, 'captureAWSv3Client');
    const client = managementClient({
      domainName: 'traced.execute-api.eu-west-1.amazonaws.com',
      stage: 'dev',
    });
    expect(capture).toHaveBeenCalledExactlyOnceWith(client);
  });
});
