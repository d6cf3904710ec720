import { isMap, isScalar, parseDocument } from 'yaml';

/** The guard that keeps `sam local start-api` from crashing on the template's resource order. */

export interface OrderedResource {
  logicalId: string;
  type: string;
  protocolType: string | undefined;
  routeKey: string | undefined;
}

/** The template's resources in document order, read from the YAML itself (not from a parsed object). */
export function resourcesInDocumentOrder(text: string): OrderedResource[] {
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
  const resources = document.get('Resources');
  if (!isMap(resources)) throw new Error('The template has no Resources map');
  const scalar = (value: unknown) =>
    isScalar(value) && value.value !== null ? String(value.value) : undefined;
  return resources.items.map((item) => {
    const logicalId = String(isScalar(item.key) ? item.key.value : item.key);
    const body = isMap(item.value) ? item.value : undefined;
    const properties = body?.get('Properties');
    return {
      logicalId,
      type: scalar(body?.get('Type', true)) ?? '',
      protocolType: isMap(properties) ? scalar(properties.get('ProtocolType', true)) : undefined,
      routeKey: isMap(properties) ? scalar(properties.get('RouteKey', true)) : undefined,
    };
  });
}

const RAW_API = /^AWS::ApiGateway(V2)?::/;
const SAM_API = new Set(['AWS::Serverless::Api', 'AWS::Serverless::HttpApi']);

/**
 * SAM CLI 1.164 splits every route key it finds on a space when the first API resource it meets is a raw
 * AWS::ApiGateway or AWS::ApiGatewayV2 one, and crashes on WebSocket keys such as `$connect`. WebSocket
 * resources are therefore either kept out of this template (a nested stack) or placed after a SAM API.
 */
export function checkStartApiOrder(resources: OrderedResource[]): string[] {
  const webSocket = resources.filter(
    (resource) =>
      (resource.type === 'AWS::ApiGatewayV2::Api' && resource.protocolType === 'WEBSOCKET') ||
      (resource.type === 'AWS::ApiGatewayV2::Route' &&
        resource.routeKey !== undefined &&
        !resource.routeKey.includes(' ')),
  );
  if (webSocket.length === 0) return [];
  const firstSamApi = resources.findIndex((resource) => SAM_API.has(resource.type));
  const before = (firstSamApi < 0 ? resources : resources.slice(0, firstSamApi)).filter((resource) =>
    RAW_API.test(resource.type),
  );
  return before.map(
    (resource) =>
      `${resource.logicalId} (${resource.type}) comes before the first AWS::Serverless::Api/HttpApi while the ` +
      `template has WebSocket resources (${webSocket.map((item) => item.logicalId).join(', ')}): ` +
      '`sam local start-api` would crash; move it below the SAM APIs or the WebSocket API into a nested stack',
  );
}
