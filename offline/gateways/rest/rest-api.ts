import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LambdaError, type StreamingFunctionRegistry } from '../../runtime/lambda.ts';
import type { Integration, RestApiConfig, RestMethod } from '../../template/rest-api-definition.ts';
import { staticValue } from '../../template/rest-api-definition.ts';
import {
  clfTime,
  closeServer,
  gatewayServer,
  headerValue,
  listenOnLoopback,
  MAX_PAYLOAD_BYTES,
  queryParameters,
  readBody,
  TEXT_CONTENT,
} from '../gateway-http.ts';
import { type CompiledPath, comparePathRank, compilePath, matchPath } from '../route-path.ts';
import { TokenBucket } from '../token-bucket.ts';
import { createValidator, type ValidationOutcome } from './request-validation.ts';
import { ResponseCache } from './response-cache.ts';
import { awaitPrelude, type StreamedReply, sendStreamed } from './rest-api-stream.ts';
import { TokenAuthorizers } from './rest-authorizer.ts';
import { type CompressionContext, compressResponse, decodeRequestBody } from './rest-compression.ts';
import { dynamodbAction, type IntegrationResult, sqsSendMessage } from './rest-integrations.ts';
import { signedByLocalCaller } from './sigv4.ts';
import { UsagePlans } from './usage-plans.ts';
import { MappingTemplateError, renderMappingTemplate } from './vtl.ts';

/** What the REST API's AWS integrations talk to offline. */
export interface RestBackends {
  functions: StreamingFunctionRegistry;
  sqs: SQSClient;
  /** Local queue URLs by queue name. */
  queueUrls: () => Record<string, string>;
  dynamodbEndpoint: string;
}

type Reply = {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** Made by API Gateway itself (a gateway response), which is never compressed (rest-compression.ts). */
  gatewayResponse?: true;
};

/**
 * What AWS answers a body over the payload limit. It comes before any gateway response applies, so the
 * definition cannot change it (a REQUEST_TOO_LARGE gateway response is ignored): plain text, no CORS header.
 * Recorded against AWS in koki-develop/lgtm-generator#10; see also reapit/foundations#4338.
 */
const PAYLOAD_TOO_LARGE: Reply = {
  statusCode: 413,
  headers: { 'content-type': 'text; charset=utf-8' },
  body: `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.`,
};

/** API Gateway's built-in status and message of each gateway response type this emulator produces. */
const RESPONSE_TYPES: Record<string, { statusCode: number; message: string | null }> = {
  // Lambda authorisers (offline/gateways/rest/rest-authorizer.ts has the sources): AWS's own message of a failed authoriser is null.
  UNAUTHORIZED: { statusCode: 401, message: 'Unauthorized' },
  ACCESS_DENIED: { statusCode: 403, message: 'User is not authorized to access this resource' },
  AUTHORIZER_CONFIGURATION_ERROR: { statusCode: 500, message: null },
  MISSING_AUTHENTICATION_TOKEN: { statusCode: 403, message: 'Missing Authentication Token' },
  INVALID_API_KEY: { statusCode: 403, message: 'Forbidden' },
  THROTTLED: { statusCode: 429, message: 'Too Many Requests' },
  QUOTA_EXCEEDED: { statusCode: 429, message: 'Limit Exceeded' },
  BAD_REQUEST_BODY: { statusCode: 400, message: 'Invalid request body' },
  BAD_REQUEST_PARAMETERS: { statusCode: 400, message: 'Bad request parameters' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'Unsupported Media Type' },
  INTEGRATION_FAILURE: { statusCode: 500, message: 'Internal server error' },
  INTEGRATION_TIMEOUT: { statusCode: 504, message: 'Endpoint request timed out' },
  DEFAULT_5XX: { statusCode: 502, message: 'Internal server error' },
};

interface Route extends CompiledPath {
  method: RestMethod;
  bucket: TokenBucket | undefined;
}

interface RequestState {
  /** `$context.requestId`: the client's own when it sent one (see requestIdOf). */
  requestId: string;
  /** `$context.extendedRequestId`: always API Gateway's own. */
  extendedRequestId: string;
  now: Date;
  route: Route | undefined;
  pathParameters: Record<string, string>;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: URLSearchParams;
  /** Payload format 1.0's view of the query string: the last value of a repeated key, and all of them. */
  querystring: ReturnType<typeof queryParameters>;
  body: Buffer;
  apiKey: string | undefined;
  apiKeyId: string | undefined;
  /** What the method's Lambda authoriser returned: principalId and its context, every value a string. */
  authorizer: Record<string, string> | undefined;
  sourceIp: string;
  path: string;
}

/**
 * One REST API stage on a loopback port, as API Gateway runs it: routes from the OpenAPI definition, API keys
 * with their usage plans, stage and method throttling, request validation, the stage cache, mapping templates,
 * Lambda proxy, MOCK, SQS and DynamoDB integrations, and gateway responses from the definition.
 */
export class LocalRestApi {
  #config!: RestApiConfig;
  #routes: Route[] = [];
  #plans!: UsagePlans;
  #validate!: ReturnType<typeof createValidator>;
  readonly cache = new ResponseCache();
  readonly #authorizers: TokenAuthorizers;
  readonly #backends: RestBackends;
  readonly #server: Server;

  constructor(config: RestApiConfig, backends: RestBackends) {
    this.#backends = backends;
    this.#authorizers = new TokenAuthorizers((functionName, event) => {
      const fn = backends.functions.get(functionName);
      if (!fn) throw new LambdaError('ResourceNotFoundException', `No function ${functionName}`);
      return fn.invoke(event);
    });
    this.configure(config);
    this.#server = gatewayServer(
      () => this.#config.logicalId,
      (request, response) => this.#handle(request, response),
      'Internal server error',
    );
  }

  get config(): RestApiConfig {
    return this.#config;
  }

  /** Everything from the template; buckets and quotas start afresh when it changes (cached entries keep their TTL). */
  configure(config: RestApiConfig): void {
    this.#config = config;
    this.#routes = config.methods
      .map((method) => ({
        ...compilePath(method.resourcePath),
        method,
        bucket: method.throttle ? new TokenBucket(method.throttle.rate, method.throttle.burst) : undefined,
      }))
      .sort((a, b) => comparePathRank(a.rank, b.rank));
    this.#plans = new UsagePlans(config.apiKeys, config.usagePlans);
    this.#validate = createValidator(config.schemas);
  }

  async listen(port: number): Promise<string> {
    const actual = await listenOnLoopback(this.#server, port);
    return `http://127.0.0.1:${actual}/${this.#config.stage}`;
  }

  stop(): Promise<void> {
    return closeServer(this.#server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const httpMethod = (request.method ?? 'GET').toUpperCase();
    const multiValueHeaders = headersOf(request);
    const headers = Object.fromEntries(
      Object.entries(multiValueHeaders).map(([name, values]) => [name, values.at(-1) ?? '']),
    );
    const apiKey = headerValue(headers, 'x-api-key');
    const stagePrefix = `/${this.#config.stage}`;
    const inStage = url.pathname === stagePrefix || url.pathname.startsWith(`${stagePrefix}/`);
    const path = inStage ? url.pathname.slice(stagePrefix.length) || '/' : url.pathname;
    const match = inStage ? this.#match(httpMethod, path) : undefined;
    const state: RequestState = {
      requestId: requestIdOf(headers),
      extendedRequestId: extendedRequestId(),
      now: new Date(),
      route: match?.route,
      pathParameters: match?.pathParameters ?? {},
      headers,
      multiValueHeaders,
      query: url.searchParams,
      querystring: queryParameters(url.searchParams),
      body: Buffer.alloc(0),
      apiKey,
      apiKeyId: undefined,
      authorizer: undefined,
      sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      path,
    };
    const body = await readBody(request, MAX_PAYLOAD_BYTES);
    if (body === undefined) return send(response, PAYLOAD_TOO_LARGE);
    const decoded = decodeRequestBody(body, request.headers['content-encoding'], MAX_PAYLOAD_BYTES);
    if ('refused' in decoded) {
      return send(
        response,
        decoded.refused === 'TOO_LARGE' ? PAYLOAD_TOO_LARGE : this.#gatewayResponse(decoded.refused, state),
      );
    }
    state.body = decoded.body;
    const outcome = await this.#process(state);
    // A streamed answer has a path of its own, uncompressed: "content encoding" is among what API Gateway does not
    // support in STREAM mode ("Stream the integration response for your proxy integrations").
    if ('head' in outcome) return sendStreamed(response, outcome);
    send(response, outcome, {
      minimumCompressionSize: this.#config.minimumCompressionSize,
      // Node joins repeated Accept-Encoding lines with commas, as RFC 9110 §5.3 combines them.
      acceptEncoding: request.headers['accept-encoding'],
    });
  }

  async #process(state: RequestState): Promise<Reply | StreamedReply> {
    const route = state.route;
    if (!route) return this.#gatewayResponse('MISSING_AUTHENTICATION_TOKEN', state);
    const { method } = route;
    // Authorisation comes before the API key: with apiKeySource AUTHORIZER the key is what the authoriser returns
    // ("Output from an API Gateway Lambda authorizer", usageIdentifierKey), so the authoriser must have run.
    if (method.authorizer) {
      const { region, accountId, apiId, stage } = this.#config;
      const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${method.httpMethod}${state.path}`;
      const outcome = await this.#authorizers.authorize(method.authorizer, state.headers, methodArn);
      if (!outcome.allowed)
        return this.#gatewayResponse(outcome.responseType, state, { message: outcome.message });
      state.authorizer = outcome.authorizer;
    }
    if (method.apiKeyRequired) {
      const admission = this.#plans.admit(state.apiKey, method.resourcePath, method.httpMethod);
      if (!admission.admitted) return this.#gatewayResponse(admission.responseType, state);
      state.apiKeyId = admission.key.id;
    }
    if (route.bucket && !route.bucket.take()) return this.#gatewayResponse('THROTTLED', state);

    const contentType = headerValue(state.headers, 'content-type');
    const validation: ValidationOutcome = this.#validate(
      {
        validator: method.validator,
        requiredParameters: method.requiredParameters,
        bodySchemas: method.bodySchemas,
      },
      {
        headers: state.headers,
        querystring: state.querystring.queryStringParameters ?? {},
        path: state.pathParameters,
        body: state.body.toString('utf8'),
        contentType,
      },
    );
    if (!validation.valid) {
      return this.#gatewayResponse(validation.responseType, state, {
        message: validation.message,
        validationErrorString: validation.validationErrorString,
      });
    }

    const cacheKey = method.caching.enabled
      ? ResponseCache.key(method.httpMethod, method.resourcePath, method.integration.cacheKeyParameters, {
          path: state.pathParameters,
          querystring: state.querystring.queryStringParameters ?? {},
          headers: state.headers,
        })
      : undefined;
    if (cacheKey !== undefined && !(await this.#invalidates(state))) {
      const cached = this.cache.get(cacheKey);
      // A hit is a new request: it carries its own request ids, not those of the response it replays.
      if (cached) return { ...cached, headers: { ...cached.headers, ...this.#ids(state) } };
    }
    const reply = await this.#integrate(method.integration, state, contentType);
    // A STREAM integration has no cache key (rest-api-definition.ts refuses caching one).
    if (cacheKey !== undefined && !('head' in reply) && reply.statusCode >= 200 && reply.statusCode < 300) {
      this.cache.set(cacheKey, reply, method.caching.ttlSeconds);
    }
    return reply;
  }

  /**
   * `Cache-Control: max-age=0` refreshes the entry only for a caller allowed to invalidate (AWS's default
   * RequireAuthorizationForCacheControl): offline, a request SigV4-signed with the local credentials, since
   * IAM itself is not emulated. From anyone else the header is ignored and the cache answers.
   */
  async #invalidates(state: RequestState): Promise<boolean> {
    const cacheControl = headerValue(state.headers, 'cache-control') ?? '';
    if (!/(^|,)\s*max-age=0\s*(,|$)/i.test(cacheControl)) return false;
    return signedByLocalCaller(
      {
        method: state.route?.method.httpMethod ?? 'GET',
        host: headerValue(state.headers, 'host') ?? '',
        path: `/${this.#config.stage}${state.path}`,
        query: state.query,
        headers: state.headers,
        body: state.body,
      },
      this.#config.region,
      'execute-api',
    );
  }

  #match(
    httpMethod: string,
    path: string,
  ): { route: Route; pathParameters: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.method.httpMethod !== httpMethod) continue;
      const pathParameters = matchPath(route, path);
      if (pathParameters) return { route, pathParameters };
    }
    return undefined;
  }

  async #integrate(
    integration: Integration,
    state: RequestState,
    contentType: string | undefined,
  ): Promise<Reply | StreamedReply> {
    if (integration.target.service === 'lambda') {
      return integration.responseTransferMode === 'STREAM'
        ? this.#streamLambda(integration.target.functionName, state, integration.timeoutMs)
        : this.#invokeLambda(integration.target.functionName, state);
    }

    // Non-proxy integrations: the request template is chosen by the request's content type.
    const mediaType = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
    const templates = integration.requestTemplates;
    const hasTemplates = Object.keys(templates).length > 0;
    const template = templates[mediaType];
    if (
      template === undefined &&
      (integration.passthroughBehavior === 'never' ||
        (integration.passthroughBehavior === 'when_no_templates' && hasTemplates))
    ) {
      return this.#gatewayResponse('UNSUPPORTED_MEDIA_TYPE', state);
    }
    let rendered: string;
    try {
      rendered =
        template === undefined
          ? state.body.toString('utf8')
          : renderMappingTemplate(template, this.#mappingInput(state, state.body.toString('utf8'))).output;
    } catch (error) {
      if (!(error instanceof MappingTemplateError)) throw error;
      console.error(`[${this.#config.logicalId}] request mapping template failed`, error);
      return this.#gatewayResponse('DEFAULT_5XX', state, { statusCode: 500 });
    }

    let result: IntegrationResult;
    const target = integration.target;
    if (target.service === 'mock') {
      const statusCode = mockStatus(rendered);
      result = { statusCode, headers: {}, body: '' };
    } else if (target.service === 'sqs') {
      result = await sqsSendMessage(
        this.#backends.sqs,
        this.#backends.queueUrls()[target.queueName],
        rendered,
      );
    } else {
      result = await dynamodbAction(
        this.#backends.dynamodbEndpoint,
        this.#config.region,
        target.action,
        rendered,
      );
    }
    if (result.statusCode >= 400) {
      // What the caller gets is the definition's mapped answer; the service's own words go to the log.
      console.error(
        `[${this.#config.logicalId}] ${target.service} integration answered ${result.statusCode}: ${result.body}`,
      );
    }
    return this.#integrationResponse(integration, result, state);
  }

  #integrationResponse(integration: Integration, result: IntegrationResult, state: RequestState): Reply {
    const status = String(result.statusCode);
    const chosen =
      integration.responses.find((response) => response.selectionPattern?.test(status)) ??
      integration.responses.find((response) => response.selectionPattern === undefined);
    if (!chosen) return this.#gatewayResponse('DEFAULT_5XX', state, { statusCode: 500 });
    const headers: Record<string, string> = {};
    for (const [name, mapped] of Object.entries(chosen.responseParameters)) {
      if (!name.startsWith('method.response.header.')) continue;
      const header = name.slice('method.response.header.'.length);
      const fromIntegration = /^integration\.response\.header\.(.+)$/.exec(mapped)?.[1];
      headers[header] = fromIntegration
        ? (headerValue(result.headers, fromIntegration) ?? '')
        : staticValue(mapped);
    }
    const [mediaType, template] = Object.entries(chosen.responseTemplates)[0] ?? [
      'application/json',
      undefined,
    ];
    let body = result.body;
    let statusCode = chosen.statusCode;
    if (template !== undefined) {
      try {
        const output = renderMappingTemplate(template, this.#mappingInput(state, result.body));
        body = output.output;
        statusCode = output.responseOverride.status ?? statusCode;
        Object.assign(headers, output.responseOverride.headers);
      } catch (error) {
        if (!(error instanceof MappingTemplateError)) throw error;
        console.error(`[${this.#config.logicalId}] response mapping template failed`, error);
        return this.#gatewayResponse('DEFAULT_5XX', state, { statusCode: 500 });
      }
    }
    return { statusCode, headers: { 'content-type': mediaType, ...headers, ...this.#ids(state) }, body };
  }

  async #invokeLambda(functionName: string, state: RequestState): Promise<Reply> {
    const fn = this.#backends.functions.get(functionName);
    if (!fn) return this.#gatewayResponse('DEFAULT_5XX', state, { statusCode: 500 });
    let result: unknown;
    try {
      result = await fn.invoke(this.#proxyEvent(state));
    } catch (error) {
      if (!(error instanceof LambdaError)) throw error;
      return this.#gatewayResponse('DEFAULT_5XX', state);
    }
    // Payload format 1.0: anything but an object with a numeric statusCode and a string body is malformed.
    const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = (result ?? {}) as Record<
      string,
      unknown
    >;
    if (typeof statusCode !== 'number' || (body !== undefined && body !== null && typeof body !== 'string')) {
      return this.#gatewayResponse('DEFAULT_5XX', state);
    }
    const replyHeaders: Record<string, string> = {};
    for (const [name, values] of Object.entries((multiValueHeaders ?? {}) as Record<string, unknown[]>)) {
      replyHeaders[name.toLowerCase()] = values.map(String).join(', ');
    }
    for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
      replyHeaders[name.toLowerCase()] = String(value);
    }
    const text = typeof body === 'string' ? body : '';
    return {
      statusCode,
      headers: { 'content-type': 'application/json', ...replyHeaders, ...this.#ids(state) },
      // Text only: binary media types are not emulated (README: limits).
      body: isBase64Encoded === true ? Buffer.from(text, 'base64').toString('utf8') : text,
    };
  }

  /**
   * A Lambda proxy integration with response streaming: InvokeWithResponseStream, then the answer streamed from
   * its metadata prelude on (rest-api-stream.ts), within the integration's timeout. Until the prelude has come, a
   * failure is answered as a buffered proxy integration answers it (502), and the timeout with 504.
   */
  async #streamLambda(
    functionName: string,
    state: RequestState,
    timeoutMs: number,
  ): Promise<Reply | StreamedReply> {
    const fn = this.#backends.functions.get(functionName);
    if (!fn?.invokeWithResponseStream)
      return this.#gatewayResponse('DEFAULT_5XX', state, { statusCode: 500 });
    const deadline = Date.now() + timeoutMs;
    const { body } = fn.invokeWithResponseStream(this.#proxyEvent(state));
    const opening = await awaitPrelude(body, deadline);
    if (opening.kind === 'opened') {
      const { statusCode, headers } = opening.head;
      return {
        head: {
          statusCode,
          headers: { 'content-type': 'application/json', ...headers, ...this.#ids(state) },
        },
        start: opening.start,
        body,
        deadline,
      };
    }
    // Whatever the function still writes goes nowhere; the invocation runs on to its end or its timeout.
    body.resume();
    if (opening.kind === 'timedOut') return this.#gatewayResponse('INTEGRATION_TIMEOUT', state);
    if (opening.kind === 'malformed')
      console.error(
        `[${this.#config.logicalId}] ${functionName} streamed no valid response: ${opening.reason}`,
      );
    else if (!(opening.error instanceof LambdaError)) throw opening.error;
    return this.#gatewayResponse('DEFAULT_5XX', state);
  }

  #context(state: RequestState): Record<string, unknown> {
    const route = state.route;
    return {
      accountId: this.#config.accountId,
      apiId: this.#config.apiId,
      domainName: headerValue(state.headers, 'host') ?? 'localhost',
      extendedRequestId: state.extendedRequestId,
      httpMethod: route?.method.httpMethod ?? '',
      identity: {
        apiKey: state.apiKeyId ? state.apiKey : undefined,
        apiKeyId: state.apiKeyId,
        sourceIp: state.sourceIp,
        userAgent: headerValue(state.headers, 'user-agent') ?? '',
      },
      path: `/${this.#config.stage}${state.path}`,
      protocol: 'HTTP/1.1',
      requestId: state.requestId,
      requestTime: clfTime(state.now),
      requestTimeEpoch: state.now.getTime(),
      resourceId: route ? resourceIdOf(route.method.resourcePath) : '',
      resourcePath: route?.method.resourcePath ?? '',
      stage: this.#config.stage,
    };
  }

  #mappingInput(state: RequestState, body: string) {
    return {
      body,
      params: {
        path: state.pathParameters,
        querystring: state.querystring.queryStringParameters ?? {},
        header: state.headers,
      },
      context: this.#context(state),
      stageVariables: {},
    };
  }

  #proxyEvent(state: RequestState): APIGatewayProxyEvent {
    const route = state.route as Route;
    const context = this.#context(state);
    const contentType = headerValue(state.headers, 'content-type') ?? '';
    const isText = TEXT_CONTENT.test(contentType);
    const hasPath = route.parameters.length > 0;
    return {
      resource: route.method.resourcePath,
      path: state.path,
      httpMethod: route.method.httpMethod,
      headers: state.headers,
      multiValueHeaders: state.multiValueHeaders,
      queryStringParameters: state.querystring.queryStringParameters ?? null,
      multiValueQueryStringParameters: state.querystring.multiValueQueryStringParameters ?? null,
      pathParameters: hasPath ? state.pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: this.#config.accountId,
        apiId: this.#config.apiId,
        authorizer: state.authorizer ?? null,
        domainName: String(context.domainName),
        domainPrefix: String(context.domainName).split('.')[0] ?? '',
        extendedRequestId: state.extendedRequestId,
        httpMethod: route.method.httpMethod,
        identity: {
          accessKey: null,
          accountId: null,
          apiKey: state.apiKeyId ? (state.apiKey ?? null) : null,
          apiKeyId: state.apiKeyId ?? null,
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: state.sourceIp,
          user: null,
          userAgent: headerValue(state.headers, 'user-agent') ?? null,
          userArn: null,
        },
        path: String(context.path),
        protocol: 'HTTP/1.1',
        requestId: state.requestId,
        requestTime: String(context.requestTime),
        requestTimeEpoch: state.now.getTime(),
        resourceId: String(context.resourceId),
        resourcePath: route.method.resourcePath,
        stage: this.#config.stage,
      },
      body: state.body.length > 0 ? state.body.toString(isText ? 'utf8' : 'base64') : null,
      isBase64Encoded: state.body.length > 0 && !isText,
    };
  }

  /**
   * A response API Gateway makes itself: the definition's gateway response for the type (or its DEFAULT_4XX /
   * DEFAULT_5XX), else AWS's built-in `{"message": …}`. Its templates are simple substitutions, not VTL.
   */
  #gatewayResponse(
    type: string,
    state: RequestState,
    override: { message?: string | null; validationErrorString?: string; statusCode?: number } = {},
  ): Reply {
    const builtIn = RESPONSE_TYPES[type] ?? { statusCode: 500, message: 'Internal server error' };
    const statusCode = override.statusCode ?? builtIn.statusCode;
    const message = override.message === undefined ? builtIn.message : override.message;
    const configured =
      this.#config.gatewayResponses[type] ??
      this.#config.gatewayResponses[statusCode >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
    const context = {
      ...this.#context(state),
      error: {
        message,
        messageString: JSON.stringify(message),
        responseType: type,
        validationErrorString: JSON.stringify(override.validationErrorString ?? '').slice(1, -1),
      },
    };
    const template = configured?.templates['application/json'];
    return {
      statusCode: configured?.statusCode ?? statusCode,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': errorTypeOf(type),
        ...(configured?.headers ?? {}),
        ...this.#ids(state),
      },
      body: template === undefined ? JSON.stringify({ message }) : substitute(template, context),
      gatewayResponse: true,
    };
  }

  #ids(state: RequestState): Record<string, string> {
    return { 'x-amzn-requestid': state.requestId, 'x-amz-apigw-id': state.extendedRequestId };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `$context.requestId`, which the CLIENT can choose: "Clients can override the value in the x-amzn-RequestId
 * header with a value in the format of a universally unique identifier (UUID). API Gateway returns this request
 * ID in the x-amzn-RequestId response header" (API Gateway developer guide, set-up-access-logging.html; the
 * context variable reference adds "Use $context.extendedRequestId for a unique request ID that API Gateway
 * generates"). Emulated so that a definition using it as an id shows the collisions locally. What a value
 * that is not a UUID becomes is undocumented: the same page says only that access logs replace it
 * (`UUID_REPLACED_INVALID_REQUEST_ID`), while older demonstrations against AWS saw one echoed in the response
 * header (awsdocs/amazon-api-gateway-developer-guide#71, 2020). Offline it is ignored: API Gateway's own id.
 */
function requestIdOf(headers: Record<string, string>): string {
  const chosen = headerValue(headers, 'x-amzn-requestid');
  return chosen !== undefined && UUID.test(chosen) ? chosen : randomUUID();
}

/**
 * `$context.extendedRequestId`, also sent as `x-amz-apigw-id`, which "an API caller can't provide or override"
 * (set-up-access-logging.html). Its format is not documented beyond "XxxXXXxx=" (AWS re:Post knowledge
 * center, "collect API Gateway extended request IDs"); AWS's examples and observed ones are 16 characters of
 * base64 ending in a pad (`LIxCyGd7SK4FjEg=` in awsdocs/amazon-api-gateway-developer-guide#71): 11 bytes.
 */
const extendedRequestId = () => randomBytes(11).toString('base64');

/** `$context.a.b` and `$stageVariables.x` replaced by their values; unknown ones by nothing. */
function substitute(template: string, context: Record<string, unknown>): string {
  return template.replace(/\$(context|stageVariables)((?:\.\w+)+)/g, (_match, root: string, path: string) => {
    let value: unknown = root === 'context' ? context : {};
    for (const key of path.slice(1).split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    return value === undefined || value === null ? '' : String(value);
  });
}

function errorTypeOf(type: string): string {
  if (type === 'THROTTLED' || type === 'QUOTA_EXCEEDED') return 'TooManyRequestsException';
  if (type === 'MISSING_AUTHENTICATION_TOKEN') return 'MissingAuthenticationTokenException';
  if (type === 'INVALID_API_KEY') return 'ForbiddenException';
  if (type === 'UNAUTHORIZED') return 'UnauthorizedException';
  if (type === 'ACCESS_DENIED') return 'AccessDeniedException';
  if (type === 'AUTHORIZER_CONFIGURATION_ERROR') return 'AuthorizerConfigurationException';
  if (type.startsWith('BAD_REQUEST')) return 'BadRequestException';
  if (type === 'UNSUPPORTED_MEDIA_TYPE') return 'UnsupportedMediaTypeException';
  return 'InternalServerErrorException';
}

/** A MOCK integration answers with the statusCode its request template renders (200 when there is none). */
function mockStatus(rendered: string): number {
  try {
    const parsed = JSON.parse(rendered) as { statusCode?: unknown };
    return typeof parsed.statusCode === 'number' ? parsed.statusCode : 200;
  } catch {
    return 500;
  }
}

function resourceIdOf(resourcePath: string): string {
  return Buffer.from(resourcePath).toString('base64url').slice(0, 10).toLowerCase();
}

/** Header names as the client sent them, every value kept (payload format 1.0's multiValueHeaders). */
function headersOf(request: IncomingMessage): Record<string, string[]> {
  // A Map, not an object: a header named `__proto__` or `constructor` must not meet Object.prototype.
  const headers = new Map<string, string[]>();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const existing = [...headers.keys()].find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;
    headers.set(existing, [...(headers.get(existing) ?? []), raw[index + 1] ?? '']);
  }
  return Object.fromEntries(headers);
}

/** The reply on the wire, compressed as API Gateway would when a compression context is given. */
function send(response: ServerResponse, reply: Reply, compression?: CompressionContext): void {
  const payload = {
    headers: reply.headers,
    body: Buffer.from(reply.body, 'utf8'),
    gatewayResponse: reply.gatewayResponse === true,
  };
  const { headers, body } = compression ? compressResponse(payload, compression) : payload;
  response.writeHead(reply.statusCode, { ...headers, 'content-length': String(body.length) }).end(body);
}
