import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

/**
 * The floor: a bare node:http server calling the same bundled handler in-process with a pre-authorised
 * event (no routing, no JWT check, no worker hop). Prints its port, then serves until killed.
 */
const [bundle, eventJson] = process.argv.slice(2);
if (!bundle || !eventJson) throw new Error('usage: bare-server.ts <bundle.mjs> <event-json>');
const event = JSON.parse(eventJson);
const { handler } = await import(pathToFileURL(bundle).href);
const context = { functionName: 'bare', awsRequestId: 'bare', getRemainingTimeInMillis: () => 10_000 };

const server = createServer(async (_request, response) => {
  const result = await handler(event, context);
  response.writeHead(result.statusCode, result.headers).end(result.body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : ''}\n`);
});
