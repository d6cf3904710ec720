import { Resolver, type Template, UnsupportedTemplateError } from './template.ts';

/** Resource types the offline cloud runs. */
const EMULATED = new Set([
  'AWS::Serverless::Function',
  'AWS::Serverless::HttpApi',
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
  // WebSocket APIs (offline/gateways/websocket/websocket.ts); ProtocolType HTTP is refused in createResolver.
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Stage',
  // REST APIs (offline/gateways/rest/rest-api.ts) with their usage plans and keys.
  'AWS::Serverless::Api',
  'AWS::ApiGateway::ApiKey',
  'AWS::ApiGateway::UsagePlan',
  'AWS::ApiGateway::UsagePlanKey',
]);

/** Resource types that exist only in AWS and change nothing a local request can observe (README: limits). */
const CLOUD_ONLY = new Set([
  'AWS::Cognito::UserPoolDomain',
  'AWS::Cognito::UserPoolResourceServer',
  'AWS::Cognito::UserPoolGroup',
  'AWS::Logs::LogGroup',
  'AWS::SNS::Topic',
  'AWS::SNS::Subscription',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::KMS::Key',
  'AWS::XRay::SamplingRule',
  // Edge protection and custom domains: offline, every API answers on its own loopback port.
  'AWS::WAFv2::WebACL',
  'AWS::WAFv2::WebACLAssociation',
  'AWS::ApiGatewayV2::DomainName',
  'AWS::ApiGatewayV2::ApiMapping',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  // Invoke permissions (IAM is not enforced offline) and deployments (offline, every stage serves the template).
  'AWS::Lambda::Permission',
  'AWS::ApiGatewayV2::Deployment',
]);

/**
 * The template's resolver with every resource's local identity bound (the ids, ARNs and URLs the offline
 * cloud gives them). It refuses a resource type the offline cloud neither runs nor knowingly leaves to AWS.
 * Light on purpose: the test environment and the CLIs use it without loading the offline cloud.
 */
export function createResolver(template: Template, parameters: Record<string, string> | undefined): Resolver {
  const resolver = new Resolver(template, { parameters });
  const { region, accountId } = resolver.pseudo;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!EMULATED.has(resource.Type) && !CLOUD_ONLY.has(resource.Type)) {
      throw new UnsupportedTemplateError(`Resources.${logicalId}`, `the resource type ${resource.Type}`);
    }
    const arn = (service: string, kind: string) =>
      `arn:aws:${service}:${region}:${accountId}:${kind}${logicalId}`;
    switch (resource.Type) {
      case 'AWS::Cognito::UserPool': {
        const poolId = `${region}_${logicalId}`;
        resolver.bind(logicalId, {
          ref: poolId,
          attributes: {
            Arn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${poolId}`,
            ProviderName: `cognito-idp.${region}.amazonaws.com/${poolId}`,
            ProviderURL: `https://cognito-idp.${region}.amazonaws.com/${poolId}`,
          },
        });
        break;
      }
      case 'AWS::Serverless::HttpApi':
        resolver.bind(logicalId, { ref: logicalId.toLowerCase() });
        break;
      case 'AWS::Serverless::Function':
        resolver.bind(logicalId, { attributes: { Arn: arn('lambda', 'function:') } });
        break;
      case 'AWS::Serverless::Api':
        resolver.bind(logicalId, {
          ref: logicalId.toLowerCase(),
          attributes: { RootResourceId: `${logicalId.toLowerCase()}root` },
        });
        break;
      case 'AWS::ApiGateway::ApiKey':
      case 'AWS::ApiGateway::UsagePlan':
      case 'AWS::ApiGateway::UsagePlanKey':
        resolver.bind(logicalId, { ref: logicalId.toLowerCase() });
        break;
      case 'AWS::ApiGatewayV2::Api': {
        const protocol = resource.Properties?.ProtocolType;
        if (protocol !== 'WEBSOCKET') {
          throw new UnsupportedTemplateError(
            `Resources.${logicalId}.Properties.ProtocolType`,
            `an AWS::ApiGatewayV2::Api with ProtocolType ${String(protocol)} (HTTP APIs are AWS::Serverless::HttpApi)`,
          );
        }
        const apiId = logicalId.toLowerCase();
        resolver.bind(logicalId, {
          ref: apiId,
          attributes: { ApiId: apiId, ApiEndpoint: `wss://${apiId}.execute-api.${region}.amazonaws.com` },
        });
        break;
      }
      case 'AWS::ApiGatewayV2::Route':
      case 'AWS::ApiGatewayV2::Integration':
      case 'AWS::ApiGatewayV2::Authorizer':
      case 'AWS::ApiGatewayV2::Deployment': {
        const id = logicalId.toLowerCase();
        const attribute = `${resource.Type.slice('AWS::ApiGatewayV2::'.length)}Id`;
        resolver.bind(logicalId, { ref: id, attributes: { [attribute]: id } });
        break;
      }
      case 'AWS::Lambda::Permission':
        resolver.bind(logicalId, { ref: logicalId });
        break;
      case 'AWS::SNS::Topic':
        resolver.bind(logicalId, {
          ref: arn('sns', ''),
          attributes: { TopicArn: arn('sns', ''), TopicName: logicalId },
        });
        break;
      case 'AWS::Logs::LogGroup':
        resolver.bind(logicalId, { ref: logicalId, attributes: { Arn: arn('logs', 'log-group:') } });
        break;
      case 'AWS::IAM::Role':
        resolver.bind(logicalId, {
          ref: logicalId,
          attributes: { Arn: `arn:aws:iam::${accountId}:role/${logicalId}` },
        });
        break;
      default:
        if (resource.Type.startsWith('AWS::Cognito::'))
          resolver.bind(logicalId, { ref: `local${logicalId}` });
    }
  }
  // A stage's Ref is its name, which may itself come from a parameter or another resource bound above.
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::Serverless::Api') {
      const stage = String(
        resolver.resolve(
          resource.Properties?.StageName ?? null,
          `Resources.${logicalId}.Properties.StageName`,
        ),
      );
      // SAM's referenceable property: `!Ref MyApi.Stage`, `${MyApi.Stage}`.
      resolver.bind(`${logicalId}.Stage`, { ref: stage });
      resolver.bind(logicalId, { attributes: { Stage: stage } });
    }
    if (resource.Type !== 'AWS::ApiGatewayV2::Stage') continue;
    const name = resolver.resolve(
      resource.Properties?.StageName ?? null,
      `Resources.${logicalId}.Properties.StageName`,
    );
    resolver.bind(logicalId, { ref: String(name) });
  }
  return resolver;
}
