import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionsOf, type JsonObject, loadTemplate } from '../../offline/template/template.ts';
import {
  apiDefinitionsOf,
  apiGatewayAssumedRoles,
  checkApiGatewayRoleTrust,
  checkIamWildcards,
  checkLeastPrivilege,
  tableAccess,
} from './iam-rules.ts';
import { broken, policiesOf, propertiesOf, ROOT } from './rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe('IAM', () => {
  it('finds the policies the template grants (inline statements and SAM policy templates)', () => {
    const { statements, templates } = policiesOf(template);
    expect(statements.length).toBeGreaterThan(0);
    expect(templates.length).toBeGreaterThan(0);
  });

  it('grants no wildcard resource or action, and policy templates name tables of this template', () => {
    expect(checkIamWildcards(template), 'template.yaml grants more than it names').toEqual([]);
  });

  it('gives each function exactly the tables its environment names', () => {
    expect(checkLeastPrivilege(template), 'template.yaml is not least-privilege').toEqual([]);
  });

  it('reads table access from the environment and from both kinds of policy', () => {
    const byId = Object.fromEntries(
      functionsOf(template).map((fn) => [fn.logicalId, tableAccess(template, fn)]),
    );
    expect([...(byId.CreateOrderFunction?.granted ?? [])].sort()).toEqual([
      'IdempotencyTable',
      'OrdersTable',
      'ProductsTable',
    ]);
    expect([...(byId.DeleteOrderFunction?.granted ?? [])]).toEqual(['OrdersTable']);
    expect([...(byId.GetMeFunction?.named ?? [])]).toEqual([]);
  });
});

describe('the IAM rules catch', () => {
  const statement = (copy: typeof template, id: string): JsonObject => {
    const [policy] = propertiesOf(copy, id).Policies as JsonObject[];
    const [first] = (policy?.Statement ?? []) as JsonObject[];
    if (!first) throw new Error(`${id} has no inline policy statement`);
    return first;
  };

  it('Resource "*"', () => {
    const copy = broken(template, (edit) => {
      statement(edit, 'DeleteOrderFunction').Resource = '*';
    });
    expect(checkIamWildcards(copy).join('\n')).toContain(
      'DeleteOrderFunction: statement "dynamodb:DeleteItem" has Resource "*"',
    );
  });

  it('an action wildcard', () => {
    const copy = broken(template, (edit) => {
      statement(edit, 'PutProductFunction').Action = ['dynamodb:Put*'];
    });
    expect(checkIamWildcards(copy).join('\n')).toContain('has an Action with "*"');
  });

  it('a wildcard in a raw IAM role', () => {
    const copy = broken(template, (edit) => {
      edit.Resources.WorkerRole = {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {},
          Policies: [
            {
              PolicyName: 'everything',
              PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: ['*'] }] },
            },
          ],
        },
      };
    });
    expect(checkIamWildcards(copy).join('\n')).toContain(
      'WorkerRole: statement "s3:GetObject" has Resource "*"',
    );
  });

  it('a policy template on a table outside the template, and a broad managed policy', () => {
    const copy = broken(template, (edit) => {
      propertiesOf(edit, 'ListOrdersFunction').Policies = [
        { DynamoDBReadPolicy: { TableName: 'someone-elses-table' } },
        'AmazonDynamoDBFullAccess',
      ];
    });
    const violations = checkIamWildcards(copy).join('\n');
    expect(violations).toContain('ListOrdersFunction: DynamoDBReadPolicy.TableName must be !Ref');
    expect(violations).toContain('broad managed policy "AmazonDynamoDBFullAccess"');
  });

  it('a function without a policy on a table it uses', () => {
    const copy = broken(template, (edit) => {
      propertiesOf(edit, 'ListOrdersFunction').Policies = [];
    });
    expect(checkLeastPrivilege(copy)).toEqual([
      'ListOrdersFunction: its environment names OrdersTable but no policy covers it',
    ]);
  });

  it('a function with a policy on a table it never names', () => {
    const copy = broken(template, (edit) => {
      (propertiesOf(edit, 'GetOrderFunction').Policies as JsonObject[]).push({
        DynamoDBReadPolicy: { TableName: { Ref: 'ProductsTable' } },
      });
    });
    expect(checkLeastPrivilege(copy)).toEqual([
      'GetOrderFunction: has a policy on ProductsTable, which its environment never names',
    ]);
  });
});

describe('roles API Gateway assumes', () => {
  const definitions = apiDefinitionsOf(template);
  const trust = (copy: typeof template, role: string): JsonObject => {
    const [statement] = (propertiesOf(copy, role).AssumeRolePolicyDocument as JsonObject)
      .Statement as JsonObject[];
    if (!statement) throw new Error(`${role} has no trust statement`);
    return statement;
  };
  const lambdaRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
    },
  };

  it('are found in the partner OpenAPI (read through AWS::Include) and through their trust policy', () => {
    expect(definitions.map(({ api }) => api)).toContain('PartnerApi');
    expect(apiGatewayAssumedRoles(template, definitions)).toEqual([
      {
        role: 'PartnerApiIntegrationRole',
        via: 'PartnerApi.paths./orders.post.x-amazon-apigateway-integration.credentials',
      },
      {
        role: 'PartnerApiIntegrationRole',
        via: 'PartnerApi.paths./orders/{id}.get.x-amazon-apigateway-integration.credentials',
      },
      { role: 'PartnerApiIntegrationRole', via: 'its trust policy (apigateway.amazonaws.com)' },
    ]);
  });

  it('trust apigateway.amazonaws.com without aws:SourceAccount/aws:SourceArn conditions', () => {
    expect(
      checkApiGatewayRoleTrust(template, definitions),
      'template.yaml denies API Gateway its role',
    ).toEqual([]);
  });

  it('catch the aws:SourceAccount condition that made both direct integrations answer 500', () => {
    const copy = broken(template, (edit) => {
      trust(edit, 'PartnerApiIntegrationRole').Condition = {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      };
    });
    const [violation, ...others] = checkApiGatewayRoleTrust(copy, definitions);
    expect(others).toEqual([]);
    expect(violation).toContain('PartnerApiIntegrationRole (assumed through PartnerApi.paths./orders.post');
    expect(violation).toContain(
      "the trust policy's StringEquals aws:SourceAccount condition denies API Gateway",
    );
  });

  it('catch aws:SourceArn in any case and operator, and an …IfExists one that guards nothing', () => {
    const copy = broken(template, (edit) => {
      trust(edit, 'PartnerApiIntegrationRole').Condition = {
        ArnLike: { 'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:execute-api:*' } },
      };
    });
    expect(checkApiGatewayRoleTrust(copy, definitions).join('\n')).toContain(
      "the trust policy's ArnLike AWS:SourceArn condition denies API Gateway",
    );
    const ifExists = broken(template, (edit) => {
      trust(edit, 'PartnerApiIntegrationRole').Condition = {
        StringEqualsIfExists: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      };
    });
    expect(checkApiGatewayRoleTrust(ifExists, definitions).join('\n')).toContain(
      "the trust policy's StringEqualsIfExists aws:SourceAccount condition protects nothing",
    );
  });

  it('catch an OpenAPI integration run as a role that API Gateway may not assume', () => {
    const copy = broken(template, (edit) => {
      edit.Resources.OrdersWriterRole = structuredClone(lambdaRole);
    });
    const redirected = structuredClone(definitions);
    const partner = redirected.find(({ api }) => api === 'PartnerApi')?.definition as JsonObject;
    const post = (partner.paths as Record<string, JsonObject>)['/orders']?.post as JsonObject;
    (post['x-amazon-apigateway-integration'] as JsonObject).credentials = {
      'Fn::GetAtt': ['OrdersWriterRole', 'Arn'],
    };
    expect(checkApiGatewayRoleTrust(copy, redirected)).toEqual([
      'OrdersWriterRole (assumed through PartnerApi.paths./orders.post.x-amazon-apigateway-integration.credentials): ' +
        'its trust policy does not allow apigateway.amazonaws.com sts:AssumeRole',
    ]);
  });

  it('catch an integration resource (CredentialsArn) run as such a role', () => {
    const copy = broken(template, (edit) => {
      edit.Resources.OrdersWriterRole = structuredClone(lambdaRole);
      // An HTTP API route straight to the queue: API Gateway's SQS-SendMessage integration, as a resource.
      edit.Resources.OrdersQueueIntegration = {
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: {
          ApiId: { Ref: 'HttpApi' },
          IntegrationType: 'AWS_PROXY',
          IntegrationSubtype: 'SQS-SendMessage',
          PayloadFormatVersion: '1.0',
          CredentialsArn: { 'Fn::GetAtt': ['OrdersWriterRole', 'Arn'] },
          RequestParameters: { QueueUrl: { Ref: 'OrdersQueue' }, MessageBody: '$request.body' },
        },
      };
    });
    expect(checkApiGatewayRoleTrust(copy, definitions)).toEqual([
      'OrdersWriterRole (assumed through OrdersQueueIntegration.CredentialsArn): ' +
        'its trust policy does not allow apigateway.amazonaws.com sts:AssumeRole',
    ]);
  });
});
