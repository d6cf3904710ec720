import { dynamoDbOutage, lostWriteAnswers } from './dynamodb-fault-scenarios.ts';
import {
  declaredParameters,
  ROOM_ROUTES,
  roomApiOf,
  startTestCloud,
  type TestCloud,
} from './load-and-faults.ts';
import { orderConsumerOf, partnerOrdersExactlyOnce } from './partner-orders-scenario.ts';
import { httpRouteThrottle, type ThrottleReport, webSocketRouteThrottle } from './throttle-scenarios.ts';
import { webSocketBurst } from './websocket-burst-scenario.ts';

/**
 * `npm run bench:faults`: the load and fault scenarios of the fault suites (test/<feature>/faults) at larger counts, each on an offline
 * cloud of its own (in this process, on loopback). Prints what was tried, what was injected and what was lost.
 */
const SEED = 7;
const VIA_REST_API = 300;
const VIA_QUEUE = 2_700;
const rows: string[][] = [];

async function withCloud<T>(
  options: Parameters<typeof startTestCloud>[0],
  scenario: (cloud: TestCloud) => Promise<T>,
): Promise<T> {
  const cloud = await startTestCloud(options);
  try {
    return await scenario(cloud);
  } finally {
    await cloud.stop();
  }
}

const fixed = (seconds: number) => `${seconds.toFixed(1)} s`;
const note = (line: string) => process.stdout.write(`${line}\n`);
// The WebSocket scenarios need a WebSocket API that speaks the chat's protocol: the starter's chat, if still there.
const roomApi = roomApiOf();
if (!roomApi)
  note(
    `WebSocket scenarios skipped: the template has no WebSocket API with the routes ${ROOM_ROUTES.join(', ')}`,
  );

// 1. Partner orders under consumer failures: REST → SQS → consumer, plus the bulk put on the queue directly,
// since the template admits POST /orders at 10 requests/s.
const consumer = orderConsumerOf();
const orders = await withCloud(
  {
    faults: {
      seed: SEED,
      functions: {
        [consumer.functionName]: {
          beforeHandler: 0.1,
          afterHandler: 0.3,
          spareReceiveCount: consumer.maxReceiveCount,
        },
      },
    },
  },
  (cloud) =>
    partnerOrdersExactlyOnce(cloud, {
      viaRestApi: VIA_REST_API,
      viaQueue: VIA_QUEUE,
      concurrency: 20,
      visibilityTimeoutSeconds: 3,
      drainTimeoutMs: 600_000,
    }),
);
note(
  `partner orders: ${orders.accepted} accepted (${VIA_REST_API} through the REST API: ${orders.requestsTried} requests, ` +
    `${orders.throttled} throttled, ${orders.refused.length} refused), ${orders.faults.invocations} consumer invocations, ` +
    `${orders.faults.spared} spared at the last receive, drained: ${orders.drained}, dead-lettered: ${orders.deadLettered}, ` +
    `wrong content: ${orders.wrongContent.length}, unexpected: ${orders.unexpected.length}`,
);
rows.push([
  'partner orders, consumer failing (10 % before, 30 % after the handler)',
  `${orders.requestsTried} REST + ${VIA_QUEUE} SendMessage`,
  `${orders.faults.beforeHandler} + ${orders.faults.afterHandler}`,
  String(orders.redeliveries),
  String(orders.duplicates.length),
  String(orders.lost.length),
  fixed(orders.seconds),
]);

// 2. Throttles: many callers against one route's bucket, HTTP API and WebSocket (while the template has one).
const limits = { rate: 50, burst: 100 };
await withCloud(
  {
    parameters: declaredParameters({
      HttpApiRateLimit: String(limits.rate),
      HttpApiBurstLimit: String(limits.burst),
      ChatRateLimit: String(limits.rate),
      ChatBurstLimit: String(limits.burst),
    }),
  },
  async (cloud) => {
    const http = await httpRouteThrottle(cloud, { method: 'GET', path: '/me', callers: 20, seconds: 10 });
    const chat = roomApi
      ? await webSocketRouteThrottle(cloud, {
          routeKey: 'sendmessage',
          callers: 10,
          listeners: 10,
          seconds: 10,
        })
      : undefined;
    // What a throttle can lose: an admitted request that failed, an admitted chat message a member never got.
    const reports: [string, ThrottleReport, number][] = [
      ['HTTP API route GET /me, 20 callers, 10 s', http, http.other.length],
    ];
    if (chat)
      reports.push([
        'WebSocket route sendmessage, 10 senders, 10 s',
        chat,
        chat.other.length + (chat.deliveredToEveryMember ? 0 : 1),
      ]);
    for (const [name, report, lostCount] of reports) {
      note(
        `${name}: rate ${report.rate}/s, burst ${report.burst}: ${report.admitted} admitted ` +
          `(the bucket allows ${report.fewest}–${report.most}), ${report.throttled} throttled, ${report.other.length} other`,
      );
      rows.push([
        `${name}: ${report.admitted} admitted, the bucket allows ${report.fewest}–${report.most}`,
        String(report.sent),
        '—',
        '—',
        '—',
        String(lostCount),
        '10 s',
      ]);
    }
    if (chat)
      note(`  WebSocket: every admitted message reached all 20 members: ${chat.deliveredToEveryMember}`);
  },
);

// 3. A burst of chat messages to a busy room (while the template has the chat).
if (roomApi) {
  const burst = await withCloud(
    { parameters: declaredParameters({ ChatRateLimit: '1000000', ChatBurstLimit: '1000000' }) },
    (cloud) => webSocketBurst(cloud, { members: 100, senders: 10, perSender: 20, timeoutMs: 120_000 }),
  );
  note(
    `WebSocket burst: ${burst.sent} messages to ${burst.members} members, ${burst.received} of ${burst.expected} ` +
      `deliveries, ${burst.duplicates} duplicates, ${burst.missing} missing, ${burst.outOfOrder} out of order per sender ` +
      `(messages in flight at once), ${burst.shortReceipts} short receipts, ${burst.errors.length} error frames`,
  );
  rows.push([
    'WebSocket burst: 10 senders × 20 messages, 100-member room',
    String(burst.sent),
    '—',
    '—',
    String(burst.duplicates),
    String(burst.missing),
    fixed(burst.seconds),
  ]);
}

// 4. DynamoDB Local killed and restarted under HTTP API traffic, three times; then order writes whose answers
// are lost (through the proxy between the functions and DynamoDB Local), each retried with its key.
const LOST = 50;
const { outage, lost, lostSeconds } = await withCloud(
  { persistent: true, dynamoDbProxy: true },
  async (cloud) => {
    const outageReport = await dynamoDbOutage(cloud, {
      clients: 8,
      steadyMs: 3_000,
      restarts: 3,
      downtimeMs: 2_000,
      requestTimeoutMs: 15_000,
      retryForMs: 30_000,
    });
    const started = performance.now();
    const lostReport = await lostWriteAnswers(cloud, {
      orders: LOST,
      requestTimeoutMs: 15_000,
      retryForMs: 30_000,
    });
    return { outage: outageReport, lost: lostReport, lostSeconds: (performance.now() - started) / 1000 };
  },
);
note(
  `DynamoDB Local restarts: ${outage.requests} requests, ${outage.ok} ok, ${outage.clean5xx} clean 5xx, ` +
    `${outage.unclean.length} unclean, ${outage.failedWhileUp} failed while it was up, down ` +
    `${outage.downSeconds.map(fixed).join(' / ')}; ${outage.retried} failed POSTs retried with their key, ` +
    `${outage.answeredWithEarlierOrder} answered with the order a failed attempt had placed, ` +
    `${outage.retriesUnresolved} unresolved; acknowledged but missing: ${outage.acknowledgedMissing.length}, ` +
    `COMPLETED without order: ${outage.completedWithoutOrder.length}, orphans: ${outage.orphans.length}`,
);
rows.push([
  'DynamoDB Local killed and restarted 3 times, 8 clients',
  String(outage.requests),
  `${outage.downSeconds.length} restarts`,
  `${outage.retried} retried`,
  String(outage.duplicatedKeys.length),
  String(outage.acknowledgedMissing.length + outage.completedWithoutOrder.length),
  fixed(outage.seconds),
]);
note(
  `Lost write answers: ${lost.lostAnswers} answers cut, first attempts ${lost.firstAttempts.filter((attempt) => attempt.clean).length} ` +
    `of ${LOST} clean 5xx, retries ${lost.retries.filter((retry) => retry.answeredWithEarlierOrder).length} of ${LOST} ` +
    `answered with the order already placed`,
);
rows.push([
  `answers of ${LOST} order writes lost, then retried with their keys`,
  String(lost.requests),
  `${lost.lostAnswers} answers cut`,
  `${LOST} retried`,
  String(lost.ordersPerKey.filter((count) => count > 1).length),
  String(lost.ordersPerKey.filter((count) => count === 0).length),
  fixed(lostSeconds),
]);

note(`\nLoad and faults offline (Node ${process.versions.node}, seed ${SEED})`);
note(
  '| scenario | requests tried | faults injected | redeliveries / retries | duplicates | data lost | time |',
);
note('|---|---|---|---|---|---|---|');
for (const row of rows) note(`| ${row.join(' | ')} |`);
