import { inject } from 'vitest';
import { createResolver } from '../../offline/template/resolver.ts';
import { environmentOf, functionsOf, loadTemplate } from '../../offline/template/template.ts';

/**
 * Gives the test worker the environment Lambda would give the functions: every function's variables as the
 * template declares them (resolved with the offline cloud's own resolver, so tables, user pools and clients have
 * their local identities), local credentials, and DynamoDB Local when the project started one. Handlers read
 * their configuration when first imported, so this runs before any test file. The service name is left out: each
 * function has its own, and no behaviour depends on it.
 */
const resolver = createResolver(loadTemplate(), undefined);
const merged: Record<string, string> = {};
for (const fn of functionsOf(resolver.template)) {
  for (const [name, value] of Object.entries(environmentOf(fn, resolver))) {
    if (name === 'POWERTOOLS_SERVICE_NAME') continue;
    if (merged[name] !== undefined && merged[name] !== value) {
      throw new Error(`${name} differs between functions; test those functions in separate files`);
    }
    merged[name] = value;
  }
}
Object.assign(process.env, merged, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

const dynamoEndpoint = inject('dynamoEndpoint');
if (dynamoEndpoint) process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoEndpoint;
