/**
 * Encoding and validating wire messages, used unchanged by the server and the browser.
 * Validation picks the variant by its `type` first, so an error names the exact field that is wrong
 * instead of TypeBox's generic "expected union value".
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject, TSchema, TUnion } from '@sinclair/typebox';
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

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

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
      return { ok: false, code: 'PG_ERR_BAD_MESSAGE', message: `A ${this.#what} must be a JSON object with a "type".` };
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') {
      return { ok: false, code: 'PG_ERR_BAD_MESSAGE', message: `A ${this.#what} needs a string "type" field.` };
    }
    const checker = this.#byType.get(type);
    if (!checker) {
      return {
        ok: false,
        code: 'PG_ERR_UNKNOWN_COMMAND',
        message: `Unknown ${this.#what} type "${type.slice(0, 40)}". Known: ${this.types.join(', ')}.`,
      };
    }
    if (checker.Check(value)) return { ok: true, value: value as T };
    return { ok: false, code: 'PG_ERR_VALIDATION', message: `${type}: ${describeErrors(checker, value)}` };
  }
}

/** The first few validation errors as one readable sentence: "/params/intervalMs must be <= 10000 (got 20000)". */
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

function parse(text: string, maxBytes: number): Decoded<unknown> {
  if (text.length > maxBytes) {
    return { ok: false, code: 'PG_ERR_BAD_MESSAGE', message: `Message too large (${text.length} bytes, limit ${maxBytes}).` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, code: 'PG_ERR_BAD_JSON', message: `Not valid JSON: ${(error as Error).message}` };
  }
}

/** Decodes a command a browser (or script) sent on the WebSocket. */
export function decodeCommand(text: string): Decoded<ClientCommandT> {
  const parsed = parse(text, MAX_COMMAND_BYTES);
  return parsed.ok ? commandChecker.check(parsed.value) : parsed;
}

/** Validates an already-parsed command (the HTTP routes receive parsed bodies). */
export function checkCommand(value: unknown): Decoded<ClientCommandT> {
  return commandChecker.check(value);
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
  return { ok: false, code: 'PG_ERR_VALIDATION', message: `params: ${describeErrors(paramsChecker, value)}` };
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
