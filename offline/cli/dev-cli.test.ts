import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadTemplate } from '../template/template.ts';
import { webSocketApiIdsOf } from '../template/websocket-api-definition.ts';
import { type DevProcess, spawnDev } from './dev-process.ts';

const run = promisify(execFile);
// The starter's chat is its only WebSocket API; the README's "Remove the WebSocket chat" takes it out.
const HAS_WEBSOCKET_API = webSocketApiIdsOf(loadTemplate()).length > 0;
let stateDir: string;
let dev: DevProcess;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'dev-cli-'));
  dev = spawnDev(stateDir);
  await dev.ready();
});

afterAll(async () => {
  if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  await rm(stateDir, { recursive: true, force: true });
});

/** stack.json with the entries these tests use; a missing one stops the test here, with the whole file shown. */
async function readStack() {
  const stack = await dev.stack();
  const httpApi = stack.httpApis.HttpApi;
  if (!httpApi) throw new Error(`stack.json lacks HttpApi:\n${JSON.stringify(stack, null, 2)}`);
  return { stack, httpApi };
}

/** stack.json's chat entries, for the tests that run while the template has the chat. */
async function readChat() {
  const stack = await dev.stack();
  const chatApi = stack.webSocketApis?.ChatApi;
  const chatPage = stack.chatPage;
  if (!chatApi || !chatPage) {
    throw new Error(`stack.json lacks ChatApi or chatPage:\n${JSON.stringify(stack, null, 2)}`);
  }
  return { chatApi, chatPage };
}

/** `npm run token -- <args>` against this dev process's signing key. */
async function token(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['offline/cli/token.ts', '--state-dir', stateDir, ...args]);
  return stdout.trim();
}

test('npm run dev prints every route with its authorisation and writes .local/stack.json', async () => {
  expect(dev.output()).toMatch(
    /POST\s+\/orders\s+→ CreateOrderFunction\s+JWT CognitoJwt scopes: api\/orders\.write/,
  );
  const { stack, httpApi } = await readStack();
  expect(httpApi.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(httpApi.routes).toContain('DELETE /orders/{id}');
  expect(stack.issuer.issuers).toEqual(['https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool']);
  expect(stack.dynamodb.tables).toEqual({
    OrdersTable: 'OrdersTable',
    ProductsTable: 'ProductsTable',
    IdempotencyTable: 'IdempotencyTable',
    // The chat's table goes with the chat.
    ...(HAS_WEBSOCKET_API ? { ConnectionsTable: 'ConnectionsTable' } : {}),
  });
  expect(stack.dynamodb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(stack.sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('the summary lists the partner REST API with a key per tier; the seeded catalogue answers with one', async () => {
  const { stack } = await readStack();
  const partnerApi = stack.restApis.PartnerApi;
  if (!partnerApi) throw new Error(`stack.json lacks PartnerApi:\n${JSON.stringify(stack, null, 2)}`);
  expect(partnerApi.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev$/);
  expect(partnerApi.routes.map((route) => route.route)).toEqual([
    'GET /health',
    'OPTIONS /products',
    'GET /products',
    'OPTIONS /products/{id}',
    'GET /products/{id}',
    'OPTIONS /orders',
    'GET /orders',
    'POST /orders',
    'OPTIONS /orders/{id}',
    'GET /orders/{id}',
  ]);
  // What the definition relies on that API Gateway may not enforce is said at start-up, not left to be found.
  expect(partnerApi.warnings).toEqual([
    expect.stringContaining('GET /products: the query parameter limit declares minimum, maximum'),
    expect.stringContaining('GET /orders/{id}: the path parameter id declares format'),
    expect.stringContaining('POST /orders: the CreateOrderInput model uses additionalProperties'),
    expect.stringContaining('POST /orders: the CreateOrderInput model uses maxItems'),
    expect.stringContaining('POST /orders: the CreateOrderInput model uses minItems'),
  ]);
  for (const warning of partnerApi.warnings) expect(dev.output()).toContain(`warning\x1b[0m ${warning}`);
  // dev runs without a stage cache, as samconfig's dev environment does.
  expect(partnerApi.cacheClusterEnabled).toBe(false);
  expect(partnerApi.apiKeys.map((key) => key.plan)).toEqual([
    'local-partner-free',
    'local-partner-standard',
    'local-partner-enterprise',
  ]);
  expect(dev.output()).toMatch(/POST\s+\/orders\s+→ sqs \(VTL\)\s+API key/);
  for (const key of partnerApi.apiKeys) expect(dev.output()).toContain(`x-api-key: ${key.value}`);
  const [free] = partnerApi.apiKeys;
  const tea = await fetch(`${partnerApi.url}/products/green-tea`, {
    headers: { 'x-api-key': String(free?.value) },
  });
  expect(tea.status).toBe(200);
  expect((await fetch(`${partnerApi.url}/products/green-tea`)).status).toBe(403);
});

test('a token from npm run token is accepted, and the seeded catalogue can be ordered from', async () => {
  const jwt = await token('--sub', 'cli-user', '--scope', 'api/orders.read api/orders.write');
  const { httpApi } = await readStack();
  const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
  const me = await fetch(`${httpApi.url}/me`, { headers });
  expect(await me.json()).toMatchObject({ sub: 'cli-user', scopes: ['api/orders.read', 'api/orders.write'] });

  const order = await fetch(`${httpApi.url}/orders`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ items: [{ productId: 'green-tea', quantity: 1 }] }),
  });
  expect(order.status).toBe(201);
});

test('an expired token from npm run token is refused', async () => {
  const jwt = await token('--sub', 'late', '--expires-in=-1m');
  const { httpApi } = await readStack();
  const me = await fetch(`${httpApi.url}/me`, {
    headers: { authorization: `Bearer ${jwt}` },
  });
  expect(me.status).toBe(401);
});

test("npm run token --client mints the partner app client's token, which GET /orders accepts next to a key", async () => {
  expect(dev.output()).toMatch(
    /GET\s+\/orders\s+→ StreamPartnerOrdersFunction\s+authoriser partnerToken → PartnerAuthorizerFunction \(header\.Authorization, cached 300 s\), API key/,
  );
  expect(dev.output()).toContain('Client:  npm run -s token -- --client PartnerAppClient');
  const { stack } = await readStack();
  const partnerApi = stack.restApis.PartnerApi;
  const key = partnerApi?.apiKeys.at(-1)?.value;
  const orders = (authorization: string) =>
    fetch(`${partnerApi?.url}/orders`, { headers: { 'x-api-key': String(key), authorization } });
  const accepted = await orders(`Bearer ${await token('--client', 'PartnerAppClient')}`);
  expect(accepted.status).toBe(200);
  expect(accepted.headers.get('content-type')).toBe('application/x-ndjson');
  await accepted.text();
  const denied = await orders(`Bearer ${await token('--client', 'PartnerAppClient', '--scope', '')}`);
  expect(denied.status).toBe(403);
  // A user's token is no partner's, whatever scopes it carries.
  const user = await orders(`Bearer ${await token('--sub', 'mallory', '--scope', 'partner/orders.read')}`);
  expect(user.status).toBe(401);
});

test('npm run token says in one line what is wrong with its options', async () => {
  const failure = await run(process.execPath, ['offline/cli/token.ts', '--client', 'UserPoolClient']).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure).toMatchObject({
    code: 1,
    stderr:
      'npm run token: --client: Resources.UserPoolClient.Properties.AllowedOAuthFlows does not allow client_credentials\n',
  });
});

// The chat's tests run while the template has it (the README's "Remove the WebSocket chat" takes it out).
test.runIf(HAS_WEBSOCKET_API)(
  'the summary lists the WebSocket API, its routes and authoriser; stack.json has its URLs',
  async () => {
    const { chatApi, chatPage } = await readChat();
    expect(chatApi.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/dev$/);
    expect(chatApi.connectionsEndpoint).toBe(`${chatApi.url.replace(/^ws:/, 'http:')}/@connections`);
    expect(chatApi.routes).toEqual([
      '$connect',
      '$disconnect',
      'joinroom',
      'leaveroom',
      'sendmessage',
      '$default',
    ]);
    expect(dev.output()).toContain(
      `ChatApi\x1b[0m  ${chatApi.url}  (@connections ${chatApi.connectionsEndpoint})`,
    );
    expect(dev.output()).toMatch(
      /\$connect\s+→ ChatConnectFunction\s+authoriser ChatAuthorizer → ChatAuthorizerFunction \(querystring\.token\)/,
    );
    expect(dev.output()).toContain(`npx wscat -c "${chatApi.url}?token=$(npm run -s token -- --sub alice)"`);
    expect(chatPage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(chatPage)).text()).toContain('<title>Support chat (offline)</title>');
  },
);

test.runIf(HAS_WEBSOCKET_API)(
  'a token from npm run token opens a chat connection (the wscat recipe); none is a 401',
  async () => {
    const jwt = await token('--sub', 'alice');
    const { url } = (await readChat()).chatApi;
    const socket = new WebSocket(`${url}?token=${jwt}`);
    await once(socket, 'open');
    socket.send(JSON.stringify({ action: 'joinroom', roomId: 'general' }));
    const [frame] = await once(socket, 'message');
    expect(JSON.parse(String(frame))).toEqual({ type: 'joined', roomId: 'general' });
    socket.close();

    const refused = new WebSocket(url);
    refused.on('error', () => undefined);
    const [, response] = await once(refused, 'unexpected-response');
    expect(response.statusCode).toBe(401);
  },
);

test('Ctrl-C stops the HTTP API, DynamoDB Local and, with the chat, the WebSocket API and the chat page', async () => {
  const { stack, httpApi } = await readStack();
  const chat = HAS_WEBSOCKET_API ? await readChat() : undefined;
  expect(await dev.stop()).toBe(0);
  await expect(fetch(`${httpApi.url}/me`)).rejects.toThrow();
  await expect(fetch(stack.dynamodb.endpoint)).rejects.toThrow();
  if (chat) {
    await expect(fetch(chat.chatApi.url.replace(/^ws:/, 'http:'))).rejects.toThrow();
    await expect(fetch(chat.chatPage)).rejects.toThrow();
  }
});
