import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** API Gateway's payload limit, for HTTP and REST APIs alike. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * API Gateway's quota on the request line and the header values together (HTTP and REST APIs). AWS documents
 * the limit, not the answer; the offline gateways refuse with 431 Request Header Fields Too Large.
 */
export const MAX_REQUEST_LINE_AND_HEADER_BYTES = 10_240;

/** What the quota above counts: the request line and every header value (names are not counted). */
export function requestLineAndHeaderBytes(request: IncomingMessage): number {
  const requestLine = `${request.method} ${request.url} HTTP/${request.httpVersion}`;
  let bytes = Buffer.byteLength(requestLine, 'latin1');
  for (let index = 1; index < request.rawHeaders.length; index += 2) {
    bytes += Buffer.byteLength(request.rawHeaders[index] ?? '', 'latin1');
  }
  return bytes;
}

/** Content types a Lambda proxy event carries as text; any other body is base64-encoded. */
export const TEXT_CONTENT =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|application\/[\w.+-]+\+(json|xml))/i;

/**
 * The request body, or undefined past `limit` bytes. Past the limit the rest is read and dropped: leaving the
 * loop early would destroy the socket, and the client would see a reset instead of the gateway's answer.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/** A path or query value decoded, or left as sent when it is not valid percent-encoding (as API Gateway does). */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21/Nov/2026:10:55:46 +0000`: API Gateway's requestContext.time / requestTime format. */
export function clfTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * A gateway's HTTP server: every request goes to `handle`; if that throws, the error is logged under `name`
 * and the caller gets a 500 with `{"message": internalErrorMessage}` (each API type words it its own way).
 */
export function gatewayServer(
  name: () => string,
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  internalErrorMessage: string,
): Server {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      console.error(`[${name()}] gateway error`, error);
      if (!response.headersSent) {
        const body = JSON.stringify({ message: internalErrorMessage });
        // A writeHead that threw (a header value Node refuses) has already set its own status text, and a
        // writeHead without one keeps it: "500 Unauthorized". Name the text, and drop headers set before.
        for (const header of response.getHeaderNames()) response.removeHeader(header);
        response.writeHead(500, 'Internal Server Error', {
          'content-type': 'application/json',
          'content-length': String(body.length),
        });
        response.end(body);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

/** Listens on 127.0.0.1 (`port` 0 for any free one) and returns the port taken. */
export async function listenOnLoopback(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** Stops listening and cuts the open connections (keep-alive ones included). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A header's value, its name matched case-insensitively. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.entries(headers).find(([key]) => key.toLowerCase() === lower)?.[1];
}

/** Payload format 1.0 query parameters (the last value wins in the single-value map); absent when there are none. */
export function queryParameters(query: URLSearchParams): {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
} {
  if (query.size === 0) return {};
  // fromEntries defines own properties: a `__proto__` key reaches the function like any other key.
  const keys = [...new Set(query.keys())];
  return {
    queryStringParameters: Object.fromEntries(keys.map((key) => [key, query.getAll(key).at(-1) ?? ''])),
    multiValueQueryStringParameters: Object.fromEntries(keys.map((key) => [key, query.getAll(key)])),
  };
}
