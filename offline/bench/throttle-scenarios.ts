import {
  type ChatMember,
  type Frame,
  inParallel,
  request,
  roomOf,
  sleep,
  type TestCloud,
} from './load-and-faults.ts';

// ------------------------------------------------------------------------------ throttles

export interface ThrottleReport {
  rate: number;
  burst: number;
  sent: number;
  admitted: number;
  throttled: number;
  /** Answers that were neither admitted nor throttled. */
  other: unknown[];
  /** What the bucket can have admitted given when the requests were sent and answered. */
  fewest: number;
  most: number;
}

/**
 * The bounds a token bucket (`burst` at most, `rate` per second, full at the start) puts on what it admits
 * under continuous load: at most burst + rate × (last answer − first send); at least burst + rate × (last
 * send − first answer), less one for the fraction of a token left at the end.
 */
function bucketBounds(
  throttle: { rate: number; burst: number },
  times: { firstSend: number; lastSend: number; firstAnswer: number; lastAnswer: number },
): { fewest: number; most: number } {
  const seconds = (from: number, to: number) => Math.max(0, to - from) / 1000;
  return {
    fewest: Math.floor(throttle.burst + throttle.rate * seconds(times.firstAnswer, times.lastSend)) - 1,
    most: Math.floor(throttle.burst + throttle.rate * seconds(times.firstSend, times.lastAnswer)),
  };
}

/** A clock of sends and answers for bucketBounds. */
function timeline() {
  const times = { firstSend: Infinity, lastSend: 0, firstAnswer: Infinity, lastAnswer: 0 };
  return {
    times,
    sent: () => {
      const now = performance.now();
      times.firstSend = Math.min(times.firstSend, now);
      times.lastSend = Math.max(times.lastSend, now);
    },
    answered: () => {
      const now = performance.now();
      times.firstAnswer = Math.min(times.firstAnswer, now);
      times.lastAnswer = Math.max(times.lastAnswer, now);
    },
  };
}

/**
 * `callers` users (each with their own token) call one HTTP API route as fast as they can for `seconds`; the
 * route's throttle (from the template, as the cloud resolved it) is shared by all of them, as in API Gateway.
 */
export async function httpRouteThrottle(
  test: TestCloud,
  options: { method: string; path: string; callers: number; seconds: number },
): Promise<ThrottleReport> {
  const [httpApi] = test.cloud.httpApis.values();
  if (!httpApi) throw new Error('The template has no HTTP API');
  const { api, url } = httpApi;
  const route = api.config.routes.find(
    (candidate) => candidate.method === options.method && candidate.path === options.path,
  );
  if (!route?.throttle) throw new Error(`${options.method} ${options.path} has no throttle`);
  const tokens = await Promise.all(
    Array.from({ length: options.callers }, (_, index) =>
      test.cloud.mintToken({ sub: `throttle-${index}`, scopes: ['api/orders.read', 'api/orders.write'] }),
    ),
  );
  const clock = timeline();
  let sent = 0;
  let admitted = 0;
  let throttled = 0;
  const other: unknown[] = [];
  const until = performance.now() + options.seconds * 1000;
  await inParallel(options.callers, async (index) => {
    while (performance.now() < until) {
      sent++;
      clock.sent();
      const answer = await request(`${url}${options.path}`, {
        method: options.method,
        headers: { authorization: `Bearer ${tokens[index]}` },
        timeoutMs: 30_000,
      });
      clock.answered();
      if (answer.status >= 200 && answer.status < 300) admitted++;
      else if (answer.status === 429 && answer.body?.message === 'Too Many Requests') throttled++;
      else other.push(answer);
      // A short pause keeps the count bounded; the gaps stay far below 1/rate, so the bucket never refills unseen.
      await sleep(5);
    }
  });
  return {
    ...route.throttle,
    sent,
    admitted,
    throttled,
    other,
    ...bucketBounds(route.throttle, clock.times),
  };
}

/**
 * `callers` members of a room send `sendmessage` as fast as they can for `seconds`: the route's throttle
 * (the stage's ChatRateLimit/ChatBurstLimit, as the cloud resolved them) answers the excess with
 * "Too Many Requests" frames, and only admitted messages reach the room.
 */
export async function webSocketRouteThrottle(
  test: TestCloud,
  options: { routeKey: string; callers: number; seconds: number; listeners: number },
): Promise<ThrottleReport & { deliveredToEveryMember: boolean }> {
  const [api] = test.cloud.webSocketApis.values();
  const throttle = api?.config.routes.find((route) => route.routeKey === options.routeKey)?.throttle;
  if (!throttle) throw new Error(`The WebSocket route ${options.routeKey} has no throttle`);
  const { roomId, members } = await roomOf(test, options.callers + options.listeners);
  try {
    const callers = members.slice(0, options.callers);
    const clock = timeline();
    const answers = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'delivered' || frame.message === 'Too Many Requests');
    for (const caller of callers) {
      let seen = 0;
      caller.socket.on('message', () => {
        const count = answers(caller.frames).length;
        if (count > seen) clock.answered();
        seen = count;
      });
    }
    let sent = 0;
    const until = performance.now() + options.seconds * 1000;
    await inParallel(options.callers, async (index) => {
      const caller = callers[index] as ChatMember;
      while (performance.now() < until) {
        sent++;
        clock.sent();
        caller.socket.send(JSON.stringify({ action: options.routeKey, roomId, text: `burst ${sent}` }));
        await sleep(10);
      }
    });
    const total = () => callers.reduce((sum, caller) => sum + answers(caller.frames).length, 0);
    const deadline = Date.now() + 30_000;
    while (total() < sent && Date.now() < deadline) await sleep(50);
    const admitted = callers.reduce(
      (sum, caller) => sum + caller.frames.filter((frame) => frame.type === 'delivered').length,
      0,
    );
    const throttled = callers.reduce(
      (sum, caller) => sum + caller.frames.filter((frame) => frame.message === 'Too Many Requests').length,
      0,
    );
    const messagesIn = (frames: Frame[]) =>
      frames.filter((frame) => frame.type === 'message' && frame.roomId === roomId).length;
    const deliveredToEveryMember =
      (
        await Promise.all(
          members.map((member) => member.until((frames) => messagesIn(frames) >= admitted, 10_000)),
        )
      ).every(Boolean) && members.every((member) => messagesIn(member.frames) === admitted);
    return {
      ...throttle,
      sent,
      admitted,
      throttled,
      other: callers.flatMap((caller) =>
        caller.frames.filter(
          (frame) =>
            frame.type !== 'delivered' &&
            frame.type !== 'message' &&
            frame.type !== 'joined' &&
            frame.message !== 'Too Many Requests',
        ),
      ),
      deliveredToEveryMember,
      ...bucketBounds(throttle, clock.times),
    };
  } finally {
    for (const member of members) member.close();
  }
}
