import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// Only schema modules: they read no environment, so the template project can import them as they are.
import { OrderId, ProductId } from '../../functions/lib/ids.ts';
import { CreateOrderInput } from '../../functions/orders/order.ts';
import { ProductInput } from '../../functions/products/product.ts';
import { loadTemplate } from '../../local/template.ts';
import { ROOT, type Route, routesOf } from './rules.ts';

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
const eventsDir = resolve(ROOT, 'events');
const routes = routesOf(template);

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
  JSON.parse(readFileSync(resolve(eventsDir, `${handlerFile(route)}.json`), 'utf8')) as HttpApiEvent;

describe('sample events (events/<handler>.json for `sam local invoke -e`)', () => {
  it('exist for every HTTP API route', () => {
    const missing = routes
      .map((route) => `events/${handlerFile(route)}.json`)
      .filter((file) => !existsSync(resolve(ROOT, file)));
    expect(missing).toEqual([]);
  });

  it('belong to a function of the template', () => {
    const known = new Set(routes.map(handlerFile));
    const orphans = readdirSync(eventsDir).filter((file) => !known.has(basename(file, '.json')));
    expect(orphans).toEqual([]);
  });

  it.each(routes.map((route) => [`${handlerFile(route)}.json (${route.routeKey})`, route] as const))(
    '%s is what API Gateway sends after the JWT authoriser',
    (_name, route) => {
      expect(checkEvent(route, readEvent(route))).toEqual([]);
    },
  );
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
