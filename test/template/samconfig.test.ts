import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate, Resolver, type Template } from '../../offline/template/template.ts';
import { ROOT } from './rules.ts';
import { failedAssertions, type ParameterValues } from './stack-rules.ts';
import { parseParameterOverrides, parseToml, type TomlTable, type TomlValue } from './toml.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));
const config = parseToml(readFileSync(resolve(ROOT, 'samconfig.toml'), 'utf8'));

const ENVIRONMENTS = { dev: { confirm: false }, prod: { confirm: true } } as const;
type Environment = keyof typeof ENVIRONMENTS;

/** `config[env][command].parameters`, or an empty table. */
function parametersOf(from: TomlTable, env: string, command: string): TomlTable {
  const table = ((from[env] as TomlTable | undefined)?.[command] as TomlTable | undefined)?.parameters;
  return (table ?? {}) as TomlTable;
}

/** A setting as SAM CLI sees it for a command: the command's own table, then the environment's global one. */
const setting = (from: TomlTable, env: string, command: string, name: string): TomlValue | undefined =>
  parametersOf(from, env, command)[name] ?? parametersOf(from, env, 'global')[name];

/** The parameter overrides samconfig.toml ships for prod. */
const prodOverrides = () => parseParameterOverrides(setting(config, 'prod', 'deploy', 'parameter_overrides'));

function checkEnvironment(from: TomlTable, env: Environment, against: Template): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(`${env}: ${message}`);
  const deploy = (name: string) => setting(from, env, 'deploy', name);

  const stack = deploy('stack_name');
  if (typeof stack !== 'string' || !stack.endsWith(`-${env}`))
    fail(`stack_name ${String(stack)} does not end in -${env}`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(String(deploy('region')))) fail('region is not an AWS region');
  const capabilities = String(deploy('capabilities') ?? '').split(/\s+/);
  for (const capability of ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND']) {
    if (!capabilities.includes(capability)) fail(`capabilities lack ${capability}`);
  }
  if (deploy('resolve_s3') !== true) fail('resolve_s3 is not true');
  if (deploy('confirm_changeset') !== ENVIRONMENTS[env].confirm) {
    fail(`confirm_changeset is not ${ENVIRONMENTS[env].confirm}`);
  }
  if (deploy('fail_on_empty_changeset') !== false) fail('fail_on_empty_changeset is not false');
  for (const name of ['cached', 'parallel']) {
    if (setting(from, env, 'build', name) !== true) fail(`build ${name} is not true`);
  }

  let overrides: Record<string, string> = {};
  try {
    overrides = parseParameterOverrides(deploy('parameter_overrides'));
  } catch (error) {
    fail((error as Error).message);
  }
  const parameters = against.Parameters ?? {};
  for (const [name, value] of Object.entries(overrides)) {
    const parameter = parameters[name] as
      | { Type: string; AllowedValues?: unknown[]; AllowedPattern?: string }
      | undefined;
    if (!parameter) {
      fail(`parameter_overrides sets ${name}, which template.yaml does not declare`);
      continue;
    }
    const items = parameter.Type === 'CommaDelimitedList' ? value.split(',') : [value];
    if (parameter.AllowedValues && !parameter.AllowedValues.map(String).includes(value)) {
      fail(`${name}=${value} is not one of ${parameter.AllowedValues.join(', ')}`);
    }
    if (
      parameter.AllowedPattern &&
      !items.every((item) => new RegExp(parameter.AllowedPattern ?? '').test(item))
    ) {
      fail(`${name}=${value} does not match ${parameter.AllowedPattern}`);
    }
  }
  for (const [name, parameter] of Object.entries(parameters)) {
    if (overrides[name] === undefined) fail(`parameter_overrides leaves ${name} to its template default`);
    if (parameter.Default === undefined && overrides[name] === undefined) fail(`${name} has no value`);
  }
  if (overrides.Stage !== env) fail(`Stage is ${overrides.Stage}, not ${env}`);
  const origins = [
    ...(overrides.AllowedOrigins ?? '').split(',').map((origin) => ['AllowedOrigins entry', origin]),
    ['PartnerAllowedOrigin', overrides.PartnerAllowedOrigin ?? ''],
  ];
  for (const [name, origin] of origins) {
    const secure = env === 'prod' ? /^https:\/\/[^/*]+$/ : /^https?:\/\/[^/*]+$/;
    if (!secure.test(origin ?? ''))
      fail(`${name} ${origin} is not a ${env === 'prod' ? 'https ' : ''}origin`);
  }
  for (const url of (overrides.AuthCallbackUrls ?? '').split(',')) {
    const secure = env === 'prod' ? /^https:\/\/\S+$/ : /^https?:\/\/\S+$/;
    if (!secure.test(url) || url.includes('*')) fail(`AuthCallbackUrls entry ${url} is not allowed here`);
  }
  return violations;
}

describe('samconfig.toml', () => {
  it('is SAM CLI configuration format 0.1', () => {
    expect(config.version).toBe(0.1);
  });

  it.each(Object.keys(ENVIRONMENTS) as Environment[])(
    'configures %s to deploy with the template parameters',
    (env) => {
      expect(checkEnvironment(config, env, template)).toEqual([]);
    },
  );

  it('deploys dev and prod as separate stacks', () => {
    expect(setting(config, 'dev', 'deploy', 'stack_name')).not.toBe(
      setting(config, 'prod', 'deploy', 'stack_name'),
    );
  });

  it('makes plain `sam deploy` (the default environment) a dev deploy', () => {
    for (const command of ['global', 'build', 'deploy']) {
      expect(parametersOf(config, 'default', command), `[default.${command}.parameters]`).toEqual(
        parametersOf(config, 'dev', command),
      );
    }
  });

  describe('catches', () => {
    const variant = (env: Environment, overrides: string[]): TomlTable => {
      const copy = structuredClone(config);
      parametersOf(copy, env, 'deploy').parameter_overrides = overrides;
      return copy;
    };
    // The overrides samconfig.toml ships for prod, but AllowedOrigins, which each case sets itself.
    const valid = Object.entries(prodOverrides())
      .filter(([name]) => name !== 'AllowedOrigins')
      .map(([name, value]) => `${name}="${value}"`);

    it('a wildcard origin', () => {
      const copy = variant('prod', [...valid, 'AllowedOrigins="*"']);
      expect(checkEnvironment(copy, 'prod', template)).toEqual([
        'prod: AllowedOrigins entry * is not a https origin',
      ]);
    });

    it('a parameter the template does not declare and a stage mix-up', () => {
      const copy = variant('prod', [
        ...valid.filter((override) => !override.startsWith('Stage=')),
        'Stage="dev"',
        'AllowedOrigins="https://app.example.com"',
        'LogLevel="DEBUG"',
      ]);
      expect(checkEnvironment(copy, 'prod', template)).toEqual([
        'prod: parameter_overrides sets LogLevel, which template.yaml does not declare',
        'prod: Stage is dev, not prod',
      ]);
    });

    it('a value the template would refuse', () => {
      const copy = variant('prod', [
        ...valid.slice(0, 2),
        'AllowedOrigins="https://app.example.com"',
        'AlarmEmail="ops"',
      ]);
      expect(checkEnvironment(copy, 'prod', template).join('\n')).toContain('AlarmEmail=ops does not match');
    });
  });
});

describe('the deploy-time Rules of template.yaml', () => {
  /** The parameter values a `sam deploy --config-env <env>` passes, as CloudFormation sees them. */
  const deployParameters = (from: TomlTable, env: string): ParameterValues =>
    new Resolver(template, {
      parameters: parseParameterOverrides(setting(from, env, 'deploy', 'parameter_overrides')),
    }).parameters;
  const prodWith = (values: Record<string, string>): ParameterValues =>
    new Resolver(template, { parameters: { ...prodOverrides(), ...values } }).parameters;

  it('refuse a prod deploy that still has the example.com placeholders, saying what to set', () => {
    const refusals = failedAssertions(template, deployParameters(config, 'prod'));
    expect(refusals.map((refusal) => refusal.description.split(' ')[0])).toEqual([
      'AllowedOrigins',
      'AuthCallbackUrls',
      'PartnerAllowedOrigin',
      'AlarmEmail',
    ]);
    for (const { description } of refusals) {
      expect(description).toContain('[prod.deploy.parameters] parameter_overrides of samconfig.toml');
    }
  });

  it('refuse every example.com placeholder that samconfig.toml ships for prod', () => {
    const placeholders = Object.entries(prodOverrides())
      .filter(([, value]) => value.includes('example.com'))
      .map(([name]) => name);
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) {
      const real = name === 'AlarmEmail' ? 'oncall@acme.test' : 'https://orders.acme.test';
      const refusals = (values: ParameterValues) =>
        failedAssertions(template, values).filter(({ description }) => description.startsWith(`${name} `));
      expect(
        refusals(deployParameters(config, 'prod')),
        `no rule refuses the ${name} placeholder`,
      ).toHaveLength(1);
      expect(refusals(prodWith({ [name]: real }))).toEqual([]);
    }
  });

  it('accept a prod deploy with real addresses, also when a placeholder hides among real origins', () => {
    const real = {
      AllowedOrigins: 'https://shop.acme.test,https://admin.acme.test',
      AuthCallbackUrls: 'https://shop.acme.test/callback',
      PartnerAllowedOrigin: 'https://partners.acme.test',
      AlarmEmail: 'oncall@acme.test',
    };
    expect(failedAssertions(template, prodWith(real))).toEqual([]);
    const mixed = prodWith({ ...real, AllowedOrigins: 'https://shop.acme.test,https://app.example.com' });
    expect(failedAssertions(template, mixed).map((refusal) => refusal.description)).toEqual([
      expect.stringContaining('AllowedOrigins still holds the placeholder https://app.example.com'),
    ]);
  });

  it('leave dev alone, whatever its addresses', () => {
    expect(failedAssertions(template, deployParameters(config, 'dev'))).toEqual([]);
    const devWithPlaceholders = new Resolver(template, {
      parameters: { ...prodOverrides(), Stage: 'dev' },
    }).parameters;
    expect(failedAssertions(template, devWithPlaceholders)).toEqual([]);
  });

  it('are evaluated strictly: an unknown rule function or parameter is an error, not a pass', () => {
    const withRule = (rule: Record<string, unknown>) =>
      ({ ...template, Rules: { Probe: rule } }) as unknown as Template;
    const prod = deployParameters(config, 'prod');
    expect(() =>
      failedAssertions(withRule({ Assertions: [{ Assert: { 'Fn::ValueOf': ['Stage', 'Tags'] } }] }), prod),
    ).toThrow('does not know the rule function Fn::ValueOf');
    expect(() =>
      failedAssertions(
        withRule({ Assertions: [{ Assert: { 'Fn::Equals': [{ Ref: 'Nope' }, 'x'] } }] }),
        prod,
      ),
    ).toThrow('Nope is not a parameter');
    expect(
      failedAssertions(
        withRule({
          Assertions: [
            {
              Assert: { 'Fn::EachMemberIn': [{ Ref: 'AllowedOrigins' }, ['https://app.example.com']] },
              AssertDescription: 'in',
            },
            {
              Assert: { 'Fn::EachMemberEquals': [{ Ref: 'AllowedOrigins' }, 'https://x.test'] },
              AssertDescription: 'eq',
            },
          ],
        }),
        prod,
      ),
    ).toEqual([{ rule: 'Probe', description: 'eq' }]);
  });
});

describe('the samconfig parsers', () => {
  it('read TOML tables, strings, booleans, numbers and arrays', () => {
    expect(
      parseToml(
        'version = 0.1\n[a.b.parameters] # c\nx = "q\\"uote" # d\ny = [\n  "1",\n  \'2\',\n]\nz = true\n',
      ),
    ).toEqual({ version: 0.1, a: { b: { parameters: { x: 'q"uote', y: ['1', '2'], z: true } } } });
    expect(() => parseToml('x = 1\nx = 2\n')).toThrow('defined twice');
  });

  it('read parameter_overrides the way SAM CLI does', () => {
    expect(parseParameterOverrides('Stage="dev" Origins="https://a,https://b" Empty="" Plain=yes')).toEqual({
      Stage: 'dev',
      Origins: 'https://a,https://b',
      Empty: '',
      Plain: 'yes',
    });
    expect(() => parseParameterOverrides(['Stage dev'])).toThrow('not Key=Value');
  });
});
