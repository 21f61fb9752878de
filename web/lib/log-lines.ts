/**
 * The event log's lines, as data: what an event says is kept as message keys and parameters (a Phrase) and said
 * in the page's language only when the line is drawn, so a language switch re-says every line already in the log.
 * Pure: the reactive log (event-log.svelte.ts) keeps the lines, EventLog.svelte says them, tests call these.
 */
import { assertNever, type PlaygroundEvent, type WireServerText } from '../../shared/protocol/index.ts';
import { sayText } from '../../shared/protocol/server-text.ts';
import type { Lang, MessageKey, PluralBase, Translate } from './i18n/translate.ts';
import { describeChange } from './run-model.ts';

/** Words kept until they are said: a message key and its parameters, or text that is the same in every language. */
export type Phrase =
  /** Said as it is in every language: addresses, pids, error codes. */
  | { verbatim: string }
  | { key: MessageKey; params?: PhraseParams }
  /** The counted form for n (Intl.PluralRules of the language). */
  | { plural: PluralBase; n: number; params?: PhraseParams }
  /** The server's words: its text in the page's language when it sent one this page knows, else its English. */
  | { server: { message: string; text?: WireServerText } }
  /** A worker:updated event's change ("killed", "work time 0-0 ms"...). */
  | { change: string }
  /** Text the event carries in each language (a lesson check's detail). */
  | { byLang: Readonly<Record<Lang, string>> }
  /** Said one after the other, without spaces. */
  | { parts: readonly Phrase[] };

export type PhraseParams = Readonly<Record<string, string | number | Phrase>>;

/** Says a phrase with `t`, which speaks `lang` (the page's `t` and `locale.lang`, or translatorFor(lang)). */
export function say(phrase: Phrase, t: Translate, lang: Lang): string {
  if ('verbatim' in phrase) return phrase.verbatim;
  if ('key' in phrase) return t(phrase.key, phrase.params && sayParams(phrase.params, t, lang));
  if ('plural' in phrase) return t.plural(phrase.plural, phrase.n, phrase.params && sayParams(phrase.params, t, lang));
  if ('server' in phrase) return (phrase.server.text && sayText(phrase.server.text, lang)) || phrase.server.message;
  if ('change' in phrase) return describeChange(phrase.change, t);
  if ('byLang' in phrase) return phrase.byLang[lang];
  return phrase.parts.map((part) => say(part, t, lang)).join('');
}

function sayParams(params: PhraseParams, t: Translate, lang: Lang): Record<string, string | number> {
  const said: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params))
    said[name] = typeof value === 'object' ? say(value, t, lang) : value;
  return said;
}

/** Colour of a log line. */
export type LogLevel = 'info' | 'good' | 'warn' | 'error';

/** What one event puts in the log: who, what kind, its words and colour. */
export interface LogLine {
  node: string;
  kind: string;
  text: Phrase;
  level: LogLevel;
}

const verbatim = (text: string): Phrase => ({ verbatim: text });

/**
 * The log line of an event, or null for events the log does not list (task events: lost tasks are listed a
 * frame's worth per worker, lostLine; a ventilator that is not blocked). Every event type is named here: a new
 * one does not compile until it says whether it has a line.
 */
export function logLine(event: PlaygroundEvent): LogLine | null {
  switch (event.type) {
    case 'run:started': {
      const p = event.params;
      const text: Phrase =
        event.scenario === 'pipeline'
          ? {
              key: 'log.runStartedPipeline',
              params: {
                tasks: { plural: 'count.task', n: p.tasks },
                interval: p.intervalMs,
                sync: { key: p.syncStart ? 'log.synced' : 'log.notSynced' },
              },
            }
          : {
              key: 'log.runStartedTutorial',
              params: { interval: p.intervalMs, state: { key: p.builtInWorkers ? 'log.on' : 'log.off' } },
            };
      return { node: 'run', kind: 'run:started', text, level: 'good' };
    }
    case 'endpoint:bound': {
      const { name, actual, note, noteText } = event.endpoint;
      const bound = verbatim(`${name} → ${actual ?? '?'}`);
      const text: Phrase =
        note === undefined
          ? bound
          : { parts: [bound, verbatim(' ('), { server: { message: note, text: noteText } }, verbatim(')')] };
      return { node: 'ventilator', kind: 'endpoint:bound', text, level: 'good' };
    }
    case 'socket:event': {
      const address = verbatim(event.address);
      const text: Phrase = event.error
        ? verbatim(`${event.address}: ${event.error}`)
        : event.interval !== undefined
          ? { parts: [address, { key: 'log.retryIn', params: { ms: event.interval } }] }
          : address;
      const level: LogLevel = event.kind.endsWith(':error')
        ? 'error'
        : event.kind === 'handshake' || event.kind === 'bind'
          ? 'good'
          : event.kind === 'disconnect' || event.kind.startsWith('connect:')
            ? 'warn'
            : 'info';
      return { node: event.node, kind: event.kind, text, level };
    }
    case 'worker:connecting':
      return {
        node: event.worker,
        kind: 'worker:connecting',
        text: verbatim(`connect(${event.address})`),
        level: 'info',
      };
    case 'worker:stopped':
      return {
        node: event.worker,
        kind: 'worker:stopped',
        text: { key: event.reason === 'end-marker' ? 'log.stoppedX' : 'log.stoppedEnded' },
        level: 'info',
      };
    case 'worker:updated': {
      const state = event.worker.state;
      const level: LogLevel = state === 'killed' ? 'error' : state === 'hung' ? 'warn' : 'info';
      return { node: event.worker.id, kind: 'worker:updated', text: { change: event.change }, level };
    }
    case 'worker:removed':
      return { node: event.worker, kind: 'worker:removed', text: { key: 'log.removed' }, level: 'warn' };
    case 'worker:process': {
      const action = event.action;
      const level: LogLevel =
        action === 'killed' ? 'error' : action === 'hung' ? 'warn' : action === 'exited' ? 'info' : 'good';
      const text = verbatim(event.pid === null ? action : `pid ${event.pid}`);
      return { node: event.worker, kind: `process:${action}`, text, level };
    }
    case 'sink:bound':
      return { node: 'sink', kind: 'sink:bound', text: verbatim(event.address), level: 'good' };
    case 'options:applied':
      return {
        node: event.node,
        kind: 'options:applied',
        text: { server: { message: event.note, text: event.noteText } },
        level: event.recreated ? 'warn' : 'info',
      };
    case 'peers:changed':
      return {
        node: 'ventilator',
        kind: 'peers:changed',
        text: {
          key: 'log.peers',
          params: { endpoint: event.endpoint, external: event.external, builtIn: event.builtIn },
        },
        level: 'info',
      };
    case 'ventilator:state':
      return event.state === 'blocked'
        ? { node: 'ventilator', kind: 'blocked', text: { key: 'log.blocked' }, level: 'warn' }
        : null;
    case 'lesson:checked':
      return {
        node: 'lesson',
        kind: 'lesson:checked',
        text: {
          parts: [{ key: event.met ? 'log.goalMet' : 'log.goalNotMet' }, verbatim(': '), { byLang: event.detail }],
        },
        level: event.met ? 'good' : 'warn',
      };
    case 'node:error':
      return {
        node: event.node,
        kind: 'node:error',
        text: verbatim(`${event.code}: ${event.message}`),
        level: 'error',
      };
    case 'run:ended':
      return {
        node: 'run',
        kind: 'run:ended',
        text: { key: 'log.runEnded', params: { reason: { key: `reason.${event.reason}` }, n: event.summary.sent } },
        level: event.reason === 'failed' ? 'error' : 'good',
      };
    case 'task:sent':
    case 'task:received':
    case 'task:done':
    case 'task:collected':
    case 'task:lost':
      return null;
    // A graph playground's events (shared/protocol/graph.ts): a pipeline page never receives them.
    case 'graph:started':
    case 'node:bound':
    case 'node:connecting':
    case 'message:sent':
    case 'message:received':
    case 'message:dropped':
    case 'socket:refused':
    case 'node:stopped':
    case 'node:process':
    case 'node:paced':
    case 'link:moved':
    case 'node:added':
    case 'node:removed':
    case 'graph:ended':
      return null;
    default:
      return assertNever(event);
  }
}

/** The line for `n` tasks lost with worker `who` ("unknown" when nobody knows which) in one frame. */
export function lostLine(who: string, n: number): LogLine {
  const text: Phrase =
    who === 'unknown' ? { plural: 'log.lostUnknown', n } : { plural: 'log.lost', n, params: { who } };
  return { node: who, kind: 'task:lost', text, level: 'error' };
}
