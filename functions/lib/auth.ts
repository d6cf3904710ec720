import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { forbidden } from './errors.ts';

export interface HttpCaller {
  readonly sub: string;
  readonly username: string | undefined;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
}

/**
 * The caller as the HTTP API JWT authoriser verified them. API Gateway passes every claim as a string:
 * a list claim such as `cognito:groups` arrives as "[admin editors]". Only claims of a Cognito access token are read:
 * it carries no `email` (Cognito developer guide, "Understanding the access token"), so the caller has none.
 */
export function httpCallerOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): HttpCaller {
  const claims = event.requestContext.authorizer.jwt.claims;
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') throw forbidden('The token has no subject');
  return {
    sub,
    username: stringClaim(claims.username ?? claims['cognito:username']),
    scopes: event.requestContext.authorizer.jwt.scopes ?? listClaim(claims.scope, ' '),
    groups: listClaim(claims['cognito:groups']),
  };
}

export function requireGroup(caller: HttpCaller, group: string): void {
  if (!caller.groups.includes(group)) throw forbidden(`Only members of the ${group} group may do this`);
}

function stringClaim(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

function listClaim(value: unknown, separator: RegExp | string = /[\s,]+/): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return inner.split(separator).filter((item) => item !== '');
}
