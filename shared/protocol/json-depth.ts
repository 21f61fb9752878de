/**
 * How deeply a JSON text nests, found without parsing it. Every walk over a parsed value (validation, error
 * messages, JSON.stringify) recurses once per level, so a 20 KB text of brackets is enough to overflow the stack
 * of whatever walks it first. The depth is therefore bounded on the raw text, before anything parses or walks it:
 * one linear pass, no allocation, counting `[` and `{` outside strings.
 */

/** The deepest nesting any input of this server may have. Real messages and exports nest less than 10 levels. */
export const MAX_JSON_DEPTH = 64;

const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d; // ]
const CLOSE_OBJECT = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * True when `input` opens more than `limit` arrays or objects inside one another. It does not judge whether the
 * text is valid JSON (the parser does that next): unbalanced brackets only make the answer conservative.
 * `input` may be a string or UTF-8 bytes; in UTF-8 the bytes of these six ASCII characters never occur inside a
 * multi-byte character, so both are scanned the same way.
 */
export function jsonDepthExceeds(input: string | Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  return typeof input === 'string' ? scanText(input, limit) : scanBytes(input, limit);
}

function scanText(input: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH)
        i++; // the escaped character, whatever it is, neither ends the string nor nests
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

function scanBytes(input: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
