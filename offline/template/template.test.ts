import { describe, expect, test } from 'vitest';
import {
  environmentOf,
  functionsOf,
  type Json,
  mergeGlobals,
  parseTemplate,
  Resolver,
  type ResolverOptions,
  UnsupportedTemplateError,
} from './template.ts';

const TEMPLATE = `
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Origins:
    Type: CommaDelimitedList
    Default: "https://a.example, https://b.example"
  Retention:
    Type: Number
    Default: 30
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsNotProd: !Not [!Condition IsProd]
  ProdAndLong: !And [!Condition IsProd, !Equals [!Ref Retention, "365"]]
  ProdOrLong: !Or [!Condition IsProd, !Equals [!Ref Retention, "365"]]
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
  Products:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "\${AWS::StackName}-products"
  Worker:
    Type: AWS::Serverless::Function
  Queue:
    Type: AWS::SQS::Queue
`;

const resolverFor = (options: ResolverOptions = {}, text = TEMPLATE) =>
  new Resolver(parseTemplate(text), options);

/** Resolves a YAML snippet (short-form tags allowed) the way a resource property is resolved. */
const resolveYaml = (yaml: string, resolver = resolverFor()): Json =>
  resolver.resolve(
    (parseTemplate(`Resources: {}\nValue: ${yaml}`) as unknown as { Value: Json }).Value,
    'Resources.X.Properties.Value',
  );

/** The error `action` throws, checked to be an UnsupportedTemplateError. */
function unsupported(action: () => unknown): UnsupportedTemplateError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedTemplateError);
    return error as UnsupportedTemplateError;
  }
  throw new Error('Expected an UnsupportedTemplateError, but nothing was thrown');
}

describe('Resolver parameters', () => {
  test('Ref gives a parameter its default, a CommaDelimitedList as a trimmed list', () => {
    const resolver = resolverFor();
    expect(resolveYaml('!Ref Stage', resolver)).toBe('dev');
    expect(resolveYaml('!Ref Retention', resolver)).toBe('30');
    expect(resolveYaml('!Ref Origins', resolver)).toEqual(['https://a.example', 'https://b.example']);
  });

  test('overrides win over defaults, and conditions follow them', () => {
    const resolver = resolverFor({ parameters: { Stage: 'prod', Origins: 'https://c.example' } });
    expect(resolveYaml('!Ref Stage', resolver)).toBe('prod');
    expect(resolveYaml('!Ref Origins', resolver)).toEqual(['https://c.example']);
    expect(resolver.condition('IsProd')).toBe(true);
  });

  test('a parameter with neither default nor override is refused', () => {
    const error = unsupported(() =>
      resolverFor({}, 'Parameters: { Email: { Type: String } }\nResources: {}'),
    );
    expect(error.message).toMatch(/^Parameter Email: a parameter without a value/);
  });

  test('pseudo parameters come from the local pseudo values', () => {
    const resolver = resolverFor({
      pseudo: { region: 'eu-west-1', accountId: '123456789012', stackName: 'shop' },
    });
    expect(resolveYaml('!Ref AWS::Region', resolver)).toBe('eu-west-1');
    expect(resolveYaml('!Ref AWS::AccountId', resolver)).toBe('123456789012');
    expect(resolveYaml('!Ref AWS::StackName', resolver)).toBe('shop');
    expect(resolveYaml('!Ref AWS::Partition', resolver)).toBe('aws');
    expect(resolveYaml('!Ref AWS::URLSuffix', resolver)).toBe('amazonaws.com');
    expect(resolveYaml('!Ref AWS::StackId', resolver)).toBe(
      'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop/local',
    );
  });

  test('the local pseudo values are us-east-1, account 000000000000, stack "local"', () => {
    expect(resolveYaml('!Sub "${AWS::Region}/${AWS::AccountId}/${AWS::StackName}"')).toBe(
      'us-east-1/000000000000/local',
    );
  });
});

describe('Resolver intrinsic functions', () => {
  test('Fn::Sub substitutes parameters, pseudo parameters and Res.Attr, and keeps ${!Literal}', () => {
    expect(resolveYaml('!Sub "${Stage}-${AWS::Region}-${Orders.Arn}-${!Literal}"')).toBe(
      'dev-us-east-1-arn:aws:dynamodb:us-east-1:000000000000:table/Orders-${Literal}',
    );
  });

  test('Fn::Sub in its [string, variables] form resolves the variables first', () => {
    expect(resolveYaml('!Sub ["${Name}@${Stage}", { Name: !Ref Products }]')).toBe('local-products@dev');
  });

  test('Fn::Join joins a list, including one from a CommaDelimitedList', () => {
    expect(resolveYaml('!Join ["-", [a, !Ref Stage, b]]')).toBe('a-dev-b');
    expect(resolveYaml('!Join [" ", !Ref Origins]')).toBe('https://a.example https://b.example');
  });

  test.each([
    ['dev', { IsProd: false, IsNotProd: true, ProdAndLong: false, ProdOrLong: false }],
    ['prod', { IsProd: true, IsNotProd: false, ProdAndLong: false, ProdOrLong: true }],
  ])('conditions (Equals, Not, And, Or) for Stage=%s', (stage, expected) => {
    const resolver = resolverFor({ parameters: { Stage: stage } });
    for (const [name, value] of Object.entries(expected)) expect(resolver.condition(name)).toBe(value);
  });

  test('Fn::And and Fn::Or read both sides', () => {
    const resolver = resolverFor({ parameters: { Stage: 'prod', Retention: '365' } });
    expect(resolver.condition('ProdAndLong')).toBe(true);
    expect(resolverFor({ parameters: { Retention: '365' } }).condition('ProdOrLong')).toBe(true);
  });

  test('Fn::If picks a branch by its condition', () => {
    const value = '!If [IsProd, 365, 30]';
    expect(resolveYaml(value)).toBe(30);
    expect(resolveYaml(value, resolverFor({ parameters: { Stage: 'prod' } }))).toBe(365);
  });

  test('Fn::Select and Fn::Split pick from lists', () => {
    expect(resolveYaml('!Select [1, !Ref Origins]')).toBe('https://b.example');
    expect(resolveYaml('!Select [2, !Split [",", "a,b,c"]]')).toBe('c');
    expect(resolveYaml('!Split ["/", !Sub "${Stage}/x"]')).toEqual(['dev', 'x']);
  });

  test('AWS::NoValue removes the key of a map and the item of a list', () => {
    expect(
      resolveYaml('{ Keep: 1, Drop: !If [IsProd, 2, !Ref AWS::NoValue], List: [a, !Ref AWS::NoValue, b] }'),
    ).toEqual({ Keep: 1, List: ['a', 'b'] });
  });

  test('Ref to a table is its logical id, or the TableName it declares', () => {
    expect(resolveYaml('!Ref Orders')).toBe('Orders');
    expect(resolveYaml('!Ref Products')).toBe('local-products');
  });

  test('Fn::GetAtt Table.Arn is a local DynamoDB ARN with the table name', () => {
    expect(resolveYaml('!GetAtt Products.Arn')).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/local-products',
    );
  });

  test('Ref to a function is its logical id', () => {
    expect(resolveYaml('!Ref Worker')).toBe('Worker');
  });

  test('bindings give resources their local Ref and attributes; bind merges attributes', () => {
    const resolver = resolverFor({ bindings: { Queue: { ref: 'http://sqs.local/000000000000/Queue' } } });
    resolver.bind('Queue', { attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:Queue' } });
    resolver.bind('Queue', { attributes: { QueueName: 'Queue' } });
    expect(resolveYaml('[!Ref Queue, !GetAtt Queue.Arn, !GetAtt Queue.QueueName]', resolver)).toEqual([
      'http://sqs.local/000000000000/Queue',
      'arn:aws:sqs:us-east-1:000000000000:Queue',
      'Queue',
    ]);
    resolver.bind('Orders', { ref: 'bound-orders' });
    expect(resolveYaml('!Ref Orders', resolver)).toBe('bound-orders');
  });
});

describe('Resolver errors name the place', () => {
  test.each([
    ['an unknown intrinsic', '!FindInMap [Map, Key, Value]', /the intrinsic function Fn::FindInMap/],
    ['a Ref to an unknown name', '!Ref Nowhere', /Ref to the unknown name Nowhere/],
    ['a Ref to an unbound resource type', '!Ref Queue', /\(Ref Queue\): a Ref to a AWS::SQS::Queue/],
    ['an unsupported attribute', '!GetAtt Orders.StreamArn', /\(Orders.StreamArn\): Fn::GetAtt StreamArn/],
    ['a GetAtt of an unknown resource', '!GetAtt Nowhere.Arn', /Fn::GetAtt of the unknown resource Nowhere/],
    ['a Sub of an unknown name', '!Sub "x-${Nowhere}"', /Ref to the unknown name Nowhere/],
    ['an If without three arguments', '!If [IsProd, 1]', /Fn::If without 3 arguments/],
  ])('%s', (_name, yaml, message) => {
    const error = unsupported(() => resolveYaml(yaml));
    expect(error.message).toMatch(/^Resources\.X\.Properties\.Value/);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/is not supported by the offline cloud$/);
  });

  test('the place of a nested value includes its path', () => {
    const error = unsupported(() => resolveYaml('{ Policies: [{ Resource: !Ref Nowhere }] }'));
    expect(error.message).toMatch(/^Resources\.X\.Properties\.Value\.Policies\[0\]\.Resource: /);
  });

  test('an undefined condition is refused', () => {
    expect(unsupported(() => resolveYaml('!If [Missing, 1, 2]')).message).toMatch(
      /^Condition Missing: an undefined condition/,
    );
  });
});

describe('parseTemplate', () => {
  test('reads short-form tags as their long form, nested too', () => {
    const template = parseTemplate(`
Resources:
  A:
    Type: Test
    Properties:
      Ref: !Ref Stage
      Sub: !Sub "\${AWS::Region}"
      SubList: !Sub ["\${x}", { x: !Ref Stage }]
      GetAtt: !GetAtt Table.Arn
      GetAttDotted: !GetAtt Stack.Outputs.Url
      If: !If [IsProd, !GetAtt Table.Arn, !Ref AWS::NoValue]
      Join: !Join [",", [!Ref A, !Select [0, !Split [",", "x,y"]]]]
`);
    expect(template.Resources.A?.Properties).toEqual({
      Ref: { Ref: 'Stage' },
      Sub: { 'Fn::Sub': '${AWS::Region}' },
      SubList: { 'Fn::Sub': ['${x}', { x: { Ref: 'Stage' } }] },
      GetAtt: { 'Fn::GetAtt': ['Table', 'Arn'] },
      GetAttDotted: { 'Fn::GetAtt': ['Stack', 'Outputs.Url'] },
      If: { 'Fn::If': ['IsProd', { 'Fn::GetAtt': ['Table', 'Arn'] }, { Ref: 'AWS::NoValue' }] },
      Join: {
        'Fn::Join': [',', [{ Ref: 'A' }, { 'Fn::Select': [0, { 'Fn::Split': [',', 'x,y'] }] }]],
      },
    });
  });

  test('resolves YAML merge keys, the keys written next to them winning', () => {
    const template = parseTemplate(`
Metadata:
  Shared: &shared
    Format: esm
    Minify: true
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        <<: *shared
        Minify: false
        EntryPoints: [a.ts]
`);
    expect(template.Resources.Fn?.Metadata?.BuildProperties).toEqual({
      Format: 'esm',
      Minify: false,
      EntryPoints: ['a.ts'],
    });
  });

  test('refuses a document without Resources', () => {
    expect(() => parseTemplate('Parameters: {}')).toThrow('The template has no Resources section');
  });
});

describe('functionsOf and environmentOf', () => {
  const template = parseTemplate(`
Globals:
  Function:
    Runtime: nodejs24.x
    Timeout: 10
    Environment:
      Variables:
        SERVICE: orders
        LEVEL: INFO
        STACK: !Sub "\${AWS::StackName}"
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
  Plain:
    Type: AWS::Serverless::Function
    Properties:
      Handler: plain.handler
  Custom:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: { EntryPoints: [custom.ts] }
    Properties:
      Handler: custom.handler
      Timeout: 3
      Environment:
        Variables:
          LEVEL: DEBUG
          TABLE: !Ref Orders
          LIMIT: 25
  Raw:
    Type: AWS::Lambda::Function
`);

  test('lists only SAM functions, with Globals applied and the function winning', () => {
    const functions = functionsOf(template);
    expect(functions.map((fn) => fn.logicalId)).toEqual(['Plain', 'Custom']);
    const [plain, custom] = functions;
    expect(plain?.properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 10, Handler: 'plain.handler' });
    expect(plain?.buildProperties).toBeUndefined();
    expect(custom?.properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 3 });
    expect(custom?.buildProperties).toEqual({ EntryPoints: ['custom.ts'] });
  });

  test('environment variables are merged with the Globals and resolved to strings', () => {
    const resolver = new Resolver(template);
    const [plain, custom] = functionsOf(template);
    if (!plain || !custom) throw new Error('functions missing');
    expect(environmentOf(plain, resolver)).toEqual({ SERVICE: 'orders', LEVEL: 'INFO', STACK: 'local' });
    expect(environmentOf(custom, resolver)).toEqual({
      SERVICE: 'orders',
      LEVEL: 'DEBUG',
      STACK: 'local',
      TABLE: 'Orders',
      LIMIT: '25',
    });
  });

  test('an unresolvable variable names the function and the variable', () => {
    const broken = parseTemplate(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment: { Variables: { TABLE: !Ref Missing } }
`);
    const [fn] = functionsOf(broken);
    if (!fn) throw new Error('function missing');
    expect(unsupported(() => environmentOf(fn, new Resolver(broken))).message).toMatch(
      /^Resources\.Fn\.Properties\.Environment\.Variables\.TABLE: Ref to the unknown name Missing/,
    );
  });
});

describe('mergeGlobals (SAM Globals rules)', () => {
  test('maps merge key by key with the resource winning, lists concatenate, scalars are replaced', () => {
    const globals = {
      Timeout: 10,
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
      Layers: ['a'],
    };
    const own = { Timeout: 3, LoggingConfig: { ApplicationLogLevel: 'DEBUG' }, Layers: ['b'] };
    expect(mergeGlobals(globals, own)).toEqual({
      Timeout: 3,
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG' },
      Layers: ['a', 'b'],
    });
  });

  test('an intrinsic function is a value, not a map to merge into', () => {
    expect(mergeGlobals({ Role: { Ref: 'GlobalRole' } }, { Role: { 'Fn::GetAtt': ['Own', 'Arn'] } })).toEqual(
      {
        Role: { 'Fn::GetAtt': ['Own', 'Arn'] },
      },
    );
  });
});

test('an override of a parameter the template does not declare is refused, not ignored', () => {
  const template = parseTemplate('Parameters:\n  Stage: { Type: String, Default: dev }\nResources: {}\n');
  expect(() => new Resolver(template, { parameters: { Stag: 'prod' } })).toThrow(
    'Parameter Stag: an override of a parameter the template does not declare is not supported by the offline cloud',
  );
});
