import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';

export interface ChatPage {
  url: string;
  stop(): Promise<void>;
}

const MAX_TOKEN_REQUEST_BYTES = 1024;
const USER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The offline chat page: the page itself, its configuration (the WebSocket URL) and a dev sign-in that mints
 * a token from the local issuer. Loopback only, and only ever part of `npm run dev` and the tests.
 */
export async function startChatPage(options: {
  webSocketUrl: string;
  mintToken: (sub: string) => Promise<string>;
  port?: number;
}): Promise<ChatPage> {
  const page = await readFile(new URL('./chat/index.html', import.meta.url));
  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.method === 'GET' && path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (request.method === 'GET' && path === '/config.json') {
      json(200, { webSocketUrl: options.webSocketUrl });
    } else if (request.method === 'POST' && path === '/token') {
      let body = '';
      for await (const chunk of request) {
        body += chunk;
        if (body.length > MAX_TOKEN_REQUEST_BYTES) return json(413, { message: 'Request too large' });
      }
      let sub: unknown;
      try {
        sub = (JSON.parse(body) as { sub?: unknown }).sub;
      } catch {
        return json(400, { message: 'Expected {"sub": "<user id>"}' });
      }
      if (typeof sub !== 'string' || !USER_ID.test(sub))
        return json(400, { message: 'sub must be 1-64 of A-Z a-z 0-9 . _ -' });
      json(200, { token: await options.mintToken(sub) });
    } else {
      json(404, { message: 'Not Found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.port}/`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
