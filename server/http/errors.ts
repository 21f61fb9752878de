/**
 * Every failure a client can cause becomes {code, message, text} with a stable PG_ERR_* code and an HTTP status:
 * a CodedError (server/errors.ts) as it says, Fastify's own refusals (validation, body, content type) mapped here.
 */
import { CodedError } from '../errors.ts';
import { hidePathsInBody } from './hide-paths.ts';
import {
  english,
  problemText,
  text,
  type ErrorBody,
  type ErrorCode,
  type ServerText,
  type ValidationRule,
} from '../../shared/protocol/index.ts';

const STATUS: Record<ErrorCode, number> = {
  PG_ERR_BAD_JSON: 400,
  PG_ERR_BAD_MESSAGE: 400,
  PG_ERR_UNKNOWN_COMMAND: 400,
  PG_ERR_VALIDATION: 400,
  PG_ERR_ENDPOINT: 400,
  PG_ERR_IMPORT: 400,
  PG_ERR_FORBIDDEN: 403,
  PG_ERR_NOT_FOUND: 404,
  PG_ERR_RUN_ACTIVE: 409,
  PG_ERR_NO_RUN: 409,
  PG_ERR_LIMIT: 429,
  PG_ERR_INTERNAL: 500,
};

/**
 * Maps anything thrown by a route or command to what the client is told. Unknown errors say nothing internal, and
 * no message carries a server path (hide-paths.ts).
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  const { status, body } = describeError(error);
  return { status, body: hidePathsInBody(body) };
}

function describeError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof CodedError) {
    // A refusal may carry a more precise status than its code's (415 for a body that is not JSON).
    const status =
      error.status !== undefined && error.status >= 400 && error.status < 500 ? error.status : STATUS[error.code];
    return { status, body: { code: error.code, message: error.message, text: error.text } };
  }
  const candidate = error as { code?: unknown; message?: unknown; validation?: unknown; statusCode?: number };
  const said = (code: ErrorCode, reason: ServerText, status = STATUS[code]) => ({
    status,
    body: { code, message: english(reason), text: reason },
  });
  if (Array.isArray(candidate.validation)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    const errors = relevantFirst(candidate.validation as AjvError[]);
    return {
      status: 400,
      body: {
        code: 'PG_ERR_VALIDATION',
        message: describeValidation(where, errors),
        text: text('request.invalid', { problem: firstAjvProblem(where, errors) }),
      },
    };
  }
  if (candidate.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return said('PG_ERR_LIMIT', text('request.tooLarge', { detail: String(candidate.message) }), 413);
  if (typeof candidate.code === 'string' && candidate.code.startsWith('FST_ERR_CTP')) {
    return said('PG_ERR_BAD_JSON', text('request.notJson', { detail: String(candidate.message) }));
  }
  if (error instanceof SyntaxError) return said('PG_ERR_BAD_JSON', text('request.notJson', { detail: error.message }));
  if (candidate.statusCode && candidate.statusCode >= 400 && candidate.statusCode < 500) {
    return said(
      'PG_ERR_BAD_MESSAGE',
      text('request.refused', { detail: String(candidate.message) }),
      candidate.statusCode,
    );
  }
  return said('PG_ERR_INTERNAL', text('internal'));
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: {
    additionalProperty?: string;
    allowedValues?: unknown[];
    limit?: number;
    missingProperty?: string;
    type?: string;
  };
  data?: unknown;
}

/** Rules about a value itself: a number out of range, a text too long, a wrong type. */
const VALUE_RULES = new Set([
  'maximum',
  'minimum',
  'maxLength',
  'minLength',
  'maxItems',
  'minItems',
  'pattern',
  'type',
]);

/**
 * Ajv's errors with what a person can act on first. Inside a union (a graph node's role, its messages) Ajv
 * reports why every variant failed: "role must have required property 'transform'" (the reply variant's) and
 * "must match a schema in anyOf" beside the one that matters, "role/intervalMs must be <= 10000". When some
 * error is about a value, those come first (the deepest first) and the variants' noise is left out.
 */
function relevantFirst(errors: AjvError[]): AjvError[] {
  const values = errors.filter((error) => VALUE_RULES.has(error.keyword ?? ''));
  if (values.length === 0) return errors;
  const depth = (error: AjvError) => (error.instancePath ?? '').split('/').length;
  return values
    .map((error, index) => ({ error, index }))
    .sort((a, b) => depth(b.error) - depth(a.error) || a.index - b.index)
    .map(({ error }) => error);
}

/** Ajv's first error as a text a page can translate. */
function firstAjvProblem(where: string, errors: AjvError[]): ServerText {
  const first = errors[0] ?? {};
  const field = `${where}${first.instancePath ?? ''}`;
  const params = first.params ?? {};
  const limit = typeof params.limit === 'number' ? params.limit : NaN;
  let rule: ValidationRule;
  switch (first.keyword) {
    case 'maximum':
    case 'minimum':
      rule = { kind: first.keyword === 'maximum' ? 'max' : 'min', limit, got: first.data };
      break;
    case 'maxLength':
    case 'minLength':
      rule = { kind: first.keyword, limit, got: first.data };
      break;
    case 'type':
      rule = { kind: 'type', expected: params.type ?? 'another type', got: first.data };
      break;
    case 'required':
      return problemText(`${field}/${params.missingProperty ?? ''}`, { kind: 'required' });
    case 'additionalProperties':
      rule = { kind: 'unknownField', name: params.additionalProperty ?? '' };
      break;
    default:
      rule = { kind: 'invalid', got: first.data };
  }
  return problemText(field, rule);
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
