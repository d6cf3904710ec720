import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { type FunctionRegistry, LambdaError } from '../../runtime/lambda.ts';
import type { Json, JsonObject } from '../../template/template.ts';
import type {
  WebSocketApiConfig,
  WebSocketAuthorizerConfig,
  WebSocketRoute,
} from '../../template/websocket-api-definition.ts';
import { clfTime, headerValue, queryParameters, readBody, safeDecode } from '../gateway-http.ts';
import { TokenBucket } from '../token-bucket.ts';

/**
 * The offline WebSocket API: API Gateway's WebSocket behaviour for the AWS::ApiGatewayV2 resources of the
 * template (Api with ProtocolType WEBSOCKET, its Routes, Lambda proxy Integrations, REQUEST Authorizer and
 * Stage), on loopback, with the `@connections` management API on the same port.
 */

/** API Gateway's WebSocket quotas (docs: "Quotas for configuring and running a WebSocket API"). */
export interface WebSocketLimits {
  /** Message payload size: a bigger message closes the connection with 1009; a bigger POST is a 413. */
  maxMessageBytes: number;
  /** Idle connection timeout: no message from the client for this long closes the connection (1001). */
  idleTimeoutMs: number;
  /** Connection duration: a connection is closed (1001) after this long, however busy. */
  maxDurationMs: number;
}

export const AWS_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxMessageBytes: 128 * 1024,
  idleTimeoutMs: 10 * 60_000,
  maxDurationMs: 2 * 60 * 60_000,
};

/**
 * API Gateway's quota on a WebSocket URL (wss://, host, path and query string), in characters. AWS documents
 * the limit, not the answer; offline the handshake fails with 414 URI Too Long.
 */
const MAX_URL_CHARACTERS = 4096;

interface CompiledRoute extends WebSocketRoute {
  bucket: TokenBucket | undefined;
}

/** What every event of a connection repeats. */
interface ConnectionInfo {
  id: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  /** principalId, the authoriser's context and integrationLatency, on every event of the connection. */
  authorizer: Record<string, unknown> | undefined;
}

interface Connection extends ConnectionInfo {
  socket: WebSocket;
  lastActiveAt: number;
  idleTimer: NodeJS.Timeout;
  lifetimeTimer: NodeJS.Timeout;
  /** Set when the gateway closes the connection itself: the code and reason the $disconnect event reports. */
  closing?: { code: number; reason: string };
}

interface Handshake {
  connectionId: string;
  connectedAt: number;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: URLSearchParams;
  sourceIp: string;
  userAgent: string;
  domainName: string;
}

const CONNECT = { routeKey: '$connect', eventType: 'CONNECT' } as const;

/** The connection a handshake opens; the authoriser sees it before any authoriser context exists. */
function connectionOf(handshake: Handshake, authorizer: ConnectionInfo['authorizer']): ConnectionInfo {
  const { connectionId: id, connectedAt, sourceIp, userAgent, domainName } = handshake;
  return { id, connectedAt, sourceIp, userAgent, domainName, authorizer };
}

type AuthorizerResult =
  | { ok: true; authorizer: Record<string, unknown> | undefined }
  | { ok: false; status: number; message: string };

/**
 * One WebSocket API stage on a loopback port: `ws://127.0.0.1:<port>/<stage>` for clients and
 * `http://127.0.0.1:<port>/<stage>/@connections/<id>` for the backend, as API Gateway serves them.
 */
export class LocalWebSocketApi {
  #config!: WebSocketApiConfig;
  #routes = new Map<string, CompiledRoute>();
  readonly #functions: FunctionRegistry;
  readonly #limits: WebSocketLimits;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<string, Connection>();
  /** The subprotocol the $connect integration chose, per upgrade request. */
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  #port = 0;
  #stopping = false;

  constructor(
    config: WebSocketApiConfig,
    functions: FunctionRegistry,
    limits: Partial<WebSocketLimits> = {},
  ) {
    this.#functions = functions;
    this.#limits = { ...AWS_WEBSOCKET_LIMITS, ...limits };
    this.configure(config);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#limits.maxMessageBytes,
      perMessageDeflate: false,
      // API Gateway answers with the subprotocol the $connect integration returned, and with none otherwise.
      handleProtocols: (_offered, request) => this.#protocols.get(request) ?? false,
    });
    this.#server = createServer((request, response) => {
      this.#manage(request, response).catch((error: Error) => {
        console.error(`[${this.#config.logicalId}] @connections error`, error);
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal server error' });
      });
    });
    this.#server.keepAliveTimeout = 60_000;
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      this.#upgrade(request, socket, head).catch((error: Error) => {
        console.error(`[${this.#config.logicalId}] handshake error`, error);
        rejectHandshake(socket, 500, { message: 'Internal server error' });
      });
    });
  }

  get config(): WebSocketApiConfig {
    return this.#config;
  }

  /** Routes, authoriser and throttling from the template; replaced as a whole when the template changes. */
  configure(config: WebSocketApiConfig): void {
    this.#config = config;
    this.#routes = new Map(
      config.routes.map((route) => [
        route.routeKey,
        {
          ...route,
          bucket: route.throttle ? new TokenBucket(route.throttle.rate, route.throttle.burst) : undefined,
        },
      ]),
    );
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', resolve);
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    return this.url;
  }

  /** What clients connect to. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}/${this.#config.stage}`;
  }

  /** The management API's endpoint, as the SDK wants it (`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`). */
  get managementEndpoint(): string {
    return `http://127.0.0.1:${this.#port}/${this.#config.stage}`;
  }

  /** Where `@connections/<connectionId>` lives. */
  get connectionsEndpoint(): string {
    return `${this.managementEndpoint}/@connections`;
  }

  /** Ids of the open connections. */
  connectionIds(): string[] {
    return [...this.#connections.keys()];
  }

  /**
   * Drops a connection the way API Gateway loses one whose `$disconnect` never ran ($disconnect is
   * best-effort): the socket is cut, `@connections` answers 410 from now on, and no `$disconnect` event is sent.
   */
  forget(connectionId: string): boolean {
    const connection = this.#connections.get(connectionId);
    if (!connection) return false;
    this.#remove(connection);
    connection.socket.terminate();
    return true;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const connection of this.#connections.values()) {
      this.#remove(connection);
      connection.socket.terminate();
    }
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------------------------------ handshake

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (this.#stopping || url.pathname.replace(/\/$/, '') !== `/${this.#config.stage}`) {
      return rejectHandshake(socket, 403, { message: 'Forbidden' });
    }
    // Before the authoriser: a token padded past the quota is never verified, let alone accepted.
    if (`wss://${request.headers.host ?? ''}${request.url ?? ''}`.length > MAX_URL_CHARACTERS) {
      return rejectHandshake(socket, 414, { message: 'URI Too Long' });
    }
    if (request.headers.upgrade?.toLowerCase() !== 'websocket' || !request.headers['sec-websocket-key']) {
      return rejectHandshake(socket, 400, { message: 'Bad Request' });
    }
    const { headers, multiValueHeaders } = payloadHeaders(request);
    const header = (name: string) => headerValue(headers, name);
    const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const handshake: Handshake = {
      connectionId: awsId(),
      connectedAt: Date.now(),
      headers: {
        ...headers,
        'X-Forwarded-For': sourceIp,
        'X-Forwarded-Port': String(request.socket.localPort ?? this.#port),
        'X-Forwarded-Proto': 'http',
      },
      multiValueHeaders: {
        ...multiValueHeaders,
        'X-Forwarded-For': [sourceIp],
        'X-Forwarded-Port': [String(request.socket.localPort ?? this.#port)],
        'X-Forwarded-Proto': ['http'],
      },
      query: url.searchParams,
      sourceIp,
      userAgent: header('user-agent') ?? '',
      domainName: header('host') ?? `127.0.0.1:${this.#port}`,
    };
    const route = this.#routes.get('$connect');
    if (route?.bucket && !route.bucket.take()) {
      return rejectHandshake(socket, 429, { message: 'Too Many Requests' });
    }

    const authorized = route?.authorizer
      ? await this.#authorize(route.authorizer, handshake)
      : ({ ok: true, authorizer: undefined } as const);
    if (!authorized.ok) return rejectHandshake(socket, authorized.status, { message: authorized.message });

    const info = connectionOf(handshake, authorized.authorizer);
    let protocol: string | undefined;
    if (route) {
      const event = {
        headers: handshake.headers,
        multiValueHeaders: handshake.multiValueHeaders,
        ...queryParameters(handshake.query),
        ...this.#stageVariables(),
        requestContext: this.#requestContext(info, CONNECT),
        isBase64Encoded: false,
      };
      const outcome = await this.#invoke(route.functionName, event);
      if (!outcome.ok) return rejectHandshake(socket, 500, { message: 'Internal server error' });
      const result = outcome.result as { statusCode?: unknown; body?: unknown; headers?: unknown } | null;
      const status = statusOf(result);
      if (status < 200 || status > 299) {
        return rejectHandshake(socket, status, typeof result?.body === 'string' ? result.body : '');
      }
      protocol = subprotocolOf(result?.headers);
    }

    if (socket.destroyed) {
      // The client left while $connect ran: the backend has seen the connection, so it hears of its end.
      void this.#disconnectEvent(info, 1006, '');
      return;
    }
    if (protocol) this.#protocols.set(request, protocol);
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#open(ws, info));
  }

  /** The REQUEST authoriser: identity sources first (none missing), then the function's policy. */
  async #authorize(authorizer: WebSocketAuthorizerConfig, handshake: Handshake): Promise<AuthorizerResult> {
    for (const source of authorizer.identitySource) {
      const value =
        source.in === 'header'
          ? headerValue(handshake.headers, source.name)
          : (handshake.query.getAll(source.name).at(-1) ?? undefined);
      if (!value) return { ok: false, status: 401, message: 'Unauthorized' };
    }
    const { region, accountId, apiId, stage } = this.#config;
    const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/$connect`;
    const query = queryParameters(handshake.query);
    const event = {
      type: 'REQUEST',
      methodArn,
      headers: handshake.headers,
      multiValueHeaders: handshake.multiValueHeaders,
      queryStringParameters: query.queryStringParameters ?? {},
      multiValueQueryStringParameters: query.multiValueQueryStringParameters ?? {},
      stageVariables: this.#config.stageVariables,
      requestContext: this.#requestContext(connectionOf(handshake, undefined), CONNECT),
    };
    const started = performance.now();
    const outcome = await this.#invoke(authorizer.functionName, event);
    const integrationLatency = Math.round(performance.now() - started);
    if (!outcome.ok) {
      // A function that fails with exactly "Unauthorized" is API Gateway's way to say 401.
      return outcome.error?.message === 'Unauthorized'
        ? { ok: false, status: 401, message: 'Unauthorized' }
        : { ok: false, status: 500, message: 'Internal server error' };
    }
    const response = outcome.result as { principalId?: unknown; policyDocument?: unknown; context?: unknown };
    const context = response?.context ?? {};
    if (
      response === null ||
      typeof response !== 'object' ||
      typeof response.policyDocument !== 'object' ||
      response.policyDocument === null ||
      typeof context !== 'object' ||
      context === null ||
      // The context map takes strings, numbers and booleans only; anything else is a 500 on AWS too.
      Object.values(context).some((value) => value !== null && typeof value === 'object')
    ) {
      return { ok: false, status: 500, message: 'Internal server error' };
    }
    if (!policyAllows(response.policyDocument as JsonObject, methodArn)) {
      return { ok: false, status: 403, message: 'Forbidden' };
    }
    return {
      ok: true,
      authorizer: {
        principalId: response.principalId === undefined ? '' : String(response.principalId),
        ...(context as Record<string, unknown>),
        integrationLatency,
      },
    };
  }

  // ------------------------------------------------------------------------------------------ connection

  #open(socket: WebSocket, info: ConnectionInfo): void {
    const goingAway = () => this.#close(connection, 1001, 'Going away');
    const connection: Connection = {
      ...info,
      socket,
      lastActiveAt: info.connectedAt,
      idleTimer: setTimeout(goingAway, this.#limits.idleTimeoutMs).unref(),
      lifetimeTimer: setTimeout(goingAway, this.#limits.maxDurationMs).unref(),
    };
    this.#connections.set(connection.id, connection);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.#message(connection, data, isBinary).catch((error: Error) =>
        console.error(`[${this.#config.logicalId}] message error`, error),
      );
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // ws closes the connection itself with 1009 when a message is over maxPayload.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        connection.closing ??= { code: 1009, reason: 'Message too big' };
    });
    socket.on('close', (code: number, reason: Buffer) => {
      if (this.#connections.get(connection.id) !== connection) return;
      this.#remove(connection);
      const final = connection.closing ?? { code, reason: reason.toString() };
      void this.#disconnectEvent(connection, final.code, final.reason);
    });
  }

  /** The gateway closes a connection (idle, too old, DELETE @connections). */
  #close(connection: Connection, code: number, reason: string): void {
    connection.closing ??= { code, reason };
    connection.socket.close(code, reason);
    // A client that does not answer the closing handshake is cut off, as API Gateway would.
    setTimeout(() => connection.socket.terminate(), 1000).unref();
  }

  #remove(connection: Connection): void {
    this.#connections.delete(connection.id);
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.lifetimeTimer);
  }

  async #disconnectEvent(connection: ConnectionInfo, code: number, reason: string): Promise<void> {
    const route = this.#routes.get('$disconnect');
    if (!route || this.#stopping) return;
    const event = {
      headers: { Host: connection.domainName, 'X-Forwarded-For': connection.sourceIp },
      multiValueHeaders: { Host: [connection.domainName], 'X-Forwarded-For': [connection.sourceIp] },
      ...this.#stageVariables(),
      requestContext: {
        ...this.#requestContext(connection, { routeKey: '$disconnect', eventType: 'DISCONNECT' }),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    const outcome = await this.#invoke(route.functionName, event);
    if (!outcome.ok && !this.#stopping)
      console.error(
        `[${this.#config.logicalId}] $disconnect failed: ${outcome.error?.message ?? 'no function'}`,
      );
  }

  async #message(connection: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    connection.lastActiveAt = Date.now();
    connection.idleTimer.refresh();
    // API Gateway does not take binary frames: it disconnects the client with 1003 (AWS developer guide,
    // "Binary media types for WebSocket APIs in API Gateway").
    if (isBinary) return this.#close(connection, 1003, '');
    const text = data.toString('utf8');
    const route = this.#routes.get(this.#selectRoute(text));
    const requestId = awsId();
    const frame = (message: string) =>
      connection.socket.send(
        `{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connection.id)}, "requestId":${JSON.stringify(requestId)}}`,
      );
    if (!route) return frame('Forbidden');
    if (route.bucket && !route.bucket.take()) return frame('Too Many Requests');
    const event = {
      requestContext: this.#requestContext(connection, {
        routeKey: route.routeKey,
        messageId: awsId(),
        eventType: 'MESSAGE',
        requestId,
      }),
      body: text,
      isBase64Encoded: false,
      ...this.#stageVariables(),
    };
    // No route responses: what the integration returns stays with the gateway, unless it failed.
    const outcome = await this.#invoke(route.functionName, event);
    if (!outcome.ok && connection.socket.readyState === WebSocket.OPEN) frame('Internal server error');
  }

  /** `$request.body.<path>` of a JSON message; anything else (not JSON, no value, no such route) → $default. */
  #selectRoute(text: string): string {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return '$default';
    }
    for (const key of this.#config.routeSelectionPath) {
      value =
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      return '$default';
    const key = String(value);
    return key !== '$connect' && key !== '$disconnect' && this.#routes.has(key) ? key : '$default';
  }

  #requestContext(
    connection: ConnectionInfo,
    details: {
      routeKey: string;
      eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
      messageId?: string;
      requestId?: string;
    },
  ): Record<string, unknown> {
    const now = new Date();
    return {
      routeKey: details.routeKey,
      ...(details.messageId ? { messageId: details.messageId } : {}),
      eventType: details.eventType,
      extendedRequestId: awsId(),
      requestTime: clfTime(now),
      messageDirection: 'IN',
      stage: this.#config.stage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now.getTime(),
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      requestId: details.requestId ?? awsId(),
      domainName: connection.domainName,
      connectionId: connection.id,
      apiId: this.#config.apiId,
      ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
    };
  }

  #stageVariables(): { stageVariables?: Record<string, string> } {
    return Object.keys(this.#config.stageVariables).length > 0
      ? { stageVariables: this.#config.stageVariables }
      : {};
  }

  async #invoke(
    functionName: string,
    event: unknown,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: LambdaError | undefined }> {
    const fn = this.#functions.get(functionName);
    if (!fn) return { ok: false, error: undefined };
    try {
      return { ok: true, result: await fn.invoke(event) };
    } catch (error) {
      if (error instanceof LambdaError) return { ok: false, error };
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------ @connections

  async #manage(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request, this.#limits.maxMessageBytes);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const prefix = `/${this.#config.stage}/@connections/`;
    if (!url.pathname.startsWith(prefix)) return sendJson(response, 403, { message: 'Forbidden' });
    const connectionId = safeDecode(url.pathname.slice(prefix.length));
    const method = (request.method ?? 'GET').toUpperCase();
    if (!['POST', 'GET', 'DELETE'].includes(method)) return sendJson(response, 403, { message: 'Forbidden' });
    const connection = this.#connections.get(connectionId);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) {
      return sendJson(response, 410, {}, 'GoneException');
    }
    switch (method) {
      case 'POST': {
        if (body === undefined) {
          return sendJson(response, 413, { message: 'Message too long' }, 'PayloadTooLargeException');
        }
        const sent = await new Promise<boolean>((resolve) =>
          connection.socket.send(body, { binary: false }, (error) => resolve(!error)),
        );
        return sent ? sendJson(response, 200) : sendJson(response, 410, {}, 'GoneException');
      }
      case 'GET':
        return sendJson(response, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      default:
        this.#close(connection, 1000, '');
        return sendJson(response, 204);
    }
  }
}

// ------------------------------------------------------------------------------------------ helpers

/** An id shaped like API Gateway's connection, request and message ids: 'L0SM9cOFvHcCIhw='. */
export function awsId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** Whether an IAM policy from an authoriser allows execute-api:Invoke on the method (an explicit Deny wins). */
export function policyAllows(policy: JsonObject, methodArn: string): boolean {
  const list = (value: Json | undefined): Json[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  let allowed = false;
  for (const statement of list(policy.Statement) as JsonObject[]) {
    const action = list(statement.Action).some((pattern) =>
      wildcard(String(pattern), 'execute-api:Invoke', 'i'),
    );
    const resource = list(statement.Resource).some((pattern) => wildcard(String(pattern), methodArn));
    if (!action || !resource) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function wildcard(pattern: string, value: string, flags = ''): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, flags).test(value);
}

function statusOf(result: { statusCode?: unknown } | null | undefined): number {
  if (result === null || typeof result !== 'object' || result.statusCode === undefined) return 200;
  const status = Number(result.statusCode);
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500;
}

function subprotocolOf(headers: unknown): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const found = Object.entries(headers).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol');
  return found ? String(found[1]) : undefined;
}

/** Payload format 1.0 headers: names as sent, the last value of a repeated header, all of them in multiValue. */
function payloadHeaders(request: IncomingMessage): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  // Maps, not objects: a header named `__proto__` or `constructor` must not meet Object.prototype.
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const value = raw[index + 1] ?? '';
    headers.set(name, value);
    multiValueHeaders.set(name, [...(multiValueHeaders.get(name) ?? []), value]);
  }
  return { headers: Object.fromEntries(headers), multiValueHeaders: Object.fromEntries(multiValueHeaders) };
}

function rejectHandshake(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `x-amzn-RequestId: ${awsId()}\r\nConnection: close\r\n\r\n${text}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

function sendJson(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response
    .writeHead(status, {
      ...(text ? { 'content-type': 'application/json' } : {}),
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-RequestId': awsId(),
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    })
    .end(text);
}
