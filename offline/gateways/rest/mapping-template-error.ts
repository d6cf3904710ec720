/** A template that does not parse, or fails while rendering: API Gateway answers 500. */
export class MappingTemplateError extends Error {
  override name = 'MappingTemplateError';
}

export function fail(message: string, cause?: unknown): never {
  throw new MappingTemplateError(message, cause === undefined ? undefined : { cause });
}
