import type { Json, Template } from '../../offline/template/template.ts';
import { webSocketApiIdsOf } from '../../offline/template/websocket-api-definition.ts';
import { SQS_QUEUE } from './queue-rules.ts';
import { routeAuthorizer, routesOf } from './route-auth-rules.ts';
import { isObject, referencedNames, refOf, resourcesOfType } from './rules.ts';

/** The rule over the stack's outputs: what a client or an operator needs to find. */

export function checkOutputs(template: Template): string[] {
  const violations: string[] = [];
  const values = Object.values(template.Outputs ?? {}).map((output) =>
    isObject(output) ? output.Value : undefined,
  );
  const has = (predicate: (value: Json | undefined) => boolean, what: string) => {
    if (!values.some(predicate)) violations.push(`Outputs: nothing gives ${what}`);
  };
  const refersTo = (value: Json | undefined, id: string) => referencedNames(value).has(id);
  for (const api of resourcesOfType(template, 'AWS::Serverless::HttpApi')) {
    has(
      (value) => refersTo(value, api) && JSON.stringify(value).includes('execute-api'),
      `the URL of ${api}`,
    );
  }
  for (const pool of resourcesOfType(template, 'AWS::Cognito::UserPool')) {
    has((value) => refOf(value) === pool, `the id of the user pool ${pool}`);
  }
  const issuers = new Map<string, Json | undefined>();
  for (const route of routesOf(template)) {
    const authorizer = routeAuthorizer(template, route);
    if (!authorizer) continue;
    issuers.set(JSON.stringify(authorizer.issuer), authorizer.issuer);
    for (const client of authorizer.audience.map(refOf)) {
      if (client) has((value) => refOf(value) === client, `the client id of ${client}`);
    }
  }
  for (const [text] of issuers) has((value) => JSON.stringify(value) === text, `the JWT issuer ${text}`);
  for (const table of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    has((value) => refOf(value) === table, `the table name of ${table}`);
  }
  for (const queue of resourcesOfType(template, SQS_QUEUE)) {
    has((value) => refOf(value) === queue, `the URL of the queue ${queue}`);
  }
  const subText = (value: Json | undefined) => String(isObject(value) ? value['Fn::Sub'] : '');
  for (const api of webSocketApiIdsOf(template)) {
    has(
      (value) => refersTo(value, api) && subText(value).startsWith('wss://'),
      `the WebSocket URL (wss://) of ${api}`,
    );
    has(
      (value) =>
        refersTo(value, api) &&
        subText(value).startsWith('https://') &&
        subText(value).endsWith('/@connections'),
      `the @connections endpoint of ${api}`,
    );
  }
  return [...new Set(violations)];
}
