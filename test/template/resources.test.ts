import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, parseTemplate } from '../../offline/template/template.ts';
import { checkCors } from './cors-rules.ts';
import { checkOutputs } from './output-rules.ts';
import { broken, propertiesOf, ROOT } from './rules.ts';
import { checkStartApiOrder, resourcesInDocumentOrder } from './start-api-rules.ts';
import { checkTables } from './table-rules.ts';

const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
const template = parseTemplate(text);

describe('DynamoDB tables', () => {
  it('are on-demand, point-in-time recoverable and encrypted', () => {
    expect(checkTables(template), 'template.yaml breaks the table rules').toEqual([]);
  });

  it.each([
    [
      'provisioned capacity',
      { BillingMode: 'PROVISIONED' },
      'OrdersTable: BillingMode is not PAY_PER_REQUEST',
    ],
    [
      'no point-in-time recovery',
      { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } },
      'OrdersTable: PointInTimeRecoveryEnabled is not true',
    ],
    [
      'no SSE specification',
      { SSESpecification: null },
      'OrdersTable: SSESpecification.SSEEnabled is not true',
    ],
  ] as [string, JsonObject, string][])('catch %s', (_name, change, expected) => {
    const copy = broken(template, (edit) => Object.assign(propertiesOf(edit, 'OrdersTable'), change));
    expect(checkTables(copy)).toEqual([expected]);
  });
});

describe('ephemeral DynamoDB tables (Metadata.Ephemeral)', () => {
  const ephemeral = (copy: typeof template, reason: JsonObject[string]) => {
    const table = copy.Resources.OrdersTable;
    if (!table) throw new Error('No OrdersTable in the template');
    table.Metadata = { Ephemeral: reason };
  };
  const recovery = (enabled: boolean) => ({
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: enabled },
  });

  it('catch a table marked ephemeral whose items never expire, or without a reason', () => {
    const copy = broken(template, (edit) => {
      ephemeral(edit, ' ');
      Object.assign(propertiesOf(edit, 'OrdersTable'), recovery(false));
    });
    expect(checkTables(copy)).toEqual([
      'OrdersTable: Metadata.Ephemeral must say why its items need no recovery',
      'OrdersTable: Metadata.Ephemeral marks it ephemeral, but no TimeToLiveSpecification expires its items',
    ]);
  });
});

describe('CORS', () => {
  it('allows the AllowedOrigins parameter only (no "*", no credentials with "*")', () => {
    expect(checkCors(template), 'template.yaml breaks the CORS rules').toEqual([]);
  });

  it('catches literal origins and "*"', () => {
    const copy = broken(template, (edit) => {
      (propertiesOf(edit, 'HttpApi').CorsConfiguration as JsonObject).AllowOrigins = ['*'];
    });
    expect(checkCors(copy)).toEqual([
      'HttpApi: CorsConfiguration.AllowOrigins is not !Ref AllowedOrigins',
      'HttpApi: CorsConfiguration.AllowOrigins allows "*"',
    ]);
  });

  it('catches credentials with a "*" default origin, and CorsConfiguration: true', () => {
    const star = broken(template, (edit) => {
      (propertiesOf(edit, 'HttpApi').CorsConfiguration as JsonObject).AllowCredentials = true;
      const parameter = edit.Parameters?.AllowedOrigins;
      if (parameter) parameter.Default = '*';
    });
    expect(checkCors(star).join('\n')).toContain('AllowCredentials is true together with "*"');
    const open = broken(template, (edit) => {
      propertiesOf(edit, 'HttpApi').CorsConfiguration = true;
    });
    expect(checkCors(open).join('\n')).toContain('CorsConfiguration must be an object');
  });

  it('catches a CORS setup that keeps browsers from sending the token', () => {
    const copy = broken(template, (edit) => {
      (propertiesOf(edit, 'HttpApi').CorsConfiguration as JsonObject).AllowHeaders = ['content-type'];
    });
    expect(checkCors(copy).join('\n')).toContain('AllowHeaders lacks authorization');
  });
});

describe('`sam local start-api` guard', () => {
  // A WebSocket API of the test's own, named apart from the template's resources so it can be placed anywhere.
  const webSocket = [
    '  ProbeApi:',
    '    Type: AWS::ApiGatewayV2::Api',
    '    Properties:',
    '      Name: probe',
    '      ProtocolType: WEBSOCKET',
    '      RouteSelectionExpression: $request.body.action',
    '  ProbeConnectRoute:',
    '    Type: AWS::ApiGatewayV2::Route',
    '    Properties:',
    '      ApiId: !Ref ProbeApi',
    '      RouteKey: $connect',
    '',
  ].join('\n');
  const withResources = (where: 'first' | 'last', block: string) =>
    where === 'first'
      ? text.replace(/^Resources:\n/m, `Resources:\n${block}`)
      : text.replace(/^Outputs:/m, `${block}\nOutputs:`);

  it('reads resources in document order', () => {
    const ordered = resourcesInDocumentOrder(text).map((resource) => resource.logicalId);
    expect([...ordered].sort()).toEqual(Object.keys(template.Resources).sort());
    expect(resourcesInDocumentOrder(withResources('first', webSocket))[0]?.logicalId).toBe('ProbeApi');
    expect(resourcesInDocumentOrder(withResources('last', webSocket)).at(-1)?.logicalId).toBe(
      'ProbeConnectRoute',
    );
  });

  it('holds for the template: no raw API Gateway resource precedes the first SAM API', () => {
    expect(checkStartApiOrder(resourcesInDocumentOrder(text))).toEqual([]);
  });

  it('catches a WebSocket API placed before the SAM APIs', () => {
    const violations = checkStartApiOrder(resourcesInDocumentOrder(withResources('first', webSocket)));
    expect(violations).toHaveLength(2);
    expect(violations[0]).toContain(
      'ProbeApi (AWS::ApiGatewayV2::Api) comes before the first AWS::Serverless::Api/HttpApi',
    );
    expect(violations[1]).toContain('ProbeConnectRoute (AWS::ApiGatewayV2::Route) comes before');
  });

  it('allows a WebSocket API after the SAM APIs', () => {
    expect(checkStartApiOrder(resourcesInDocumentOrder(withResources('last', webSocket)))).toEqual([]);
  });

  it('allows raw REST resources anywhere when the WebSocket API lives in a nested stack', () => {
    const rest = [
      '  PartnerApi:',
      '    Type: AWS::ApiGateway::RestApi',
      '    Properties:',
      '      Name: partners',
      '',
    ];
    const nested = [
      '  WebSocketStack:',
      '    Type: AWS::Serverless::Application',
      '    Properties:',
      '      Location: websocket/template.yaml',
      '',
    ];
    // This layout is shown on a template of its own.
    const layout = [
      'Resources:',
      ...rest,
      ...nested,
      '  HttpApi:',
      '    Type: AWS::Serverless::HttpApi',
      '',
    ].join('\n');
    expect(checkStartApiOrder(resourcesInDocumentOrder(layout))).toEqual([]);
    expect(checkStartApiOrder(resourcesInDocumentOrder(`${layout}${webSocket}`))).toHaveLength(1);
  });
});

describe('Outputs', () => {
  it("give the HTTP API URL, user pool id, client id, issuer, every table name and each WebSocket API's URLs", () => {
    expect(
      checkOutputs(template),
      'template.yaml lacks outputs that deployers and the e2e tests read; add `<Name>: Value: !Ref <Resource>` for each',
    ).toEqual([]);
  });

  it('catch a missing output', () => {
    const copy = broken(template, (edit) => {
      const outputs = edit.Outputs as JsonObject;
      delete outputs.HttpApiUrl;
      delete outputs.JwtIssuer;
    });
    const violations = checkOutputs(copy).join('\n');
    expect(violations).toContain('nothing gives the URL of HttpApi');
    expect(violations).toContain('nothing gives the JWT issuer');
  });
});
