import type { RestApiConfig } from '../../template/rest-api-definition.ts';
import { contextVariables, type Reply, type RequestState, requestIdHeaders } from './rest-request.ts';

/** API Gateway's built-in status and message of each gateway response type this emulator produces. */
const RESPONSE_TYPES: Record<string, { statusCode: number; message: string | null }> = {
  // Lambda authorisers (offline/gateways/rest/rest-authorizer.ts has the sources): AWS's own message of a failed authoriser is null.
  UNAUTHORIZED: { statusCode: 401, message: 'Unauthorized' },
  ACCESS_DENIED: { statusCode: 403, message: 'User is not authorized to access this resource' },
  AUTHORIZER_CONFIGURATION_ERROR: { statusCode: 500, message: null },
  MISSING_AUTHENTICATION_TOKEN: { statusCode: 403, message: 'Missing Authentication Token' },
  INVALID_API_KEY: { statusCode: 403, message: 'Forbidden' },
  THROTTLED: { statusCode: 429, message: 'Too Many Requests' },
  QUOTA_EXCEEDED: { statusCode: 429, message: 'Limit Exceeded' },
  BAD_REQUEST_BODY: { statusCode: 400, message: 'Invalid request body' },
  BAD_REQUEST_PARAMETERS: { statusCode: 400, message: 'Bad request parameters' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'Unsupported Media Type' },
  INTEGRATION_FAILURE: { statusCode: 500, message: 'Internal server error' },
  INTEGRATION_TIMEOUT: { statusCode: 504, message: 'Endpoint request timed out' },
  DEFAULT_5XX: { statusCode: 502, message: 'Internal server error' },
};

/**
 * A response API Gateway makes itself: the definition's gateway response for the type (or its DEFAULT_4XX /
 * DEFAULT_5XX), else AWS's built-in `{"message": …}`. Its templates are simple substitutions, not VTL.
 */
export function gatewayResponse(
  config: RestApiConfig,
  type: string,
  state: RequestState,
  override: { message?: string | null; validationErrorString?: string; statusCode?: number } = {},
): Reply {
  const builtIn = RESPONSE_TYPES[type] ?? { statusCode: 500, message: 'Internal server error' };
  const statusCode = override.statusCode ?? builtIn.statusCode;
  const message = override.message === undefined ? builtIn.message : override.message;
  const configured =
    config.gatewayResponses[type] ??
    config.gatewayResponses[statusCode >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
  const context = {
    ...contextVariables(config, state),
    error: {
      message,
      messageString: JSON.stringify(message),
      responseType: type,
      validationErrorString: JSON.stringify(override.validationErrorString ?? '').slice(1, -1),
    },
  };
  const template = configured?.templates['application/json'];
  return {
    statusCode: configured?.statusCode ?? statusCode,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': errorTypeOf(type),
      ...(configured?.headers ?? {}),
      ...requestIdHeaders(state),
    },
    body: template === undefined ? JSON.stringify({ message }) : substitute(template, context),
    gatewayResponse: true,
  };
}

/** `$context.a.b` and `$stageVariables.x` replaced by their values; unknown ones by nothing. */
function substitute(template: string, context: Record<string, unknown>): string {
  return template.replace(/\$(context|stageVariables)((?:\.\w+)+)/g, (_match, root: string, path: string) => {
    let value: unknown = root === 'context' ? context : {};
    for (const key of path.slice(1).split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    return value === undefined || value === null ? '' : String(value);
  });
}

function errorTypeOf(type: string): string {
  if (type === 'THROTTLED' || type === 'QUOTA_EXCEEDED') return 'TooManyRequestsException';
  if (type === 'MISSING_AUTHENTICATION_TOKEN') return 'MissingAuthenticationTokenException';
  if (type === 'INVALID_API_KEY') return 'ForbiddenException';
  if (type === 'UNAUTHORIZED') return 'UnauthorizedException';
  if (type === 'ACCESS_DENIED') return 'AccessDeniedException';
  if (type === 'AUTHORIZER_CONFIGURATION_ERROR') return 'AuthorizerConfigurationException';
  if (type.startsWith('BAD_REQUEST')) return 'BadRequestException';
  if (type === 'UNSUPPORTED_MEDIA_TYPE') return 'UnsupportedMediaTypeException';
  return 'InternalServerErrorException';
}
