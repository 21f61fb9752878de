/**
 * The depth scan that runs before any input is parsed: nesting counted outside strings, escapes honoured, the
 * same answer for a text and its UTF-8 bytes.
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './json-depth.ts';

const both = (json: string, limit?: number) => {
  const asText = jsonDepthExceeds(json, limit);
  expect(jsonDepthExceeds(new TextEncoder().encode(json), limit), json.slice(0, 80)).toBe(asText);
  return asText;
};

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects, up to the limit included', () => {
    expect(both(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
    expect(both(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toBe(true);
    expect(both('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(both('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    // Siblings do not add up: depth, not count.
    expect(both(`[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`, 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
    expect(both(`{"a":"${'['.repeat(500)}"}`, 2)).toBe(false);
    expect(both(`{"a":"\\"${'{'.repeat(500)}"}`, 2)).toBe(false);
    expect(both(`{"a":"\\\\","b":[[[]]]}`, 2)).toBe(true);
    expect(both(`{"ñandú ✓":"🙂[[[","b":[]}`, 2)).toBe(false);
  });

  it('scans a large flat document in one pass', () => {
    const flat = `[${Array.from({ length: 200_000 }, (_, i) => `{"seq":${i},"body":"task ${i} [x]"}`).join(',')}]`;
    expect(both(flat)).toBe(false);
  });
});
