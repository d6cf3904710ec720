import type { JsonObject } from './template.ts';

/**
 * What API Gateway's OpenAPI import (and SAM in front of it) refuses or silently drops, checked before the
 * offline cloud runs a REST API, so that a definition that would deploy differently fails here first. Each rule
 * quotes its AWS source; the README's fidelity table lists them.
 */

/** The REST items of "Amazon API Gateway important notes for REST APIs". */
export const KNOWN_ISSUES =
  'API Gateway developer guide, "Amazon API Gateway important notes for REST APIs" ' +
  '(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html)';

/**
 * A definition that API Gateway's OpenAPI import refuses, or imports without what it says, so that the
 * deployed API would differ from what the offline cloud ran. Names the definition path and the AWS source.
 */
export class ApiGatewayImportError extends Error {
  constructor(where: string, problem: string, source: string) {
    super(`${where}: ${problem} (${source})`);
    this.name = 'ApiGatewayImportError';
  }
}

/** "Stage names can only contain alphanumeric characters, hyphens, and underscores. Maximum length is 128." */
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
/** "Path segments can only contain alphanumeric characters, underscores, hyphens, periods, commas, colons,
 * and curly braces. Path parameters must be separate path segments." */
const PATH_SEGMENT = /^(?:[A-Za-z0-9_.,:-]+|\{[A-Za-z0-9_.-]+\+?\})$/;
/** "Model names can only contain alphanumeric characters." */
const MODEL_NAME = /^[A-Za-z0-9]+$/;
/** "The maximum size of a mapping template is 300 KB." */
const MAX_MAPPING_TEMPLATE_BYTES = 300 * 1024;
/** "For input parameters, only the following attributes are supported: name, in, required, type, description." */
const PARAMETER_SCHEMA_ATTRIBUTES = new Set(['type', 'description']);

/** One AWS::Serverless::Api as the import sees it. */
export interface ImportedApi {
  /** Its resolved properties, DefinitionBody aside. */
  properties: JsonObject;
  /** Its OpenAPI definition, resolved. */
  definition: JsonObject;
  /** Whether the definition comes through AWS::Include, which SAM cannot read or add to. */
  included: boolean;
}

/**
 * Refuses what the import refuses (ApiGatewayImportError) and answers a warning for each thing it would
 * silently drop.
 */
export function checkImportable({ properties, definition, included }: ImportedApi, where: string): string[] {
  const refuse = (path: string, problem: string, source = KNOWN_ISSUES) => {
    throw new ApiGatewayImportError(path, problem, source);
  };
  const stage = String(properties.StageName);
  if (!STAGE_NAME.test(stage))
    refuse(`${where}.StageName`, `the stage name "${stage}" (letters, digits, - and _ only, at most 128)`);
  const definitionWhere = `${where}.DefinitionBody`;
  for (const property of ['Auth', 'Cors'])
    if (properties[property] !== undefined && included)
      refuse(
        `${where}.${property}`,
        `${property} with an AWS::Include DefinitionBody: SAM cannot add it to a definition it does not see ` +
          "(\"Unable to add Auth/Cors configuration because 'DefinitionBody' does not contain a valid OpenApi " +
          'definition"). Write it in the OpenAPI definition instead',
        'aws/aws-sam-cli#2418, #3041',
      );
  if (definition.security !== undefined)
    refuse(
      `${definitionWhere}.security`,
      'a root-level `security` requirement, which API Gateway ignores on import: no method would require an ' +
        'API key in AWS. Declare `security` on each operation instead',
    );
  const components = (definition.components ?? {}) as JsonObject;
  for (const [name, scheme] of Object.entries(
    (components.securitySchemes ?? {}) as Record<string, JsonObject>,
  ))
    if (scheme.type !== 'apiKey')
      refuse(
        `${definitionWhere}.components.securitySchemes.${name}`,
        `a ${String(scheme.type)} security scheme ("The securitySchemes type, if used, must be apiKey"; other ` +
          'schemes need a Lambda authoriser through x-amazon-apigateway-authorizer)',
      );
  for (const name of Object.keys((components.schemas ?? {}) as JsonObject))
    if (!MODEL_NAME.test(name))
      refuse(
        `${definitionWhere}.components.schemas.${name}`,
        `the model name "${name}" (letters and digits only)`,
      );

  const warnings: string[] = [];
  for (const [path, item] of Object.entries((definition.paths ?? {}) as Record<string, JsonObject>)) {
    const pathWhere = `${definitionWhere}.paths.${path}`;
    const bad = path
      .split('/')
      .slice(1)
      .find((segment) => segment !== '' && !PATH_SEGMENT.test(segment));
    if (bad !== undefined) refuse(pathWhere, `the path segment "${bad}"`);
    for (const [method, value] of Object.entries(item)) {
      const operation = value as JsonObject;
      if (typeof operation !== 'object' || operation === null) continue;
      warnings.push(...ignoredParameterSchemaOf(method.toUpperCase(), path, operation, components));
      for (const [mediaType, template] of Object.entries(templatesOf(operation)))
        if (Buffer.byteLength(template) > MAX_MAPPING_TEMPLATE_BYTES)
          refuse(`${pathWhere}.${method}`, `a ${mediaType} mapping template over 300 KB`);
    }
  }
  return warnings;
}

/** A parameter's schema constraints, which API Gateway ignores: the backend has to check them. */
function ignoredParameterSchemaOf(
  method: string,
  path: string,
  operation: JsonObject,
  components: JsonObject,
): string[] {
  return ((operation.parameters ?? []) as JsonObject[]).flatMap((declared) => {
    const ref = declared.$ref;
    const parameter =
      typeof ref === 'string'
        ? (((components.parameters ?? {}) as JsonObject)[ref.split('/').at(-1) ?? ''] as
            | JsonObject
            | undefined)
        : declared;
    const ignored = Object.keys((parameter?.schema ?? {}) as JsonObject).filter(
      (attribute) => !PARAMETER_SCHEMA_ATTRIBUTES.has(attribute),
    );
    if (!parameter || ignored.length === 0) return [];
    return [
      `${method} ${path}: the ${String(parameter.in)} parameter ${String(parameter.name)} declares ` +
        `${ignored.join(', ')}, which API Gateway ignores ("only … name, in, required, type, description. Other ` +
        'attributes are ignored", important notes for REST APIs): its request validator checks only that a ' +
        'required parameter is present. The backend must check the rest.',
    ];
  });
}

/** The request and response mapping templates of one operation, by media type. */
function templatesOf(operation: JsonObject): Record<string, string> {
  const integration = (operation['x-amazon-apigateway-integration'] ?? {}) as JsonObject;
  const responses = Object.values((integration.responses ?? {}) as Record<string, JsonObject>);
  return Object.fromEntries(
    [integration, ...responses].flatMap((part) =>
      Object.entries((part.requestTemplates ?? part.responseTemplates ?? {}) as Record<string, string>),
    ),
  );
}
