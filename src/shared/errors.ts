/**
 * One error hierarchy for the whole app. `status` is the HTTP status, `code` a stable machine
 * code (also the message-catalog key under `errors.`), `expose` says whether the code may be
 * shown to the person. The error middleware renders these as HTML or JSON.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  /** Extra, non-sensitive values for the message catalog (never PII). */
  readonly params: Record<string, string | number>;

  constructor(code: string, opts: { status?: number; expose?: boolean; params?: Record<string, string | number>; cause?: unknown } = {}) {
    super(code, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 400;
    this.expose = opts.expose ?? this.status < 500;
    this.params = opts.params ?? {};
  }
}

export class BadInput extends AppError {
  /** `field` names what was wrong, never the value. */
  readonly field: string | undefined;
  constructor(code: string, field?: string, params?: Record<string, string | number>) {
    super(code, { status: 400, params: { ...(params ?? {}), ...(field ? { field } : {}) } });
    this.field = field;
  }
}

export class NotFound extends AppError {
  constructor(code = 'not_found') { super(code, { status: 404 }); }
}

export class Forbidden extends AppError {
  constructor(code = 'forbidden') { super(code, { status: 403 }); }
}

export class Unauthorized extends AppError {
  constructor(code = 'sign_in_required') { super(code, { status: 401 }); }
}

export class TooManyRequests extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, code = 'too_many_attempts') {
    // `count` is the wait in whole minutes, for the catalog's plural forms (waits run to an hour).
    super(code, { status: 429, params: { seconds: Math.max(1, Math.ceil(retryAfterSeconds)), count: Math.max(1, Math.ceil(retryAfterSeconds / 60)) } });
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

export class ServiceUnavailable extends AppError {
  constructor(code = 'service_unavailable', cause?: unknown) { super(code, { status: 503, expose: true, cause }); }
}
