import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type LambdaConfig, LocalLambda } from '../../runtime/lambda.ts';
import { createSigningKey, type LocalIssuer, signToken, startIssuer } from '../../services/issuer.ts';

/**
 * A Lambda authoriser that verifies tokens with aws-jwt-verify's CognitoJwtVerifier (as the starter's chat
 * $connect and partner authorisers do) fetches
 * https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json with node:https. Inside a Lambda
 * worker that URL is answered by the local issuer, with no change to the handler. The handler is this file's
 * own, so the test does not depend on the chat (which the README's "Remove the WebSocket chat" deletes).
 */
const POOL = 'us-east-1_ChatPool';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const verifyModule = pathToFileURL(resolve('node_modules/aws-jwt-verify/dist/esm/index.js')).href;

const handlerSource = `
import https, { request } from 'node:https';
import { CognitoJwtVerifier } from '${verifyModule}';

const verifier = CognitoJwtVerifier.create({ userPoolId: '${POOL}', clientId: 'chat-client', tokenUse: 'access' });

const fetchText = (call) => new Promise((resolve, reject) => {
  const req = call((response) => {
    let body = '';
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve({ status: response.statusCode, body }));
  });
  req.on('error', reject);
});

export const handler = async (event) => {
  if (event.token) {
    try {
      const payload = await verifier.verify(event.token);
      return { ok: true, sub: payload.sub };
    } catch (error) {
      return { ok: false, error: error.message };
    }
  }
  const url = '${ISSUER}/.well-known/jwks.json';
  const viaRequest = await fetchText((callback) => { const req = request(url, callback); req.end(); return req; });
  const viaGet = await fetchText((callback) => https.get(new URL(url), { headers: { accept: 'application/json' } }, callback));
  const elsewhere = await fetchText((callback) => { const req = request('https://127.0.0.1:1/x', callback); req.end(); return req; })
    .then(() => 'answered', (error) => error.code);
  return { viaRequest, viaGet, elsewhere };
};
`;

let dir: string;
let issuer: LocalIssuer;
let fn: LocalLambda;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jwks-redirect-'));
  await writeFile(join(dir, 'authorizer.mjs'), handlerSource);
  issuer = await startIssuer(await createSigningKey(), [ISSUER]);
  const config: LambdaConfig = {
    functionName: 'ChatAuthorizerFunction',
    bundle: {
      file: join(dir, 'authorizer.mjs'),
      inputs: new Set(),
      bytes: 0,
      metafile: { inputs: {}, outputs: {} },
    },
    exportName: 'handler',
    environment: {},
    timeoutSeconds: 5,
    memorySize: 128,
    region: 'us-east-1',
    accountId: '000000000000',
    maxConcurrency: 1,
    log: () => undefined,
    issuerUrl: issuer.url,
  };
  fn = new LocalLambda(config);
});

afterAll(async () => {
  await fn?.stop();
  await issuer?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("Cognito's JWKS URL is answered by the local issuer (https.request and https.get); other hosts are not redirected", async () => {
  const result = (await fn.invoke({})) as {
    viaRequest: { status: number; body: string };
    viaGet: { status: number; body: string };
    elsewhere: string;
  };
  const jwks = { keys: [issuer.key.publicJwk] };
  expect(result.viaRequest.status).toBe(200);
  expect(JSON.parse(result.viaRequest.body)).toEqual(jwks);
  expect(JSON.parse(result.viaGet.body)).toEqual(jwks);
  expect(result.elsewhere).toBe('ECONNREFUSED');
});

test('an unmodified CognitoJwtVerifier accepts a local token and refuses an expired one', async () => {
  const token = (expiresIn: number) =>
    signToken(issuer.key, { issuer: ISSUER, clientId: 'chat-client', sub: 'alice', expiresIn });
  expect(await fn.invoke({ token: await token(300) })).toEqual({ ok: true, sub: 'alice' });
  expect(await fn.invoke({ token: await token(-60) })).toMatchObject({
    ok: false,
    error: expect.stringMatching(/expired/i),
  });
});
