import { once } from 'node:events';
import { createServer } from 'node:net';
import { expect, test } from 'vitest';
import { freePort, portConflicts } from './ports.ts';

test('a port given to two parts is one line naming both and the flag of the second', async () => {
  const port = await freePort();
  expect(
    await portConflicts([
      { port, part: 'HTTP API Second', flag: '--http-port' },
      { port, part: 'REST API PartnerApi', flag: '--rest-port' },
    ]),
  ).toEqual([
    `port ${port} is given to both the HTTP API Second and the REST API PartnerApi. Pass --rest-port <another port>.`,
  ]);
});

test('a port held by another program names the program and its pid; port 0 and free ports are no conflict', async () => {
  const holder = createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as { port: number };
  try {
    expect(
      await portConflicts([
        { port: 0, part: 'JWT issuer', flag: '--issuer-port' },
        { port: await freePort(), part: 'chat page', flag: '--chat-port' },
        // Held on loopback only, yet DynamoDB Local, which binds every interface, could not open it either.
        { port, part: 'DynamoDB Local', flag: '--dynamodb-port', everyInterface: true },
      ]),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          `^port ${port} \\(DynamoDB Local\\) is in use by \\S+ \\(pid ${process.pid}\\)\\. Stop it, or pass --dynamodb-port <another port>\\.$`,
        ),
      ),
    ]);
  } finally {
    holder.close();
  }
});
