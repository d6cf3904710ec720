import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { checkJava } from './dynamodb.ts';

const originalPath = process.env.PATH;
let fakeBin: string | undefined;

afterEach(async () => {
  process.env.PATH = originalPath;
  if (fakeBin) await rm(fakeBin, { recursive: true, force: true });
});

async function javaPrinting(versionLine: string): Promise<void> {
  fakeBin = await mkdtemp(join(tmpdir(), 'fake-java-'));
  const java = join(fakeBin, 'java');
  await writeFile(java, `#!/bin/sh\necho '${versionLine}' >&2\n`);
  await chmod(java, 0o755);
  process.env.PATH = fakeBin;
}

test('the Java on this machine is accepted', () => {
  expect(() => checkJava()).not.toThrow();
});

test('no Java on the PATH is reported with how to install it', () => {
  process.env.PATH = '/nonexistent';
  expect(() => checkJava()).toThrow(
    /Java was not found\. DynamoDB Local needs Java 17 or newer.*apt-get install/,
  );
});

test('a Java older than 17 is reported as too old', async () => {
  await javaPrinting('openjdk version "11.0.22" 2024-01-16');
  expect(() => checkJava()).toThrow(/Java 11 is too old/);
});
