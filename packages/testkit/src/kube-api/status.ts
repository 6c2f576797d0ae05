// Failures leave the server as a meta/v1 `Status`, the shape clients parse for reason and code
// (API Concepts: "Response status kind", https://kubernetes.io/docs/reference/using-api/api-concepts/).
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'ServiceUnavailable';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  // A watch or list from a compacted resourceVersion: 410 Gone, reason Expired.
  Expired: 410,
  UnsupportedMediaType: 415,
  Invalid: 422,
  ServiceUnavailable: 503,
};

/** One field's problem in a 422 Invalid, as `kubectl` prints it. */
export interface StatusCause {
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueTooLong, ... */
  readonly reason: string;
  readonly message: string;
  /** The field's path, e.g. `spec.targets[0].count`. */
  readonly field: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
}

export class ApiError extends Error {
  readonly code: number;

  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details: StatusDetails = {},
  ) {
    super(message);
    this.code = CODES[reason];
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}
