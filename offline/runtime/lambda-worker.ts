import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import {
  installLambdaGlobals,
  isStreamingHandler,
  type ResponseSink,
  runStreamingHandler,
} from './lambda-response-stream.ts';

/** One Lambda execution environment: the function's bundle, imported once, then invoked once at a time. */
interface WorkerConfig {
  bundle: string;
  exportName: string;
  functionName: string;
  memorySize: number;
  region: string;
  accountId: string;
  /** The local issuer, which answers for Cognito's JWKS (see redirectCognitoJwks). */
  issuerUrl?: string;
}

interface Invocation {
  id: number;
  requestId: string;
  deadline: number;
  event: unknown;
  /** InvokeWithResponseStream rather than Invoke: the response goes back chunk by chunk as it is written. */
  streaming: boolean;
}

type Handler = (...args: unknown[]) => unknown;

const config = workerData as WorkerConfig;
if (process.env.NODE_OPTIONS?.includes('--enable-source-maps')) process.setSourceMapsEnabled(true);
if (config.issuerUrl) redirectCognitoJwks(config.issuerUrl);
// Before the bundle loads: a streaming handler calls awslambda.streamifyResponse as its module initialises.
installLambdaGlobals();

/**
 * Offline, Cognito's public JWKS (`https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`)
 * comes from the local issuer, which signs the local tokens: node:https requests to a Cognito IdP host are sent
 * to the issuer over http, path kept, so a handler's unmodified `CognitoJwtVerifier` (aws-jwt-verify fetches
 * with node:https `request`) works. It runs before the bundle is imported, and only inside this worker;
 * syncBuiltinESMExports makes bundles that `import { request } from 'https'` see the wrapped functions.
 */
function redirectCognitoJwks(issuerUrl: string): void {
  const COGNITO_IDP = /^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$/;
  type Arguments = Parameters<typeof https.request>;
  const redirected = (args: Arguments): http.ClientRequest | undefined => {
    const [first, second, third] = args as unknown[];
    const url = typeof first === 'string' || first instanceof URL ? new URL(first) : undefined;
    const given = url ? second : first;
    const options = (typeof given === 'object' && given !== null ? given : {}) as https.RequestOptions;
    const callback = [second, third].find((arg) => typeof arg === 'function') as
      | ((response: http.IncomingMessage) => void)
      | undefined;
    const host = url?.hostname ?? options.hostname ?? options.host?.replace(/:\d+$/, '');
    if (!host || !COGNITO_IDP.test(host)) return undefined;
    const target = new URL(url ? `${url.pathname}${url.search}` : (options.path ?? '/'), issuerUrl);
    const { method, headers, timeout, signal } = options;
    return http.request(target, { method, headers, timeout, signal }, callback);
  };
  const request = https.request;
  const get = https.get;
  https.request = ((...args: Arguments) => redirected(args) ?? request(...args)) as typeof https.request;
  https.get = ((...args: Arguments) => {
    const local = redirected(args);
    if (!local) return get(...args);
    local.end();
    return local;
  }) as typeof https.get;
  syncBuiltinESMExports();
}

const handlerReady: Promise<Handler> = import(pathToFileURL(config.bundle).href).then((module) => {
  const handler = module[config.exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${config.bundle} does not export ${config.exportName}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
});
// An import that fails is reported by each invocation (below), not as an unhandled rejection that kills the worker.
handlerReady.catch(() => undefined);

parentPort?.on('message', async ({ id, requestId, deadline, event, streaming }: Invocation) => {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`,
    memoryLimitInMB: String(config.memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: `local/[$LATEST]${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const post = (message: Record<string, unknown>) => parentPort?.postMessage({ id, ...message });
  try {
    const handler = await handlerReady;
    if (streaming) {
      await respondStreaming(handler, event, context, {
        // A copy of the chunk's own bytes: a small Buffer is a view of a shared pool, all of which would be cloned.
        write: (chunk) => post({ chunk: new Uint8Array(chunk) }),
        end: () => post({ end: true }),
      });
      post({ ok: true });
    } else {
      post({ ok: true, result: await respondBuffered(handler, event, context) });
    }
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    console.error(`${requestId}\tERROR\tInvoke Error\t${failure.stack ?? failure.message}`);
    post({ ok: false, error: { errorType: failure.name, errorMessage: failure.message } });
  }
});

/**
 * InvokeWithResponseStream: a streaming handler's bytes go back as it writes them. A handler that does not stream
 * answers in one chunk, its result as the JSON payload Invoke would return (how Lambda itself answers that case is
 * not documented).
 */
async function respondStreaming(
  handler: Handler,
  event: unknown,
  context: unknown,
  sink: ResponseSink,
): Promise<void> {
  if (isStreamingHandler(handler)) return runStreamingHandler(handler, event, context, sink);
  sink.write(Buffer.from(JSON.stringify(await handler(event, context)) ?? ''));
  sink.end();
}

/**
 * Invoke. A streaming handler can still be invoked this way, its response then buffered ("You can still invoke your
 * function without response streaming by directly calling the Invoke API operation", Lambda developer guide,
 * config-rs-invoke-furls.html): the payload is every byte it wrote, prelude included.
 */
async function respondBuffered(handler: Handler, event: unknown, context: unknown): Promise<unknown> {
  if (!isStreamingHandler(handler)) return handler(event, context);
  const chunks: Buffer[] = [];
  await runStreamingHandler(handler, event, context, {
    write: (chunk) => chunks.push(chunk),
    end: () => undefined,
  });
  return Buffer.concat(chunks).toString('utf8');
}
