export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** An error meant for the caller: its status, code and message are sent as they are. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details: readonly FieldIssue[] | undefined;

  constructor(statusCode: number, code: string, message: string, details?: readonly FieldIssue[]) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: readonly FieldIssue[]) =>
  new HttpError(400, 'BadRequest', message, details);
export const validationFailed = (details: readonly FieldIssue[]) =>
  new HttpError(400, 'ValidationError', 'The request is not valid', details);
export const forbidden = (message: string) => new HttpError(403, 'Forbidden', message);
export const notFound = (what: string) => new HttpError(404, 'NotFound', `${what} not found`);
export const conflict = (message: string) => new HttpError(409, 'Conflict', message);
