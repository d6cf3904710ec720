import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  functionsOf,
  type JsonObject,
  loadTemplate,
  type Template,
} from '../../offline/template/template.ts';
import { checkFunctionSettings, checkSystemLogLevel, runtimeMajor, runtimesOf } from './function-rules.ts';
import { broken, effectiveProperties, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('Lambda functions', () => {
  it('exist', () => {
    expect(functionsOf(template).length).toBeGreaterThan(0);
  });

  it('are traced, run Node 24+ on arm64, log JSON and are bundled by esbuild with the shared settings', () => {
    expect(checkFunctionSettings(template), 'template.yaml breaks the function rules').toEqual([]);
  });

  it('run the same Node.js major version as the test runner (the `node` dev dependency)', () => {
    const runtimes = runtimesOf(template);
    expect(runtimes, 'every function should use one runtime, set in Globals.Function').toHaveLength(1);
    const lambdaMajor = runtimeMajor(runtimes[0]);
    const testMajor = Number(process.versions.node.split('.')[0]);
    expect(
      testMajor,
      `tests run on Node ${process.versions.node} but Lambda runs ${runtimes[0]}: bump the \`node\` dev dependency ` +
        'in package.json to the runtime major (and run tests through npm so node_modules/.bin/node is used)',
    ).toBe(lambdaMajor);
  });

  it('apply Globals the way SAM does (maps merge, so a function may tune LoggingConfig without losing JSON)', () => {
    const tuned = broken(template, (copy) => {
      propertiesOf(copy, 'GetMeFunction').LoggingConfig = { ApplicationLogLevel: 'DEBUG' };
    });
    expect(
      (effectiveProperties(tuned, 'GetMeFunction', 'Function').LoggingConfig as JsonObject).LogFormat,
    ).toBe('JSON');
    expect(checkFunctionSettings(tuned)).toEqual([]);
  });
});

describe('the function rules catch', () => {
  const globals = (copy: Template) => copy.Globals?.Function as JsonObject;
  const metadata = (copy: Template, id = 'GetMeFunction') => copy.Resources[id]?.Metadata as JsonObject;
  const build = (copy: Template, id = 'GetMeFunction') => metadata(copy, id).BuildProperties as JsonObject;

  const cases: [string, (copy: Template) => void, string][] = [
    ['tracing turned off', (copy) => delete globals(copy).Tracing, 'Tracing is not Active'],
    [
      'an older runtime on one function',
      (copy) => {
        propertiesOf(copy, 'GetMeFunction').Runtime = 'nodejs22.x';
      },
      'GetMeFunction: Runtime nodejs22.x',
    ],
    [
      'x86_64',
      (copy) => {
        globals(copy).Architectures = ['x86_64'];
      },
      'Architectures',
    ],
    [
      'text logs',
      (copy) => {
        (globals(copy).LoggingConfig as JsonObject).LogFormat = 'Text';
      },
      'LogFormat is not JSON',
    ],
    [
      'another build method',
      (copy) => {
        metadata(copy).BuildMethod = 'makefile';
      },
      'BuildMethod is not esbuild',
    ],
    [
      'two entry points',
      (copy) => {
        build(copy).EntryPoints = ['functions/me/get-me.ts', 'functions/orders/get-order.ts'];
      },
      'exactly one',
    ],
    [
      'a missing entry point',
      (copy) => {
        build(copy).EntryPoints = ['functions/me/who-am-i.ts'];
      },
      'does not exist',
    ],
    [
      'a handler that does not match its entry point',
      (copy) => {
        propertiesOf(copy, 'GetMeFunction').Handler = 'index.handler';
      },
      'does not match the entry point',
    ],
    [
      'a handler export the entry point does not have',
      (copy) => {
        propertiesOf(copy, 'GetMeFunction').Handler = 'get-me.main';
      },
      'functions/me/get-me.ts does not export main',
    ],
    [
      'an unminified bundle',
      (copy) => {
        build(copy).Minify = false;
      },
      'Minify is not true',
    ],
    [
      'CommonJS output',
      (copy) => {
        build(copy).Format = 'cjs';
      },
      'Format is not esm',
    ],
    [
      'other main fields',
      (copy) => {
        build(copy).MainFields = 'main';
      },
      'MainFields is not module,main',
    ],
    [
      'settings copied by hand instead of the shared anchor',
      (copy) => {
        build(copy).External = [];
      },
      'differs from Metadata.EsbuildProperties',
    ],
  ];

  it.each(cases)('%s', (_name, edit, expected) => {
    const violations = checkFunctionSettings(broken(template, edit));
    expect(violations.join('\n')).toContain(expected);
  });
});

describe('Lambda system logs', () => {
  it('keep the REPORT line (an INFO system log) of every function', () => {
    expect(checkSystemLogLevel(template), 'template.yaml drops REPORT lines and Init Duration').toEqual([]);
  });

  it('catch WARN in Globals and on one function', () => {
    const inGlobals = broken(template, (copy) => {
      ((copy.Globals as { Function: JsonObject }).Function.LoggingConfig as JsonObject).SystemLogLevel =
        'WARN';
    });
    expect(checkSystemLogLevel(inGlobals)).toHaveLength(functionsOf(template).length);
    const onOne = broken(template, (copy) => {
      (propertiesOf(copy, 'GetMeFunction').LoggingConfig as JsonObject).SystemLogLevel = 'WARN';
    });
    expect(checkSystemLogLevel(onOne)).toEqual([
      "GetMeFunction: LoggingConfig.SystemLogLevel is WARN, not INFO: Lambda's REPORT line " +
        '(platform.report, with the Init Duration of a cold start) is an INFO system log',
    ]);
  });

  it('allow DEBUG, which keeps INFO system logs too', () => {
    const debug = broken(template, (copy) => {
      (propertiesOf(copy, 'GetMeFunction').LoggingConfig as JsonObject).SystemLogLevel = 'DEBUG';
    });
    expect(checkSystemLogLevel(debug)).toEqual([]);
  });
});
