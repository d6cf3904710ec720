import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { signClientToken, signToken, type TokenOptions } from '../../offline/services/issuer.ts';
import { createResolver } from '../../offline/template/resolver.ts';
import { loadTemplate } from '../../offline/template/template.ts';

const cloud = inject('offlineCloud');

export const ALL_ORDER_SCOPES = ['api/orders.read', 'api/orders.write'];

/** A token from the local issuer, for the template's issuer and audience unless the test overrides them. */
export function token(options: Partial<TokenOptions> = {}): Promise<string> {
  return signToken(cloud.signingKey, {
    issuer: cloud.issuer,
    clientId: cloud.audience,
    sub: `user-${randomUUID()}`,
    scopes: ALL_ORDER_SCOPES,
    ...options,
  });
}

/** The partner app client's local id (the template's PartnerAppClient), whose tokens GET /orders accepts. */
export const PARTNER_CLIENT_ID = String(
  createResolver(loadTemplate(), undefined).resolve(
    { Ref: 'PartnerAppClient' },
    'Resources.PartnerAppClient',
  ),
);
export const PARTNER_ORDERS_SCOPE = 'partner/orders.read';

/** A partner's client-credentials access token from the local issuer, with the orders scope unless told otherwise. */
export function partnerToken(options: Partial<Omit<TokenOptions, 'sub' | 'groups'>> = {}): Promise<string> {
  return signClientToken(cloud.signingKey, {
    issuer: cloud.issuer,
    clientId: PARTNER_CLIENT_ID,
    scopes: [PARTNER_ORDERS_SCOPE],
    ...options,
  });
}

/** How many of a function's log lines contain `text` (the e2e cloud's control endpoint). */
export async function logLines(functionName: string, text: string): Promise<number> {
  const response = await fetch(
    `${cloud.controlUrl}/logs/${functionName}?contains=${encodeURIComponent(text)}`,
  );
  return ((await response.json()) as { count: number }).count;
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert response bodies field by field
  body: any;
}

/** A call to the HTTP API, with a bearer token when given. */
export function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return send(cloud.httpApiUrl, method, path, { ...options, headers });
}

/** A call to the partner REST API, with an API key when given. */
export function partnerCall(
  method: string,
  path: string,
  options: { apiKey?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  return send(cloud.restApiUrl, method, path, { ...options, headers });
}

async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; headers: Record<string, string> },
): Promise<Answer> {
  const headers = options.headers;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls `probe` every 100 ms until it returns a value; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
