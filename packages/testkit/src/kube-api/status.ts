// Failures leave the server as a meta/v1 `Status`, the shape clients parse for reason and code
// (API Concepts: "Response status kind", https://kubernetes.io/docs/reference/using-api/api-concepts/).
export type StatusReason =
  'NotFound' | 'AlreadyExists' | 'Conflict' | 'BadRequest' | 'MethodNotAllowed';

const CODES: Record<StatusReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  BadRequest: 400,
  MethodNotAllowed: 405,
};

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
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
