import { randomUUID } from 'node:crypto';
import { GetCommand, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import {
  type Answer,
  inParallel,
  request,
  seededProduct,
  sleep,
  sortedKeys,
  type TestCloud,
} from './load-and-faults.ts';

// ------------------------------------------------------------------------------ DynamoDB Local restarted

/** A 5xx within the bound, in the error shape: the handler's, or the gateway's for a failed invocation. */
function isClean5xx(answer: Answer, boundMs: number): boolean {
  return (
    answer.status >= 500 &&
    answer.ms <= boundMs &&
    ((typeof answer.body?.error?.code === 'string' &&
      typeof answer.body.error.message === 'string' &&
      typeof answer.body.requestId === 'string') ||
      answer.body?.message === 'Internal Server Error')
  );
}

/**
 * POST /orders with an Idempotency-Key, sent again while a 409 says that an earlier attempt's record is still in
 * progress (it expires after that invocation's remaining time).
 */
async function placeOrderRetrying(
  url: string,
  token: string,
  key: string,
  body: unknown,
  options: { retryForMs: number; requestTimeoutMs: number },
  onAttempt: () => void = () => undefined,
): Promise<Answer> {
  const deadline = performance.now() + options.retryForMs;
  for (;;) {
    onAttempt();
    const answer = await request(`${url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      body,
      timeoutMs: options.requestTimeoutMs,
    });
    if (answer.status !== 409 || performance.now() > deadline) return answer;
    await sleep(500);
  }
}

export interface LostAnswersReport {
  /** POSTs sent: the first attempts and every retry. */
  requests: number;
  /** Answers of PutItem on the Orders table that the proxy cut after DynamoDB had carried them out. */
  lostAnswers: number;
  /** The first attempts: each should be a clean 5xx, its order written all the same. */
  firstAttempts: { status: number; clean: boolean }[];
  /** The retries with the same keys, once answers flow again. */
  retries: { status: number; answeredWithEarlierOrder: boolean }[];
  /** Orders stored per key, in the order of the keys. */
  ordersPerKey: number[];
}

/**
 * The precise fault behind "a crash between the write and its answer": DynamoDB writes each order, but the
 * function never hears back (the proxy cuts the connection, for the SDK's own retries too), so each POST fails
 * with its order stored. Each is then retried with its Idempotency-Key, as a client would: one order per key.
 */
export async function lostWriteAnswers(
  test: TestCloud,
  options: { orders: number; requestTimeoutMs: number; retryForMs: number },
): Promise<LostAnswersReport> {
  const { cloud, proxy } = test;
  if (!proxy) throw new Error('lostWriteAnswers needs a cloud started with dynamoDbProxy');
  const [httpApi] = cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const ordersTable = cloud.tables.OrdersTable as string;
  const product = await seededProduct();
  const sub = `lost-answers-${randomUUID().slice(0, 8)}`;
  const token = await cloud.mintToken({ sub, scopes: ['api/orders.read', 'api/orders.write'] });
  const attempts = Array.from({ length: options.orders }, (_, index) => ({
    key: randomUUID(),
    body: {
      items: [{ productId: product.productId, quantity: 1 + (index % 3) }],
      note: `lost answer ${index}`,
    },
  }));

  const lostBefore = proxy.lostAnswers;
  proxy.loseAnswersOf = (target, input) => target.endsWith('.PutItem') && input.TableName === ordersTable;
  const firstAttempts = await Promise.all(
    attempts.map(({ key, body }) =>
      request(`${httpApi.url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        body,
        timeoutMs: options.requestTimeoutMs,
      }),
    ),
  );
  proxy.loseAnswersOf = undefined;
  const retriedAt = Date.now();
  let retryRequests = 0;
  const retries = await Promise.all(
    attempts.map(({ key, body }) =>
      placeOrderRetrying(httpApi.url, token, key, body, options, () => retryRequests++),
    ),
  );

  const notes = new Map<string, number>();
  for await (const page of paginateQuery(
    { client: test.documents },
    {
      TableName: ordersTable,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :customer',
      ExpressionAttributeValues: { ':customer': sub },
    },
  )) {
    for (const item of page.Items ?? [])
      notes.set(String(item.note), (notes.get(String(item.note)) ?? 0) + 1);
  }
  return {
    requests: options.orders + retryRequests,
    lostAnswers: proxy.lostAnswers - lostBefore,
    firstAttempts: firstAttempts.map((answer) => ({
      status: answer.status,
      clean: isClean5xx(answer, options.requestTimeoutMs),
    })),
    retries: retries.map((answer) => ({
      status: answer.status,
      answeredWithEarlierOrder: answer.status === 201 && Date.parse(answer.body.createdAt) < retriedAt,
    })),
    ordersPerKey: attempts.map(({ body }) => notes.get(body.note) ?? 0),
  };
}

export interface OutageOptions {
  /** Users placing and listing orders at once. */
  clients: number;
  /** Traffic before the first restart, and between and after restarts. */
  steadyMs: number;
  restarts: number;
  /** How long DynamoDB Local stays down each time, before its JVM starts again. */
  downtimeMs: number;
  /** A request without an answer after this long counts as a hang. */
  requestTimeoutMs: number;
  /** How long a retry with the same Idempotency-Key may keep getting 409 (the first attempt's record still in progress). */
  retryForMs: number;
}

export interface OutageReport {
  requests: number;
  ok: number;
  /** 5xx answers in the error shape (the handler's, or the gateway's for a failed invocation). */
  clean5xx: number;
  /** Anything else: a 5xx in another shape, a 4xx, no answer at all, an answer after the bound. */
  unclean: { status: number; body: unknown; ms: number; transportError?: string }[];
  /** Requests that did not succeed though they ran entirely while DynamoDB Local was up (before the first crash or after a restart). */
  failedWhileUp: number;
  /** 201s whose order is not in the table as answered. */
  acknowledgedMissing: string[];
  /** COMPLETED idempotency records whose order does not exist. */
  completedWithoutOrder: string[];
  /** Orders written whose request was never answered 201, even after the retries. */
  orphans: string[];
  /** Idempotency keys that ended with more than one order. */
  duplicatedKeys: string[];
  /** POSTs answered 5xx, retried with the same Idempotency-Key after recovery. */
  retried: number;
  /** Retries that never got a 201 within retryForMs. */
  retriesUnresolved: number;
  /** Retries answered with the order a failed attempt had placed (its write done, its answer lost). */
  answeredWithEarlierOrder: number;
  downSeconds: number[];
  seconds: number;
}

/**
 * Users place orders (POST /orders with an Idempotency-Key) and list them (GET /orders) through the HTTP API
 * while DynamoDB Local is killed and started again: every answer must be a 2xx or a clean 5xx within the
 * bound, requests after the restart succeed, every 201 order exists, and nothing is half-written. Each POST
 * that failed is then retried with its key, as a client would: each key must end with exactly one order.
 */
export async function dynamoDbOutage(test: TestCloud, options: OutageOptions): Promise<OutageReport> {
  const { cloud } = test;
  const started = performance.now();
  const [httpApi] = cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const { url } = httpApi;
  const product = await seededProduct();
  const users = await Promise.all(
    Array.from({ length: options.clients }, async (_, index) => {
      const sub = `outage-${index}-${randomUUID().slice(0, 8)}`;
      return { sub, token: await cloud.mintToken({ sub, scopes: ['api/orders.read', 'api/orders.write'] }) };
    }),
  );
  interface Post {
    key: string;
    sub: string;
    token: string;
    body: { items: { productId: string; quantity: number }[]; note: string };
    answer: Answer;
  }
  const posts: Post[] = [];
  const answers: { answer: Answer; startedAt: number }[] = [];
  // While DynamoDB Local is up: from upSince[i] until downAt[i] (the last interval has no end).
  const upSince = [performance.now()];
  const downAt: number[] = [];
  let stopping = false;
  const send = async (
    token: string,
    method: string,
    path: string,
    extra: { key?: string; body?: unknown } = {},
  ) => {
    const startedAt = performance.now();
    const answer = await request(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(extra.key ? { 'idempotency-key': extra.key } : {}) },
      body: extra.body,
      timeoutMs: options.requestTimeoutMs,
    });
    answers.push({ answer, startedAt });
    return answer;
  };
  const traffic = inParallel(options.clients, async (index) => {
    const user = users[index] as { sub: string; token: string };
    for (let round = 0; !stopping; round++) {
      const key = randomUUID();
      const body = {
        items: [{ productId: product.productId, quantity: 1 + (round % 3) }],
        note: `outage ${round}`,
      };
      const placed = await send(user.token, 'POST', '/orders', { key, body });
      posts.push({ key, ...user, body, answer: placed });
      const listed = await send(user.token, 'GET', '/orders?limit=5');
      // Failures come back in a millisecond while DynamoDB is down: a short pause keeps the count bounded.
      if (placed.status !== 201 || listed.status !== 200) await sleep(100);
    }
  });
  const downSeconds: number[] = [];
  await sleep(options.steadyMs);
  for (let restart = 0; restart < options.restarts; restart++) {
    downAt.push(performance.now());
    await cloud.dynamodb.restart(() => sleep(options.downtimeMs));
    upSince.push(performance.now());
    downSeconds.push(((upSince.at(-1) as number) - (downAt.at(-1) as number)) / 1000);
    await sleep(options.steadyMs);
  }
  stopping = true;
  await traffic;

  const isCleanFailure = (answer: Answer) => isClean5xx(answer, options.requestTimeoutMs);
  const ok = answers.filter(({ answer }) => answer.status >= 200 && answer.status < 300).length;
  const clean5xx = answers.filter(({ answer }) => isCleanFailure(answer)).length;
  const unclean = answers
    .map(({ answer }) => answer)
    .filter((answer) => !(answer.status >= 200 && answer.status < 300) && !isCleanFailure(answer));
  const ranWhileUp = (startedAt: number, ms: number) =>
    upSince.some((since, index) => startedAt >= since && startedAt + ms <= (downAt[index] ?? Infinity));
  const failedWhileUp = answers.filter(
    ({ answer, startedAt }) =>
      ranWhileUp(startedAt, answer.ms) && !(answer.status >= 200 && answer.status < 300),
  ).length;

  // Each failed POST again, with its key, as a client would once the service is back.
  const failed = posts.filter((post) => post.answer.status !== 201);
  let retriesUnresolved = 0;
  let answeredWithEarlierOrder = 0;
  let nextRetry = 0;
  await inParallel(options.clients, async () => {
    while (nextRetry < failed.length) {
      const post = failed[nextRetry++] as Post;
      const retriedAt = Date.now();
      post.answer = await placeOrderRetrying(url, post.token, post.key, post.body, options);
      if (post.answer.status !== 201) retriesUnresolved++;
      else if (Date.parse(post.answer.body.createdAt) < retriedAt) answeredWithEarlierOrder++;
    }
  });

  const ordersTable = cloud.tables.OrdersTable as string;
  const acknowledgedMissing: string[] = [];
  for (const post of posts.filter((candidate) => candidate.answer.status === 201)) {
    const { Item } = await test.documents.send(
      new GetCommand({
        TableName: ordersTable,
        Key: { orderId: post.answer.body.orderId },
        ConsistentRead: true,
      }),
    );
    const { customerId, ...view } = Item ?? {};
    if (
      !Item ||
      customerId !== post.sub ||
      JSON.stringify(sortedKeys(view)) !== JSON.stringify(sortedKeys(post.answer.body))
    )
      acknowledgedMissing.push(String(post.answer.body.orderId));
  }
  const completedWithoutOrder: string[] = [];
  for await (const page of paginateScan(
    { client: test.documents },
    { TableName: cloud.tables.IdempotencyTable },
  )) {
    for (const record of page.Items ?? []) {
      if (record.status !== 'COMPLETED') continue;
      // Powertools stores the handler's result as a map: here the API Gateway response with its JSON body.
      const response = record.data as { statusCode: number; body: string };
      if (response.statusCode !== 201) continue;
      const { orderId } = JSON.parse(response.body) as { orderId: string };
      const { Item } = await test.documents.send(
        new GetCommand({ TableName: ordersTable, Key: { orderId }, ConsistentRead: true }),
      );
      if (!Item) completedWithoutOrder.push(orderId);
    }
  }
  const acknowledged = new Set(
    posts.filter((post) => post.answer.status === 201).map((post) => post.answer.body.orderId as string),
  );
  const orphans: string[] = [];
  const ordersByNote = new Map<string, number>();
  for (const user of users) {
    for await (const page of paginateQuery(
      { client: test.documents },
      {
        TableName: ordersTable,
        IndexName: 'byCustomer',
        KeyConditionExpression: 'customerId = :customer',
        ExpressionAttributeValues: { ':customer': user.sub },
      },
    )) {
      for (const item of page.Items ?? []) {
        if (!acknowledged.has(String(item.orderId))) orphans.push(String(item.orderId));
        const noteKey = `${user.sub} ${item.note}`;
        ordersByNote.set(noteKey, (ordersByNote.get(noteKey) ?? 0) + 1);
      }
    }
  }
  // Each key's body has a note unique to its user and round: two orders with one note are one key's two orders.
  const duplicatedKeys = posts
    .filter((post) => (ordersByNote.get(`${post.sub} ${post.body.note}`) ?? 0) > 1)
    .map((post) => post.key);
  return {
    requests: answers.length,
    ok,
    clean5xx,
    unclean,
    failedWhileUp,
    acknowledgedMissing,
    completedWithoutOrder,
    orphans,
    duplicatedKeys,
    retried: failed.length,
    retriesUnresolved,
    answeredWithEarlierOrder,
    downSeconds,
    seconds: (performance.now() - started) / 1000,
  };
}
