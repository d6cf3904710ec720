import { resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { describe, expect, test } from 'vitest';
import {
  AWS_LIMIT,
  budgetOf,
  budgetViolation,
  KB,
  NO_AWS_LIMIT,
  sizeOfOutput,
  TRACER_PACKAGES,
} from '../../offline/bench/bundle-sizes.ts';
import { functionsOf, loadTemplate, parseTemplate } from '../../offline/template/template.ts';
import { bundledSizes } from './bundles.ts';
import { ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));
const functions = functionsOf(template);

describe("every function's bundle, built as sam build builds it", () => {
  const sizeOf = bundledSizes(functions);

  test.each(functions.map((fn) => fn.logicalId))('%s keeps its byte budget', (logicalId) => {
    const size = sizeOf(logicalId);
    expect(budgetViolation(size, budgetOf(template, size))).toBeUndefined();
  });

  test('are classified from the template and the bundle, not from a list', () => {
    const kindOf = (logicalId: string) => budgetOf(template, sizeOf(logicalId)).kind;
    expect(kindOf('GetMeFunction')).toBe('no AWS');
    expect(kindOf('CreateOrderFunction')).toBe('DynamoDB');
    // The authoriser makes no SDK call, but its environment names the user pool whose tokens it verifies.
    expect(kindOf('PartnerAuthorizerFunction')).toBe('other AWS');
  });

  test('carry the tracer exactly when they call DynamoDB; the others bundle none of it', () => {
    const tracing = functions.map(({ logicalId }) => {
      const size = sizeOf(logicalId);
      const tracerPackages = TRACER_PACKAGES.filter((name) => size.packages.has(name));
      return { logicalId, traces: size.tracerBytes > 0, tracerPackages };
    });
    const expected = functions.map(({ logicalId }) => {
      const traces = budgetOf(template, sizeOf(logicalId)).kind === 'DynamoDB';
      return { logicalId, traces, tracerPackages: traces ? TRACER_PACKAGES : [] };
    });
    expect(tracing).toEqual(expected);
  });
});

// ---------------------------------------------------------------- the rules, on fabricated builds

const ENTRY = 'functions/fn.ts';
const TRACER = 'node_modules/@aws-lambda-powertools/tracer/lib/esm/index.js';
const XRAY = 'node_modules/aws-xray-sdk-core/dist/lib/index.js';
const SEMVER = 'node_modules/aws-xray-sdk-core/node_modules/semver/index.js';
const COMMONS = 'node_modules/@aws-lambda-powertools/commons/lib/esm/index.js';
const DYNAMODB = 'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js';

/** A metafile of one bundle: each input's bytes in the output, and who imports whom. */
function metafileOf(inputs: Record<string, { bytes: number; imports: string[] }>): Metafile {
  const total = Object.values(inputs).reduce((sum, { bytes }) => sum + bytes, 0);
  return {
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([path, { bytes, imports }]) => [
        path,
        {
          bytes,
          imports: imports.map((imported) => ({ path: imported, kind: 'import-statement' as const })),
        },
      ]),
    ),
    outputs: {
      'build/Fn/fn.mjs': {
        bytes: total,
        entryPoint: ENTRY,
        inputs: Object.fromEntries(
          Object.entries(inputs).map(([path, { bytes }]) => [path, { bytesInOutput: bytes }]),
        ),
        imports: [],
        exports: ['handler'],
      },
    },
  };
}

const sizeOf = (inputs: Record<string, { bytes: number; imports: string[] }>) =>
  sizeOfOutput('Fn', metafileOf(inputs), 'build/Fn/fn.mjs');

/** A template with one function whose environment and policies are the given YAML (indented for Properties). */
const templateWith = (properties: string) =>
  parseTemplate(`
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Pool:
    Type: AWS::Cognito::UserPool
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: fn.handler
${properties}
`);

describe('sizing a bundle from its metafile', () => {
  const traced = sizeOf({
    [ENTRY]: { bytes: 2 * KB, imports: [TRACER, COMMONS, DYNAMODB] },
    [TRACER]: { bytes: 10 * KB, imports: [XRAY, COMMONS] },
    [XRAY]: { bytes: 70 * KB, imports: [SEMVER] },
    [SEMVER]: { bytes: 30 * KB, imports: [] },
    [COMMONS]: { bytes: 4 * KB, imports: [] },
    [DYNAMODB]: { bytes: 300 * KB, imports: [COMMONS] },
  });

  test('counts bytes per package, the innermost node_modules deciding, and the own code apart', () => {
    expect(Object.fromEntries(traced.packages)).toEqual({
      '(own code)': 2 * KB,
      '@aws-lambda-powertools/tracer': 10 * KB,
      'aws-xray-sdk-core': 70 * KB,
      semver: 30 * KB,
      '@aws-lambda-powertools/commons': 4 * KB,
      '@aws-sdk/client-dynamodb': 300 * KB,
    });
    expect(traced.sdkClients).toEqual(['@aws-sdk/client-dynamodb']);
  });

  test('gives the tracer its packages and what only they import, not what it shares', () => {
    expect(traced.tracerBytes).toBe((10 + 70 + 30) * KB);
  });

  test('gives the tracer nothing a non-tracer module imports too', () => {
    const shared = sizeOf({
      [ENTRY]: { bytes: KB, imports: [TRACER, SEMVER] },
      [TRACER]: { bytes: 10 * KB, imports: [SEMVER] },
      [SEMVER]: { bytes: 30 * KB, imports: [] },
    });
    expect(shared.tracerBytes).toBe(10 * KB);
  });
});

describe('the budgets', () => {
  const plain = (bytes: number) => sizeOf({ [ENTRY]: { bytes, imports: [] } });
  const withDynamoDb = (ownBytes: number) =>
    sizeOf({
      [ENTRY]: { bytes: ownBytes, imports: [TRACER, DYNAMODB] },
      [TRACER]: { bytes: 100 * KB, imports: [] },
      [DYNAMODB]: { bytes: 200 * KB, imports: [] },
    });

  test('a function that names no resource and bundles no SDK client does not touch AWS: 50 KB in all', () => {
    const noAws = templateWith('');
    expect(budgetOf(noAws, plain(NO_AWS_LIMIT))).toMatchObject({ kind: 'no AWS', limitBytes: NO_AWS_LIMIT });
    expect(budgetViolation(plain(NO_AWS_LIMIT), budgetOf(noAws, plain(NO_AWS_LIMIT)))).toBeUndefined();
    const over = plain(NO_AWS_LIMIT + 1);
    expect(budgetViolation(over, budgetOf(noAws, over))).toBe(
      'Fn (no AWS) bundles 50.0 KB in all, over its 50.0 KB budget; heaviest: (own code) 50.0 KB',
    );
  });

  test('a function whose environment or policies name a table is a DynamoDB function: 400 KB without the tracer', () => {
    const byEnvironment = templateWith('      Environment:\n        Variables:\n          TABLE: !Ref Table');
    const byPolicy = templateWith(
      '      Policies:\n        - DynamoDBReadPolicy:\n            TableName: !Ref Table',
    );
    const bySub = templateWith(
      '      Policies:\n        - Statement:\n            - Effect: Allow\n              Action: dynamodb:Query\n' +
        '              Resource: !Sub "${Table.Arn}/index/byRoom"',
    );
    for (const owner of [byEnvironment, byPolicy, bySub]) {
      expect(budgetOf(owner, plain(KB))).toMatchObject({ kind: 'DynamoDB', resources: ['Table'] });
    }
    const within = withDynamoDb(AWS_LIMIT - 200 * KB);
    expect(within.bytes).toBe(AWS_LIMIT + 100 * KB);
    expect(budgetViolation(within, budgetOf(byEnvironment, within))).toBeUndefined();
    const over = withDynamoDb(AWS_LIMIT - 200 * KB + 1);
    expect(budgetViolation(over, budgetOf(byEnvironment, over))).toMatch(
      /^Fn \(DynamoDB\) bundles 400\.0 KB without the tracer, over its 400\.0 KB budget; heaviest: \(own code\)/,
    );
  });

  test('the DynamoDB client alone makes a DynamoDB function, whatever the template says', () => {
    expect(budgetOf(templateWith(''), withDynamoDb(KB)).kind).toBe('DynamoDB');
  });

  test('any other resource, or any other SDK client, touches AWS: the DynamoDB ceiling applies', () => {
    const pool = templateWith('      Environment:\n        Variables:\n          POOL: !Ref Pool');
    expect(budgetOf(pool, plain(KB))).toMatchObject({ kind: 'other AWS', resources: ['Pool'] });
    const client = sizeOf({
      [ENTRY]: { bytes: KB, imports: ['node_modules/@aws-sdk/client-sqs/dist-es/index.js'] },
      'node_modules/@aws-sdk/client-sqs/dist-es/index.js': { bytes: KB, imports: [] },
    });
    expect(budgetOf(templateWith(''), client)).toMatchObject({ kind: 'other AWS', limitBytes: AWS_LIMIT });
  });

  test('parameters and pseudo parameters are not resources', () => {
    const parameters = templateWith(
      '      Environment:\n        Variables:\n          STAGE: !Ref Stage\n          REGION: !Ref AWS::Region',
    );
    expect(budgetOf(parameters, plain(KB)).kind).toBe('no AWS');
  });
});
