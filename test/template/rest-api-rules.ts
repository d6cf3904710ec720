import type { Json, Template } from '../../offline/template/template.ts';
import { effectiveProperties, isObject, resourcesOfType } from './rules.ts';

/** The rules over the REST API stages: deployments and access logs. */

/**
 * Every AWS::Serverless::Api deploys on every stack update. Without AlwaysDeploy, SAM names the deployment after a
 * hash of the definition's text, so a changed parameter or a replaced resource that the definition references never
 * reaches the stage (aws/serverless-application-model#914, #1605).
 */
export function checkRestDeployments(template: Template): string[] {
  return resourcesOfType(template, 'AWS::Serverless::Api')
    .filter((api) => effectiveProperties(template, api, 'Api').AlwaysDeploy !== true)
    .map(
      (api) =>
        `${api}: AlwaysDeploy is not true, so a changed parameter or replaced resource would leave the stage on its old deployment`,
    );
}

/**
 * The `$context` variables the API Gateway developer guide documents for REST API access logs ("Variables for
 * access logging for API Gateway"; before 2024 the "$context Variables for data models, authorizers, mapping
 * templates, and CloudWatch access logging" and "... for access logging only" tables of
 * api-gateway-mapping-template-reference, awsdocs/amazon-api-gateway-developer-guide@781597d).
 * `*` stands for one name the API chooses (a claim, a Lambda authoriser context key, a header …).
 * What a stage logs for any other name is not documented, so a typo or an invented variable is refused here.
 */
export const REST_ACCESS_LOG_VARIABLES = [
  'accountId',
  'apiId',
  'authenticate.error',
  'authenticate.latency',
  'authenticate.status',
  'authorize.error',
  'authorize.latency',
  'authorize.status',
  'authorizer.*',
  'authorizer.claims.*',
  'authorizer.error',
  'authorizer.integrationLatency',
  'authorizer.integrationStatus',
  'authorizer.latency',
  'authorizer.principalId',
  'authorizer.requestId',
  'authorizer.status',
  'awsEndpointRequestId',
  'customDomain.basePathMatched',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'error.validationErrorString',
  'extendedRequestId',
  'httpMethod',
  'identity.accountId',
  'identity.apiKey',
  'identity.apiKeyId',
  'identity.caller',
  'identity.clientCert.clientCertPem',
  'identity.clientCert.issuerDN',
  'identity.clientCert.serialNumber',
  'identity.clientCert.subjectDN',
  'identity.clientCert.validity.notAfter',
  'identity.clientCert.validity.notBefore',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestOverride.header.*',
  'requestOverride.path.*',
  'requestOverride.querystring.*',
  'requestTime',
  'requestTimeEpoch',
  'resourceId',
  'resourcePath',
  'responseLatency',
  'responseLength',
  'responseOverride.header.*',
  'responseOverride.status',
  'stage',
  'status',
  'waf.error',
  'waf.latency',
  'waf.status',
  'wafResponseCode',
  'webaclArn',
  'xrayTraceId',
];

const isDocumentedRestAccessLogVariable = (name: string): boolean =>
  REST_ACCESS_LOG_VARIABLES.some((documented) => {
    const expected = documented.split('.');
    const actual = name.split('.');
    return (
      expected.length === actual.length &&
      expected.every((part, index) => part === '*' || part === actual[index])
    );
  });

/** The access log format text of every REST stage (SAM's AccessLogSetting, or an AWS::ApiGateway::Stage's). */
function restAccessLogFormats(template: Template): [string, Json | undefined][] {
  const formatOf = (settings: Json | undefined) => {
    const format = isObject(settings) ? settings.Format : undefined;
    const sub = isObject(format) ? format['Fn::Sub'] : undefined;
    return sub === undefined ? format : Array.isArray(sub) ? sub[0] : sub;
  };
  return [
    ...resourcesOfType(template, 'AWS::Serverless::Api').map((api): [string, Json | undefined] => [
      api,
      formatOf(effectiveProperties(template, api, 'Api').AccessLogSetting),
    ]),
    ...resourcesOfType(template, 'AWS::ApiGateway::Stage').map((stage): [string, Json | undefined] => [
      stage,
      formatOf(template.Resources[stage]?.Properties?.AccessLogSetting),
    ]),
  ];
}

/** Every `$context.*` in a REST stage's access log format is one the developer guide documents for access logs. */
export function checkRestAccessLogVariables(template: Template): string[] {
  return restAccessLogFormats(template).flatMap(([where, format]) =>
    [...String(format ?? '').matchAll(/\$context\.(\w+(?:\.\w+)*)/g)]
      .map((match) => match[1] ?? '')
      .filter((name) => !isDocumentedRestAccessLogVariable(name))
      .map(
        (name) =>
          `${where}: AccessLogSetting.Format uses $context.${name}, which is not a documented REST access-log variable`,
      ),
  );
}
