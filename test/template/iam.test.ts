import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionsOf, type JsonObject, loadTemplate } from '../../local/template.ts';
import {
  broken,
  checkIamWildcards,
  checkLeastPrivilege,
  policiesOf,
  propertiesOf,
  ROOT,
  tableAccess,
} from './rules.ts';

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
