import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { OfflineCloud } from '../../offline/cloud.ts';
import type { SigningKey } from '../../offline/services/issuer.ts';

export interface OfflineCloudContext {
  httpApiUrl: string;
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  dynamoEndpoint: string;
  /** Local table names by logical id. */
  tables: Record<string, string>;
  /** The local SQS (fauxqs) endpoint, for the real SQSClient (any credentials; region below). */
  sqsEndpoint: string;
  region: string;
  /** Local queue URLs by logical id. */
  queues: Record<string, string>;
  /** The template's first WebSocket API ('' when the template has none): `ws://127.0.0.1:<port>/<stage>`. */
  webSocketUrl: string;
  /** Its `@connections` endpoint: `http://127.0.0.1:<port>/<stage>/@connections`. */
  connectionsEndpoint: string;
  /**
   * Test-only control of the emulator (it runs in the main process, the tests in workers):
   * `POST <controlUrl>/websocket/forget/<connectionId>` drops a connection the way API Gateway loses one whose
   * `$disconnect` never ran (LocalWebSocketApi.forget): the socket is cut and no `$disconnect` event is sent.
   * `GET <controlUrl>/logs/<function logical id>?contains=<text>` counts that function's log lines containing
   * the text (`{"count": n}`): how a test sees how often a function ran, e.g. an authoriser behind its cache.
   */
  controlUrl: string;
  /** The template's first REST API ('' when none): `http://127.0.0.1:<port>/<stage>`. */
  restApiUrl: string;
  /** Its local API key values by usage plan logical id. */
  apiKeys: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    offlineCloud: OfflineCloudContext;
  }
}

/** The whole offline cloud, in this process, on free loopback ports, for the end-to-end project. */
export default async function setup(project: TestProject) {
  const buildDir = await mkdtemp(join(tmpdir(), 'offline-cloud-'));
  const logs: string[] = [];
  const cloud = await OfflineCloud.start({
    buildDir,
    // The partner API as prod runs it (a stage cache), with daily quotas a test can use up in seconds.
    parameters: { PartnerApiCacheSize: '0.5', PartnerFreeDailyQuota: '30', PartnerStandardDailyQuota: '150' },
    log: (functionName, line) => logs.push(`[${functionName}] ${line}`),
  });
  const httpApi = cloud.httpApis.get('HttpApi');
  const [issuer] = cloud.issuers;
  const [audience] = cloud.audiences;
  if (!httpApi || !issuer || !audience) throw new Error('The template has no HttpApi with a JWT authoriser');
  const [webSocketApi] = cloud.webSocketApis.values();
  const [restApi] = Object.values(cloud.info().restApis);

  const control = createServer((request, response) => {
    const forget = /^\/websocket\/forget\/([^/]+)$/.exec(request.url ?? '');
    if (request.method === 'POST' && forget?.[1] && webSocketApi) {
      const found = webSocketApi.forget(decodeURIComponent(forget[1]));
      response.writeHead(found ? 204 : 404).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const logsOf = /^\/logs\/([A-Za-z0-9]+)$/.exec(url.pathname)?.[1];
    if (request.method === 'GET' && logsOf) {
      const prefix = `[${logsOf}] `;
      const contains = url.searchParams.get('contains') ?? '';
      const count = logs.filter((line) => line.startsWith(prefix) && line.includes(contains)).length;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const address = control.address();
  const controlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  project.provide('offlineCloud', {
    httpApiUrl: httpApi.url,
    signingKey: cloud.issuer.key,
    issuer,
    audience,
    dynamoEndpoint: cloud.dynamodb.endpoint,
    tables: cloud.tables,
    sqsEndpoint: cloud.sqs.endpoint,
    region: cloud.resolver.pseudo.region,
    queues: cloud.queues,
    webSocketUrl: webSocketApi?.url ?? '',
    connectionsEndpoint: webSocketApi?.connectionsEndpoint ?? '',
    controlUrl,
    restApiUrl: restApi?.url ?? '',
    apiKeys: Object.fromEntries((restApi?.apiKeys ?? []).map((key) => [key.planLogicalId, key.value])),
  });
  return async () => {
    await new Promise<void>((resolve) => {
      control.close(() => resolve());
      control.closeAllConnections();
    });
    await cloud.stop();
    await rm(buildDir, { recursive: true, force: true });
    if (process.env.OFFLINE_CLOUD_LOGS) process.stderr.write(`${logs.join('\n')}\n`);
  };
}
