import { createServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { FunctionRegistry } from '../../runtime/lambda.ts';
import type { WebSocketApiConfig, WebSocketRoute } from '../../template/websocket-api-definition.ts';
import { headerValue, queryParameters } from '../gateway-http.ts';
import { TokenBucket } from '../token-bucket.ts';
import { authorizeConnection } from './websocket-authorizer.ts';
import { type Connection, closeConnection, sendJson, serveConnectionsApi } from './websocket-connections.ts';
import {
  awsId,
  CONNECT,
  type ConnectionInfo,
  connectionOf,
  type Handshake,
  invokeFunction,
  payloadHeaders,
  requestContextOf,
  stageVariablesOf,
} from './websocket-events.ts';

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
      serveConnectionsApi(
        request,
        response,
        this.#connections,
        this.#config.stage,
        this.#limits.maxMessageBytes,
      ).catch((error: Error) => {
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
      ? await authorizeConnection(this.#config, this.#functions, route.authorizer, handshake)
      : ({ ok: true, authorizer: undefined } as const);
    if (!authorized.ok) return rejectHandshake(socket, authorized.status, { message: authorized.message });

    const info = connectionOf(handshake, authorized.authorizer);
    let protocol: string | undefined;
    if (route) {
      const event = {
        headers: handshake.headers,
        multiValueHeaders: handshake.multiValueHeaders,
        ...queryParameters(handshake.query),
        ...stageVariablesOf(this.#config),
        requestContext: requestContextOf(this.#config, info, CONNECT),
        isBase64Encoded: false,
      };
      const outcome = await invokeFunction(this.#functions, route.functionName, event);
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

  // ------------------------------------------------------------------------------------------ connection

  #open(socket: WebSocket, info: ConnectionInfo): void {
    const goingAway = () => closeConnection(connection, 1001, 'Going away');
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
      ...stageVariablesOf(this.#config),
      requestContext: {
        ...requestContextOf(this.#config, connection, { routeKey: '$disconnect', eventType: 'DISCONNECT' }),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    const outcome = await invokeFunction(this.#functions, route.functionName, event);
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
    if (isBinary) return closeConnection(connection, 1003, '');
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
      requestContext: requestContextOf(this.#config, connection, {
        routeKey: route.routeKey,
        messageId: awsId(),
        eventType: 'MESSAGE',
        requestId,
      }),
      body: text,
      isBase64Encoded: false,
      ...stageVariablesOf(this.#config),
    };
    // No route responses: what the integration returns stays with the gateway, unless it failed.
    const outcome = await invokeFunction(this.#functions, route.functionName, event);
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
}

// ------------------------------------------------------------------------------------------ helpers

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
