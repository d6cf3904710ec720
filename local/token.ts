import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { httpApiDefinitions } from './cloud.ts';
import { DEV_SIGNING_KEY_FILE, loadOrCreateSigningKey, signToken } from './issuer.ts';
import { createResolver } from './resolver.ts';
import { loadTemplate } from './template.ts';

const HELP = `npm run token -- --sub <user> [options]

Prints a JWT that the offline HTTP API authoriser accepts (signed by the dev issuer's key in .local/).

  --sub <id>          subject (required)
  --scope "<a b>"     space-separated scopes, e.g. "api/orders.read api/orders.write" (repeatable)
  --group <name>      Cognito group, e.g. admin (repeatable)
  --expires-in <t>    lifetime: 3600, 90s, 30m, 1h, 7d (default 1h); an expired token: --expires-in=-5m
  --audience <id>     client id to put in client_id (default: the authoriser's first audience)
  --state-dir <dir>   where npm run dev keeps its signing key (default .local)
`;

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string', multiple: true, default: [] },
    group: { type: 'string', multiple: true, default: [] },
    'expires-in': { type: 'string', default: '1h' },
    audience: { type: 'string' },
    'state-dir': { type: 'string', default: '.local' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || !values.sub) {
  process.stdout.write(HELP);
  process.exit(values.help ? 0 : 1);
}

function parseDuration(text: string): number {
  const match = /^(-?\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`--expires-in: "${text}" is not a duration such as 3600, 30m or 1h`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const resolver = createResolver(loadTemplate('template.yaml'), undefined);
const authorizer = httpApiDefinitions(resolver).flatMap((api) => api.authorizers)[0];
if (!authorizer) throw new Error('template.yaml has no JWT authoriser');
const clientId = values.audience ?? authorizer.audience[0];
if (!clientId) throw new Error(`Authoriser ${authorizer.name} has no audience`);

const key = await loadOrCreateSigningKey(join(values['state-dir'], DEV_SIGNING_KEY_FILE));
const token = await signToken(key, {
  issuer: authorizer.issuer,
  clientId,
  sub: values.sub,
  scopes: values.scope.flatMap((scope) => scope.split(/\s+/)).filter(Boolean),
  groups: values.group,
  expiresIn: parseDuration(values['expires-in']),
});
process.stdout.write(`${token}\n`);
