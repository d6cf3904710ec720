import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { closeServer, gatewayServer, listenOnLoopback } from './gateway-http.ts';
import { LocalHttpApi } from './http/http-api.ts';

interface StatusLine {
  status: number;
  statusText: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function get(url: string): Promise<StatusLine> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          headers: response.headers,
          body,
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

let server: Server | undefined;
let api: LocalHttpApi | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  if (server) await closeServer(server);
  await api?.stop();
  server = undefined;
  api = undefined;
});

/** U+FFFD is outside Latin-1: Node refuses it in a header value (ERR_INVALID_CHAR). */
const REFUSED_HEADER_VALUE = 'Bearer error_description="Unexpected token \uFFFD"';

describe('a header Node refuses never leaves a status line that contradicts its code', () => {
  test('a writeHead that throws ends in "500 Internal Server Error", without the headers set before it', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    server = gatewayServer(
      () => 'Test',
      async (_request: IncomingMessage, response: ServerResponse) => {
        response.setHeader('x-set-before', 'yes');
        response.writeHead(401, { 'www-authenticate': REFUSED_HEADER_VALUE });
      },
      'Internal Server Error',
    );
    const port = await listenOnLoopback(server, 0);
    const answer = await get(`http://127.0.0.1:${port}/`);
    expect(answer).toMatchObject({ status: 500, statusText: 'Internal Server Error' });
    expect(JSON.parse(answer.body)).toEqual({ message: 'Internal Server Error' });
    expect(answer.headers).not.toHaveProperty('x-set-before');
    expect(answer.headers).not.toHaveProperty('www-authenticate');
  });

  test('a function answering a header value Node refuses: a whole "500 Internal Server Error" status line', async () => {
    // AWS does not document its answer to such a header; what is under test is that the line stays whole.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    api = new LocalHttpApi(
      {
        logicalId: 'HttpApi',
        apiId: 'api',
        stage: '$default',
        accountId: '123456789012',
        cors: undefined,
        routes: [
          {
            method: 'GET',
            path: '/hello',
            functionName: 'Hello',
            authorizer: undefined,
            scopes: [],
            throttle: undefined,
          },
        ],
      },
      {
        get: () => ({
          invoke: async () => ({ statusCode: 200, headers: { 'x-note': REFUSED_HEADER_VALUE }, body: 'hi' }),
        }),
      },
    );
    const answer = await get(`${await api.listen(0)}/hello`);
    expect(answer).toMatchObject({ status: 500, statusText: 'Internal Server Error' });
  });
});
