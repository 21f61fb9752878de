/**
 * Every failure a client can cause becomes {code, message} with a stable PG_ERR_* code and an HTTP status.
 */
import type { ErrorBody, ErrorCode } from '../../shared/protocol/index.ts';

const STATUS: Record<ErrorCode, number> = {
  PG_ERR_BAD_JSON: 400,
  PG_ERR_BAD_MESSAGE: 400,
  PG_ERR_UNKNOWN_COMMAND: 400,
  PG_ERR_VALIDATION: 400,
  PG_ERR_ENDPOINT: 400,
  PG_ERR_IMPORT: 400,
  PG_ERR_NOT_FOUND: 404,
  PG_ERR_RUN_ACTIVE: 409,
  PG_ERR_NO_RUN: 409,
  PG_ERR_LIMIT: 429,
  PG_ERR_INTERNAL: 500,
};

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && code in STATUS;
}

/** Maps anything thrown by a route or command to what the client is told. Unknown errors say nothing internal. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  const candidate = error as { code?: unknown; message?: unknown; validation?: unknown; statusCode?: number };
  if (isErrorCode(candidate.code)) {
    return { status: STATUS[candidate.code], body: { code: candidate.code, message: String(candidate.message) } };
  }
  if (Array.isArray(candidate.validation)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    return { status: 400, body: { code: 'PG_ERR_VALIDATION', message: describeValidation(where, candidate.validation) } };
  }
  if (candidate.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { code: 'PG_ERR_LIMIT', message: `Request body is too large: ${String(candidate.message)}` } };
  }
  if (typeof candidate.code === 'string' && candidate.code.startsWith('FST_ERR_CTP')) {
    return { status: 400, body: { code: 'PG_ERR_BAD_JSON', message: `Request body is not valid JSON: ${String(candidate.message)}` } };
  }
  if (error instanceof SyntaxError) {
    return { status: 400, body: { code: 'PG_ERR_BAD_JSON', message: `Request body is not valid JSON: ${error.message}` } };
  }
  if (candidate.statusCode && candidate.statusCode >= 400 && candidate.statusCode < 500) {
    return { status: candidate.statusCode, body: { code: 'PG_ERR_BAD_MESSAGE', message: String(candidate.message) } };
  }
  return { status: 500, body: { code: 'PG_ERR_INTERNAL', message: 'Internal error; the server log has the details.' } };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: { additionalProperty?: string; allowedValues?: unknown[] };
}

/** "body/intervalMs must be <= 10000; body has an unknown field "bogus"" from Ajv's error list. */
function describeValidation(where: string, errors: AjvError[]): string {
  const parts = errors.slice(0, 3).map((error) => {
    const path = `${where}${error.instancePath ?? ''}`;
    if (error.params?.additionalProperty) return `${path} has an unknown field "${error.params.additionalProperty}"`;
    return `${path} ${error.message ?? 'is invalid'}`;
  });
  return `Invalid request: ${parts.join('; ')}.`;
}
