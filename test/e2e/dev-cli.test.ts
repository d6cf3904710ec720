import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';

const run = promisify(execFile);
let stateDir: string;
let dev: ChildProcess;
let output = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'dev-cli-'));
  dev = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      'local/dev.ts',
      '--state-dir',
      stateDir,
      '--no-watch',
      '--http-port',
      '0',
      '--issuer-port',
      '0',
      '--dynamodb-port',
      '0',
      '--sqs-port',
      '0',
      '--websocket-port',
      '0',
      '--chat-port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dev.stdout?.on('data', (chunk) => (output += chunk));
  dev.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ready in')) {
    if (dev.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm run dev did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  if (dev.exitCode === null) dev.kill('SIGKILL');
  await rm(stateDir, { recursive: true, force: true });
});

test('npm run dev prints every route with its authorisation and writes .local/stack.json', async () => {
  expect(output).toMatch(
    /POST\s+\/orders\s+→ CreateOrderFunction\s+JWT CognitoJwt scopes: api\/orders\.write/,
  );
  const stack = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'));
  expect(stack.httpApis.HttpApi.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(stack.httpApis.HttpApi.routes).toContain('DELETE /orders/{id}');
  expect(stack.issuer.issuers).toEqual(['https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool']);
  expect(stack.dynamodb.tables).toEqual({
    OrdersTable: 'OrdersTable',
    ProductsTable: 'ProductsTable',
    IdempotencyTable: 'IdempotencyTable',
    ConnectionsTable: 'ConnectionsTable',
  });
  expect(stack.dynamodb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(stack.sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('a token from npm run token is accepted, and the seeded catalogue can be ordered from', async () => {
  const { stdout } = await run(process.execPath, [
    'local/token.ts',
    '--state-dir',
    stateDir,
    '--sub',
    'cli-user',
    '--scope',
    'api/orders.read api/orders.write',
  ]);
  const stack = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'));
  const headers = { authorization: `Bearer ${stdout.trim()}`, 'content-type': 'application/json' };
  const me = await fetch(`${stack.httpApis.HttpApi.url}/me`, { headers });
  expect(await me.json()).toMatchObject({ sub: 'cli-user', scopes: ['api/orders.read', 'api/orders.write'] });

  const order = await fetch(`${stack.httpApis.HttpApi.url}/orders`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ items: [{ productId: 'green-tea', quantity: 1 }] }),
  });
  expect(order.status).toBe(201);
});

test('an expired token from npm run token is refused', async () => {
  const { stdout } = await run(process.execPath, [
    'local/token.ts',
    '--state-dir',
    stateDir,
    '--sub',
    'late',
    '--expires-in=-1m',
  ]);
  const stack = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'));
  const me = await fetch(`${stack.httpApis.HttpApi.url}/me`, {
    headers: { authorization: `Bearer ${stdout.trim()}` },
  });
  expect(me.status).toBe(401);
});

test('the summary lists the WebSocket API, its routes and authoriser; stack.json has its URLs', async () => {
  const stack = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'));
  const { ChatApi } = stack.webSocketApis;
  expect(ChatApi.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/dev$/);
  expect(ChatApi.connectionsEndpoint).toBe(`${ChatApi.url.replace(/^ws:/, 'http:')}/@connections`);
  expect(ChatApi.routes).toEqual([
    '$connect',
    '$disconnect',
    'joinroom',
    'leaveroom',
    'sendmessage',
    '$default',
  ]);
  expect(output).toContain(`ChatApi\x1b[0m  ${ChatApi.url}  (@connections ${ChatApi.connectionsEndpoint})`);
  expect(output).toMatch(
    /\$connect\s+→ ChatConnectFunction\s+authoriser ChatAuthorizer → ChatAuthorizerFunction \(querystring\.token\)/,
  );
  expect(output).toContain(`npx wscat -c "${ChatApi.url}?token=$(npm run -s token -- --sub alice)"`);
  expect(stack.chatPage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(await (await fetch(stack.chatPage)).text()).toContain('<title>Support chat (offline)</title>');
});

test('a token from npm run token opens a chat connection (the wscat recipe); none is a 401', async () => {
  const { stdout } = await run(process.execPath, [
    'local/token.ts',
    '--state-dir',
    stateDir,
    '--sub',
    'alice',
  ]);
  const { url } = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')).webSocketApis.ChatApi;
  const socket = new WebSocket(`${url}?token=${stdout.trim()}`);
  await once(socket, 'open');
  socket.send(JSON.stringify({ action: 'joinroom', roomId: 'general' }));
  const [frame] = await once(socket, 'message');
  expect(JSON.parse(String(frame))).toEqual({ type: 'joined', roomId: 'general' });
  socket.close();

  const refused = new WebSocket(url);
  refused.on('error', () => undefined);
  const [, response] = await once(refused, 'unexpected-response');
  expect(response.statusCode).toBe(401);
});

test('Ctrl-C stops the HTTP API, the WebSocket API, the chat page and DynamoDB Local', async () => {
  const stack = JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8'));
  dev.kill('SIGINT');
  const [code] = await once(dev, 'exit');
  expect(code).toBe(0);
  await expect(fetch(`${stack.httpApis.HttpApi.url}/me`)).rejects.toThrow();
  await expect(fetch(stack.dynamodb.endpoint)).rejects.toThrow();
  await expect(fetch(stack.webSocketApis.ChatApi.url.replace(/^ws:/, 'http:'))).rejects.toThrow();
  await expect(fetch(stack.chatPage)).rejects.toThrow();
});
