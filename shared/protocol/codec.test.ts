import { describe, expect, it } from 'vitest';
import {
  COMMAND_TYPES,
  EVENT_TYPES,
  MAX_COMMAND_BYTES,
  SERVER_MESSAGE_TYPES,
  checkEvent,
  checkParams,
  decodeCommand,
  decodeServerMessage,
  encode,
} from './index.ts';
import {
  INVALID_COMMANDS,
  INVALID_EVENTS,
  INVALID_SERVER_MESSAGES,
  VALID_COMMANDS,
  VALID_EVENTS,
  VALID_SERVER_MESSAGES,
} from './fixtures.ts';

describe('fixtures cover the whole protocol', () => {
  it('has a valid and an invalid sample of every event, server message and command', () => {
    expect(Object.keys(VALID_EVENTS).sort()).toEqual([...EVENT_TYPES].sort());
    expect(Object.keys(INVALID_EVENTS).sort()).toEqual([...EVENT_TYPES].sort());
    expect(Object.keys(VALID_SERVER_MESSAGES).sort()).toEqual([...SERVER_MESSAGE_TYPES].sort());
    expect(Object.keys(INVALID_SERVER_MESSAGES).sort()).toEqual([...SERVER_MESSAGE_TYPES].sort());
    expect(Object.keys(VALID_COMMANDS).sort()).toEqual([...COMMAND_TYPES].sort());
    expect(Object.keys(INVALID_COMMANDS).sort()).toEqual([...COMMAND_TYPES].sort());
  });
});

describe('events', () => {
  for (const type of EVENT_TYPES) {
    it(`accepts a valid ${type} and refuses one with ${INVALID_EVENTS[type as keyof typeof INVALID_EVENTS].why}`, () => {
      const valid = VALID_EVENTS[type as keyof typeof VALID_EVENTS];
      expect(checkEvent(JSON.parse(JSON.stringify(valid)))).toEqual({ ok: true, value: valid });
      const invalid = checkEvent(INVALID_EVENTS[type as keyof typeof INVALID_EVENTS].value);
      expect(invalid.ok).toBe(false);
      if (!invalid.ok) expect(invalid.code).toBe('PG_ERR_VALIDATION');
    });
  }
});

describe('server messages', () => {
  for (const type of SERVER_MESSAGE_TYPES) {
    it(`round-trips a valid ${type} and refuses an invalid one`, () => {
      const valid = VALID_SERVER_MESSAGES[type as keyof typeof VALID_SERVER_MESSAGES];
      expect(decodeServerMessage(encode(valid))).toEqual({ ok: true, value: valid });
      const invalid = decodeServerMessage(
        JSON.stringify(INVALID_SERVER_MESSAGES[type as keyof typeof INVALID_SERVER_MESSAGES].value),
      );
      expect(invalid.ok).toBe(false);
    });
  }
});

describe('commands', () => {
  for (const type of COMMAND_TYPES) {
    it(`round-trips a valid ${type} and names the field of an invalid one`, () => {
      const valid = VALID_COMMANDS[type as keyof typeof VALID_COMMANDS];
      expect(decodeCommand(encode(valid))).toEqual({ ok: true, value: valid });
      const invalid = decodeCommand(JSON.stringify(INVALID_COMMANDS[type as keyof typeof INVALID_COMMANDS].value));
      expect(invalid).toMatchObject({ ok: false, code: 'PG_ERR_VALIDATION' });
      if (!invalid.ok) expect(invalid.message.startsWith(`${type}:`)).toBe(true);
    });
  }

  it('[W3] tells malformed JSON, unknown commands and wrong fields apart', () => {
    expect(decodeCommand('{"type": "run:start"')).toMatchObject({ ok: false, code: 'PG_ERR_BAD_JSON' });
    expect(decodeCommand('[1,2]')).toMatchObject({ ok: false, code: 'PG_ERR_BAD_MESSAGE' });
    expect(decodeCommand('{"kind":"run:start"}')).toMatchObject({ ok: false, code: 'PG_ERR_BAD_MESSAGE' });
    const unknown = decodeCommand('{"type":"rm -rf"}');
    expect(unknown).toMatchObject({ ok: false, code: 'PG_ERR_UNKNOWN_COMMAND' });
    if (!unknown.ok) expect(unknown.message).toContain('run:start');
    const wrong = decodeCommand('{"type":"run:start","params":{"intervalMs":-5}}');
    expect(wrong).toMatchObject({ ok: false, code: 'PG_ERR_VALIDATION' });
    if (!wrong.ok) expect(wrong.message).toContain('/params/intervalMs');
  });

  it('[W2] refuses an oversized command before parsing it', () => {
    const huge = JSON.stringify({ type: 'run:stop', pad: 'x'.repeat(MAX_COMMAND_BYTES) });
    expect(decodeCommand(huge)).toMatchObject({ ok: false, code: 'PG_ERR_BAD_MESSAGE' });
  });

  it('[W4] refuses unknown and out-of-range parameters', () => {
    expect(checkParams({ intervalMs: 10_000 }).ok).toBe(true);
    expect(checkParams({ intervalMs: 10_001 }).ok).toBe(false);
    expect(checkParams({ tasks: 0 }).ok).toBe(false);
    expect(checkParams({ tasks: 1e12 }).ok).toBe(false);
    expect(checkParams({ intervalMs: '100' }).ok).toBe(false);
    const unknown = checkParams({ speed: 'fast' });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.message).toContain('speed');
  });
});
