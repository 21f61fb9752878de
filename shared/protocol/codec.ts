/**
 * Encoding and validating wire messages, used unchanged by the server and the browser.
 * Validation picks the variant by its `type` first, so an error names the exact field that is wrong
 * instead of TypeBox's generic "expected union value".
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject, TSchema, TUnion } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { english, text, type ServerText } from './server-text.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './json-depth.ts';
import {
  ClientCommand,
  PlaygroundEvent,
  RunParamsPatch,
  ServerMessage,
  type ErrorCode,
  type PlaygroundEvent as PlaygroundEventT,
  type RunParamsPatch as RunParamsPatchT,
  type ServerMessage as ServerMessageT,
  type ClientCommand as ClientCommandT,
} from './schema.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; text: ServerText };

/** A compiled checker per `type` literal of a tagged union. */
class TaggedUnionChecker<T> {
  readonly #byType = new Map<string, TypeCheck<TSchema>>();
  readonly #what: string;

  constructor(union: TUnion<TObject[]>, what: string) {
    this.#what = what;
    for (const variant of union.anyOf) {
      const tag = (variant.properties.type as { const?: unknown } | undefined)?.const;
      if (typeof tag !== 'string') throw new Error(`${what} variant without a literal type`);
      this.#byType.set(tag, TypeCompiler.Compile(variant));
    }
  }

  get types(): string[] {
    return [...this.#byType.keys()];
  }

  check(value: unknown): Decoded<T> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return failure('PG_ERR_BAD_MESSAGE', text('message.notObject', { what: this.#what }));
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') return failure('PG_ERR_BAD_MESSAGE', text('message.noType', { what: this.#what }));
    const checker = this.#byType.get(type);
    if (!checker) {
      return failure(
        'PG_ERR_UNKNOWN_COMMAND',
        text('message.unknownType', { what: this.#what, type: type.slice(0, 40), known: this.types.join(', ') }),
      );
    }
    if (checker.Check(value)) return { ok: true, value: value as T };
    return {
      ok: false,
      code: 'PG_ERR_VALIDATION',
      message: `${type}: ${describeErrors(checker, value)}`,
      text: text('message.invalid', { type, problem: firstProblem(checker, value) }),
    };
  }
}

/** The first few validation errors as one readable sentence: "/params/intervalMs must be <= 10000 (got 20000)". */
function failure(
  code: ErrorCode,
  message: ServerText,
): { ok: false; code: ErrorCode; message: string; text: ServerText } {
  return { ok: false, code, message: english(message), text: message };
}

const shownValue = (value: unknown): string =>
  value === undefined ? '—' : (JSON.stringify(value)?.slice(0, 40) ?? String(value));

/** One validation problem as a text: the field and the rule it breaks, for any reader's language. */
export function problemText(field: string, rule: ValidationRule): ServerText {
  switch (rule.kind) {
    case 'max':
    case 'min':
    case 'maxLength':
    case 'minLength':
      return text(`validation.${rule.kind}`, { field, limit: rule.limit, got: shownValue(rule.got) });
    case 'type':
      return text('validation.type', { field, expected: rule.expected, got: shownValue(rule.got) });
    case 'required':
      return text('validation.required', { field });
    case 'unknownField':
      return text('validation.unknownField', { field, name: rule.name });
    default:
      return text('validation.invalid', { field, got: shownValue(rule.got) });
  }
}

export type ValidationRule =
  | { kind: 'max' | 'min' | 'maxLength' | 'minLength'; limit: number; got: unknown }
  | { kind: 'type'; expected: string; got: unknown }
  | { kind: 'required' }
  | { kind: 'unknownField'; name: string }
  | { kind: 'invalid'; got: unknown };

/** TypeBox's first error, as a rule. */
function ruleOf(error: ValueError): ValidationRule {
  const schema = error.schema as {
    maximum?: number;
    minimum?: number;
    maxLength?: number;
    minLength?: number;
    type?: unknown;
  };
  switch (error.type) {
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return { kind: 'max', limit: schema.maximum ?? NaN, got: error.value };
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return { kind: 'min', limit: schema.minimum ?? NaN, got: error.value };
    case ValueErrorType.StringMaxLength:
      return { kind: 'maxLength', limit: schema.maxLength ?? NaN, got: error.value };
    case ValueErrorType.StringMinLength:
      return { kind: 'minLength', limit: schema.minLength ?? NaN, got: error.value };
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.String:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
      return error.value === undefined
        ? { kind: 'required' }
        : { kind: 'type', expected: String(schema.type ?? 'another type'), got: error.value };
    case ValueErrorType.ObjectAdditionalProperties:
      return { kind: 'unknownField', name: error.path.split('/').pop() ?? '' };
    case ValueErrorType.ObjectRequiredProperty:
      return { kind: 'required' };
    default:
      return error.value === undefined ? { kind: 'required' } : { kind: 'invalid', got: error.value };
  }
}

/** The first problem TypeBox finds in `value`, as a text (the English `message` lists up to three). */
export function firstProblem(checker: TypeCheck<TSchema>, value: unknown): ServerText {
  const first = checker.Errors(value).First();
  if (!first) return text('validation.invalid', { field: 'the message', got: shownValue(value) });
  const rule = ruleOf(first);
  // An unknown field is reported at its own path; name the object that holds it.
  const path = rule.kind === 'unknownField' ? first.path.slice(0, first.path.lastIndexOf('/')) : first.path;
  return problemText(path === '' ? 'the message' : path, rule);
}

export function describeErrors(checker: TypeCheck<TSchema>, value: unknown, max = 3): string {
  const parts: string[] = [];
  for (const error of checker.Errors(value)) {
    const where = error.path === '' ? 'the message' : error.path;
    const got = error.value === undefined ? 'missing' : JSON.stringify(error.value)?.slice(0, 40);
    // Only the first letter is lowered: the rest may quote a pattern or a value, which must stay exact.
    const text = `${where}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)} (got ${got})`;
    if (!parts.includes(text)) parts.push(text);
    if (parts.length >= max) break;
  }
  return parts.join('; ') || 'invalid value';
}

const commandChecker = new TaggedUnionChecker<ClientCommandT>(ClientCommand as TUnion<TObject[]>, 'command');
const serverChecker = new TaggedUnionChecker<ServerMessageT>(ServerMessage as TUnion<TObject[]>, 'server message');
const eventChecker = new TaggedUnionChecker<PlaygroundEventT>(PlaygroundEvent as TUnion<TObject[]>, 'event');
const paramsChecker = TypeCompiler.Compile(RunParamsPatch);

/** The largest frame either side accepts; a bigger one is refused before parsing. */
export const MAX_COMMAND_BYTES = 64 * 1024;

export { MAX_JSON_DEPTH, jsonDepthExceeds } from './json-depth.ts';

/** `maxDepth`: refuse deeper nesting before parsing, since validating it would overflow the stack (json-depth.ts). */
function parse(raw: string, maxBytes: number, maxDepth = Infinity): Decoded<unknown> {
  if (raw.length > maxBytes)
    return failure('PG_ERR_BAD_MESSAGE', text('message.tooLarge', { size: raw.length, limit: maxBytes }));
  if (maxDepth !== Infinity && jsonDepthExceeds(raw, maxDepth)) {
    return failure('PG_ERR_BAD_MESSAGE', text('message.tooDeep', { limit: maxDepth }));
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return failure('PG_ERR_BAD_JSON', text('message.notJson', { detail: (error as Error).message }));
  }
}

/** Decodes a command a browser (or script) sent on the WebSocket. */
export function decodeCommand(text: string): Decoded<ClientCommandT> {
  const parsed = parse(text, MAX_COMMAND_BYTES, MAX_JSON_DEPTH);
  return parsed.ok ? commandChecker.check(parsed.value) : parsed;
}

/** Decodes a frame from the server; the browser drops (and counts) what fails. */
export function decodeServerMessage(text: string): Decoded<ServerMessageT> {
  const parsed = parse(text, Number.MAX_SAFE_INTEGER);
  return parsed.ok ? serverChecker.check(parsed.value) : parsed;
}

/** Validates one event (used on recorded runs and imports). */
export function checkEvent(value: unknown): Decoded<PlaygroundEventT> {
  return eventChecker.check(value);
}

/** Validates a partial set of run parameters from any source. */
export function checkParams(value: unknown): Decoded<RunParamsPatchT> {
  if (paramsChecker.Check(value)) return { ok: true, value };
  return {
    ok: false,
    code: 'PG_ERR_VALIDATION',
    message: `params: ${describeErrors(paramsChecker, value)}`,
    text: text('message.invalid', { type: 'params', problem: firstProblem(paramsChecker, value) }),
  };
}

export function encode(message: ServerMessageT | ClientCommandT): string {
  return JSON.stringify(message);
}

export const COMMAND_TYPES = commandChecker.types;
export const EVENT_TYPES = eventChecker.types;
export const SERVER_MESSAGE_TYPES = serverChecker.types;

/** Exhaustiveness guard for `switch (x.type)` over a protocol union. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled variant: ${JSON.stringify(value)}`);
}
