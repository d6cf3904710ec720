import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { OfflineCloud } from '../../local/cloud.ts';
import type { SigningKey } from '../../local/issuer.ts';

export interface OfflineCloudContext {
  httpApiUrl: string;
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  dynamoEndpoint: string;
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
    log: (functionName, line) => logs.push(`[${functionName}] ${line}`),
  });
  const httpApi = cloud.httpApis.get('HttpApi');
  const [issuer] = cloud.issuers;
  const [audience] = cloud.audiences;
  if (!httpApi || !issuer || !audience) throw new Error('The template has no HttpApi with a JWT authoriser');
  project.provide('offlineCloud', {
    httpApiUrl: httpApi.url,
    signingKey: cloud.issuer.key,
    issuer,
    audience,
    dynamoEndpoint: cloud.dynamodb.endpoint,
  });
  return async () => {
    await cloud.stop();
    await rm(buildDir, { recursive: true, force: true });
    if (process.env.OFFLINE_CLOUD_LOGS) process.stderr.write(`${logs.join('\n')}\n`);
  };
}
