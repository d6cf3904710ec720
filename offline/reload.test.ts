import { randomUUID } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OfflineCloud } from './cloud.ts';

// A scratch copy of the project inside the repository, so bundling still resolves node_modules.
const projectDir = resolve('.local', `reload-${randomUUID()}`);
let cloud: OfflineCloud;
let url: string;
let authorization: string;

beforeAll(async () => {
  await mkdir(projectDir, { recursive: true });
  await cp('functions', join(projectDir, 'functions'), { recursive: true });
  await cp('template.yaml', join(projectDir, 'template.yaml'));
  await cp('openapi', join(projectDir, 'openapi'), { recursive: true });
  cloud = await OfflineCloud.start({
    projectDir,
    buildDir: join(projectDir, 'build'),
    // The traffic below is about reloading, not the template's stage throttle (100/s), which it can exceed.
    parameters: { HttpApiRateLimit: '1000000', HttpApiBurstLimit: '1000000' },
  });
  url = `${cloud.httpApis.get('HttpApi')?.url}/me`;
  authorization = `Bearer ${await cloud.mintToken({ sub: 'reloader' })}`;
});

afterAll(async () => {
  await cloud?.stop();
  await rm(projectDir, { recursive: true, force: true });
});

test('a code change rebuilds only the functions that include it, and no request is lost meanwhile', async () => {
  const before = await (await fetch(url, { headers: { authorization } })).json();
  expect(before).not.toHaveProperty('revision');

  let stop = false;
  const statuses: number[] = [];
  const traffic = Array.from({ length: 8 }, async () => {
    while (!stop) statuses.push((await fetch(url, { headers: { authorization } })).status);
  });

  const source = join(projectDir, 'functions/me/get-me.ts');
  const code = await readFile(source, 'utf8');
  await writeFile(
    source,
    code.replace('json(200, httpCallerOf(event))', 'json(200, { ...httpCallerOf(event), revision: 2 })'),
  );
  expect(await cloud.reloadSources([source])).toEqual(['GetMeFunction']);
  await new Promise((resolveWait) => setTimeout(resolveWait, 300));
  stop = true;
  await Promise.all(traffic);

  expect(statuses.length).toBeGreaterThan(20);
  expect(new Set(statuses)).toEqual(new Set([200]));
  expect(await (await fetch(url, { headers: { authorization } })).json()).toMatchObject({
    sub: 'reloader',
    revision: 2,
  });
});

test('a change to shared code rebuilds every function whose bundle includes it, and only those', async () => {
  const shared = join(projectDir, 'functions/lib/http.ts');
  const including = [...cloud.bundles]
    .filter(([, bundle]) => bundle.inputs.has(shared))
    .map(([name]) => name);
  expect(including).toContain('CreateOrderFunction');
  expect(including.length).toBeLessThan(cloud.functions.size);
  expect((await cloud.reloadSources([shared])).sort()).toEqual(including.sort());
  expect(await cloud.reloadSources([join(projectDir, 'README.md')])).toEqual([]);
});

test('a template change reloads the partner REST API: a tighter Free tier applies at once', async () => {
  const partnerApi = cloud.restApis.get('PartnerApi');
  const freeKey = partnerApi?.api.config.apiKeys.find((key) => key.logicalId === 'PartnerFreeApiKey')?.value;
  if (!partnerApi || !freeKey) throw new Error('the template has no PartnerApi with a Free key');
  const readProduct = async () =>
    (await fetch(`${partnerApi.url}/products/green-tea`, { headers: { 'x-api-key': freeKey } })).status;
  const templatePath = join(projectDir, 'template.yaml');
  const template = await readFile(templatePath, 'utf8');
  // The Free plan's burst goes from 10 to 1: the second request in a row is throttled.
  await writeFile(
    templatePath,
    template.replace(
      /(UsagePlanName: !Sub "\$\{AWS::StackName\}-partner-free"[\s\S]*?Throttle:\n {8}RateLimit: )5\n {8}BurstLimit: 10/,
      '$11\n        BurstLimit: 1',
    ),
  );
  await cloud.reloadTemplate();
  expect(cloud.restApis.get('PartnerApi')?.api.config.usagePlans[0]?.throttle).toEqual({ rate: 1, burst: 1 });
  expect(await readProduct()).not.toBe(429);
  expect(await readProduct()).toBe(429);
});
