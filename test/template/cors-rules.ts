import type { Template } from '../../offline/template/template.ts';
import { httpApiProperties, routeAuthorizer, routesOf } from './route-auth-rules.ts';
import { asList, isObject, refOf, resourcesOfType } from './rules.ts';

/** The CORS rules over the HTTP APIs. */

export const ORIGINS_PARAMETER = 'AllowedOrigins';

export function checkCors(template: Template): string[] {
  const violations: string[] = [];
  const parameter = template.Parameters?.[ORIGINS_PARAMETER];
  if (!parameter) violations.push(`the ${ORIGINS_PARAMETER} parameter is missing`);
  else if (
    String(parameter.Default ?? '')
      .split(',')
      .some((origin) => origin.trim() === '*')
  ) {
    violations.push(`the ${ORIGINS_PARAMETER} parameter defaults to "*"`);
  }
  const apis = resourcesOfType(template, 'AWS::Serverless::HttpApi');
  const routes = routesOf(template);
  if (routes.some((route) => route.api === 'ServerlessHttpApi')) apis.push('ServerlessHttpApi');
  for (const api of apis) {
    const cors = httpApiProperties(template, api)?.CorsConfiguration;
    if (!isObject(cors)) {
      violations.push(
        `${api}: CorsConfiguration must be an object whose AllowOrigins is !Ref ${ORIGINS_PARAMETER}`,
      );
      continue;
    }
    if (refOf(cors.AllowOrigins) !== ORIGINS_PARAMETER) {
      violations.push(`${api}: CorsConfiguration.AllowOrigins is not !Ref ${ORIGINS_PARAMETER}`);
    }
    const origins =
      refOf(cors.AllowOrigins) === ORIGINS_PARAMETER
        ? String(parameter?.Default ?? '')
            .split(',')
            .map((origin) => origin.trim())
        : asList(cors.AllowOrigins);
    if (origins.includes('*')) {
      violations.push(`${api}: CorsConfiguration.AllowOrigins allows "*"`);
      if (cors.AllowCredentials === true)
        violations.push(`${api}: AllowCredentials is true together with "*"`);
    }
    const guarded = routes.some((route) => route.api === api && routeAuthorizer(template, route));
    const headers = asList(cors.AllowHeaders).map((header) => String(header).toLowerCase());
    if (guarded && !headers.includes('authorization') && !headers.includes('*')) {
      violations.push(
        `${api}: CorsConfiguration.AllowHeaders lacks authorization, so browsers cannot send the JWT`,
      );
    }
  }
  return violations;
}
