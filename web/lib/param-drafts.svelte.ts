/**
 * The numeric run parameters as the user types them: a draft per field until it is sent, the error to show next
 * to a field whose draft is invalid, and the PATCH that the valid drafts make. The live session sends them
 * (session.svelte.ts); ParamField and Controls show them.
 */
import { LIMITS, type RunParams } from '../../shared/protocol/index.ts';
import { t, type MessageKey } from './i18n/index.svelte.ts';
import { parseWhole } from './run-model.ts';

/** Run parameters edited as numbers in a text field. */
export type NumericParam = 'intervalMs' | 'tasks' | 'payloadBytes' | 'drainMs';

/** Field names used in messages (keys of the interface strings). */
export const PARAM_LABELS: Record<NumericParam, MessageKey> = {
  intervalMs: 'paramLabel.intervalMs',
  tasks: 'paramLabel.tasks',
  payloadBytes: 'paramLabel.payloadBytes',
  drainMs: 'paramLabel.drainMs',
};

type Parsed = { ok: true; value: number } | { ok: false; message: string };

/** Parses the interval field: an integer within LIMITS.intervalMs, or an error to show next to it. */
export function parseInterval(text: string): Parsed {
  const trimmed = text.trim();
  const { min, max } = LIMITS.intervalMs;
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: t('parse.intervalInvalid', { min, max }) };
  const value = Number(trimmed);
  if (value < min || value > max) return { ok: false, message: t('parse.intervalRange', { min, max }) };
  return { ok: true, value };
}

/** Parses any numeric run parameter field. */
export function parseParam(key: NumericParam, text: string): Parsed {
  return key === 'intervalMs' ? parseInterval(text) : parseWhole(text, LIMITS[key], t(PARAM_LABELS[key]), t);
}

/** The fields being edited. */
export class ParamDrafts {
  /** Text of numeric parameter fields while the user edits them (absent: the playground's value is shown). */
  values = $state.raw<Partial<Record<NumericParam, string>>>({});

  /** The first invalid draft's message, for the help line under the controls. */
  readonly firstError = $derived.by(() => {
    for (const key of Object.keys(this.values) as NumericParam[]) {
      const error = this.error(key);
      if (error) return error;
    }
    return null;
  });

  /** What a field shows: the draft being typed, else `current` (the playground's value). */
  text(key: NumericParam, current: number | undefined): string {
    return this.values[key] ?? String(current ?? '');
  }

  /** The error to show next to a field, if its draft is invalid. */
  error(key: NumericParam): string | null {
    const draft = this.values[key];
    if (draft === undefined) return null;
    const parsed = parseParam(key, draft);
    return parsed.ok ? null : parsed.message;
  }

  edit(key: NumericParam, text: string): void {
    this.values = { ...this.values, [key]: text };
  }

  clear(): void {
    this.values = {};
  }

  /** Drops the drafts of these fields (set some other way). */
  drop(keys: readonly string[]): void {
    const values = { ...this.values };
    for (const key of keys) delete values[key as NumericParam];
    this.values = values;
  }

  /**
   * The valid drafts that differ from `params` (the PATCH to send), the fields whose drafts are valid, and the
   * first invalid draft's message.
   */
  collect(params: RunParams | undefined): {
    patch: Partial<Record<NumericParam, number>>;
    valid: NumericParam[];
    invalid: string | null;
  } {
    const patch: Partial<Record<NumericParam, number>> = {};
    const valid: NumericParam[] = [];
    let invalid: string | null = null;
    for (const [key, text] of Object.entries(this.values) as [NumericParam, string][]) {
      const parsed = parseParam(key, text);
      if (!parsed.ok) {
        invalid ??= parsed.message;
        continue;
      }
      valid.push(key);
      if (parsed.value !== params?.[key]) patch[key] = parsed.value;
    }
    return { patch, valid, invalid };
  }

  /** The drafts of these fields were sent: they go, unless edited meanwhile into something invalid. */
  settle(keys: readonly NumericParam[]): void {
    if (keys.length === 0) return;
    const values = { ...this.values };
    for (const key of keys) if (values[key] !== undefined && parseParam(key, values[key]).ok) delete values[key];
    this.values = values;
  }
}
