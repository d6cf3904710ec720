import { randomUUID } from 'node:crypto';
import { basename, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { LOCAL_CREDENTIALS } from '../services/credentials.ts';
import {
  environmentOf,
  type FunctionDefinition,
  type JsonObject,
  type Resolver,
  UnsupportedTemplateError,
} from '../template/template.ts';
import type { InjectedFault, InvocationFaults } from './faults.ts';

const WORKER = new URL('./lambda-worker.ts', import.meta.url);

export type LogSink = (functionName: string, line: string) => void;

/** SAM's esbuild BuildProperties, translated to esbuild options the way `sam build` passes them. */
export function esbuildOptions(fn: FunctionDefinition, projectDir: string): BuildOptions {
  const where = `Resources.${fn.logicalId}.Metadata.BuildProperties`;
  const properties = fn.buildProperties;
  if (!properties)
    throw new UnsupportedTemplateError(`Resources.${fn.logicalId}`, 'a function without esbuild Metadata');
  const codeUri = resolve(projectDir, String(fn.properties.CodeUri ?? '.'));
  const pairs = (value: unknown) =>
    Object.fromEntries(
      (value as string[]).map((entry) => {
        const index = entry.indexOf('=');
        return [entry.slice(0, index), entry.slice(index + 1)];
      }),
    );
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    metafile: true,
    write: true,
    logLevel: 'silent',
  };
  for (const [name, value] of Object.entries(properties)) {
    switch (name) {
      case 'EntryPoints':
        options.entryPoints = (value as string[]).map((entry) => resolve(codeUri, entry));
        break;
      case 'Format':
        options.format = value as BuildOptions['format'];
        break;
      case 'Platform':
        options.platform = value as BuildOptions['platform'];
        break;
      case 'Target':
        options.target = String(value);
        break;
      case 'Minify':
        options.minify = Boolean(value);
        break;
      case 'Sourcemap':
        options.sourcemap = Boolean(value);
        break;
      case 'MainFields':
        options.mainFields = String(value).split(',');
        break;
      case 'OutExtension':
        options.outExtension = pairs(value);
        break;
      case 'Banner':
        options.banner = pairs(value);
        break;
      case 'External':
        options.external = value as string[];
        break;
      case 'Loader':
        options.loader = pairs(value) as BuildOptions['loader'];
        break;
      case 'Define':
        options.define = pairs(value);
        break;
      default:
        throw new UnsupportedTemplateError(where, `the build property ${name}`);
    }
  }
  if (!options.entryPoints || (options.entryPoints as string[]).length !== 1) {
    throw new UnsupportedTemplateError(where, 'anything but exactly one entry point');
  }
  return options;
}

export interface Bundle {
  file: string;
  /** Absolute paths of every source file in the bundle: a change to one of them means a rebuild. */
  inputs: Set<string>;
  bytes: number;
  /** esbuild's metafile of the run that built it (shared by the functions built alongside): what each input adds. */
  metafile: Metafile;
}

/** Functions that share their esbuild settings, bundled by one esbuild run. */
interface BuildGroup {
  options: BuildOptions;
  entryPoints: Record<string, string>;
  functions: FunctionDefinition[];
}

/**
 * Bundles functions as `sam build` would, one bundle each. Functions with the same build settings (all of
 * them, when they share the template's anchor) go through one esbuild run, which parses shared code once.
 */
export async function bundleFunctions(
  functions: readonly FunctionDefinition[],
  projectDir: string,
  outDir: string,
): Promise<Map<string, Bundle>> {
  const groups = new Map<string, BuildGroup>();
  for (const fn of functions) {
    const { entryPoints, ...options } = esbuildOptions(fn, projectDir);
    const entry = (entryPoints as string[])[0] as string;
    const key = JSON.stringify(options);
    const group: BuildGroup = groups.get(key) ?? { options, entryPoints: {}, functions: [] };
    group.entryPoints[`${fn.logicalId}/${basename(entry, extname(entry))}`] = entry;
    group.functions.push(fn);
    groups.set(key, group);
  }
  const bundles = new Map<string, Bundle>();
  await Promise.all(
    [...groups.values()].map(async ({ options, entryPoints, functions: members }) => {
      const result = await build({ ...options, entryPoints, outdir: outDir, absWorkingDir: projectDir });
      const outputs = Object.entries(result.metafile?.outputs ?? {});
      for (const fn of members) {
        const [file, output] =
          outputs.find(
            ([path]) =>
              !path.endsWith('.map') &&
              resolve(projectDir, path).startsWith(join(resolve(outDir), fn.logicalId, '/')),
          ) ?? [];
        if (!file || !output) throw new Error(`esbuild produced no bundle for ${fn.logicalId}`);
        bundles.set(fn.logicalId, {
          file: resolve(projectDir, file),
          inputs: new Set(Object.keys(output.inputs).map((input) => resolve(projectDir, input))),
          bytes: output.bytes,
          metafile: result.metafile as Metafile,
        });
      }
    }),
  );
  return bundles;
}

export class LambdaError extends Error {
  readonly errorType: string;
  constructor(errorType: string, message: string) {
    super(message);
    this.name = 'LambdaError';
    this.errorType = errorType;
  }
}

interface Sandbox {
  worker: Worker;
  generation: number;
  current?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** A streaming invocation's response: each chunk as the handler writes it, then its end. */
  stream?: { chunk(bytes: Uint8Array): void; end(): void };
}

/** What the worker posts: a chunk or the end of a streamed response, or the invocation's outcome. */
type WorkerMessage =
  | { id: number; chunk: Uint8Array }
  | { id: number; end: true }
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; error: { errorType: string; errorMessage: string } };

/**
 * An InvokeWithResponseStream invocation: `body` carries the function's bytes as it writes them and ends when its
 * response stream ends; it is destroyed with the LambdaError when the invocation fails before that (an error, a
 * timeout, a stopped function). `completed` resolves, whatever the outcome, when the invocation is over and its
 * environment free again: a failure shows in `body`, or only in the function's log once the response has ended.
 */
export interface StreamingInvocation {
  body: Readable;
  completed: Promise<void>;
}

export interface LambdaConfig {
  functionName: string;
  bundle: Bundle;
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize: number;
  region: string;
  accountId: string;
  /** Most execution environments at once; further invocations wait for one to be free. */
  maxConcurrency: number;
  log: LogSink;
  /**
   * The local issuer's base URL: requests for Cognito's public JWKS are answered by it inside the
   * execution environment (lambda-worker.ts), so verifiers such as CognitoJwtVerifier work unmodified.
   */
  issuerUrl?: string;
  /** Injected failures (load and fault tests only: OfflineCloud's `faults` option). */
  faults?: InvocationFaults;
}

/**
 * A function's execution environments, each a worker thread with the function's own environment variables
 * and one module instance reused while warm. An environment runs one invocation at a time, like Lambda;
 * a timed-out one is discarded, and a new code version replaces idle environments at once and busy ones
 * when they finish, so no in-flight request is lost on reload.
 */
/** Where a gateway finds a route's function: only `invoke` is used (the cloud passes its map of LocalLambdas). */
export interface FunctionRegistry {
  get(functionName: string): Pick<LocalLambda, 'invoke'> | undefined;
}

/**
 * Where a REST integration finds its function: Invoke, and InvokeWithResponseStream for a STREAM integration (the
 * cloud passes its LocalLambdas; a test's fake may offer Invoke only).
 */
export interface StreamingFunctionRegistry {
  get(
    functionName: string,
  ): (Pick<LocalLambda, 'invoke'> & Partial<Pick<LocalLambda, 'invokeWithResponseStream'>>) | undefined;
}

export class LocalLambda {
  #config: LambdaConfig;
  #generation = 0;
  readonly #idle: Sandbox[] = [];
  readonly #waiting: { resolve: (sandbox: Sandbox) => void; reject: (error: Error) => void }[] = [];
  #stopped = false;
  readonly #all = new Set<Sandbox>();
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(config: LambdaConfig) {
    this.#config = config;
  }

  get config(): LambdaConfig {
    return this.#config;
  }

  /** New code or configuration: applies to every invocation that starts from now on. */
  update(config: LambdaConfig): void {
    this.#config = config;
    this.#generation++;
    for (const sandbox of this.#idle.splice(0)) this.#discard(sandbox);
  }

  invoke(event: unknown): Promise<unknown> {
    return this.#withFaults(event, () => this.#invokeInSandbox(event));
  }

  /**
   * InvokeWithResponseStream, which API Gateway uses for an integration whose responseTransferMode is STREAM
   * ("Set up a Lambda proxy integration with payload response streaming"): the same execution environments, one
   * invocation at a time each, the same timeout, but the response comes back as the handler writes it.
   */
  invokeWithResponseStream(event: unknown): StreamingInvocation {
    const body = new Readable({ read: () => undefined });
    // Whoever reads the body may have stopped listening (a client that went away): a failure after that must not
    // become an unhandled 'error' event, which would end the process.
    body.on('error', () => undefined);
    let ended = false;
    const stream = {
      chunk: (bytes: Uint8Array) => body.push(Buffer.from(bytes)),
      end: () => {
        ended = true;
        body.push(null);
      },
    };
    const completed = this.#withFaults(event, () => this.#invokeInSandbox(event, stream)).then(
      () => undefined,
      (error: Error) => {
        // Once the response has ended the client has all of it: a later failure is the invocation's alone.
        if (!ended) body.destroy(error);
      },
    );
    return { body, completed };
  }

  async #withFaults<T>(event: unknown, run: () => Promise<T>): Promise<T> {
    const fault = this.#config.faults?.draw(event);
    if (fault === 'beforeHandler') throw this.#injected(fault);
    const result = await run();
    if (fault === 'afterHandler') throw this.#injected(fault);
    return result;
  }

  #injected(fault: InjectedFault): LambdaError {
    const message = `Injected fault (${fault === 'beforeHandler' ? 'before' : 'after'} the handler ran)`;
    this.#config.log(this.#config.functionName, message);
    return new LambdaError('InjectedFault', message);
  }

  async #invokeInSandbox(event: unknown, stream?: Pending['stream']): Promise<unknown> {
    const requestId = randomUUID();
    const sandbox = await this.#acquire();
    const id = this.#nextId++;
    const timeoutMs = this.#config.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise((resolvePromise, reject) => {
        this.#pending.set(id, { resolve: resolvePromise, reject, ...(stream ? { stream } : {}) });
        timer = setTimeout(() => {
          this.#pending.delete(id);
          this.#config.log(
            this.#config.functionName,
            `${requestId} Task timed out after ${this.#config.timeoutSeconds.toFixed(2)} seconds`,
          );
          this.#discard(sandbox);
          reject(
            new LambdaError(
              'Sandbox.Timedout',
              `Task timed out after ${this.#config.timeoutSeconds} seconds`,
            ),
          );
        }, timeoutMs);
        sandbox.current = id;
        sandbox.worker.postMessage({ id, requestId, deadline, event, streaming: stream !== undefined });
      });
    } finally {
      clearTimeout(timer);
      sandbox.current = undefined;
      this.#release(sandbox);
    }
  }

  /**
   * For good: invocations in flight fail at once (not at their timeout), waiting ones never get an environment
   * (one started for them would outlive the function and keep the process alive), later ones are refused.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    for (const waiting of this.#waiting.splice(0)) waiting.reject(this.#stoppedError());
    for (const sandbox of this.#all) {
      if (sandbox.current === undefined) continue;
      this.#pending.get(sandbox.current)?.reject(this.#stoppedError());
      this.#pending.delete(sandbox.current);
    }
    await Promise.all([...this.#all].map((sandbox) => this.#discard(sandbox)));
  }

  #stoppedError(): LambdaError {
    return new LambdaError('Runtime.Stopped', `${this.#config.functionName} was stopped`);
  }

  async #acquire(): Promise<Sandbox> {
    if (this.#stopped) throw this.#stoppedError();
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.size < this.#config.maxConcurrency) return this.#start();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #release(sandbox: Sandbox): void {
    if (!this.#all.has(sandbox) || sandbox.generation !== this.#generation) {
      if (this.#all.has(sandbox)) this.#discard(sandbox);
      if (this.#waiting.length > 0) this.#waiting.shift()?.resolve(this.#start());
      return;
    }
    const next = this.#waiting.shift();
    if (next) next.resolve(sandbox);
    else this.#idle.push(sandbox);
  }

  #start(): Sandbox {
    const config = this.#config;
    const worker = new Worker(WORKER, {
      workerData: {
        bundle: config.bundle.file,
        exportName: config.exportName,
        functionName: config.functionName,
        memorySize: config.memorySize,
        region: config.region,
        accountId: config.accountId,
        issuerUrl: config.issuerUrl,
      },
      env: config.environment,
      stdout: true,
      stderr: true,
    });
    const sandbox: Sandbox = { worker, generation: this.#generation };
    this.#all.add(sandbox);
    pipeLines(worker.stdout, (line) => config.log(config.functionName, line));
    pipeLines(worker.stderr, (line) => config.log(config.functionName, line));
    // Messages of an invocation that is over (timed out, stopped) find no pending entry and are dropped.
    worker.on('message', (message: WorkerMessage) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      if ('chunk' in message) return pending.stream?.chunk(message.chunk);
      if ('end' in message) return pending.stream?.end();
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new LambdaError(message.error.errorType, message.error.errorMessage));
    });
    // A worker that dies by itself (an uncaught exception, process.exit), busy or idle, leaves the pool at
    // once and fails its invocation; one discarded on purpose has left the pool already and is ignored.
    const lost = (detail: string, message: string) => {
      if (!this.#all.delete(sandbox)) return;
      const idle = this.#idle.indexOf(sandbox);
      if (idle >= 0) this.#idle.splice(idle, 1);
      config.log(config.functionName, `Runtime exited with error: ${detail}`);
      const pending = sandbox.current === undefined ? undefined : this.#pending.get(sandbox.current);
      if (sandbox.current !== undefined) this.#pending.delete(sandbox.current);
      pending?.reject(new LambdaError('Runtime.ExitError', message));
    };
    worker.on('error', (error) => lost(error.stack ?? error.message, error.message));
    worker.on('exit', (code) =>
      lost(`exit status ${code}`, `Runtime exited with error: exit status ${code}`),
    );
    return sandbox;
  }

  #discard(sandbox: Sandbox): Promise<number> {
    this.#all.delete(sandbox);
    return sandbox.worker.terminate();
  }
}

function pipeLines(stream: Readable | null, sink: (line: string) => void): void {
  if (stream) createInterface({ input: stream }).on('line', sink);
}

/** `create-order.handler` → the export `handler`, checked against the bundle built from the entry point. */
export function exportNameOf(fn: FunctionDefinition): string {
  const handler = String(fn.properties.Handler ?? '');
  const dot = handler.lastIndexOf('.');
  const entry = ((fn.buildProperties?.EntryPoints as string[] | undefined) ?? [])[0] ?? '';
  const entryName = basename(entry, extname(entry));
  if (dot < 0 || handler.slice(0, dot).split('/').pop() !== entryName) {
    throw new UnsupportedTemplateError(
      `Resources.${fn.logicalId}.Properties.Handler`,
      `a Handler (${handler}) that does not name the entry point ${entry}`,
    );
  }
  return handler.slice(dot + 1);
}

export function numberProperty(properties: JsonObject, name: string, fallback: number): number {
  const value = properties[name];
  return value === undefined || value === null ? fallback : Number(value);
}

/**
 * A function's environment as Lambda gives it: its template variables resolved to local values, then what the
 * Lambda runtime itself sets (the template cannot override those), with local credentials.
 */
export function runtimeEnvironmentOf(fn: FunctionDefinition, resolver: Resolver): Record<string, string> {
  const { region } = resolver.pseudo;
  return {
    ...environmentOf(fn, resolver),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(numberProperty(fn.properties, 'MemorySize', 128)),
    TZ: 'UTC',
  };
}
