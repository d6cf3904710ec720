import type { Json, JsonObject, Template } from '../../offline/template/template.ts';
import { asList, isObject, referencedNames, resourcesOfType } from './rules.ts';
import { webSocketFunctions } from './websocket-rules.ts';

/** The rules over the DynamoDB tables: billing, recovery, encryption, TTL. */

/**
 * Tables are on-demand and encrypted. A table is point-in-time recoverable unless its resource Metadata.Ephemeral
 * says why its items are worth nothing once lost (e.g. live WebSocket connections); an ephemeral table expires its
 * items through TTL and pays for no recovery. An explicit marker, because a TTL alone does not make every item
 * transient (a table may expire only some of its items).
 */
export function checkTables(template: Template): string[] {
  const violations: string[] = [];
  for (const id of resourcesOfType(template, 'AWS::Serverless::SimpleTable')) {
    violations.push(
      `${id}: AWS::Serverless::SimpleTable cannot turn on point-in-time recovery; use AWS::DynamoDB::Table`,
    );
  }
  for (const id of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const properties = template.Resources[id]?.Properties ?? {};
    if (properties.BillingMode !== 'PAY_PER_REQUEST')
      violations.push(`${id}: BillingMode is not PAY_PER_REQUEST`);
    const recovery = properties.PointInTimeRecoverySpecification as JsonObject | undefined;
    const ephemeral = template.Resources[id]?.Metadata?.Ephemeral;
    if (ephemeral === undefined) {
      if (recovery?.PointInTimeRecoveryEnabled !== true)
        violations.push(`${id}: PointInTimeRecoveryEnabled is not true`);
    } else violations.push(...checkEphemeralTable(id, ephemeral, properties));
    if ((properties.SSESpecification as JsonObject | undefined)?.SSEEnabled !== true) {
      violations.push(`${id}: SSESpecification.SSEEnabled is not true`);
    }
    violations.push(...checkTimeToLive(template, id));
  }
  return violations;
}

function checkEphemeralTable(table: string, reason: Json, properties: JsonObject): string[] {
  const violations: string[] = [];
  if (typeof reason !== 'string' || reason.trim() === '')
    violations.push(`${table}: Metadata.Ephemeral must say why its items need no recovery`);
  const recovery = properties.PointInTimeRecoverySpecification as JsonObject | undefined;
  if (recovery?.PointInTimeRecoveryEnabled === true) {
    violations.push(
      `${table}: Metadata.Ephemeral marks it ephemeral, yet PointInTimeRecoveryEnabled is true (billed, nothing worth restoring)`,
    );
  }
  return violations;
}

/**
 * A table's TTL, where it has one, is on and names an attribute outside the key. Tables that WebSocket
 * functions use must have one: a connection that vanishes without `$disconnect` would otherwise stay forever;
 * so must an ephemeral table (Metadata.Ephemeral), whose items are worth keeping only while they are live.
 */
function checkTimeToLive(template: Template, table: string): string[] {
  const violations: string[] = [];
  const properties = template.Resources[table]?.Properties ?? {};
  const ttl = properties.TimeToLiveSpecification;
  const users = webSocketFunctions(template).filter((fn) =>
    referencedNames((fn.properties.Environment as JsonObject | undefined)?.Variables).has(table),
  );
  if (ttl === undefined || ttl === null) {
    if (users.length > 0) {
      violations.push(
        `${table}: has no TimeToLiveSpecification, but WebSocket functions keep connections in it (${users
          .map((fn) => fn.logicalId)
          .join(', ')})`,
      );
    } else if (template.Resources[table]?.Metadata?.Ephemeral !== undefined) {
      violations.push(
        `${table}: Metadata.Ephemeral marks it ephemeral, but no TimeToLiveSpecification expires its items`,
      );
    }
    return violations;
  }
  if (!isObject(ttl) || ttl.Enabled !== true) {
    violations.push(`${table}: TimeToLiveSpecification.Enabled is not true`);
  }
  const attribute = isObject(ttl) ? ttl.AttributeName : undefined;
  const keys = [
    ...asList(properties.KeySchema),
    ...asList(properties.GlobalSecondaryIndexes).flatMap((index) =>
      isObject(index) ? asList(index.KeySchema) : [],
    ),
  ].map((key) => (isObject(key) ? key.AttributeName : undefined));
  if (typeof attribute !== 'string' || attribute === '') {
    violations.push(`${table}: TimeToLiveSpecification.AttributeName is not set`);
  } else if (keys.includes(attribute)) {
    violations.push(`${table}: the TTL attribute ${attribute} is a key attribute`);
  }
  return violations;
}
