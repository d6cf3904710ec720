import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { budgetOf } from '../../../offline/bench/bundle-sizes.ts';
import { loadTemplate } from '../../../offline/template/template.ts';
import { bundledSizes } from '../../template/bundles.ts';
import { ROOT } from '../../template/rules.ts';
import { webSocketFunctions } from '../../template/websocket-rules.ts';

const template = loadTemplate(resolve(ROOT, 'template.yaml'));

describe("the chat functions' bundles, built as sam build builds them", () => {
  const sizeOf = bundledSizes(webSocketFunctions(template));

  test('are classified from the template and the bundle, not from a list', () => {
    const kindOf = (logicalId: string) => budgetOf(template, sizeOf(logicalId)).kind;
    // sendmessage bundles the @connections client too; the table it names makes it a DynamoDB function.
    expect(kindOf('ChatSendMessageFunction')).toBe('DynamoDB');
    // $default names the chat API in its ManageConnections policy and posts its replies through the SDK.
    expect(kindOf('ChatDefaultFunction')).toBe('other AWS');
    // The authoriser makes no SDK call, but its environment names the user pool whose tokens it verifies.
    expect(kindOf('ChatAuthorizerFunction')).toBe('other AWS');
  });
});
