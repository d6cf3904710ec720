import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import type { z } from 'zod';
import {
  type FunctionDefinition,
  functionsOf,
  type JsonObject,
  type Template,
} from '../../offline/template/template.ts';
import { ROOT } from './rules.ts';
import { type WebSocketRoute, webSocketRoutesOf } from './websocket-rules.ts';

/**
 * The sample events' rules that the template's features share: how a non-HTTP function's event is named, and what
 * a WebSocket API sends its functions (test/template/events.test.ts checks the HTTP, SQS and REST events).
 */

/** The sample events for `sam local invoke -e`. */
export const EVENTS_DIR = resolve(ROOT, 'events');

/**
 * The sample event of a function that is no HTTP API route (a WebSocket, queue or REST API function) is named after
 * its folder and handler, `functions/<folder>/<handler>.ts` → `<folder>-<handler>`: the handler names alone (connect,
 * process-partner-orders) say little among the HTTP routes' events.
 */
export function folderEventName(fn: FunctionDefinition): string {
  const entry = String((fn.buildProperties?.EntryPoints as string[] | undefined)?.[0]);
  return `${basename(dirname(entry))}-${basename(entry, extname(entry))}`;
}

/** The sample events (events/<folder>-<handler>.json) that `functions` lack. */
export const missingFolderEvents = (functions: readonly FunctionDefinition[]): string[] =>
  functions
    .map((fn) => `events/${folderEventName(fn)}.json`)
    .filter((file) => !existsSync(resolve(ROOT, file)));

// ---------------------------------------------------------------- WebSocket events

/** A function a WebSocket API invokes: a route's, or its `$connect` authoriser. */
export type WebSocketFunction =
  | { kind: 'route'; fn: FunctionDefinition; route: WebSocketRoute }
  | { kind: 'authorizer'; fn: FunctionDefinition; authorizer: string; identitySource: string[] };

/** Every function a WebSocket API of `template` invokes, with the route it serves or the authoriser it is. */
export function webSocketFunctionsOf(template: Template): WebSocketFunction[] {
  const byId = new Map(functionsOf(template).map((fn) => [fn.logicalId, fn]));
  const found: WebSocketFunction[] = [];
  for (const route of webSocketRoutesOf(template)) {
    const fn = byId.get(route.fn ?? '');
    if (fn) found.push({ kind: 'route', fn, route });
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Authorizer') continue;
    const uri = String((resource.Properties?.AuthorizerUri as JsonObject | undefined)?.['Fn::Sub'] ?? '');
    const fn = byId.get(/\$\{(\w+)\.Arn\}/.exec(uri)?.[1] ?? '');
    const identitySource = ((resource.Properties?.IdentitySource ?? []) as string[]).map(String);
    if (fn) found.push({ kind: 'authorizer', fn, authorizer: id, identitySource });
  }
  return found;
}

export interface WebSocketContext {
  routeKey?: string;
  eventType?: string;
  messageId?: string;
  extendedRequestId?: string;
  requestTime?: string;
  messageDirection?: string;
  stage?: string;
  connectedAt?: number;
  requestTimeEpoch?: number;
  identity?: { sourceIp?: string; userAgent?: string };
  requestId?: string;
  domainName?: string;
  connectionId?: string;
  apiId?: string;
  authorizer?: Record<string, unknown>;
}

export interface WebSocketSample {
  type?: string;
  methodArn?: string;
  requestContext?: WebSocketContext;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

const EVENT_TYPES: Record<string, string> = { $connect: 'CONNECT', $disconnect: 'DISCONNECT' };
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** What every WebSocket requestContext has, whatever the route (the contract's event shapes). */
function checkWebSocketContext(context: WebSocketContext, routeKey: string, fail: (message: string) => void) {
  const eventType = EVENT_TYPES[routeKey] ?? 'MESSAGE';
  if (context.routeKey !== routeKey)
    fail(`requestContext.routeKey ${context.routeKey} is not the template's ${routeKey}`);
  if (context.eventType !== eventType) fail(`requestContext.eventType is not ${eventType}`);
  if (eventType === 'MESSAGE' ? !context.messageId : context.messageId !== undefined) {
    fail(`requestContext.messageId is ${eventType === 'MESSAGE' ? 'missing' : 'only for MESSAGE events'}`);
  }
  if (context.messageDirection !== 'IN') fail('requestContext.messageDirection is not IN');
  for (const name of [
    'extendedRequestId',
    'requestTime',
    'stage',
    'requestId',
    'connectionId',
    'apiId',
  ] as const) {
    if (typeof context[name] !== 'string' || context[name] === '') fail(`requestContext.${name} is missing`);
  }
  if (
    !context.apiId ||
    !/^[a-z0-9]+\.execute-api\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com$/.test(context.domainName ?? '') ||
    !context.domainName?.startsWith(`${context.apiId}.`)
  ) {
    fail('requestContext.apiId/domainName are not an execute-api domain');
  }
  if (typeof context.connectedAt !== 'number' || typeof context.requestTimeEpoch !== 'number') {
    fail('requestContext.connectedAt/requestTimeEpoch are not epoch milliseconds');
  } else if (context.connectedAt > context.requestTimeEpoch) {
    fail('requestContext.connectedAt is after requestTimeEpoch');
  }
  if (!context.identity?.sourceIp || !context.identity.userAgent)
    fail('requestContext.identity lacks sourceIp or userAgent');
}

/** The multiValue form of headers or query parameters carries the same values as the single-value form. */
export function checkMultiValue(
  single: Record<string, string> | undefined,
  multi: Record<string, string[]> | undefined,
  what: string,
  fail: (message: string) => void,
) {
  if (!single || !multi) {
    fail(`${what} and its multiValue form are both required`);
    return;
  }
  const expected = Object.fromEntries(Object.entries(single).map(([name, value]) => [name, [value]]));
  if (JSON.stringify(expected) !== JSON.stringify(multi)) fail(`multiValue ${what} do not match ${what}`);
}

/** A `$connect` event (a route's or the authoriser's) carries the handshake's headers and query, both forms alike. */
function checkHandshakeMultiValues(event: WebSocketSample, fail: (message: string) => void) {
  checkMultiValue(event.headers, event.multiValueHeaders, 'headers', fail);
  checkMultiValue(
    event.queryStringParameters,
    event.multiValueQueryStringParameters,
    'queryStringParameters',
    fail,
  );
}

/** What the WebSocket event checks know of the API beyond its template: see checkWebSocketSample. */
export interface WebSocketMessageRules {
  /** The route keys a message's `action` selects (the routes of the WebSocket functions). */
  routeKeys: ReadonlySet<string>;
  /** The message schema each message route's handler validates its body with, by handler file (MESSAGE_SCHEMAS). */
  messageSchemas: Record<string, z.ZodType>;
}

/** Everything wrong with `event` as the event API Gateway sends a WebSocket route's function. */
function checkWebSocketEvent(
  entry: Extract<WebSocketFunction, { kind: 'route' }>,
  event: WebSocketSample,
  rules: WebSocketMessageRules,
): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const { routeKey } = entry.route;
  const context = event.requestContext ?? {};
  checkWebSocketContext(context, routeKey, fail);
  if (event.isBase64Encoded !== false) fail('isBase64Encoded is not false');
  const authorizer = context.authorizer ?? {};
  if (typeof authorizer.userId !== 'string' || authorizer.principalId !== authorizer.userId) {
    fail('requestContext.authorizer lacks the userId (= principalId) the $connect authoriser returns');
  }
  if (typeof authorizer.username !== 'string') fail('requestContext.authorizer.username is missing');
  if (routeKey === '$connect') {
    checkHandshakeMultiValues(event, fail);
    if (event.body !== undefined) fail('a $connect event has no body');
  } else if (routeKey === '$disconnect') {
    if (!event.headers) fail('a $disconnect event carries headers');
    if (typeof event.disconnectStatusCode !== 'number') fail('disconnectStatusCode is missing');
    if (typeof event.disconnectReason !== 'string') fail('disconnectReason is missing');
    if (event.body !== undefined) fail('a $disconnect event has no body');
  } else {
    let body: unknown;
    try {
      body = JSON.parse(String(event.body));
    } catch {
      fail('body is not a JSON string');
    }
    const action = (body as { action?: unknown } | undefined)?.action;
    if (routeKey === '$default') {
      if (typeof action === 'string' && rules.routeKeys.has(action)) {
        fail(`body.action ${action} would select the ${action} route, not $default`);
      }
    } else {
      if (action !== routeKey)
        fail(`body.action ${String(action)} does not select the template's ${routeKey} route`);
      const entryPoint = String((entry.fn.buildProperties?.EntryPoints as string[] | undefined)?.[0]);
      const file = basename(entryPoint, extname(entryPoint));
      const schema = rules.messageSchemas[file];
      if (!schema) fail(`add the message schema of ${file} to MESSAGE_SCHEMAS`);
      else {
        const result = schema.safeParse(body);
        if (!result.success) fail(`body fails the handler schema: ${result.error.message}`);
      }
    }
  }
  return violations;
}

/** Everything wrong with `event` as the REQUEST authoriser event of a WebSocket `$connect`. */
function checkAuthorizerEvent(
  entry: Extract<WebSocketFunction, { kind: 'authorizer' }>,
  event: WebSocketSample,
): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const context = event.requestContext ?? {};
  if (event.type !== 'REQUEST') fail('type is not REQUEST');
  checkWebSocketContext(context, '$connect', fail);
  if (context.authorizer !== undefined) fail('an authoriser event has no requestContext.authorizer');
  const arn = /^arn:aws:execute-api:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):(\w+)\/([^/]+)\/\$connect$/.exec(
    event.methodArn ?? '',
  );
  if (!arn)
    fail(`methodArn ${event.methodArn} is not arn:aws:execute-api:<region>:<account>:<api>/<stage>/$connect`);
  else if (
    arn[3] !== context.apiId ||
    arn[4] !== context.stage ||
    !context.domainName?.includes(`.${arn[1]}.`)
  ) {
    fail('methodArn names another API, stage or region than requestContext');
  }
  checkHandshakeMultiValues(event, fail);
  if (event.stageVariables === undefined) fail('stageVariables is missing');
  for (const source of entry.identitySource) {
    const [, kind, name] = /^route\.request\.(querystring|header)\.(.+)$/.exec(source) ?? [];
    const value =
      kind === 'querystring' ? event.queryStringParameters?.[name ?? ''] : event.headers?.[name ?? ''];
    if (!JWT.test(value ?? '')) fail(`the identity source ${source} does not hold a JWT`);
  }
  return violations;
}

/** The sample event of a WebSocket function (events/<folder>-<handler>.json). */
export const readWebSocketEvent = (fn: FunctionDefinition): WebSocketSample =>
  JSON.parse(readFileSync(resolve(EVENTS_DIR, `${folderEventName(fn)}.json`), 'utf8')) as WebSocketSample;

/** Everything wrong with `event` as what the WebSocket API sends `entry`'s function (a route's or the authoriser's). */
export const checkWebSocketSample = (
  entry: WebSocketFunction,
  event: WebSocketSample,
  rules: WebSocketMessageRules,
): string[] =>
  entry.kind === 'route' ? checkWebSocketEvent(entry, event, rules) : checkAuthorizerEvent(entry, event);
