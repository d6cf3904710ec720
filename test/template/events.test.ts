import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2WithJWTAuthorizer, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// Only schema modules: they read no environment, so the template project can import them as they are.
import { CreateOrderInput, OrderId } from '../../functions/orders/order.ts';
import { PartnerOrderAttributes } from '../../functions/orders/partner-order.ts';
import { ProductId, ProductInput } from '../../functions/products/product.ts';
import { type FunctionDefinition, functionsOf, loadTemplate } from '../../offline/template/template.ts';
import { md5OfMessageAttributes } from '../support/sqs-event.ts';
import {
  checkMultiValue,
  EVENTS_DIR,
  folderEventName,
  missingFolderEvents,
  webSocketFunctionsOf,
} from './events.ts';
import { type SqsEventSource, sqsEventSourcesOf } from './queue-rules.ts';
import { type Route, routesOf } from './route-auth-rules.ts';
import { ROOT } from './rules.ts';

/**
 * The schemas each handler validates its input with. A new route with a body or path parameters needs an
 * entry here, so its sample event is checked the way the handler will check it.
 */
const HANDLER_SCHEMAS: Record<string, { body?: z.ZodType; path?: z.ZodType }> = {
  'create-order': { body: CreateOrderInput },
  'get-order': { path: z.object({ id: OrderId }) },
  'delete-order': { path: z.object({ id: OrderId }) },
  'put-product': { body: ProductInput, path: z.object({ id: ProductId }) },
};

/** The schemas each SQS-triggered function validates a record's body and message attributes with (by handler file). */
const QUEUE_MESSAGE_SCHEMAS: Record<string, { body: z.ZodType; messageAttributes?: z.ZodType }> = {
  'process-partner-orders': { body: CreateOrderInput, messageAttributes: PartnerOrderAttributes },
};

/**
 * The partner REST API's Lambda proxy routes, by function. Their functions have no SAM Events (the routes live
 * in openapi/partner-api.yaml), so each is listed here with the path schema its handler validates.
 */
const REST_ROUTES: Record<string, { method: string; resource: string; path?: z.ZodType }> = {
  ListProductsFunction: { method: 'GET', resource: '/products' },
  GetProductFunction: { method: 'GET', resource: '/products/{id}', path: z.object({ id: ProductId }) },
  StreamPartnerOrdersFunction: { method: 'GET', resource: '/orders' },
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const COGNITO_ISSUER = /^https:\/\/cognito-idp\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com\/\1_[0-9A-Za-z]+$/;
const REQUIRED_CLAIMS = [
  'sub',
  'iss',
  'client_id',
  'token_use',
  'scope',
  'auth_time',
  'exp',
  'iat',
  'jti',
  'username',
];

const template = loadTemplate(resolve(ROOT, 'template.yaml'));
const routes = routesOf(template);
/** The WebSocket APIs' functions: their events are checked with each API's own cases (test/<feature>/template/). */
const webSocket = webSocketFunctionsOf(template);

type HttpApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

/** The handler file of a route's function (`functions/me/get-me.ts` → `get-me`), which names its event. */
function handlerFile(route: Route): string {
  const entry = String((route.fn.buildProperties?.EntryPoints as string[] | undefined)?.[0]);
  return basename(entry, extname(entry));
}

/** Groups the handler insists on (`requireGroup(caller, 'admin')`), read from its source. */
function requiredGroups(route: Route): string[] {
  const entry = String((route.fn.buildProperties?.EntryPoints as string[] | undefined)?.[0]);
  const source = readFileSync(resolve(ROOT, entry), 'utf8');
  return [...source.matchAll(/requireGroup\(\s*\w+\s*,\s*['"]([^'"]+)['"]\s*\)/g)].map((match) =>
    String(match[1]),
  );
}

/** Everything wrong with `event` as the payload 2.0 event API Gateway would send for `route`. */
function checkEvent(route: Route, event: HttpApiEvent): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const context = event.requestContext ?? ({} as HttpApiEvent['requestContext']);

  if (event.version !== '2.0') fail('version is not "2.0"');
  if (event.routeKey !== route.routeKey)
    fail(`routeKey ${event.routeKey} is not the template's ${route.routeKey}`);
  if (context.routeKey !== route.routeKey) fail('requestContext.routeKey differs from the route');
  if (context.http?.method !== route.method) fail(`requestContext.http.method is not ${route.method}`);
  if (event.isBase64Encoded !== false) fail('isBase64Encoded is not false');

  const names = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((match) => String(match[1]));
  const parameters = event.pathParameters ?? {};
  if (JSON.stringify(Object.keys(parameters).sort()) !== JSON.stringify([...names].sort())) {
    fail(`pathParameters ${JSON.stringify(parameters)} do not match ${route.path}`);
  }
  const path = route.path.replace(/\{(\w+)\+?\}/g, (_match, name: string) => parameters[name] ?? '');
  if (event.rawPath !== path) fail(`rawPath ${event.rawPath} is not ${path}`);
  if (context.http?.path !== event.rawPath) fail('requestContext.http.path differs from rawPath');
  const query = Object.fromEntries(new URLSearchParams(event.rawQueryString ?? ''));
  if (JSON.stringify(query) !== JSON.stringify(event.queryStringParameters ?? {})) {
    fail('queryStringParameters do not match rawQueryString');
  }

  const headers = event.headers ?? {};
  for (const name of Object.keys(headers))
    if (name !== name.toLowerCase()) fail(`header ${name} is not lower-case`);
  if (!/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(headers.authorization ?? '')) {
    fail('the authorization header is not "Bearer <jwt>"');
  }
  for (const name of ['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port']) {
    if (headers[name] === undefined) fail(`the ${name} header is missing`);
  }
  if (headers.host !== context.domainName) fail('the host header is not requestContext.domainName');

  if (!/^\d{12}$/.test(context.accountId ?? '')) fail('requestContext.accountId is not a 12-digit account');
  if (!context.apiId || !context.domainName?.startsWith(`${context.apiId}.execute-api.`)) {
    fail('requestContext.apiId/domainName are not an execute-api domain');
  }
  if (context.domainPrefix !== context.apiId) fail('requestContext.domainPrefix is not the API id');
  if (context.stage !== '$default') fail('requestContext.stage is not $default');
  if (!context.requestId) fail('requestContext.requestId is missing');
  if (typeof context.time !== 'string' || typeof context.timeEpoch !== 'number') {
    fail('requestContext.time/timeEpoch are missing');
  }
  if (!context.http?.sourceIp || !context.http.userAgent || !context.http.protocol) {
    fail('requestContext.http lacks sourceIp, userAgent or protocol');
  }

  const jwt = context.authorizer?.jwt;
  const claims = (jwt?.claims ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value !== 'string')
      fail(`claim ${name} is a ${typeof value}; API Gateway passes every claim as a string`);
  }
  for (const name of REQUIRED_CLAIMS) if (claims[name] === undefined) fail(`claim ${name} is missing`);
  if (!COGNITO_ISSUER.test(String(claims.iss)))
    fail(`claim iss ${String(claims.iss)} is not a Cognito user pool issuer`);
  if (claims.token_use !== 'access') fail('claim token_use is not access');
  const seconds = Math.floor((context.timeEpoch ?? 0) / 1000);
  if (!(Number(claims.iat) <= seconds && seconds < Number(claims.exp)))
    fail('the token had expired at timeEpoch');
  const scopes = jwt?.scopes ?? [];
  const scopeClaim = String(claims.scope ?? '').split(' ');
  for (const scope of scopes)
    if (!scopeClaim.includes(scope)) fail(`scope ${scope} is not in the scope claim`);
  for (const scope of (route.auth.AuthorizationScopes ?? []) as string[]) {
    if (!scopes.includes(scope)) fail(`authorizer.jwt.scopes lack ${scope}, which the route requires`);
  }
  const groups = String(claims['cognito:groups'] ?? '[]')
    .replace(/^\[|\]$/g, '')
    .split(' ');
  for (const group of requiredGroups(route)) {
    if (!groups.includes(group)) fail(`claim cognito:groups lacks ${group}, which the handler requires`);
  }

  const schemas = HANDLER_SCHEMAS[handlerFile(route)] ?? {};
  if (names.length > 0) {
    if (!schemas.path) fail(`add the path schema of ${handlerFile(route)} to HANDLER_SCHEMAS`);
    else if (!schemas.path.safeParse(parameters).success) fail('pathParameters fail the handler schema');
  }
  if (BODY_METHODS.has(route.method)) {
    if (typeof event.body !== 'string') fail('a body route event needs body as a JSON string');
    if (!/^application\/json\b/.test(headers['content-type'] ?? ''))
      fail('content-type is not application/json');
    if (!schemas.body) fail(`add the body schema of ${handlerFile(route)} to HANDLER_SCHEMAS`);
    else {
      let body: unknown;
      try {
        body = JSON.parse(String(event.body));
      } catch {
        fail('body is not JSON');
      }
      const result = schemas.body.safeParse(body);
      if (!result.success) fail(`body fails the handler schema: ${result.error.message}`);
    }
    if (
      headers['content-length'] !== undefined &&
      Number(headers['content-length']) !== Buffer.byteLength(String(event.body))
    ) {
      fail('content-length is not the byte length of body');
    }
  }
  return violations;
}

const readEvent = (route: Route): HttpApiEvent =>
  JSON.parse(readFileSync(resolve(EVENTS_DIR, `${handlerFile(route)}.json`), 'utf8')) as HttpApiEvent;

// ---------------------------------------------------------------- SQS events

/** A queue consumer's event is named after its folder and handler: `functions/orders/x.ts` → `orders-x`. */
const sqsSources = sqsEventSourcesOf(template);
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
];

/** A message attribute as Lambda delivers it: lower-camel, the list values empty, a String, Number or Binary type. */
const LAMBDA_MESSAGE_ATTRIBUTE = z.union([
  z.strictObject({
    stringValue: z.string(),
    stringListValues: z.tuple([]),
    binaryListValues: z.tuple([]),
    dataType: z.string().regex(/^(String|Number)(\..+)?$/),
  }),
  z.strictObject({
    binaryValue: z.base64(),
    stringListValues: z.tuple([]),
    binaryListValues: z.tuple([]),
    dataType: z.string().regex(/^Binary(\..+)?$/),
  }),
]);

/** Everything wrong with `event` as the batch the SQS event source mapping sends `source`'s function. */
function checkSqsEvent(source: SqsEventSource, event: SQSEvent): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const records = Array.isArray(event.Records) ? event.Records : [];
  const batchSize = Number(source.properties.BatchSize ?? 10);
  if (records.length === 0) fail('Records is empty');
  if (records.length > batchSize) fail(`${records.length} records exceed the event's BatchSize ${batchSize}`);
  const entry = String((source.fn.buildProperties?.EntryPoints as string[] | undefined)?.[0]);
  const file = basename(entry, extname(entry));
  const schemas = QUEUE_MESSAGE_SCHEMAS[file];
  if (!schemas) fail(`add the message schemas of ${file} to QUEUE_MESSAGE_SCHEMAS`);
  const ids = new Set<string>();
  records.forEach((record, index) => {
    const where = `Records[${index}]`;
    if (!z.uuid().safeParse(record.messageId).success) fail(`${where}.messageId is not a UUID`);
    if (ids.has(record.messageId)) fail(`${where}.messageId repeats another record's`);
    ids.add(record.messageId);
    if (typeof record.receiptHandle !== 'string' || record.receiptHandle.length < 20) {
      fail(`${where}.receiptHandle is missing`);
    }
    if (typeof record.body !== 'string') fail(`${where}.body is not a string`);
    else if (record.md5OfBody !== createHash('md5').update(record.body, 'utf8').digest('hex')) {
      fail(`${where}.md5OfBody is not the MD5 of body`);
    }
    if (record.eventSource !== 'aws:sqs') fail(`${where}.eventSource is not aws:sqs`);
    const arn = /^arn:aws:sqs:([a-z0-9-]+):(\d{12}):([\w-]{1,80})$/.exec(record.eventSourceARN ?? '');
    if (!arn) fail(`${where}.eventSourceARN is not an SQS queue ARN`);
    else if (arn[1] !== record.awsRegion) fail(`${where}.eventSourceARN is in another region than awsRegion`);
    if (!AWS_REGION.test(record.awsRegion ?? '')) fail(`${where}.awsRegion is not a region`);
    const attributes = (record.attributes ?? {}) as unknown as Record<string, unknown>;
    for (const name of SYSTEM_ATTRIBUTES) {
      if (typeof attributes[name] !== 'string') fail(`${where}.attributes.${name} is not a string`);
    }
    if (!/^[1-9]\d*$/.test(String(attributes.ApproximateReceiveCount))) {
      fail(`${where}.attributes.ApproximateReceiveCount is not a count`);
    }
    if (Number(attributes.ApproximateFirstReceiveTimestamp) < Number(attributes.SentTimestamp)) {
      fail(`${where}.attributes.ApproximateFirstReceiveTimestamp is before SentTimestamp`);
    }
    if (typeof record.messageAttributes !== 'object' || record.messageAttributes === null) {
      fail(`${where}.messageAttributes is missing (Lambda sends {} when there are none)`);
    } else {
      const malformed = Object.entries(record.messageAttributes).filter(
        ([, value]) => !LAMBDA_MESSAGE_ATTRIBUTE.safeParse(value).success,
      );
      for (const [name] of malformed) {
        fail(
          `${where}.messageAttributes.${name} is not {stringValue, stringListValues, binaryListValues, dataType}`,
        );
      }
      const md5 = malformed.length === 0 ? md5OfMessageAttributes(record.messageAttributes) : undefined;
      if (md5 !== undefined && record.md5OfMessageAttributes !== md5) {
        fail(`${where}.md5OfMessageAttributes is not the MD5 of messageAttributes`);
      }
      const result = schemas?.messageAttributes?.safeParse(record.messageAttributes);
      if (result && !result.success) {
        fail(`${where}.messageAttributes fail the handler schema: ${result.error.message}`);
      }
    }
    if (schemas && typeof record.body === 'string') {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        fail(`${where}.body is not JSON`);
        return;
      }
      const result = schemas.body.safeParse(body);
      if (!result.success) fail(`${where}.body fails the handler schema: ${result.error.message}`);
    }
  });
  if (new Set(records.map((record) => record.eventSourceARN)).size > 1) {
    fail('the records come from more than one queue');
  }
  return violations;
}

const readSqsEvent = (source: SqsEventSource): SQSEvent =>
  JSON.parse(readFileSync(resolve(EVENTS_DIR, `${folderEventName(source.fn)}.json`), 'utf8')) as SQSEvent;

// ---------------------------------------------------------------- REST API events

/** The partner API's Lambda authorisers: functions named by a security scheme's x-amazon-apigateway-authorizer. */
const partnerApi = readFileSync(resolve(ROOT, 'openapi/partner-api.yaml'), 'utf8');
const restAuthorizers = functionsOf(template).filter((fn) =>
  new RegExp(`authorizerUri:\\s+Fn::Sub: \\S+/functions/\\$\\{${fn.logicalId}\\.Arn\\}/invocations`).test(
    partnerApi,
  ),
);

/** Functions that neither a SAM event nor a WebSocket API invokes: the REST API's Lambda proxy routes. */
const restFunctions = functionsOf(template).filter(
  (fn) =>
    fn.properties.Events === undefined &&
    !webSocket.some((entry) => entry.fn.logicalId === fn.logicalId) &&
    !restAuthorizers.some((authorizer) => authorizer.logicalId === fn.logicalId),
);

/** Everything wrong with `event` as the TOKEN authoriser event the partner API sends for GET /orders. */
function checkTokenEvent(event: Record<string, unknown>): string[] {
  const violations: string[] = [];
  if (Object.keys(event).sort().join() !== 'authorizationToken,methodArn,type')
    violations.push('a TOKEN event has type, authorizationToken and methodArn only');
  if (event.type !== 'TOKEN') violations.push('type is not TOKEN');
  if (
    typeof event.authorizationToken !== 'string' ||
    !/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(event.authorizationToken)
  )
    violations.push('authorizationToken is not the Authorization header of a bearer JWT');
  if (!/^arn:aws:execute-api:[a-z0-9-]+:\d{12}:[a-z0-9]+\/\w+\/GET\/orders$/.test(String(event.methodArn)))
    violations.push('methodArn is not the ARN of GET /orders');
  return violations;
}

/** Everything wrong with `event` as the Lambda proxy event (payload 1.0) the REST API sends for `route`. */
function checkRestEvent(
  route: { method: string; resource: string; path?: z.ZodType },
  event: APIGatewayProxyEvent,
) {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const context = event.requestContext ?? ({} as APIGatewayProxyEvent['requestContext']);
  if ('version' in event || 'rawPath' in event) fail('version/rawPath belong to an HTTP API (2.0) event');
  if (event.httpMethod !== route.method || context.httpMethod !== route.method) {
    fail(`httpMethod/requestContext.httpMethod are not ${route.method}`);
  }
  if (event.resource !== route.resource || context.resourcePath !== route.resource) {
    fail(`resource/requestContext.resourcePath are not ${route.resource}`);
  }
  const names = [...route.resource.matchAll(/\{(\w+)\+?\}/g)].map((match) => String(match[1]));
  const parameters = event.pathParameters ?? {};
  if (JSON.stringify(Object.keys(parameters).sort()) !== JSON.stringify([...names].sort())) {
    fail(`pathParameters ${JSON.stringify(event.pathParameters)} do not match ${route.resource}`);
  }
  if (names.length === 0 && event.pathParameters !== null) fail('pathParameters is not null');
  if (route.path && !route.path.safeParse(parameters).success) fail('pathParameters fail the handler schema');
  const path = route.resource.replace(/\{(\w+)\+?\}/g, (_match, name: string) => parameters[name] ?? '');
  if (event.path !== path) fail(`path ${event.path} is not ${path}`);
  if (context.path !== `/${context.stage}${path}`) fail('requestContext.path is not /<stage><path>');
  checkMultiValue(
    event.headers as Record<string, string>,
    event.multiValueHeaders as Record<string, string[]>,
    'headers',
    fail,
  );
  if (event.queryStringParameters === null || event.multiValueQueryStringParameters === null) {
    if (event.queryStringParameters !== event.multiValueQueryStringParameters) {
      fail('queryStringParameters and its multiValue form are not both null');
    }
  } else {
    checkMultiValue(
      event.queryStringParameters as Record<string, string>,
      event.multiValueQueryStringParameters as Record<string, string[]>,
      'queryStringParameters',
      fail,
    );
  }
  if (event.stageVariables === undefined) fail('stageVariables is missing (null when there are none)');
  if (!z.uuid().safeParse(context.requestId).success) fail('requestContext.requestId is not a UUID');
  if (typeof context.requestTimeEpoch !== 'number') fail('requestContext.requestTimeEpoch is missing');
  if (!context.apiId || !context.domainName?.startsWith(`${context.apiId}.execute-api.`)) {
    fail('requestContext.apiId/domainName are not an execute-api domain');
  }
  if (event.headers?.Host !== context.domainName) fail('the Host header is not requestContext.domainName');
  if (!context.identity?.apiKeyId || context.identity.apiKey !== event.headers?.['x-api-key']) {
    fail('requestContext.identity lacks the apiKeyId and apiKey of the x-api-key header');
  }
  if (!context.identity?.sourceIp) fail('requestContext.identity.sourceIp is missing');
  if (route.method === 'GET' && event.body !== null) fail('a GET event has body null');
  if (event.isBase64Encoded !== false) fail('isBase64Encoded is not false');
  return violations;
}

const readRestEvent = (fn: FunctionDefinition): APIGatewayProxyEvent =>
  JSON.parse(
    readFileSync(resolve(EVENTS_DIR, `${folderEventName(fn)}.json`), 'utf8'),
  ) as APIGatewayProxyEvent;

describe('sample events (events/<handler>.json for `sam local invoke -e`)', () => {
  it('exist for every HTTP API route', () => {
    const missing = routes
      .map((route) => `events/${handlerFile(route)}.json`)
      .filter((file) => !existsSync(resolve(ROOT, file)));
    expect(missing).toEqual([]);
  });

  it('exist for every SQS-triggered function (events/<folder>-<handler>.json)', () => {
    expect(sqsSources.length).toBeGreaterThan(0);
    expect(missingFolderEvents(sqsSources.map(({ fn }) => fn))).toEqual([]);
  });

  it('exist for every REST API function (events/<folder>-<handler>.json), whose route is in REST_ROUTES', () => {
    expect(restFunctions.map((fn) => fn.logicalId).sort()).toEqual(Object.keys(REST_ROUTES).sort());
    expect(missingFolderEvents(restFunctions)).toEqual([]);
  });

  it('belong to a function of the template', () => {
    const known = new Set([
      ...routes.map(handlerFile),
      ...webSocket.map(({ fn }) => folderEventName(fn)),
      ...sqsSources.map(({ fn }) => folderEventName(fn)),
      ...restFunctions.map(folderEventName),
      ...restAuthorizers.map(folderEventName),
    ]);
    const orphans = readdirSync(EVENTS_DIR).filter((file) => !known.has(basename(file, '.json')));
    expect(orphans).toEqual([]);
  });

  it.each(routes.map((route) => [`${handlerFile(route)}.json (${route.routeKey})`, route] as const))(
    '%s is what API Gateway sends after the JWT authoriser',
    (_name, route) => {
      expect(checkEvent(route, readEvent(route))).toEqual([]);
    },
  );

  it.each(
    sqsSources.map(
      (source) => [`${folderEventName(source.fn)}.json (${source.queue ?? '?'})`, source] as const,
    ),
  )('%s is what the SQS event source mapping sends', (_name, source) => {
    expect(checkSqsEvent(source, readSqsEvent(source))).toEqual([]);
  });

  it.each(restFunctions.map((fn) => [`${folderEventName(fn)}.json (${fn.logicalId})`, fn] as const))(
    '%s is what the REST API sends its Lambda proxy integration',
    (_name, fn) => {
      const route = REST_ROUTES[fn.logicalId];
      expect(route).toBeDefined();
      if (route) expect(checkRestEvent(route, readRestEvent(fn))).toEqual([]);
    },
  );
});

describe('the REST authoriser events', () => {
  const sample = (fn: FunctionDefinition) =>
    JSON.parse(readFileSync(resolve(EVENTS_DIR, `${folderEventName(fn)}.json`), 'utf8')) as Record<
      string,
      unknown
    >;

  it('exist for GET /orders', () => {
    expect(restAuthorizers.map((fn) => fn.logicalId)).toEqual(['PartnerAuthorizerFunction']);
  });

  it.each(restAuthorizers.map((fn) => [`${folderEventName(fn)}.json`, fn] as const))(
    '%s is the TOKEN event API Gateway sends',
    (_name, fn) => {
      expect(checkTokenEvent(sample(fn))).toEqual([]);
    },
  );

  it('catch a REQUEST event and another method', () => {
    const fn = restAuthorizers[0] as FunctionDefinition;
    expect(checkTokenEvent({ ...sample(fn), type: 'REQUEST' })).toContain('type is not TOKEN');
    expect(
      checkTokenEvent({
        ...sample(fn),
        methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc/dev/POST/orders',
      }),
    ).toContain('methodArn is not the ARN of GET /orders');
  });
});

describe('the REST event checks catch', () => {
  const edited = (id: string, edit: (event: APIGatewayProxyEvent) => void) => {
    const fn = restFunctions.find((candidate) => candidate.logicalId === id);
    const route = REST_ROUTES[id];
    if (!fn || !route) throw new Error(`No REST function ${id}`);
    const event = readRestEvent(fn);
    edit(event);
    return checkRestEvent(route, event).join('\n');
  };

  it('another resource, and a path parameter the handler would refuse', () => {
    expect(
      edited('ListProductsFunction', (event) => Object.assign(event, { resource: '/products/{id}' })),
    ).toContain('resource/requestContext.resourcePath are not /products');
    expect(
      edited('GetProductFunction', (event) => {
        event.pathParameters = { id: 'Green Tea' };
      }),
    ).toContain('pathParameters fail the handler schema');
  });

  it('an empty query string as {} instead of null', () => {
    expect(
      edited('GetProductFunction', (event) => {
        event.queryStringParameters = {};
      }),
    ).toContain('queryStringParameters and its multiValue form are not both null');
  });
});

describe('the SQS event checks catch', () => {
  const [source] = sqsSources;
  const edited = (edit: (event: SQSEvent) => void) => {
    if (!source) throw new Error('The template has no SQS event source');
    const event = readSqsEvent(source);
    edit(event);
    return checkSqsEvent(source, event).join('\n');
  };

  it('a body edited without its MD5', () => {
    expect(
      edited((event) => {
        const [record] = event.Records;
        if (record) record.body = record.body.replace('"quantity":2', '"quantity":3');
      }),
    ).toContain('Records[0].md5OfBody is not the MD5 of body');
  });

  it('a body the handler would refuse', () => {
    expect(
      edited((event) => {
        const [record] = event.Records;
        if (!record) return;
        record.body = JSON.stringify({ ...JSON.parse(record.body), orderId: randomUUID() });
        record.md5OfBody = createHash('md5').update(record.body).digest('hex');
      }),
    ).toContain('Records[0].body fails the handler schema');
  });

  it("message attributes the handler would refuse, in the SDK's form, or edited without their MD5", () => {
    const violations = edited((event) => {
      const [first, second] = event.Records;
      if (!first || !second) return;
      const { receivedAt } = first.messageAttributes;
      if (receivedAt) receivedAt.dataType = 'String';
      first.md5OfMessageAttributes = md5OfMessageAttributes(first.messageAttributes) as string;
      (second.messageAttributes as Record<string, unknown>).orderId = {
        StringValue: randomUUID(),
        DataType: 'String',
      };
    });
    expect(violations).toContain('Records[0].messageAttributes fail the handler schema');
    expect(violations).not.toContain('Records[0].md5OfMessageAttributes');
    expect(violations).toContain('Records[1].messageAttributes.orderId is not {stringValue');
    expect(
      edited((event) => {
        const partnerId = event.Records[0]?.messageAttributes.partnerId;
        if (partnerId) partnerId.stringValue = 'acme-wholesale';
      }),
    ).toContain('Records[0].md5OfMessageAttributes is not the MD5 of messageAttributes');
  });

  it('system attributes as numbers, a foreign event source, and more records than BatchSize', () => {
    const violations = edited((event) => {
      const [record] = event.Records;
      if (!record) return;
      (record.attributes as unknown as Record<string, unknown>).ApproximateReceiveCount = 1;
      record.eventSource = 'aws:sns';
      event.Records = Array.from({ length: 11 }, (_, index) => ({
        ...record,
        messageId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      }));
    });
    expect(violations).toContain('Records[0].attributes.ApproximateReceiveCount is not a string');
    expect(violations).toContain('Records[0].eventSource is not aws:sqs');
    expect(violations).toContain("11 records exceed the event's BatchSize 10");
  });
});

describe('the event checks catch', () => {
  const route = (key: string) => {
    const found = routes.find((candidate) => candidate.routeKey === key);
    if (!found) throw new Error(`No route ${key}`);
    return found;
  };
  const edited = (key: string, edit: (event: HttpApiEvent) => void) => {
    const event = readEvent(route(key));
    edit(event);
    return checkEvent(route(key), event).join('\n');
  };

  it('a claim that is not a string', () => {
    expect(
      edited('GET /me', (event) => {
        (event.requestContext.authorizer.jwt.claims as Record<string, unknown>).exp = 1763722500;
      }),
    ).toContain('claim exp is a number');
  });

  it('another route key', () => {
    expect(
      edited('GET /orders', (event) => Object.assign(event, { routeKey: 'GET /orders/{id}' })),
    ).toContain("routeKey GET /orders/{id} is not the template's GET /orders");
  });

  it('a scope the route requires but the token lacks', () => {
    expect(
      edited('PUT /products/{id}', (event) => {
        event.requestContext.authorizer.jwt.scopes = ['api/orders.read'];
      }),
    ).toContain('authorizer.jwt.scopes lack api/products.write');
  });

  it('a group the handler requires but the token lacks', () => {
    expect(
      edited('PUT /products/{id}', (event) => {
        delete event.requestContext.authorizer.jwt.claims['cognito:groups'];
      }),
    ).toContain('claim cognito:groups lacks admin');
  });

  it('a body the handler would refuse', () => {
    expect(
      edited('POST /orders', (event) => {
        event.body = JSON.stringify({ items: [] });
      }),
    ).toContain('body fails the handler schema');
  });

  it('a path parameter the handler would refuse', () => {
    expect(
      edited('GET /orders/{id}', (event) => {
        event.pathParameters = { id: 'not-a-uuid' };
        event.rawPath = '/orders/not-a-uuid';
        event.requestContext.http.path = event.rawPath;
      }),
    ).toContain('pathParameters fail the handler schema');
  });
});
