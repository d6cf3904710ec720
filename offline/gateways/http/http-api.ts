import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type FunctionRegistry, LambdaError } from '../../runtime/lambda.ts';
import type { CorsConfiguration, HttpApiDefinition } from '../../template/http-api-definition.ts';
import {
  clfTime,
  closeServer,
  gatewayServer,
  listenOnLoopback,
  MAX_PAYLOAD_BYTES,
  MAX_REQUEST_LINE_AND_HEADER_BYTES,
  readBody,
  requestLineAndHeaderBytes,
  TEXT_CONTENT,
} from '../gateway-http.ts';
import { comparePathRank, compilePath, matchPath } from '../route-path.ts';
import { TokenBucket } from '../token-bucket.ts';
import { type AuthorizerOutcome, JwtAuthorizer } from './jwt-authorizer.ts';

export interface HttpRoute {
  method: string;
  path: string;
  functionName: string;
  authorizer: JwtAuthorizer | undefined;
  scopes: readonly string[];
  throttle: { rate: number; burst: number } | undefined;
}

export interface HttpApiConfig {
  logicalId: string;
  apiId: string;
  stage: string;
  routes: HttpRoute[];
  cors: CorsConfiguration | undefined;
  accountId: string;
}

/**
 * The gateway's configuration of an HTTP API definition: one JwtAuthorizer per authoriser, verifying against
 * the issuer's JWKS at `jwksUri` and shared by its routes (so its verified-token cache is too).
 */
export function httpApiConfig(definition: HttpApiDefinition, jwksUri: string): HttpApiConfig {
  const authorizers = new Map(
    definition.authorizers.map((authorizer) => [authorizer.name, new JwtAuthorizer(authorizer, jwksUri)]),
  );
  const { logicalId, apiId, stage, cors, accountId } = definition;
  return {
    logicalId,
    apiId,
    stage,
    cors,
    accountId,
    routes: definition.routes.map((route) => ({
      ...route,
      authorizer: route.authorizer === undefined ? undefined : authorizers.get(route.authorizer),
    })),
  };
}

interface CompiledRoute extends HttpRoute {
  routeKey: string;
  pattern: RegExp;
  parameters: string[];
  rank: number[];
  bucket: TokenBucket | undefined;
}

type Reply = { statusCode: number; headers: Record<string, string>; cookies: string[]; body: Buffer };

/** One HTTP API on a loopback port, routing, authorising and invoking functions as API Gateway does. */
export class LocalHttpApi {
  #config!: HttpApiConfig;
  #routes: CompiledRoute[] = [];
  readonly #functions: FunctionRegistry;
  readonly #server: Server;

  constructor(config: HttpApiConfig, functions: FunctionRegistry) {
    this.#functions = functions;
    this.configure(config);
    this.#server = gatewayServer(
      () => this.#config.logicalId,
      (request, response) => this.#handle(request, response),
      'Internal Server Error',
    );
  }

  get config(): HttpApiConfig {
    return this.#config;
  }

  /** Routes, authorisers and CORS from the template; replaced as a whole when the template changes. */
  configure(config: HttpApiConfig): void {
    this.#config = config;
    this.#routes = config.routes.map(compileRoute).sort((a, b) => comparePathRank(a.rank, b.rank));
  }

  async listen(port: number): Promise<string> {
    const actual = await listenOnLoopback(this.#server, port);
    return `http://127.0.0.1:${actual}${this.#config.stage === '$default' ? '' : `/${this.#config.stage}`}`;
  }

  stop(): Promise<void> {
    return closeServer(this.#server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomBytes(10).toString('base64');
    const body = await readBody(request, MAX_PAYLOAD_BYTES);
    if (body === undefined)
      return send(response, json(413, { message: 'Request Entity Too Large' }), requestId);
    // Before routing and authorisation: an oversized token is never verified, let alone accepted.
    if (requestLineAndHeaderBytes(request) > MAX_REQUEST_LINE_AND_HEADER_BYTES)
      return send(response, json(431, { message: 'Request Header Fields Too Large' }), requestId);

    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = (request.method ?? 'GET').toUpperCase();
    const headers = joinedHeaders(request);
    const origin = headers.origin;
    const cors = this.#config.cors;

    if (cors && method === 'OPTIONS' && origin && headers['access-control-request-method']) {
      return send(response, preflight(cors, origin, headers['access-control-request-method']), requestId);
    }
    const stagePrefix = this.#config.stage === '$default' ? '' : `/${this.#config.stage}`;
    const path =
      stagePrefix && url.pathname.startsWith(stagePrefix)
        ? url.pathname.slice(stagePrefix.length) || '/'
        : url.pathname;
    const match =
      stagePrefix && !url.pathname.startsWith(stagePrefix) ? undefined : this.#match(method, path);
    let reply: Reply;
    if (!match) {
      reply = json(404, { message: 'Not Found' });
    } else if (match.route.bucket && !match.route.bucket.take()) {
      reply = json(429, { message: 'Too Many Requests' });
    } else {
      const outcome: AuthorizerOutcome | undefined = await match.route.authorizer?.authorize(
        headers,
        match.route.scopes,
      );
      if (outcome && !outcome.allowed) {
        reply = json(outcome.statusCode, { message: outcome.message });
        reply.headers['www-authenticate'] = outcome.wwwAuthenticate;
      } else {
        const event = this.#event(
          request,
          url,
          headers,
          body,
          match.route,
          match.pathParameters,
          requestId,
          outcome,
        );
        reply = await this.#invoke(match.route, event);
      }
    }
    if (cors && origin) Object.assign(reply.headers, corsHeaders(cors, origin));
    send(response, reply, requestId);
  }

  #match(
    method: string,
    path: string,
  ): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const pathParameters = matchPath(route, path);
      if (pathParameters) return { route, pathParameters };
    }
    return undefined;
  }

  #event(
    request: IncomingMessage,
    url: URL,
    headers: Record<string, string>,
    body: Buffer,
    route: CompiledRoute,
    pathParameters: Record<string, string>,
    requestId: string,
    outcome: AuthorizerOutcome | undefined,
  ): APIGatewayProxyEventV2 & { requestContext: { authorizer?: unknown } } {
    const { cookie, ...headersWithoutCookie } = headers;
    const now = new Date();
    const host = headers.host ?? 'localhost';
    const contentType = headers['content-type'] ?? '';
    const isText = TEXT_CONTENT.test(contentType);
    const query = new URLSearchParams(url.search);
    // fromEntries defines own properties: a `__proto__` key reaches the function like any other key.
    const queryStringParameters = Object.fromEntries(
      [...new Set(query.keys())].map((key) => [key, query.getAll(key).join(',')]),
    );
    return {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(cookie ? { cookies: cookie.split(/;\s*/) } : {}),
      headers: headersWithoutCookie,
      ...(query.size > 0 ? { queryStringParameters } : {}),
      ...(route.parameters.length > 0 ? { pathParameters } : {}),
      requestContext: {
        accountId: this.#config.accountId,
        apiId: this.#config.apiId,
        ...(outcome?.allowed
          ? { authorizer: { jwt: { claims: outcome.claims, scopes: outcome.scopes } } }
          : {}),
        domainName: host,
        domainPrefix: host.split('.')[0] ?? host,
        http: {
          method: (request.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: route.routeKey,
        stage: this.#config.stage,
        time: clfTime(now),
        timeEpoch: now.getTime(),
      },
      ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !isText,
    };
  }

  async #invoke(route: CompiledRoute, event: unknown): Promise<Reply> {
    const fn = this.#functions.get(route.functionName);
    if (!fn) return json(500, { message: 'Internal Server Error' });
    try {
      return toReply(await fn.invoke(event));
    } catch (error) {
      if (!(error instanceof LambdaError)) throw error;
      return json(500, { message: 'Internal Server Error' });
    }
  }
}

/** Payload format 2.0 response rules: a result with statusCode is used as is; anything else is a 200 JSON body. */
export function toReply(result: unknown): Reply {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const { statusCode, headers, cookies, body, isBase64Encoded } = result as Record<string, unknown>;
    if (typeof statusCode !== 'number' || (body !== undefined && typeof body !== 'string')) {
      return json(500, { message: 'Internal Server Error' });
    }
    const text = body ?? '';
    return {
      statusCode,
      headers: Object.fromEntries(
        Object.entries((headers ?? {}) as Record<string, unknown>).map(([name, value]) => [
          name.toLowerCase(),
          String(value),
        ]),
      ),
      cookies: Array.isArray(cookies) ? cookies.map(String) : [],
      body: Buffer.from(text, isBase64Encoded ? 'base64' : 'utf8'),
    };
  }
  const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(body),
  };
}

function compileRoute(route: HttpRoute): CompiledRoute {
  const isDefault = route.path === '$default';
  const { pattern, parameters, rank } = compilePath(isDefault ? '/' : route.path);
  return {
    ...route,
    routeKey: isDefault ? '$default' : `${route.method} ${route.path}`,
    pattern: isDefault ? /^(?:)/ : pattern,
    parameters,
    // $default comes last; among the rest, the path's rank, then a method before ANY.
    rank: [isDefault ? 1 : 0, ...rank, route.method === 'ANY' ? 1 : 0],
    bucket: route.throttle ? new TokenBucket(route.throttle.rate, route.throttle.burst) : undefined,
  };
}

function preflight(cors: CorsConfiguration, origin: string, requestedMethod: string): Reply {
  const reply: Reply = { statusCode: 204, headers: {}, cookies: [], body: Buffer.alloc(0) };
  if (!originAllowed(cors, origin)) return reply;
  const methodAllowed =
    cors.allowMethods.includes('*') || cors.allowMethods.includes(requestedMethod.toUpperCase());
  if (!methodAllowed) return reply;
  Object.assign(reply.headers, corsHeaders(cors, origin), {
    'access-control-allow-methods': cors.allowMethods.join(','),
    ...(cors.allowHeaders.length > 0 ? { 'access-control-allow-headers': cors.allowHeaders.join(',') } : {}),
    ...(cors.maxAge !== undefined ? { 'access-control-max-age': String(cors.maxAge) } : {}),
  });
  return reply;
}

function originAllowed(cors: CorsConfiguration, origin: string): boolean {
  return cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin);
}

function corsHeaders(cors: CorsConfiguration, origin: string): Record<string, string> {
  if (!originAllowed(cors, origin)) return {};
  return {
    'access-control-allow-origin': cors.allowOrigins.includes('*') && !cors.allowCredentials ? '*' : origin,
    ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    ...(cors.exposeHeaders.length > 0
      ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') }
      : {}),
    ...(cors.allowOrigins.includes('*') ? {} : { vary: 'Origin' }),
  };
}

function json(statusCode: number, body: unknown): Reply {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify(body)),
  };
}

function send(response: ServerResponse, reply: Reply, requestId?: string): void {
  const headers: Record<string, string | string[]> = {
    ...reply.headers,
    'content-length': String(reply.body.length),
  };
  if (requestId) headers['apigw-requestid'] = requestId;
  if (reply.cookies.length > 0) headers['set-cookie'] = reply.cookies;
  response.writeHead(reply.statusCode, headers).end(reply.body);
}

/** Header names lower-cased; repeated headers joined with commas, as in payload format 2.0. */
function joinedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = (raw[index] ?? '').toLowerCase();
    const value = raw[index + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}
