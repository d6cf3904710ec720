import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayAuthorizerWithContextResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { logger, metrics, observability } from '../lib/powertools.ts';

/** The scope a partner's app client must be granted to read its order history. */
export const ORDERS_READ_SCOPE = 'partner/orders.read';

/** What GET /orders sees in `requestContext.authorizer` (API Gateway adds principalId, stringifies the rest). */
export type PartnerContext = { clientId: string; scope: string };
export type PartnerAuthorizerResult = APIGatewayAuthorizerWithContextResult<PartnerContext>;

/**
 * Verifies Cognito access tokens issued by this template's user pool to the partner app client through the
 * client-credentials grant. Created once per container, so the JWKS it downloads is cached across invocations.
 * Exported so tests can prime the cache (cacheJwks).
 */
export const verifier = CognitoJwtVerifier.create({
  userPoolId: requireEnv('USER_POOL_ID'),
  clientId: requireEnv('PARTNER_CLIENT_ID'),
  tokenUse: 'access',
});

/**
 * The TOKEN authoriser of the partner API's GET /orders. API Gateway hands over the Authorization header
 * (`Bearer <token>`) as `authorizationToken` and caches the answer per header value, so the policy names the
 * method ARN it was asked about and nothing else. A token that is absent, unverifiable or expired throws
 * `Unauthorized` (401); a valid token without the scope gets an explicit Deny (403), cached like an Allow.
 */
export const handler = middy<APIGatewayTokenAuthorizerEvent, PartnerAuthorizerResult>()
  // A TOKEN event carries no request id to correlate the logs with (only type, authorizationToken, methodArn).
  .use(observability())
  .handler(async (event) => {
    let claims: { client_id: string; scope?: unknown; jti?: unknown };
    try {
      const token = /^Bearer (\S+)$/.exec(event.authorizationToken ?? '')?.[1];
      if (!token) throw new Error('No bearer token in the Authorization header');
      claims = await verifier.verify(token);
    } catch (error) {
      logger.info('Partner token refused', { reason: (error as Error).message });
      metrics.addMetric('PartnerTokensRefused', MetricUnit.Count, 1);
      throw new Error('Unauthorized');
    }
    const scope = typeof claims.scope === 'string' ? claims.scope : '';
    const granted = scope.split(' ').includes(ORDERS_READ_SCOPE);
    // The token's id (jti), never the token: a partner's calls can be traced to the token without it leaking.
    // API Gateway caches the answer, so this is once per token and TTL, not once per request.
    const audit = { clientId: claims.client_id, tokenId: claims.jti, scope };
    if (granted) logger.info('Partner token accepted', audit);
    else {
      logger.info('Partner token lacks the scope', audit);
      metrics.addMetric('PartnerTokensDenied', MetricUnit.Count, 1);
    }
    return {
      principalId: claims.client_id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: granted ? 'Allow' : 'Deny', Resource: event.methodArn },
        ],
      },
      context: { clientId: claims.client_id, scope },
    };
  });
