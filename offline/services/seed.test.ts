import { describe, expect, test } from 'vitest';
import { createResolver } from '../template/resolver.ts';
import { parseTemplate } from '../template/template.ts';
import { seedItemsOf } from './seed.ts';

describe('seedItemsOf', () => {
  const template = (metadata: string) =>
    parseTemplate(`
Resources:
  Things:
    Type: AWS::DynamoDB::Table
    Metadata:
${metadata.replace(/^/gm, '      ')}
    Properties:
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Plain:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
`);

  test("reads each table's Metadata.OfflineSeed; a table without one has none", () => {
    const seeds = seedItemsOf(
      createResolver(template('OfflineSeed:\n  - { id: a, name: A }\n  - { id: b }'), undefined),
    );
    expect(seeds).toEqual({ Things: [{ id: 'a', name: 'A' }, { id: 'b' }] });
  });

  test('refuses seed items that are not a list of items, naming the template path', () => {
    expect(() => seedItemsOf(createResolver(template('OfflineSeed: { id: a }'), undefined))).toThrow(
      'Resources.Things.Metadata.OfflineSeed: must be a list of items',
    );
  });
});
