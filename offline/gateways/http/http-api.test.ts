import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type FunctionRegistry, LambdaError } from '../../runtime/lambda.ts';
import { createSigningKey, type LocalIssuer, signToken, startIssuer } from '../../services/issuer.ts';
import type { CorsConfiguration } from '../../template/http-api-definition.ts';
import { type HttpRoute, httpApiConfig, LocalHttpApi, toReply } from './http-api.ts';
import { JwtAuthorizer } from './jwt-authorizer.ts';

interface EchoedEvent {
  functionName: string;
  event: {
    version: string;
    routeKey: string;
    rawPath: string;
    rawQueryString: string;
    headers: Record<string, string>;
    cookies?: string[];
    queryStringParameters?: Record<string, string>;
    pathParameters?: Record<string, string>;
    body?: string;
    isBase64Encoded: boolean;
    requestContext: {
      accountId: string;
      apiId: string;
      authorizer?: { jwt: { claims: Record<string, string>; scopes: string[] | null } };
      http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
      requestId: string;
      routeKey: string;
      stage: string;
      time: string;
      timeEpoch: number;
    };
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: () => unknown;
  echoed: () => EchoedEvent;
}

/** A request with full control over its headers (an array value sends the header once per item). */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            json: () => JSON.parse(body.toString()),
            echoed: () => JSON.parse(body.toString()) as EchoedEvent,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.setTimeout(3000, () => outgoing.destroy(new Error(`no answer to ${path} within 3 s`)));
    outgoing.end(options.body);
  });
}

/** Every route's function answers with its name and the event it received. */
const echoRegistry: FunctionRegistry = {
  get: (functionName) => ({
    invoke: async (event) => ({ statusCode: 200, body: JSON.stringify({ functionName, event }) }),
  }),
};

/** `route('GET /orders/{id}')`: a route whose function is named after the route. */
const route = (key: string, overrides: Partial<HttpRoute> = {}): HttpRoute => {
  const [method = 'ANY', path = '$default'] = key.split(' ');
  return {
    method,
    path,
    functionName: key,
    authorizer: undefined,
    scopes: [],
    throttle: undefined,
    ...overrides,
  };
};

const started: LocalHttpApi[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((api) => api.stop()));
});

async function startApi(
  routes: HttpRoute[],
  options: { cors?: CorsConfiguration; registry?: FunctionRegistry } = {},
): Promise<string> {
  const api = new LocalHttpApi(
    {
      logicalId: 'Api',
      apiId: 'api',
      stage: '$default',
      routes,
      cors: options.cors,
      accountId: '000000000000',
    },
    options.registry ?? echoRegistry,
  );
  started.push(api);
  return api.listen(0);
}

describe('toReply (payload format 2.0 responses)', () => {
  test('uses a result with a statusCode as is, lower-casing header names', () => {
    const reply = toReply({
      statusCode: 201,
      headers: { 'Content-Type': 'text/plain', 'X-Count': 3 },
      cookies: ['a=1', 'b=2'],
      body: 'created',
    });
    expect(reply).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'text/plain', 'x-count': '3' },
      cookies: ['a=1', 'b=2'],
      body: Buffer.from('created'),
    });
  });

  test('decodes a base64 body', () => {
    const reply = toReply({
      statusCode: 200,
      body: Buffer.from([0, 1, 254, 255]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(reply.body).toEqual(Buffer.from([0, 1, 254, 255]));
  });

  test('a result with a statusCode and no body has an empty body', () => {
    expect(toReply({ statusCode: 204 })).toEqual({
      statusCode: 204,
      headers: {},
      cookies: [],
      body: Buffer.alloc(0),
    });
  });

  test('an object without statusCode is a 200 JSON body', () => {
    expect(toReply({ id: 'o-1', total: 5 })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from('{"id":"o-1","total":5}'),
    });
  });

  test('a string is a 200 body as it is', () => {
    expect(toReply('Hello from Lambda!')).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('Hello from Lambda!'),
    });
  });

  test.each([
    ['a statusCode that is not a number', { statusCode: '200', body: 'x' }],
    ['a body that is not a string', { statusCode: 200, body: { id: 1 } }],
  ])('%s is a 500', (_name, result) => {
    const reply = toReply(result);
    expect(reply.statusCode).toBe(500);
    expect(JSON.parse(reply.body.toString())).toEqual({ message: 'Internal Server Error' });
  });
});

describe('LocalHttpApi routing', () => {
  const routes = [
    route('GET /orders/{id}'),
    route('GET /{proxy+}'),
    route('GET /orders/mine'),
    route('ANY /files/{proxy+}'),
    route('POST /orders'),
  ];

  test('an exact route beats a parameterised one, which beats a greedy one', async () => {
    const url = await startApi(routes);
    expect((await send(url, '/orders/mine')).echoed().functionName).toBe('GET /orders/mine');
    const order = (await send(url, '/orders/o-42')).echoed();
    expect(order.functionName).toBe('GET /orders/{id}');
    expect(order.event.pathParameters).toEqual({ id: 'o-42' });
    const deep = (await send(url, '/orders/o-42/items')).echoed();
    expect(deep.functionName).toBe('GET /{proxy+}');
    expect(deep.event.pathParameters).toEqual({ proxy: 'orders/o-42/items' });
  });

  test('ANY matches every method', async () => {
    const url = await startApi(routes);
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      const answer = (await send(url, '/files/a/b.txt', { method })).echoed();
      expect(answer.functionName).toBe('ANY /files/{proxy+}');
      expect(answer.event.pathParameters).toEqual({ proxy: 'a/b.txt' });
    }
  });

  test('an unknown route or method is 404 Not Found', async () => {
    const url = await startApi(routes);
    for (const [method, path] of [
      ['POST', '/orders/o-42'],
      ['PUT', '/orders'],
    ] as const) {
      const answer = await send(url, path, { method });
      expect(answer.status).toBe(404);
      expect(answer.json()).toEqual({ message: 'Not Found' });
    }
  });

  test('$default catches what no other route matches, and only that', async () => {
    const url = await startApi([...routes, route('ANY $default')]);
    const fallback = (await send(url, '/orders/o-42', { method: 'POST' })).echoed();
    expect(fallback.functionName).toBe('ANY $default');
    expect(fallback.event.routeKey).toBe('$default');
    expect((await send(url, '/orders/mine')).echoed().functionName).toBe('GET /orders/mine');
    expect((await send(url, '/orders/o-42')).echoed().functionName).toBe('GET /orders/{id}');
  });
});

describe('LocalHttpApi payload format 2.0 events', () => {
  test('carry the request as API Gateway hands it over', async () => {
    const url = await startApi([route('GET /orders/{id}')]);
    const before = Date.now();
    const { event } = (
      await send(url, '/orders/a%20b?x=1&x=2&q=hello%20world', {
        headers: {
          'X-Custom-Header': 'Value',
          'x-multi': ['a', 'b'],
          cookie: 'session=abc; theme=dark',
          'user-agent': 'unit-test',
        },
      })
    ).echoed();

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /orders/{id}',
      rawPath: '/orders/a%20b',
      rawQueryString: 'x=1&x=2&q=hello%20world',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { x: '1,2', q: 'hello world' },
      pathParameters: { id: 'a b' },
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      'x-custom-header': 'Value',
      'x-multi': 'a,b',
      'user-agent': 'unit-test',
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.headers).not.toHaveProperty('X-Custom-Header');
    expect(event).not.toHaveProperty('body');

    const context = event.requestContext;
    expect(context).toMatchObject({
      accountId: '000000000000',
      apiId: 'api',
      routeKey: 'GET /orders/{id}',
      stage: '$default',
      http: {
        method: 'GET',
        path: '/orders/a%20b',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'unit-test',
      },
    });
    expect(context).not.toHaveProperty('authorizer');
    expect(context.requestId).toEqual(expect.any(String));
    expect(context.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(context.timeEpoch).toBeLessThanOrEqual(Date.now());
    // "21/Nov/2026:10:55:46 +0000", naming the same second as timeEpoch.
    const [, day, month, year, clock] =
      /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}:\d{2}:\d{2}) \+0000$/.exec(context.time) ?? [];
    expect(clock).toBeDefined();
    expect(Date.parse(`${day} ${month} ${year} ${clock} GMT`)).toBe(
      Math.floor(context.timeEpoch / 1000) * 1000,
    );
  });

  test('have no cookies, query or path parameters when the request has none', async () => {
    const url = await startApi([route('GET /health')]);
    const { event } = (await send(url, '/health')).echoed();
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
  });

  test('carry a JSON body as text', async () => {
    const url = await startApi([route('POST /orders')]);
    const body = JSON.stringify({ productId: 'p-1', quantity: 2 });
    const { event } = (
      await send(url, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).echoed();
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
  });

  test('carry a binary body base64-encoded', async () => {
    const url = await startApi([route('POST /upload')]);
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const { event } = (
      await send(url, '/upload', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      })
    ).echoed();
    expect(event.body).toBe(bytes.toString('base64'));
    expect(event.isBase64Encoded).toBe(true);
  });

  // Repeated: a server that stops reading early resets some of these connections instead of answering.
  test('a body over 10 MB is refused with 413, every time', async () => {
    const url = await startApi([route('POST /upload')]);
    const body = Buffer.alloc(11 * 1024 * 1024);
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await send(url, '/upload', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
      expect(answer.status).toBe(413);
      expect(answer.json()).toEqual({ message: 'Request Entity Too Large' });
    }
  });

  test('a body of exactly 10 MB is accepted', async () => {
    const url = await startApi([route('POST /upload')]);
    const body = Buffer.alloc(10 * 1024 * 1024, 1);
    const answer = await send(url, '/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(answer.status).toBe(200);
    expect(Buffer.from(answer.echoed().event.body ?? '', 'base64').equals(body)).toBe(true);
  });
});

describe('LocalHttpApi responses', () => {
  test("send the function's status, headers and cookies, with a request id", async () => {
    const url = await startApi([route('POST /orders')], {
      registry: {
        get: () => ({
          invoke: async () => ({
            statusCode: 201,
            headers: { Location: '/orders/o-1' },
            cookies: ['a=1; Secure', 'b=2'],
            body: '{"id":"o-1"}',
          }),
        }),
      },
    });
    const answer = await send(url, '/orders', { method: 'POST' });
    expect(answer.status).toBe(201);
    expect(answer.headers.location).toBe('/orders/o-1');
    expect(answer.headers['set-cookie']).toEqual(['a=1; Secure', 'b=2']);
    expect(answer.headers['apigw-requestid']).toEqual(expect.any(String));
    expect(answer.json()).toEqual({ id: 'o-1' });
  });

  test.each<[string, FunctionRegistry]>([
    [
      'a function that fails',
      { get: () => ({ invoke: () => Promise.reject(new LambdaError('Error', 'boom')) }) },
    ],
    ['a function that does not exist', { get: () => undefined }],
    [
      'a function that returns a malformed result',
      { get: () => ({ invoke: async () => ({ statusCode: 'ok' }) }) },
    ],
  ])('%s is 500 Internal Server Error', async (_name, registry) => {
    const url = await startApi([route('GET /boom')], { registry });
    const answer = await send(url, '/boom');
    expect(answer.status).toBe(500);
    expect(answer.json()).toEqual({ message: 'Internal Server Error' });
  });
});

describe('LocalHttpApi CORS', () => {
  const cors: CorsConfiguration = {
    allowOrigins: ['http://localhost:5173'],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['authorization', 'content-type'],
    exposeHeaders: ['location'],
    maxAge: 600,
    allowCredentials: false,
  };
  const preflight = (origin: string, method = 'POST') => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type',
    },
  });

  test('answers a preflight from an allowed origin with 204 and the CORS headers', async () => {
    const url = await startApi([route('POST /orders')], { cors });
    const answer = await send(url, '/orders', preflight('http://localhost:5173'));
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '600',
    });
    expect(answer.headers).not.toHaveProperty('access-control-allow-credentials');
  });

  test.each([
    ['another origin', preflight('https://evil.example')],
    ['a method not allowed', preflight('http://localhost:5173', 'DELETE')],
  ])('answers a preflight from %s without CORS headers', async (_name, options) => {
    const url = await startApi([route('POST /orders')], { cors });
    const answer = await send(url, '/orders', options);
    expect(answer.status).toBe(204);
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  test('adds allow-origin and expose-headers to a response to an allowed origin only', async () => {
    const url = await startApi([route('GET /orders')], { cors });
    const allowed = await send(url, '/orders', { headers: { origin: 'http://localhost:5173' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-expose-headers': 'location',
      vary: 'Origin',
    });
    const other = await send(url, '/orders', { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers).not.toHaveProperty('access-control-allow-origin');
  });

  test('an OPTIONS request without CORS configured is routed like any other', async () => {
    const url = await startApi([route('ANY /orders')]);
    const answer = await send(url, '/orders', preflight('http://localhost:5173'));
    expect(answer.echoed().event.requestContext.http.method).toBe('OPTIONS');
  });
});

describe('LocalHttpApi throttling', () => {
  test('a route with rate 1 and burst 2 answers twice, then 429 Too Many Requests', async () => {
    const url = await startApi([
      route('GET /limited', { throttle: { rate: 1, burst: 2 } }),
      route('GET /free'),
    ]);
    expect((await send(url, '/limited')).status).toBe(200);
    expect((await send(url, '/limited')).status).toBe(200);
    const throttled = await send(url, '/limited');
    expect(throttled.status).toBe(429);
    expect(throttled.json()).toEqual({ message: 'Too Many Requests' });
    expect((await send(url, '/free')).status).toBe(200);
  });
});

describe('LocalHttpApi with a JWT authoriser', () => {
  const ISSUER = 'https://issuer.example/pool';
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await startIssuer(await createSigningKey(), [ISSUER]);
  });

  afterAll(() => issuer.stop());

  const protectedApi = () => {
    const authorizer = new JwtAuthorizer(
      { name: 'Jwt', issuer: ISSUER, audience: ['client'], identitySource: '$request.header.Authorization' },
      issuer.jwksUri,
    );
    return startApi([route('GET /orders', { authorizer, scopes: ['orders.read'] })]);
  };

  const bearer = async (scopes: string[]) => ({
    authorization: `Bearer ${await signToken(issuer.key, { issuer: ISSUER, clientId: 'client', sub: 'user-1', scopes })}`,
  });

  test('refuses a request without a token with 401 Unauthorized', async () => {
    const answer = await send(await protectedApi(), '/orders');
    expect(answer.status).toBe(401);
    expect(answer.json()).toEqual({ message: 'Unauthorized' });
    expect(answer.headers['www-authenticate']).toContain('invalid_token');
  });

  test('refuses a token without the route scope with 403 Forbidden', async () => {
    const answer = await send(await protectedApi(), '/orders', { headers: await bearer(['orders.write']) });
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({ message: 'Forbidden' });
  });

  test('hands the claims and scopes of a valid token to the function', async () => {
    const answer = await send(await protectedApi(), '/orders', { headers: await bearer(['orders.read']) });
    expect(answer.status).toBe(200);
    expect(answer.echoed().event.requestContext.authorizer?.jwt).toMatchObject({
      claims: { sub: 'user-1', client_id: 'client', scope: 'orders.read' },
      scopes: ['orders.read'],
    });
  });
});

describe('httpApiConfig', () => {
  test("gives each route its authoriser's one JwtAuthorizer, shared by the routes, and none to a NONE route", () => {
    const jwt = {
      name: 'Jwt',
      issuer: 'https://issuer.example/pool',
      audience: ['client'],
      identitySource: '$request.header.Authorization',
      scopes: [],
    };
    const routeOf = (path: string, authorizer: string | undefined) => ({
      method: 'GET',
      path,
      functionName: 'Fn',
      authorizer,
      scopes: [],
      throttle: undefined,
    });
    const config = httpApiConfig(
      {
        logicalId: 'Api',
        apiId: 'api',
        stage: '$default',
        routes: [routeOf('/a', 'Jwt'), routeOf('/b', 'Jwt'), routeOf('/open', undefined)],
        authorizers: [jwt],
        cors: undefined,
        accountId: '000000000000',
      },
      'http://127.0.0.1:9/jwks',
    );
    const [a, b, open] = config.routes;
    expect(a?.authorizer).toBeInstanceOf(JwtAuthorizer);
    expect(a?.authorizer?.config).toEqual(jwt);
    expect(b?.authorizer).toBe(a?.authorizer);
    expect(open?.authorizer).toBeUndefined();
  });
});
