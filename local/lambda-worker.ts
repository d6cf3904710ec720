import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

/** One Lambda execution environment: the function's bundle, imported once, then invoked once at a time. */
interface WorkerConfig {
  bundle: string;
  exportName: string;
  functionName: string;
  memorySize: number;
  region: string;
  accountId: string;
}

interface Invocation {
  id: number;
  requestId: string;
  deadline: number;
  event: unknown;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const config = workerData as WorkerConfig;
if (process.env.NODE_OPTIONS?.includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

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

parentPort?.on('message', async ({ id, requestId, deadline, event }: Invocation) => {
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
  try {
    const handler = await handlerReady;
    const result = await handler(event, context);
    parentPort?.postMessage({ id, ok: true, result });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    console.error(`${requestId}\tERROR\tInvoke Error\t${failure.stack ?? failure.message}`);
    parentPort?.postMessage({
      id,
      ok: false,
      error: { errorType: failure.name, errorMessage: failure.message },
    });
  }
});
