import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEV_SIGNING_KEY_FILE,
  loadOrCreateSigningKey,
  type SigningKey,
  signClientToken,
  signToken,
} from '../services/issuer.ts';
import { httpApiDefinitions } from '../template/http-api-definition.ts';
import { createResolver } from '../template/resolver.ts';
import { type JsonObject, loadTemplate } from '../template/template.ts';

const HELP = `npm run token -- --sub <user> [options]
npm run token -- --client <app client> [--scope ...] [--expires-in ...]

Prints a JWT that the offline cloud accepts (signed by the dev issuer's key in .local/): a user's access token
for the HTTP API's JWT authoriser, or with --client an app client's client-credentials token, such as the
partner API's GET /orders needs (--client PartnerAppClient).

  --sub <id>          subject (required without --client)
  --client <id>       logical id of an AWS::Cognito::UserPoolClient allowing the client_credentials grant; the
                      token carries its AllowedOAuthScopes unless --scope is given
  --scope "<a b>"     space-separated scopes, e.g. "api/orders.read api/orders.write" (repeatable)
  --group <name>      Cognito group, e.g. admin (repeatable)
  --expires-in <t>    lifetime: 3600, 90s, 30m, 1h, 7d (default 1h); an expired token: --expires-in=-5m
  --audience <id>     client id to put in client_id (default: the authoriser's first audience)
  --state-dir <dir>   where npm run dev keeps its signing key (default .local)
`;

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    client: { type: 'string' },
    scope: { type: 'string', multiple: true },
    group: { type: 'string', multiple: true, default: [] },
    'expires-in': { type: 'string', default: '1h' },
    audience: { type: 'string' },
    'state-dir': { type: 'string', default: '.local' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || (!values.sub && !values.client)) {
  process.stdout.write(HELP);
  process.exit(values.help ? 0 : 1);
}

function parseDuration(text: string): number {
  const match = /^(-?\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`--expires-in: "${text}" is not a duration such as 3600, 30m or 1h`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const template = loadTemplate('template.yaml');
const resolver = createResolver(template, undefined);
const scopes = values.scope?.flatMap((scope) => scope.split(/\s+/)).filter(Boolean);
try {
  const expiresIn = parseDuration(values['expires-in']);
  const key = await loadOrCreateSigningKey(join(values['state-dir'], DEV_SIGNING_KEY_FILE));
  const token = values.client
    ? await clientToken(key, values.client, expiresIn)
    : await userToken(key, String(values.sub), expiresIn);
  process.stdout.write(`${token}\n`);
} catch (error) {
  // A usage mistake is one line, not a stack trace.
  process.stderr.write(`npm run token: ${(error as Error).message}\n`);
  process.exit(1);
}

/** A user's access token for the HTTP API's first JWT authoriser. */
async function userToken(key: SigningKey, sub: string, expiresIn: number): Promise<string> {
  const authorizer = httpApiDefinitions(resolver).flatMap((api) => api.authorizers)[0];
  if (!authorizer) throw new Error('template.yaml has no JWT authoriser');
  const clientId = values.audience ?? authorizer.audience[0];
  if (!clientId) throw new Error(`Authoriser ${authorizer.name} has no audience`);
  return signToken(key, {
    issuer: authorizer.issuer,
    clientId,
    sub,
    scopes: scopes ?? [],
    groups: values.group,
    expiresIn,
  });
}

/** The client-credentials access token the user pool would give the app client `logicalId`. */
async function clientToken(key: SigningKey, logicalId: string, expiresIn: number): Promise<string> {
  const where = `Resources.${logicalId}`;
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::Cognito::UserPoolClient')
    throw new Error(`--client: ${where} is not an AWS::Cognito::UserPoolClient in template.yaml`);
  const properties = resource.Properties as JsonObject;
  const flows = (properties.AllowedOAuthFlows ?? []) as string[];
  if (!flows.includes('client_credentials'))
    throw new Error(`--client: ${where}.Properties.AllowedOAuthFlows does not allow client_credentials`);
  const pool = (properties.UserPoolId as { Ref?: string } | undefined)?.Ref;
  if (!pool) throw new Error(`--client: ${where}.Properties.UserPoolId is not a !Ref of the user pool`);
  return signClientToken(key, {
    issuer: String(
      resolver.resolve({ 'Fn::GetAtt': [pool, 'ProviderURL'] }, `${where}.Properties.UserPoolId`),
    ),
    clientId: String(resolver.resolve({ Ref: logicalId }, where)),
    scopes: scopes ?? ((properties.AllowedOAuthScopes ?? []) as string[]),
    expiresIn,
  });
}
