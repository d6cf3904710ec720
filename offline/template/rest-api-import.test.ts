import { describe, expect, test } from 'vitest';
import { checkImportable, type ImportedApi } from './rest-api-import.ts';
import type { JsonObject } from './template.ts';

const WHERE = 'Resources.Api.Properties';

// biome-ignore lint/suspicious/noExplicitAny: each case edits the definition freely, path by path
type Editable = ImportedApi & { definition: Record<string, any> };

/** A REST API that imports cleanly: GET /things/{id}, one model, an API key scheme. */
function api(edit: (api: Editable) => void = () => {}): ImportedApi {
  const imported = {
    properties: { StageName: 'dev' } as JsonObject,
    included: true,
    definition: {
      openapi: '3.0.3',
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } },
        schemas: { Thing: { type: 'object' } },
      },
      paths: {
        '/things/{id}': {
          get: {
            parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
            'x-amazon-apigateway-integration': {
              type: 'mock',
              requestTemplates: { 'application/json': '{"statusCode": 200}' },
            },
          },
        },
      },
    },
  };
  edit(imported);
  return imported;
}

const check = (imported: ImportedApi) => () => checkImportable(imported, WHERE);

describe('checkImportable', () => {
  test('accepts what the import accepts, with no warning', () => {
    expect(checkImportable(api(), WHERE)).toEqual([]);
  });

  test.each<[string, (imported: Editable) => void, RegExp]>([
    [
      'a stage name with a dot',
      (imported) => {
        imported.properties.StageName = 'v1.0';
      },
      /Properties\.StageName: the stage name "v1\.0"/,
    ],
    [
      'SAM Cors on an included definition',
      (imported) => {
        imported.properties.Cors = "'*'";
      },
      /Properties\.Cors: Cors with an AWS::Include DefinitionBody.*aws\/aws-sam-cli#2418/,
    ],
    [
      'a root-level security requirement',
      (imported) => {
        imported.definition.security = [{ apiKey: [] }];
      },
      /DefinitionBody\.security: a root-level `security` requirement, which API Gateway ignores/,
    ],
    [
      'an OAuth 2 security scheme',
      (imported) => {
        imported.definition.components.securitySchemes.oauth = { type: 'oauth2' };
      },
      /securitySchemes\.oauth: a oauth2 security scheme/,
    ],
    [
      'a model name with an underscore',
      (imported) => {
        imported.definition.components.schemas.Thing_v2 = { type: 'object' };
      },
      /schemas\.Thing_v2: the model name "Thing_v2"/,
    ],
    [
      'a path parameter inside a segment',
      (imported) => {
        imported.definition.paths['/things/item{id}'] = {};
      },
      /paths\.\/things\/item\{id\}: the path segment "item\{id\}"/,
    ],
    [
      'a mapping template over 300 KB',
      (imported) => {
        imported.definition.paths['/things/{id}'].get['x-amazon-apigateway-integration'].requestTemplates[
          'application/json'
        ] = 'x'.repeat(300 * 1024 + 1);
      },
      /get: a application\/json mapping template over 300 KB/,
    ],
  ])('refuses %s, naming it', (_what, edit, message) => {
    expect(check(api(edit))).toThrow(message);
  });

  test('lets SAM Cors through when the definition is inline, where SAM can add it', () => {
    expect(
      checkImportable(
        api((imported) => {
          imported.properties.Cors = "'*'";
          imported.included = false;
        }),
        WHERE,
      ),
    ).toEqual([]);
  });

  test('warns about parameter schema constraints, which the import drops', () => {
    const warnings = checkImportable(
      api((imported) => {
        imported.definition.paths['/things/{id}'].get.parameters[0].schema = {
          type: 'string',
          pattern: '^[a-z]+$',
          maxLength: 8,
        };
      }),
      WHERE,
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /^GET \/things\/\{id\}: the path parameter id declares pattern, maxLength, which API Gateway ignores/,
      ),
    ]);
  });
});
