/**
 * Fault injection for the load and fault tests (`OfflineCloud.start({ faults })`; `npm run dev` never sets it).
 * A named function's invocations fail at random, drawn from a seeded source so that a run can be repeated:
 * BEFORE the handler (nothing done, as when an execution environment crashes at start) or AFTER it (the work
 * is done but the invocation is reported failed, as when a function times out after its writes), so an event
 * source redelivers everything the handler already did. Handler code never sees any of it.
 */
export interface FunctionFaults {
  /** Probability (0–1) that an invocation fails before its handler runs. */
  beforeHandler?: number;
  /** Probability (0–1) that an invocation fails after its handler ran; the two add up to at most 1. */
  afterHandler?: number;
  /**
   * SQS events only: an invocation carrying a record whose ApproximateReceiveCount has reached this is never
   * failed. Set to the queue's maxReceiveCount, injected faults alone can never move a message to the
   * dead-letter queue, whatever the draws; anything there failed for a real reason.
   */
  spareReceiveCount?: number;
}

export interface FaultPlan {
  seed: number;
  /** By function logical id. */
  functions: Record<string, FunctionFaults>;
}

export type InjectedFault = 'beforeHandler' | 'afterHandler';

export interface FaultCounts {
  invocations: number;
  /** Records across all invocations of event-source events (SQS `Records`); redeliveries included. */
  records: number;
  beforeHandler: number;
  afterHandler: number;
  /** Invocations left alone because of spareReceiveCount. */
  spared: number;
}

/** What LocalLambda asks at the start of every invocation. */
export interface InvocationFaults {
  draw(event: unknown): InjectedFault | undefined;
}

export class FaultInjector {
  readonly #plan: FaultPlan;
  readonly #counts = new Map<string, FaultCounts>();
  readonly #streams = new Map<string, InvocationFaults>();

  constructor(plan: FaultPlan) {
    for (const [name, faults] of Object.entries(plan.functions)) {
      const before = faults.beforeHandler ?? 0;
      const after = faults.afterHandler ?? 0;
      if (before < 0 || after < 0 || before + after > 1) {
        throw new Error(`Faults of ${name}: probabilities must be 0–1 and add up to at most 1`);
      }
    }
    this.#plan = plan;
  }

  get functionNames(): string[] {
    return Object.keys(this.#plan.functions);
  }

  /**
   * The faults of one function, each function with its own random stream (kept across code reloads);
   * undefined when it has none.
   */
  forFunction(functionName: string): InvocationFaults | undefined {
    const faults = this.#plan.functions[functionName];
    if (!faults) return undefined;
    const existing = this.#streams.get(functionName);
    if (existing) return existing;
    const random = mulberry32(this.#plan.seed ^ hash(functionName));
    const counts = this.counts(functionName);
    const before = faults.beforeHandler ?? 0;
    const after = faults.afterHandler ?? 0;
    const stream: InvocationFaults = {
      draw: (event) => {
        counts.invocations++;
        const records = recordsOf(event);
        counts.records += records.length;
        // One draw per invocation, spared or not, so a spared invocation does not shift the later draws.
        const value = random();
        if (faults.spareReceiveCount !== undefined && atLastReceive(records, faults.spareReceiveCount)) {
          counts.spared++;
          return undefined;
        }
        const fault = value < before ? 'beforeHandler' : value < before + after ? 'afterHandler' : undefined;
        if (fault) counts[fault]++;
        return fault;
      },
    };
    this.#streams.set(functionName, stream);
    return stream;
  }

  counts(functionName: string): FaultCounts {
    let counts = this.#counts.get(functionName);
    if (!counts) {
      counts = { invocations: 0, records: 0, beforeHandler: 0, afterHandler: 0, spared: 0 };
      this.#counts.set(functionName, counts);
    }
    return counts;
  }
}

function recordsOf(event: unknown): unknown[] {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) ? records : [];
}

function atLastReceive(records: unknown[], receiveCount: number): boolean {
  return records.some(
    (record) =>
      Number(
        (record as { attributes?: { ApproximateReceiveCount?: string } }).attributes?.ApproximateReceiveCount,
      ) >= receiveCount,
  );
}

/** A small, fast seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a: a function's own stream from one seed. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value = Math.imul(value ^ text.charCodeAt(index), 0x01000193);
  }
  return value >>> 0;
}
