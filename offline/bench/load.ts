import { Agent, request } from 'node:http';

/**
 * Load generator, run as its own process so it does not share an event loop with the server it measures.
 * `sequential <n>`: n requests one after another (latency). `concurrent <connections> <seconds>`: keep
 * `connections` requests in flight for the duration (throughput).
 */
const [url, authorization, mode, first, second] = process.argv.slice(2);
if (!url || !mode || !first)
  throw new Error(
    'usage: load.ts <url> <authorization|-> sequential <n> | concurrent <connections> <seconds>',
  );
const connections = mode === 'sequential' ? 1 : Number(first);
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const headers = authorization && authorization !== '-' ? { authorization } : {};

function once(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url as string, { agent, headers }, (response) => {
      response.resume();
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(performance.now() - started)
          : reject(new Error(`status ${response.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const latencies: number[] = [];
const started = performance.now();
if (mode === 'sequential') {
  for (let i = 0; i < Number(first); i++) latencies.push(await once());
} else {
  const until = started + Number(second) * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) latencies.push(await once());
    }),
  );
}
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
  }),
);
agent.destroy();
