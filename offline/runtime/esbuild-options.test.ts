import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  type FunctionDefinition,
  functionsOf,
  loadTemplate,
  parseTemplate,
  UnsupportedTemplateError,
} from '../template/template.ts';
import { esbuildOptions, exportNameOf } from './lambda.ts';

const PROJECT = '/project';

const definitionOf = (logicalId: string): FunctionDefinition => {
  const fn = functionsOf(loadTemplate()).find((candidate) => candidate.logicalId === logicalId);
  if (!fn) throw new Error(`${logicalId} is not in template.yaml`);
  return fn;
};

/** A function with the given Handler and BuildProperties (undefined: no Metadata at all). */
const functionWith = (handler: string, buildProperties: string | undefined): FunctionDefinition => {
  const metadata =
    buildProperties === undefined ? '' : `\n    Metadata:\n      BuildProperties: ${buildProperties}`;
  const [fn] = functionsOf(
    parseTemplate(`
Resources:
  Fn:
    Type: AWS::Serverless::Function${metadata}
    Properties:
      Handler: ${handler}
      CodeUri: src/
`),
  );
  if (!fn) throw new Error('no function');
  return fn;
};

describe('esbuildOptions', () => {
  test("maps template.yaml's shared BuildProperties the way sam build passes them", () => {
    const options = esbuildOptions(definitionOf('GetMeFunction'), PROJECT);
    expect(options).toMatchObject({
      bundle: true,
      metafile: true,
      entryPoints: [resolve(PROJECT, 'functions/me/get-me.ts')],
      format: 'esm',
      platform: 'node',
      target: 'node24',
      minify: true,
      sourcemap: true,
      mainFields: ['module', 'main'],
      outExtension: { '.js': '.mjs' },
    });
    // Only the first "=" separates the key: the banner's own code keeps its "=".
    expect(options.banner).toEqual({
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    });
    expect(options.external).toHaveLength(8);
    expect(options.external).toContain('@aws-sdk/client-sts');
    expect(options.external).toContain('@aws-sdk/credential-provider-ini');
  });

  test('resolves entry points against the CodeUri, and maps Loader and Define pairs', () => {
    const options = esbuildOptions(
      functionWith(
        'app.handler',
        '{ EntryPoints: [app.ts], Loader: [".sql=text"], Define: ["process.env.STAGE=\\"dev\\""] }',
      ),
      PROJECT,
    );
    expect(options.entryPoints).toEqual([resolve(PROJECT, 'src/app.ts')]);
    expect(options.loader).toEqual({ '.sql': 'text' });
    expect(options.define).toEqual({ 'process.env.STAGE': '"dev"' });
  });

  test('refuses an unknown build property, naming it', () => {
    const fn = functionWith('app.handler', '{ EntryPoints: [app.ts], Splitting: true }');
    expect(() => esbuildOptions(fn, PROJECT)).toThrow(
      new UnsupportedTemplateError('Resources.Fn.Metadata.BuildProperties', 'the build property Splitting'),
    );
  });

  test('refuses a function without esbuild Metadata', () => {
    expect(() => esbuildOptions(functionWith('app.handler', undefined), PROJECT)).toThrow(
      new UnsupportedTemplateError('Resources.Fn', 'a function without esbuild Metadata'),
    );
  });

  test.each([
    ['no entry point', '{ Format: esm }'],
    ['two entry points', '{ EntryPoints: [a.ts, b.ts] }'],
  ])('refuses %s', (_name, properties) => {
    expect(() => esbuildOptions(functionWith('a.handler', properties), PROJECT)).toThrow(
      'Resources.Fn.Metadata.BuildProperties: anything but exactly one entry point',
    );
  });
});

describe('exportNameOf', () => {
  test("is the Handler's export when its file part names the entry point", () => {
    expect(exportNameOf(definitionOf('CreateOrderFunction'))).toBe('handler');
    expect(exportNameOf(functionWith('dist/app.main', '{ EntryPoints: [handlers/app.ts] }'))).toBe('main');
  });

  test.each([
    ['another file', 'other.handler'],
    ['no export', 'app'],
  ])('refuses a Handler naming %s', (_name, handler) => {
    const fn = functionWith(handler, '{ EntryPoints: [app.ts] }');
    expect(() => exportNameOf(fn)).toThrow(UnsupportedTemplateError);
    expect(() => exportNameOf(fn)).toThrow(
      `Resources.Fn.Properties.Handler: a Handler (${handler}) that does not name the entry point app.ts`,
    );
  });
});
