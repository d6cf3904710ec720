import { dirname, resolve } from 'node:path';
import { httpApiConfig, LocalHttpApi } from './gateways/http/http-api.ts';
import { LocalRestApi } from './gateways/rest/rest-api.ts';
import { LocalWebSocketApi, type WebSocketLimits } from './gateways/websocket/websocket.ts';
import { SqsEventSourceMapping, sqsEventSourceDefinitions, sqsEventsOf } from './runtime/event-sources.ts';
import { FaultInjector, type FaultPlan } from './runtime/faults.ts';
import {
  type Bundle,
  bundleFunctions,
  exportNameOf,
  LocalLambda,
  type LogSink,
  numberProperty,
  runtimeEnvironmentOf,
} from './runtime/lambda.ts';
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from './services/dynamodb.ts';
import {
  createSigningKey,
  type LocalIssuer,
  type SigningKey,
  signToken,
  startIssuer,
  type TokenOptions,
} from './services/issuer.ts';
import { createQueues, type LocalSqs, startSqs } from './services/sqs.ts';
import { httpApiDefinitions } from './template/http-api-definition.ts';
import { createResolver } from './template/resolver.ts';
import { type RestApiConfig, restApiDefinitions } from './template/rest-api-definition.ts';
import {
  type FunctionDefinition,
  functionsOf,
  type JsonObject,
  loadTemplate,
  type Resolver,
  type Template,
} from './template/template.ts';
import { webSocketApiDefinitions } from './template/websocket-api-definition.ts';

export interface CloudPorts {
  httpApi: number;
  issuer: number;
  dynamodb: number;
  sqs: number;
  /** First WebSocket API; further ones take the next ports. */
  websocket: number;
  /** First REST API; further ones take the next ports. */
  restApi: number;
}

export interface CloudOptions {
  projectDir?: string;
  templatePath?: string;
  /** 0 for any free port (the default, for tests); `npm run dev` passes fixed ones. */
  ports?: Partial<CloudPorts>;
  /** Where esbuild writes the bundles. */
  buildDir: string;
  /** Persist DynamoDB Local here; in memory when absent. */
  dynamoDataDir?: string;
  /** A DynamoDB Local the caller started early (its JVM is the slowest part to boot). */
  dynamodb?: Promise<DynamoDbLocal>;
  signingKey?: SigningKey;
  parameters?: Record<string, string>;
  log?: LogSink;
  /** Execution environments per function at most (Lambda's concurrency, scaled down). */
  maxConcurrency?: number;
  /** WebSocket quotas; AWS's unless overridden (tests shorten the idle timeout). */
  webSocketLimits?: Partial<WebSocketLimits>;
  /** Load and fault tests only: named functions' invocations fail at random (offline/runtime/faults.ts). */
  faults?: FaultPlan;
}

export interface StackInfo {
  httpApis: Record<string, { url: string; routes: string[] }>;
  webSocketApis: Record<string, { url: string; connectionsEndpoint: string; routes: string[] }>;
  restApis: Record<string, RestApiInfo>;
  issuer: { url: string; jwksUri: string; issuers: string[]; audiences: string[] };
  dynamodb: { endpoint: string; tables: Record<string, string> };
  sqs: { endpoint: string; queues: Record<string, string> };
  /** SQS event source mappings (the functions' `SQS` events), each polling its local queue. */
  eventSources: EventSourceInfo[];
  functions: Record<string, { bundleBytes: number }>;
}

export interface RestApiInfo {
  url: string;
  routes: { route: string; apiKeyRequired: boolean; cacheTtlSeconds?: number }[];
  cacheClusterEnabled: boolean;
  /** Local API key values by usage plan (tier); send one in x-api-key. */
  apiKeys: { plan: string; planLogicalId: string; keyId: string; value: string; enabled: boolean }[];
  /** What the definition relies on that API Gateway may not do (README: fidelity). */
  warnings: string[];
}

export interface EventSourceInfo {
  functionName: string;
  /** The queue's logical id (its URL is in sqs.queues). */
  queue: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  reportBatchItemFailures: boolean;
  enabled: boolean;
}

/**
 * The whole template, offline: DynamoDB Local, fauxqs, a local OIDC issuer, every function in its own
 * worker-thread execution environments and every HTTP API on loopback, all derived from template.yaml.
 */
export class OfflineCloud {
  readonly options: CloudOptions;
  readonly projectDir: string;
  readonly templatePath: string;
  readonly dynamodb: DynamoDbLocal;
  readonly sqs: LocalSqs;
  readonly issuer: LocalIssuer;
  /** What the `faults` option injected so far, per function. */
  readonly faults: FaultInjector | undefined;
  resolver: Resolver;
  readonly functions = new Map<string, LocalLambda>();
  readonly bundles = new Map<string, Bundle>();
  readonly httpApis = new Map<string, { api: LocalHttpApi; url: string }>();
  readonly webSocketApis = new Map<string, LocalWebSocketApi>();
  readonly restApis = new Map<string, { api: LocalRestApi; url: string }>();
  /** SQS event source mappings, started with the cloud and restarted by reloadTemplate. */
  eventSources: SqsEventSourceMapping[] = [];
  tables: Record<string, string> = {};
  queues: Record<string, string> = {};
  issuers: string[] = [];
  audiences: string[] = [];

  private constructor(
    options: CloudOptions,
    parts: { resolver: Resolver; dynamodb: DynamoDbLocal; sqs: LocalSqs; issuer: LocalIssuer },
  ) {
    this.options = options;
    this.projectDir = resolve(options.projectDir ?? '.');
    this.templatePath = resolve(this.projectDir, options.templatePath ?? 'template.yaml');
    this.resolver = parts.resolver;
    this.dynamodb = parts.dynamodb;
    this.sqs = parts.sqs;
    this.issuer = parts.issuer;
    this.faults = options.faults ? new FaultInjector(options.faults) : undefined;
  }

  static async start(options: CloudOptions): Promise<OfflineCloud> {
    const projectDir = resolve(options.projectDir ?? '.');
    const template = loadTemplate(resolve(projectDir, options.templatePath ?? 'template.yaml'));
    const resolver = createResolver(template, options.parameters);
    sqsEventsOf(template);
    const ports = options.ports ?? {};
    const key = options.signingKey ?? (await createSigningKey());
    const issuers = httpApiDefinitions(resolver).flatMap((api) =>
      api.authorizers.map((authorizer) => authorizer.issuer),
    );

    // The slow parts start together: DynamoDB Local (a JVM) dominates, bundling and the rest run meanwhile.
    const started = await Promise.allSettled([
      options.dynamodb ?? startDynamoDbLocal({ port: ports.dynamodb, dataDir: options.dynamoDataDir }),
      startSqs(ports.sqs ?? 0, resolver.pseudo.region),
      startIssuer(key, [...new Set(issuers)], ports.issuer ?? 0),
      bundleAll(template, projectDir, options.buildDir),
    ]);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      for (const result of started) {
        if (result.status === 'fulfilled' && result.value && 'stop' in result.value)
          await result.value.stop();
      }
      throw (failure as PromiseRejectedResult).reason;
    }
    const [dynamodb, sqs, issuer, bundles] = started.map(
      (result) => (result as PromiseFulfilledResult<unknown>).value,
    ) as [DynamoDbLocal, LocalSqs, LocalIssuer, Map<string, Bundle>];
    const cloud = new OfflineCloud(options, { resolver, dynamodb, sqs, issuer });
    try {
      for (const [name, bundle] of bundles) cloud.bundles.set(name, bundle);
      // WebSocket APIs listen first: every function's environment names their @connections endpoint.
      for (const config of webSocketApiDefinitions(cloud.resolver)) {
        const api = new LocalWebSocketApi(config, cloud.functions, options.webSocketLimits);
        await api.listen(ports.websocket ? ports.websocket + cloud.webSocketApis.size : 0);
        cloud.webSocketApis.set(config.logicalId, api);
      }
      await cloud.#provision();
      const unknown = cloud.faults?.functionNames.filter((name) => !cloud.functions.has(name)) ?? [];
      if (unknown.length > 0)
        throw new Error(`Faults for functions not in the template: ${unknown.join(', ')}`);
      for (const definition of httpApiDefinitions(cloud.resolver)) {
        const api = new LocalHttpApi(httpApiConfig(definition, issuer.jwksUri), cloud.functions);
        const url = await api.listen(ports.httpApi ? ports.httpApi + cloud.httpApis.size : 0);
        cloud.httpApis.set(definition.logicalId, { api, url });
      }
      for (const config of cloud.#restApiDefinitions(cloud.resolver)) {
        const api = new LocalRestApi(config, {
          functions: cloud.functions,
          sqs: sqs.client,
          queueUrls: () => cloud.#queueUrlsByName(),
          dynamodbEndpoint: dynamodb.endpoint,
        });
        const url = await api.listen(ports.restApi ? ports.restApi + cloud.restApis.size : 0);
        cloud.restApis.set(config.logicalId, { api, url });
      }
    } catch (error) {
      await cloud.stop();
      throw error;
    }
    return cloud;
  }

  #restApiDefinitions(resolver: Resolver): RestApiConfig[] {
    return restApiDefinitions(resolver, dirname(this.templatePath));
  }

  /** Queue URLs by queue name: how an SQS integration's `path/<account>/<name>` URI finds its queue. */
  #queueUrlsByName(): Record<string, string> {
    return Object.fromEntries(Object.values(this.queues).map((url) => [url.split('/').at(-1) ?? url, url]));
  }

  /** Tables, queues, function environments and SQS event source mappings from the current template. */
  async #provision(): Promise<void> {
    const resolver = this.resolver;
    // Pollers stop first: none may invoke a function that is about to be replaced or removed.
    await this.#stopEventSources();
    await createTables(this.dynamodb.client, resolver);
    this.tables = Object.fromEntries(
      Object.entries(resolver.template.Resources)
        .filter(([id, resource]) => resource.Type === 'AWS::DynamoDB::Table' && resolver.exists(id))
        .map(([id]) => [id, resolver.tableName(id)]),
    );
    this.queues = await createQueues(this.sqs, resolver);
    const definitions = httpApiDefinitions(resolver);
    this.issuers = [
      ...new Set(definitions.flatMap((api) => api.authorizers.map((authorizer) => authorizer.issuer))),
    ];
    this.audiences = [
      ...new Set(definitions.flatMap((api) => api.authorizers.flatMap((authorizer) => authorizer.audience))),
    ];

    const present = new Set<string>();
    for (const fn of functionsOf(resolver.template)) {
      if (!resolver.exists(fn.logicalId)) continue;
      present.add(fn.logicalId);
      const config = this.#lambdaConfig(fn);
      const existing = this.functions.get(fn.logicalId);
      if (existing) existing.update(config);
      else this.functions.set(fn.logicalId, new LocalLambda(config));
    }
    for (const [name, fn] of this.functions) {
      if (!present.has(name)) {
        await fn.stop();
        this.functions.delete(name);
      }
    }
    this.eventSources = sqsEventSourceDefinitions(resolver, this.queues).map(
      (config) =>
        new SqsEventSourceMapping(config, {
          client: this.sqs.client,
          functions: this.functions,
          region: resolver.pseudo.region,
          log: this.options.log,
        }),
    );
    for (const mapping of this.eventSources) mapping.start();
  }

  async #stopEventSources(): Promise<void> {
    const running = this.eventSources;
    this.eventSources = [];
    await Promise.allSettled(running.map((mapping) => mapping.stop()));
  }

  #lambdaConfig(fn: FunctionDefinition) {
    const bundle = this.bundles.get(fn.logicalId);
    if (!bundle) throw new Error(`No bundle for ${fn.logicalId}`);
    const { region, accountId } = this.resolver.pseudo;
    // One variable for all functions: with several WebSocket APIs, the first one's (README: limits).
    const [webSocketApi] = this.webSocketApis.values();
    const memorySize = numberProperty(fn.properties, 'MemorySize', 128);
    const logging = fn.properties.LoggingConfig as JsonObject | undefined;
    return {
      functionName: fn.logicalId,
      bundle,
      exportName: exportNameOf(fn),
      environment: {
        ...runtimeEnvironmentOf(fn, this.resolver),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.logicalId}`,
        ...(logging?.LogFormat ? { AWS_LAMBDA_LOG_FORMAT: String(logging.LogFormat) } : {}),
        AWS_ENDPOINT_URL_DYNAMODB: this.dynamodb.endpoint,
        AWS_ENDPOINT_URL_SQS: this.sqs.endpoint,
        ...(webSocketApi
          ? { AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: webSocketApi.managementEndpoint }
          : {}),
      },
      timeoutSeconds: numberProperty(fn.properties, 'Timeout', 3),
      memorySize,
      region,
      accountId,
      maxConcurrency: this.options.maxConcurrency ?? 2,
      log: this.options.log ?? (() => undefined),
      issuerUrl: this.issuer.url,
      faults: this.faults?.forFunction(fn.logicalId),
    };
  }

  /** Rebuilds the functions whose bundles include any of `files`; returns their names. */
  async reloadSources(files: readonly string[]): Promise<string[]> {
    const changed = files.map((file) => resolve(this.projectDir, file));
    const affected = functionsOf(this.resolver.template).filter((fn) => {
      const bundle = this.bundles.get(fn.logicalId);
      return bundle && changed.some((file) => bundle.inputs.has(file));
    });
    const rebuilt = await bundleFunctions(affected, this.projectDir, this.options.buildDir);
    for (const fn of affected) {
      this.bundles.set(fn.logicalId, rebuilt.get(fn.logicalId) as Bundle);
      this.functions.get(fn.logicalId)?.update(this.#lambdaConfig(fn));
    }
    return affected.map((fn) => fn.logicalId);
  }

  /** Re-reads template.yaml: new tables and queues, new environments, new routes and authorisers. */
  async reloadTemplate(): Promise<void> {
    const template = loadTemplate(this.templatePath);
    const resolver = createResolver(template, this.options.parameters);
    const definitions = httpApiDefinitions(resolver);
    const added = definitions.filter((definition) => !this.httpApis.has(definition.logicalId));
    if (added.length > 0 || definitions.length !== this.httpApis.size) {
      throw new Error('HTTP APIs were added or removed: restart npm run dev');
    }
    const webSocketDefinitions = webSocketApiDefinitions(resolver);
    const restApiIds = Object.entries(template.Resources)
      .filter(([id, resource]) => resource.Type === 'AWS::Serverless::Api' && resolver.exists(id))
      .map(([id]) => id);
    if (restApiIds.length !== this.restApis.size || restApiIds.some((id) => !this.restApis.has(id))) {
      throw new Error('REST APIs were added or removed: restart npm run dev');
    }
    // Unsupported SQS event properties are refused before anything changes.
    sqsEventsOf(template);
    if (
      webSocketDefinitions.length !== this.webSocketApis.size ||
      webSocketDefinitions.some((definition) => !this.webSocketApis.has(definition.logicalId))
    ) {
      throw new Error('WebSocket APIs were added or removed: restart npm run dev');
    }
    const bundles = await bundleAll(template, this.projectDir, this.options.buildDir);
    this.resolver = resolver;
    this.bundles.clear();
    for (const [name, bundle] of bundles) this.bundles.set(name, bundle);
    // Before #provision: a new stage name changes the @connections endpoint in the functions' environment.
    for (const definition of webSocketDefinitions)
      this.webSocketApis.get(definition.logicalId)?.configure(definition);
    await this.#provision();
    for (const definition of definitions)
      this.httpApis.get(definition.logicalId)?.api.configure(httpApiConfig(definition, this.issuer.jwksUri));
    // After #provision: the definitions name queues, whose local identities it binds.
    for (const definition of this.#restApiDefinitions(resolver))
      this.restApis.get(definition.logicalId)?.api.configure(definition);
  }

  /** A token the local authorisers accept: the template's first issuer and audience unless told otherwise. */
  mintToken(options: Partial<TokenOptions> & { sub: string }): Promise<string> {
    const issuer = options.issuer ?? this.issuers[0];
    const clientId = options.clientId ?? this.audiences[0];
    if (!issuer || !clientId) throw new Error('The template has no JWT authoriser');
    return signToken(this.issuer.key, { ...options, issuer, clientId });
  }

  info(): StackInfo {
    return {
      httpApis: Object.fromEntries(
        [...this.httpApis].map(([name, { api, url }]) => [
          name,
          { url, routes: api.config.routes.map((route) => `${route.method} ${route.path}`) },
        ]),
      ),
      webSocketApis: Object.fromEntries(
        [...this.webSocketApis].map(([name, api]) => [
          name,
          {
            url: api.url,
            connectionsEndpoint: api.connectionsEndpoint,
            routes: api.config.routes.map((route) => route.routeKey),
          },
        ]),
      ),
      restApis: Object.fromEntries(
        [...this.restApis].map(([name, { api, url }]) => [name, restApiInfo(api.config, url)]),
      ),
      issuer: {
        url: this.issuer.url,
        jwksUri: this.issuer.jwksUri,
        issuers: this.issuers,
        audiences: this.audiences,
      },
      dynamodb: { endpoint: this.dynamodb.endpoint, tables: this.tables },
      sqs: { endpoint: this.sqs.endpoint, queues: this.queues },
      eventSources: this.eventSources.map(({ config }) => ({
        functionName: config.functionName,
        queue: config.queue,
        batchSize: config.batchSize,
        maximumBatchingWindowInSeconds: config.maximumBatchingWindowInSeconds,
        reportBatchItemFailures: config.reportBatchItemFailures,
        enabled: config.enabled,
      })),
      functions: Object.fromEntries(
        [...this.bundles].map(([name, bundle]) => [name, { bundleBytes: bundle.bytes }]),
      ),
    };
  }

  async stop(): Promise<void> {
    // Pollers first: their batch in flight finishes (successes deleted) while its function still runs.
    await this.#stopEventSources();
    await Promise.allSettled([
      ...[...this.httpApis.values()].map(({ api }) => api.stop()),
      ...[...this.restApis.values()].map(({ api }) => api.stop()),
      ...[...this.webSocketApis.values()].map((api) => api.stop()),
      ...[...this.functions.values()].map((fn) => fn.stop()),
    ]);
    await Promise.allSettled([this.dynamodb.stop(), this.sqs.stop(), this.issuer.stop()]);
  }
}

function restApiInfo(config: RestApiConfig, url: string): RestApiInfo {
  return {
    url,
    routes: config.methods.map((method) => ({
      route: `${method.httpMethod} ${method.resourcePath}`,
      apiKeyRequired: method.apiKeyRequired,
      ...(method.caching.enabled ? { cacheTtlSeconds: method.caching.ttlSeconds } : {}),
    })),
    cacheClusterEnabled: config.cacheClusterEnabled,
    apiKeys: config.usagePlans.flatMap((plan) =>
      plan.keyIds.flatMap((keyId) =>
        config.apiKeys
          .filter((key) => key.id === keyId)
          .map((key) => ({
            plan: plan.name,
            planLogicalId: plan.logicalId,
            keyId,
            value: key.value,
            enabled: key.enabled,
          })),
      ),
    ),
    warnings: config.warnings,
  };
}

function bundleAll(template: Template, projectDir: string, buildDir: string): Promise<Map<string, Bundle>> {
  return bundleFunctions(functionsOf(template), projectDir, buildDir);
}
