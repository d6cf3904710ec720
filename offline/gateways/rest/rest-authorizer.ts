import { LambdaError } from '../../runtime/lambda.ts';
import { headerValue } from '../gateway-http.ts';

/**
 * A REST API TOKEN authoriser (a Lambda authoriser of `type: token` in `x-amazon-apigateway-authorizer`), as
 * API Gateway runs it. Sources, API Gateway developer guide unless named otherwise:
 * - "Use API Gateway Lambda authorizers" (the workflow) and "Input to an API Gateway Lambda authorizer": the
 *   event is `{type: 'TOKEN', authorizationToken, methodArn}`.
 * - AWS knowledge center "Why do I get API Gateway 401 Unauthorized errors after I create a Lambda authorizer?":
 *   a missing token, or one the token validation expression rejects, is a 401 "without calling the authorizer
 *   Lambda function"; "Call an API with an API Gateway Lambda authorizer" adds that such calls are not logged.
 * - "Output from an API Gateway Lambda authorizer": principalId, policyDocument, and a context of string, number
 *   and boolean values; "the context map … cannot contain a JSON object or array as a valid value".
 * - Knowledge center "How do I troubleshoot HTTP 403 Forbidden errors when I use a Lambda authorizer with a REST
 *   API?": 403 "User is not authorized to access this resource with an explicit deny" for an explicit Deny, and
 *   "User is not authorized to access this resource" for an implicit one (no matching Allow).
 * - Knowledge center "…Lambda authorizer that has caching activated returning HTTP 403": the cached policy is
 *   applied to every later request within the TTL and evaluated against that request's method ARN.
 * - API reference, Authorizer.authorizerResultTtlInSeconds: 0 disables caching; default 300, at most 3600.
 * - "Gateway response types": UNAUTHORIZED 401, ACCESS_DENIED 403, AUTHORIZER_CONFIGURATION_ERROR 500
 *   ("failing to connect to a custom … authorizer"). A function that fails otherwise, times out, or returns
 *   something API Gateway cannot read as a policy is answered 500 with `{"message": null}` and
 *   `x-amzn-ErrorType: AuthorizerConfigurationException` (seen against AWS: aws/chalice#670,
 *   serverless/serverless#829, serverless/examples#305; "Could not parse policy": ExpanseLLC/lambda_authorizer#1).
 * Undocumented, so not emulated: whether a thrown `Unauthorized` is cached (offline it is not: every such request
 * invokes the function again), and which failure AWS answers with AUTHORIZER_FAILURE rather than
 * AUTHORIZER_CONFIGURATION_ERROR (offline: never).
 */
export interface TokenAuthorizer {
  /** The security scheme's name in the definition. */
  name: string;
  functionName: string;
  /** The request header of `identitySource: method.request.header.<name>`. */
  header: string;
  /** `identityValidationExpression`: the whole token must match it. */
  validation: RegExp | undefined;
  ttlSeconds: number;
}

export type AuthorizerRefusal = 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'AUTHORIZER_CONFIGURATION_ERROR';

export type AuthorizerOutcome =
  | { allowed: true; authorizer: Record<string, string> }
  | { allowed: false; responseType: AuthorizerRefusal; message: string | null };

export const EXPLICIT_DENY = 'User is not authorized to access this resource with an explicit deny';
export const IMPLICIT_DENY = 'User is not authorized to access this resource';

/** What the authoriser invokes: the function's Invoke (a LocalLambda's, or a test's fake). */
export type InvokeAuthorizer = (functionName: string, event: unknown) => Promise<unknown>;

interface Policy {
  principalId: string;
  statements: Statement[];
  context: Record<string, string>;
}

interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

const UNAUTHORIZED: AuthorizerOutcome = {
  allowed: false,
  responseType: 'UNAUTHORIZED',
  message: 'Unauthorized',
};
const CONFIGURATION_ERROR: AuthorizerOutcome = {
  allowed: false,
  responseType: 'AUTHORIZER_CONFIGURATION_ERROR',
  message: null,
};

export class TokenAuthorizers {
  readonly #invoke: InvokeAuthorizer;
  readonly #now: () => number;
  readonly #cache = new Map<string, { policy: Policy; expires: number }>();

  constructor(invoke: InvokeAuthorizer, now: () => number = Date.now) {
    this.#invoke = invoke;
    this.#now = now;
  }

  async authorize(
    authorizer: TokenAuthorizer,
    headers: Record<string, string>,
    methodArn: string,
  ): Promise<AuthorizerOutcome> {
    const token = headerValue(headers, authorizer.header);
    if (!token) return UNAUTHORIZED;
    if (authorizer.validation && !authorizer.validation.test(token)) return UNAUTHORIZED;
    const policy = await this.#policy(authorizer, token, methodArn);
    if (!('statements' in policy)) return policy;
    const verdict = evaluate(policy.statements, methodArn);
    if (verdict !== 'Allow') {
      return {
        allowed: false,
        responseType: 'ACCESS_DENIED',
        message: verdict === 'Deny' ? EXPLICIT_DENY : IMPLICIT_DENY,
      };
    }
    return { allowed: true, authorizer: { ...policy.context, principalId: policy.principalId } };
  }

  /** The cached policy for this token, else the function's (cached for the TTL when it is one). */
  async #policy(
    authorizer: TokenAuthorizer,
    token: string,
    methodArn: string,
  ): Promise<Policy | AuthorizerOutcome> {
    const key = `${authorizer.name}\n${token}`;
    const cached = this.#cache.get(key);
    if (cached && cached.expires > this.#now()) return cached.policy;
    this.#cache.delete(key);
    let result: unknown;
    try {
      result = await this.#invoke(authorizer.functionName, {
        type: 'TOKEN',
        authorizationToken: token,
        methodArn,
      });
    } catch (error) {
      if (!(error instanceof LambdaError)) throw error;
      // Exactly "Unauthorized" is API Gateway's 401; any other failure, a timeout included, is its 500.
      if (error.message === 'Unauthorized') return UNAUTHORIZED;
      console.error(`[${authorizer.name}] authoriser ${authorizer.functionName} failed: ${error.message}`);
      return CONFIGURATION_ERROR;
    }
    const policy = policyOf(result);
    if (typeof policy === 'string') {
      console.error(`[${authorizer.name}] authoriser ${authorizer.functionName} returned ${policy}`);
      return CONFIGURATION_ERROR;
    }
    if (authorizer.ttlSeconds > 0) {
      this.#cache.set(key, { policy, expires: this.#now() + authorizer.ttlSeconds * 1000 });
    }
    return policy;
  }
}

/** The function's answer as a policy, or what is wrong with it. */
function policyOf(result: unknown): Policy | string {
  if (result === null || typeof result !== 'object') return 'no object';
  const { principalId, policyDocument, context } = result as Record<string, unknown>;
  if (typeof principalId !== 'string' && typeof principalId !== 'number') return 'no principalId';
  if (policyDocument === null || typeof policyDocument !== 'object') return 'no policyDocument';
  const list = (value: unknown): unknown[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  const statements: Statement[] = [];
  for (const statement of list((policyDocument as Record<string, unknown>).Statement)) {
    const { Effect, Action, Resource } = (statement ?? {}) as Record<string, unknown>;
    if (Effect !== 'Allow' && Effect !== 'Deny')
      return `a statement whose Effect is ${JSON.stringify(Effect)}`;
    statements.push({
      effect: Effect,
      actions: list(Action).map(String),
      resources: list(Resource).map(String),
    });
  }
  const values = context ?? {};
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    return 'a context that is no map';
  const stringified: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && typeof value === 'object')
      return `a context value ${name} that is an object or array`;
    // The integration receives every context value as a string ("numberKey": "1", "booleanKey": "true").
    stringified[name] = String(value);
  }
  return { principalId: String(principalId), statements, context: stringified };
}

/** IAM's evaluation for one request: an explicit Deny wins, else an Allow, else nothing (an implicit deny). */
export function evaluate(statements: readonly Statement[], methodArn: string): 'Allow' | 'Deny' | undefined {
  let verdict: 'Allow' | undefined;
  for (const statement of statements) {
    const action = statement.actions.some((pattern) => wildcard(pattern, 'execute-api:Invoke', 'i'));
    const resource = statement.resources.some((pattern) => wildcard(pattern, methodArn));
    if (!action || !resource) continue;
    if (statement.effect === 'Deny') return 'Deny';
    verdict = 'Allow';
  }
  return verdict;
}

/** IAM's wildcards: `*` any run of characters, `?` any one (IAM user guide, "IAM JSON policy elements: Resource"). */
function wildcard(pattern: string, value: string, flags = ''): boolean {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, `s${flags}`).test(value);
}
