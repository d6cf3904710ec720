import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LambdaError, type StreamingFunctionRegistry } from '../../runtime/lambda.ts';
import type { RestApiConfig } from '../../template/rest-api-definition.ts';
import { staticValue } from '../../template/rest-api-definition.ts';
import type { Integration } from '../../template/rest-api-integration.ts';
import {
  closeServer,
  gatewayServer,
  headerValue,
  listenOnLoopback,
  MAX_PAYLOAD_BYTES,
  queryParameters,
  readBody,
} from '../gateway-http.ts';
import { comparePathRank, compilePath, matchPath } from '../route-path.ts';
import { TokenBucket } from '../token-bucket.ts';
import { gatewayResponse } from './gateway-responses.ts';
import { MappingTemplateError } from './mapping-template-error.ts';
import { createValidator, type ValidationOutcome } from './request-validation.ts';
import { ResponseCache } from './response-cache.ts';
import { awaitPrelude, type StreamedReply, sendStreamed } from './rest-api-stream.ts';
import { TokenAuthorizers } from './rest-authorizer.ts';
import { type CompressionContext, compressResponse, decodeRequestBody } from './rest-compression.ts';
import { dynamodbAction, type IntegrationResult, sqsSendMessage } from './rest-integrations.ts';
import {
  extendedRequestId,
  headersOf,
  mappingInput,
  proxyEvent,
  type Reply,
  type RequestState,
  type Route,
  requestIdHeaders,
  requestIdOf,
} from './rest-request.ts';
import { signedByLocalCaller } from './sigv4.ts';
import { UsagePlans } from './usage-plans.ts';
import { renderMappingTemplate } from './vtl.ts';

/** What the REST API's AWS integrations talk to offline. */
export interface RestBackends {
  functions: StreamingFunctionRegistry;
  sqs: SQSClient;
  /** Local queue URLs by queue name. */
  queueUrls: () => Record<string, string>;
  dynamodbEndpoint: string;
}

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
        decoded.refused === 'TOO_LARGE'
          ? PAYLOAD_TOO_LARGE
          : gatewayResponse(this.#config, decoded.refused, state),
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
    if (!route) return gatewayResponse(this.#config, 'MISSING_AUTHENTICATION_TOKEN', state);
    const { method } = route;
    // Authorisation comes before the API key: with apiKeySource AUTHORIZER the key is what the authoriser returns
    // ("Output from an API Gateway Lambda authorizer", usageIdentifierKey), so the authoriser must have run.
    if (method.authorizer) {
      const { region, accountId, apiId, stage } = this.#config;
      const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${method.httpMethod}${state.path}`;
      const outcome = await this.#authorizers.authorize(method.authorizer, state.headers, methodArn);
      if (!outcome.allowed)
        return gatewayResponse(this.#config, outcome.responseType, state, { message: outcome.message });
      state.authorizer = outcome.authorizer;
    }
    if (method.apiKeyRequired) {
      const admission = this.#plans.admit(state.apiKey, method.resourcePath, method.httpMethod);
      if (!admission.admitted) return gatewayResponse(this.#config, admission.responseType, state);
      state.apiKeyId = admission.key.id;
    }
    if (route.bucket && !route.bucket.take()) return gatewayResponse(this.#config, 'THROTTLED', state);

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
      return gatewayResponse(this.#config, validation.responseType, state, {
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
      if (cached) return { ...cached, headers: { ...cached.headers, ...requestIdHeaders(state) } };
    }
    const reply = await this.#integrate(method.integration, state, contentType);
    // A STREAM integration has no cache key (rest-api-methods.ts refuses caching one).
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
      return gatewayResponse(this.#config, 'UNSUPPORTED_MEDIA_TYPE', state);
    }
    let rendered: string;
    try {
      rendered =
        template === undefined
          ? state.body.toString('utf8')
          : renderMappingTemplate(template, mappingInput(this.#config, state, state.body.toString('utf8')))
              .output;
    } catch (error) {
      if (!(error instanceof MappingTemplateError)) throw error;
      console.error(`[${this.#config.logicalId}] request mapping template failed`, error);
      return gatewayResponse(this.#config, 'DEFAULT_5XX', state, { statusCode: 500 });
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
    if (!chosen) return gatewayResponse(this.#config, 'DEFAULT_5XX', state, { statusCode: 500 });
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
        const output = renderMappingTemplate(template, mappingInput(this.#config, state, result.body));
        body = output.output;
        statusCode = output.responseOverride.status ?? statusCode;
        Object.assign(headers, output.responseOverride.headers);
      } catch (error) {
        if (!(error instanceof MappingTemplateError)) throw error;
        console.error(`[${this.#config.logicalId}] response mapping template failed`, error);
        return gatewayResponse(this.#config, 'DEFAULT_5XX', state, { statusCode: 500 });
      }
    }
    return {
      statusCode,
      headers: { 'content-type': mediaType, ...headers, ...requestIdHeaders(state) },
      body,
    };
  }

  async #invokeLambda(functionName: string, state: RequestState): Promise<Reply> {
    const fn = this.#backends.functions.get(functionName);
    if (!fn) return gatewayResponse(this.#config, 'DEFAULT_5XX', state, { statusCode: 500 });
    let result: unknown;
    try {
      result = await fn.invoke(proxyEvent(this.#config, state));
    } catch (error) {
      if (!(error instanceof LambdaError)) throw error;
      return gatewayResponse(this.#config, 'DEFAULT_5XX', state);
    }
    // Payload format 1.0: anything but an object with a numeric statusCode and a string body is malformed.
    const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = (result ?? {}) as Record<
      string,
      unknown
    >;
    if (typeof statusCode !== 'number' || (body !== undefined && body !== null && typeof body !== 'string')) {
      return gatewayResponse(this.#config, 'DEFAULT_5XX', state);
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
      headers: { 'content-type': 'application/json', ...replyHeaders, ...requestIdHeaders(state) },
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
      return gatewayResponse(this.#config, 'DEFAULT_5XX', state, { statusCode: 500 });
    const deadline = Date.now() + timeoutMs;
    const { body } = fn.invokeWithResponseStream(proxyEvent(this.#config, state));
    const opening = await awaitPrelude(body, deadline);
    if (opening.kind === 'opened') {
      const { statusCode, headers } = opening.head;
      return {
        head: {
          statusCode,
          headers: { 'content-type': 'application/json', ...headers, ...requestIdHeaders(state) },
        },
        start: opening.start,
        body,
        deadline,
      };
    }
    // Whatever the function still writes goes nowhere; the invocation runs on to its end or its timeout.
    body.resume();
    if (opening.kind === 'timedOut') return gatewayResponse(this.#config, 'INTEGRATION_TIMEOUT', state);
    if (opening.kind === 'malformed')
      console.error(
        `[${this.#config.logicalId}] ${functionName} streamed no valid response: ${opening.reason}`,
      );
    else if (!(opening.error instanceof LambdaError)) throw opening.error;
    return gatewayResponse(this.#config, 'DEFAULT_5XX', state);
  }
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
