import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { httpCallerOf } from '../lib/auth.ts';
import { json } from '../lib/http.ts';
import { httpRoute } from '../lib/http-route.ts';

/** GET /me: who the verified access token says the caller is (sub, username, scopes, groups; no email). */
export const handler = httpRoute(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  return json(200, httpCallerOf(event));
});
