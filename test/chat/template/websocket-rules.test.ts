import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, parseTemplate, type Template } from '../../../offline/template/template.ts';
import { webSocketApiIdsOf } from '../../../offline/template/websocket-api-definition.ts';
import { checkOutputs } from '../../template/output-rules.ts';
import { broken, policiesOf, propertiesOf, ROOT } from '../../template/rules.ts';
import { checkStartApiOrder, resourcesInDocumentOrder } from '../../template/start-api-rules.ts';
import { checkTables } from '../../template/table-rules.ts';
import {
  checkManageConnections,
  checkWebSocketPermissions,
  checkWebSocketRoutes,
  checkWebSocketStages,
  webSocketFunctions,
  webSocketRoutesOf,
} from '../../template/websocket-rules.ts';

const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
const template = parseTemplate(text);

describe('the WebSocket chat API', () => {
  it('is found, with its routes, their functions and its authoriser', () => {
    expect(webSocketApiIdsOf(template)).toEqual(['ChatApi']);
    expect(
      Object.fromEntries(webSocketRoutesOf(template).map((route) => [route.routeKey, route.fn])),
    ).toEqual({
      $connect: 'ChatConnectFunction',
      $disconnect: 'ChatDisconnectFunction',
      joinroom: 'ChatJoinRoomFunction',
      leaveroom: 'ChatLeaveRoomFunction',
      sendmessage: 'ChatSendMessageFunction',
      $default: 'ChatDefaultFunction',
    });
    expect(
      webSocketFunctions(template)
        .map((fn) => fn.logicalId)
        .sort(),
    ).toEqual([
      'ChatAuthorizerFunction',
      'ChatConnectFunction',
      'ChatDefaultFunction',
      'ChatDisconnectFunction',
      'ChatJoinRoomFunction',
      'ChatLeaveRoomFunction',
      'ChatSendMessageFunction',
    ]);
  });

  it('routes on $request.body.action', () => {
    expect(propertiesOf(structuredClone(template), 'ChatApi').RouteSelectionExpression).toBe(
      '$request.body.action',
    );
  });

  it('authorises $connect with the REQUEST authoriser; every route integrates a function of this template', () => {
    const connect = webSocketRoutesOf(template).find((route) => route.routeKey === '$connect');
    expect(connect).toMatchObject({ authorizationType: 'CUSTOM', authorizer: 'ChatAuthorizer' });
    expect(checkWebSocketRoutes(template), 'template.yaml breaks the WebSocket route rules').toEqual([]);
  });

  it('lets API Gateway invoke each chat function only from ChatApi', () => {
    expect(checkWebSocketPermissions(template)).toEqual([]);
  });

  it('grants execute-api:ManageConnections on ChatApi only, to the functions that post', () => {
    expect(checkManageConnections(template)).toEqual([]);
    const holders = policiesOf(template)
      .statements.filter(({ statement }) => statement.Action === 'execute-api:ManageConnections')
      .map(({ owner }) => owner)
      .sort();
    expect(holders).toEqual([
      'ChatDefaultFunction',
      'ChatJoinRoomFunction',
      'ChatLeaveRoomFunction',
      'ChatSendMessageFunction',
    ]);
  });

  it('has a throttled stage with JSON access logs that expire', () => {
    expect(checkWebSocketStages(template)).toEqual([]);
  });

  it('keeps connections in a table whose items expire (TTL on expiresAt)', () => {
    const ttl = propertiesOf(structuredClone(template), 'ConnectionsTable').TimeToLiveSpecification;
    expect(ttl).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(checkTables(template)).toEqual([]);
  });

  it('gives each chat function only the DynamoDB actions its handler uses', () => {
    const actions = (id: string) =>
      policiesOf(template, id)
        .statements.flatMap(({ statement }) => [statement.Action ?? []].flat().map(String))
        .filter((action) => action.startsWith('dynamodb:'))
        .sort();
    expect({
      authorizer: actions('ChatAuthorizerFunction'),
      connect: actions('ChatConnectFunction'),
      disconnect: actions('ChatDisconnectFunction'),
      join: actions('ChatJoinRoomFunction'),
      leave: actions('ChatLeaveRoomFunction'),
      send: actions('ChatSendMessageFunction'),
      default: actions('ChatDefaultFunction'),
    }).toEqual({
      authorizer: [],
      connect: ['dynamodb:PutItem'],
      disconnect: ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
      join: ['dynamodb:PutItem'],
      leave: ['dynamodb:DeleteItem'],
      send: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Query'],
      default: [],
    });
  });
});

describe('the WebSocket rules catch', () => {
  const route = (copy: Template, id: string) => propertiesOf(copy, id);
  const statementOn = (copy: Template, id: string, action: string): JsonObject => {
    const [policy] = propertiesOf(copy, id).Policies as JsonObject[];
    const found = ((policy?.Statement ?? []) as JsonObject[]).find(
      (statement) => statement.Action === action,
    );
    if (!found) throw new Error(`${id} has no ${action} statement`);
    return found;
  };

  it('an unauthorised $connect', () => {
    const copy = broken(template, (edit) => {
      route(edit, 'ChatConnectRoute').AuthorizationType = 'NONE';
      delete route(edit, 'ChatConnectRoute').AuthorizerId;
    });
    const violations = checkWebSocketRoutes(copy).join('\n');
    expect(violations).toContain(
      'ChatConnectRoute (ChatApi $connect): AuthorizationType is NONE, not CUSTOM',
    );
    expect(violations).toContain('AuthorizerId is not !Ref of an AWS::ApiGatewayV2::Authorizer');
  });

  it('a TOKEN-style or function-less authoriser', () => {
    const copy = broken(template, (edit) => {
      const authorizer = propertiesOf(edit, 'ChatAuthorizer');
      authorizer.AuthorizerType = 'JWT';
      authorizer.AuthorizerUri =
        'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x/invocations';
      authorizer.IdentitySource = [];
    });
    const violations = checkWebSocketRoutes(copy).join('\n');
    expect(violations).toContain('the authoriser ChatAuthorizer is not of type REQUEST');
    expect(violations).toContain('the authoriser ChatAuthorizer does not invoke a function of this template');
    expect(violations).toContain('the authoriser ChatAuthorizer has no IdentitySource');
  });

  it('an API without a $connect route', () => {
    const copy = broken(template, (edit) => {
      delete edit.Resources.ChatConnectRoute;
    });
    expect(checkWebSocketRoutes(copy)).toEqual(['ChatApi: has no $connect route, so nothing authorises it']);
  });

  it('an authoriser on a route other than $connect', () => {
    const copy = broken(template, (edit) => {
      route(edit, 'ChatSendMessageRoute').AuthorizationType = 'CUSTOM';
    });
    expect(checkWebSocketRoutes(copy)).toEqual([
      'ChatSendMessageRoute (ChatApi sendmessage): AuthorizationType CUSTOM; WebSocket APIs authorise $connect only',
    ]);
  });

  it('a route without an integration, and an integration to a function outside the template', () => {
    const copy = broken(template, (edit) => {
      delete route(edit, 'ChatLeaveRoomRoute').Target;
      propertiesOf(edit, 'ChatJoinRoomIntegration').IntegrationUri = {
        'Fn::Sub':
          'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:other/invocations',
      };
    });
    expect(checkWebSocketRoutes(copy)).toEqual([
      'ChatJoinRoomRoute (ChatApi joinroom): the integration ChatJoinRoomIntegration does not invoke a function of this template',
      'ChatLeaveRoomRoute (ChatApi leaveroom): Target does not name an AWS::ApiGatewayV2::Integration of this template',
    ]);
  });

  it('an integration that is not a Lambda proxy', () => {
    const copy = broken(template, (edit) => {
      propertiesOf(edit, 'ChatDefaultIntegration').IntegrationType = 'MOCK';
    });
    expect(checkWebSocketRoutes(copy)).toEqual([
      'ChatDefaultRoute (ChatApi $default): the integration ChatDefaultIntegration is not AWS_PROXY',
    ]);
  });

  it('a missing Lambda permission, and one open to any API', () => {
    const missing = broken(template, (edit) => {
      delete edit.Resources.ChatSendMessagePermission;
    });
    expect(checkWebSocketPermissions(missing)).toEqual([
      'ChatSendMessageFunction (invoked by ChatSendMessageRoute): no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it with a SourceArn on ChatApi',
    ]);
    const open = broken(template, (edit) => {
      delete propertiesOf(edit, 'ChatConnectPermission').SourceArn;
    });
    expect(checkWebSocketPermissions(open)).toEqual([
      'ChatConnectPermission: lets any API Gateway API invoke ChatConnectFunction (no SourceArn)',
      'ChatConnectFunction (invoked by ChatConnectRoute): no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it with a SourceArn on ChatApi',
    ]);
  });

  it('a permission whose SourceArn names any API (`*`)', () => {
    const copy = broken(template, (edit) => {
      propertiesOf(edit, 'ChatAuthorizerPermission').SourceArn = {
        'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*',
      };
    });
    expect(checkWebSocketPermissions(copy)).toEqual([
      'ChatAuthorizerPermission: SourceArn is not the execute-api ARN of an API of this template',
      'ChatAuthorizerFunction (invoked by ChatAuthorizer): no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it with a SourceArn on ChatApi',
    ]);
  });

  it('ManageConnections on every API (`*`), on every stage, or for a function that serves no route', () => {
    const anyApi = broken(template, (edit) => {
      statementOn(edit, 'ChatSendMessageFunction', 'execute-api:ManageConnections').Resource = {
        'Fn::Sub':
          'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/${Stage}/POST/@connections/*',
      };
    });
    expect(checkManageConnections(anyApi).join('\n')).toContain(
      'ChatSendMessageFunction: execute-api:ManageConnections on',
    );
    const anyStage = broken(template, (edit) => {
      statementOn(edit, 'ChatJoinRoomFunction', 'execute-api:ManageConnections').Resource = {
        'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ChatApi}/*',
      };
    });
    expect(checkManageConnections(anyStage).join('\n')).toContain(
      'ChatJoinRoomFunction: execute-api:ManageConnections',
    );
    const stranger = broken(template, (edit) => {
      propertiesOf(edit, 'GetMeFunction').Policies = [
        {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'execute-api:ManageConnections',
              Resource: {
                'Fn::Sub':
                  'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ChatApi}/${Stage}/POST/@connections/*',
              },
            },
          ],
        },
      ];
    });
    expect(checkManageConnections(stranger)).toEqual([
      'GetMeFunction: may manage connections of ChatApi but serves none of its routes',
    ]);
  });

  it('a stage without throttling, with text logs or with logs kept forever', () => {
    const copy = broken(template, (edit) => {
      const stage = propertiesOf(edit, 'ChatStage');
      stage.DefaultRouteSettings = {};
      (stage.AccessLogSettings as JsonObject).Format = '$context.requestId $context.status';
      delete propertiesOf(edit, 'ChatApiAccessLogs').RetentionInDays;
    });
    expect(checkWebSocketStages(copy)).toEqual([
      'ChatStage: DefaultRouteSettings lack ThrottlingRateLimit/ThrottlingBurstLimit',
      'ChatStage: the access log group ChatApiAccessLogs keeps logs forever (no RetentionInDays)',
      'ChatStage: AccessLogSettings.Format is not a JSON object with $context.requestId',
    ]);
    const none = broken(template, (edit) => {
      delete edit.Resources.ChatStage;
    });
    expect(checkWebSocketStages(none)).toEqual(['ChatApi: has no AWS::ApiGatewayV2::Stage']);
  });

  it('a connections table without TTL, a TTL turned off, and a TTL on a key attribute', () => {
    const none = broken(template, (edit) => {
      delete propertiesOf(edit, 'ConnectionsTable').TimeToLiveSpecification;
    });
    expect(checkTables(none)).toEqual([
      expect.stringMatching(
        /^ConnectionsTable: has no TimeToLiveSpecification, but WebSocket functions keep/,
      ),
    ]);
    const off = broken(template, (edit) => {
      propertiesOf(edit, 'ConnectionsTable').TimeToLiveSpecification = {
        AttributeName: 'expiresAt',
        Enabled: false,
      };
    });
    expect(checkTables(off)).toEqual(['ConnectionsTable: TimeToLiveSpecification.Enabled is not true']);
    const key = broken(template, (edit) => {
      propertiesOf(edit, 'IdempotencyTable').TimeToLiveSpecification = { AttributeName: 'id', Enabled: true };
    });
    expect(checkTables(key)).toEqual(['IdempotencyTable: the TTL attribute id is a key attribute']);
  });
});

describe('the connections table, ephemeral (Metadata.Ephemeral)', () => {
  it('is the only ephemeral table, and pays for no point-in-time recovery', () => {
    const marked = Object.keys(template.Resources).filter(
      (id) => template.Resources[id]?.Metadata?.Ephemeral,
    );
    expect(marked).toEqual(['ConnectionsTable']);
    expect(propertiesOf(template, 'ConnectionsTable').PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: false,
    });
  });

  it('catches recovery turned back on for it', () => {
    const copy = broken(template, (edit) => {
      propertiesOf(edit, 'ConnectionsTable').PointInTimeRecoverySpecification = {
        PointInTimeRecoveryEnabled: true,
      };
    });
    expect(checkTables(copy)).toEqual([
      'ConnectionsTable: Metadata.Ephemeral marks it ephemeral, yet PointInTimeRecoveryEnabled is true (billed, nothing worth restoring)',
    ]);
  });

  it('catches the marker taken off it, a table without recovery', () => {
    const copy = broken(template, (edit) => {
      delete edit.Resources.ConnectionsTable?.Metadata;
    });
    expect(checkTables(copy)).toEqual(['ConnectionsTable: PointInTimeRecoveryEnabled is not true']);
  });
});

describe('the chat API and the `sam local start-api` guard', () => {
  it('holds for the template as it is: ChatApi and its routes come after HttpApi', () => {
    const ordered = resourcesInDocumentOrder(text).map((resource) => resource.logicalId);
    expect(ordered.indexOf('HttpApi')).toBeGreaterThanOrEqual(0);
    expect(ordered.indexOf('ChatApi')).toBeGreaterThan(ordered.indexOf('HttpApi'));
    expect(ordered.indexOf('ChatConnectRoute')).toBeGreaterThan(ordered.indexOf('HttpApi'));
  });

  it("catches the template's own ChatApi moved above HttpApi", () => {
    const block = /^ {2}ChatApi:\n(?: {4}.*\n)+/m.exec(text)?.[0] ?? '';
    expect(block).toContain('ProtocolType: WEBSOCKET');
    const moved = text.replace(block, '').replace(/^ {2}HttpApi:\n/m, `${block}  HttpApi:\n`);
    expect(checkStartApiOrder(resourcesInDocumentOrder(moved))).toEqual([
      expect.stringContaining(
        'ChatApi (AWS::ApiGatewayV2::Api) comes before the first AWS::Serverless::Api/HttpApi',
      ),
    ]);
  });
});

describe("the chat's outputs", () => {
  it('catch a missing WebSocket URL or @connections endpoint', () => {
    const copy = broken(template, (edit) => {
      const outputs = edit.Outputs as JsonObject;
      delete outputs.ChatWebSocketUrl;
      delete outputs.ChatConnectionsEndpoint;
    });
    expect(checkOutputs(copy)).toEqual([
      'Outputs: nothing gives the WebSocket URL (wss://) of ChatApi',
      'Outputs: nothing gives the @connections endpoint of ChatApi',
    ]);
  });
});
