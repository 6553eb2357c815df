/** The catalogue of error codes Haven answers with, for HTML pages and JSON alike. */
export const errorCodes = {
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  VALIDATION: 400,
  CSRF: 403,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
    this.statusCode = errorCodes[code];
  }
}

export const notFound = (what = 'page'): AppError => new AppError('NOT_FOUND', `The ${what} was not found.`);
export const forbidden = (): AppError => new AppError('FORBIDDEN', 'You do not have permission to do that.');
export const invalid = (message: string, fields: FieldError[] = []): AppError => new AppError('VALIDATION', message, fields);
