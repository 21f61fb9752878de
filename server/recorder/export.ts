/**
 * Export and import of recorded runs, without HTTP. Exports are generators of text chunks, one store page at a
 * time, so a million-event run is never one string or one array (the route streams them). An import is checked
 * whole by the shared `checkRunExport` before anything is stored, then stored in one transaction.
 */
import { text } from '../../shared/protocol/server-text.ts';
import {
  GRAPH_RUN_EXPORT_FORMAT,
  GRAPH_RUN_EXPORT_VERSION,
  MAX_JSON_DEPTH,
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  checkGraphRunExport,
  checkRunExport,
  jsonDepthExceeds,
  type ExportedGraphRun,
  type ExportedRun,
  type GraphRunExport,
  type RunExport,
  type RecordedGraphRunDetail,
  type RecordedRunDetail,
} from '../../shared/protocol/index.ts';
import type { RunStore } from './store.ts';
import type { RecordingStore, TaskRow } from './store-api.ts';
import { CodedError } from '../errors.ts';

/** Events read from the store per page of an export. */
export const EXPORT_PAGE = 2000;

/**
 * The export's `run` part: the stored detail without what only this server knows (status running, source, who
 * may read it: an import belongs to whoever imports it).
 */
export function exportedRun(detail: RecordedRunDetail): ExportedRun {
  // An export carries the name as it reads (in English when it is the server's own): the document keeps its shape.
  const { source: _source, public: _public, owned: _owned, defaultName: _defaultName, status, ...rest } = detail;
  return { ...rest, status: status === 'ended' ? 'ended' : 'incomplete' };
}

/** A graph run's `run` part: its detail without what only this server knows, as exportedRun. */
export function exportedGraphRun(detail: RecordedGraphRunDetail): ExportedGraphRun {
  const {
    source: _source,
    public: _public,
    owned: _owned,
    defaultName: _defaultName,
    summary: _summary,
    workers: _workers,
    status,
    ...rest
  } = detail;
  return { ...rest, status: status === 'ended' ? 'ended' : 'incomplete' };
}

export interface Export {
  run: RecordedRunDetail | RecordedGraphRunDetail;
  /** Suggested file name, without extension. */
  fileName: string;
  /** The text, a store page at a time (read as the consumer asks: a stream's back-pressure holds the reads). */
  chunks: AsyncIterable<string>;
}

/** A safe file name from the run's name and id: letters, digits, dot, dash and underscore. */
function fileNameOf(run: RecordedRunDetail | RecordedGraphRunDetail): string {
  const name = run.name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${name || 'run'}-${run.id}`;
}

/**
 * The versioned JSON document of one run (format, version, exportedAt, run, events). Throws at once for an unknown
 * or still-running run; the chunks are produced as they are read, up to the lastSeq the run had when the export
 * began (a late monitor event stored meanwhile is left out, consistently with run.eventCount). Should the run
 * be deleted while it is streamed, the stream fails instead of ending as a valid-looking but shorter file.
 */
export async function exportJson(store: RecordingStore, id: string, now = new Date()): Promise<Export> {
  const found = await store.exportable(id);
  const { pk, run } = found;
  async function* chunks(): AsyncGenerator<string> {
    // A graph run has a format of its own (shared/protocol/graph-history.ts): a pipeline export keeps its shape.
    const head = found.graph
      ? {
          format: GRAPH_RUN_EXPORT_FORMAT,
          version: GRAPH_RUN_EXPORT_VERSION,
          exportedAt: now.toISOString(),
          run: exportedGraphRun(found.run),
        }
      : {
          format: RUN_EXPORT_FORMAT,
          version: RUN_EXPORT_VERSION,
          exportedAt: now.toISOString(),
          run: exportedRun(found.run),
        };
    yield `${JSON.stringify(head).slice(0, -1)},"events":[\n`;
    let afterSeq = 0;
    let written = 0;
    for (;;) {
      const page = await store.eventsAfter(pk, afterSeq, run.lastSeq, EXPORT_PAGE);
      if (page.length === 0) break;
      yield (written === 0 ? '' : ',\n') + page.map((row) => row.json).join(',\n');
      written += page.length;
      afterSeq = page[page.length - 1]!.seq;
    }
    if (written !== run.eventCount)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('record.changedDuringExport', { run: id, written, total: run.eventCount }),
      );
    yield '\n]}\n';
  }
  return { run, fileName: fileNameOf(run), chunks: chunks() };
}

/** The whole text of an export, as one string (tests, benches; a server streams the chunks instead). */
export async function exportText(exported: Export | Promise<Export>): Promise<string> {
  let text = '';
  for await (const chunk of (await exported).chunks) text += chunk;
  return text;
}

export const CSV_HEADER = 'seq,t,type,task,worker,body';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A text starting with
 * = + - @ TAB or CR is prefixed with ' so a spreadsheet shows it instead of running it as a formula.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(row: TaskRow): string {
  return `${row.seq},${row.t},${csvField(row.type)},${csvField(row.task)},${csvField(row.worker)},${csvField(row.body)}\r\n`;
}

/**
 * The run's task events (every task:* type) as CSV: seq,t,type,task,worker,body; CRLF line ends. A graph run has
 * none: its CSV is the header alone.
 */
export async function exportCsv(store: RecordingStore, id: string): Promise<Export> {
  const { pk, run } = await store.exportable(id);
  async function* chunks(): AsyncGenerator<string> {
    yield `${CSV_HEADER}\r\n`;
    let afterSeq = 0;
    for (;;) {
      const page = await store.tasksAfter(pk, afterSeq, run.lastSeq, EXPORT_PAGE);
      if (page.length === 0) break;
      yield page.map(csvLine).join('');
      afterSeq = page[page.length - 1]!.seq;
    }
  }
  return { run, fileName: fileNameOf(run), chunks: chunks() };
}

/** A checked export, ready to store: a pipeline run's or a graph run's. */
export type CheckedImport = { graph: false; doc: RunExport } | { graph: true; doc: GraphRunExport };

/**
 * Checks an export document (its text, its UTF-8 bytes, or an already-parsed value) whole, storing nothing: a
 * pipeline run's, or a graph run's (its own format). A refusal is a CodedError PG_ERR_IMPORT whose message says
 * what is wrong.
 */
export function checkImport(input: unknown): CheckedImport {
  // The checks below recurse once per level: a file of nested brackets would overflow the stack. Bounded on the
  // raw bytes (or text), before anything parses or walks it; an already-parsed value comes from our own code.
  if ((input instanceof Uint8Array || typeof input === 'string') && jsonDepthExceeds(input, MAX_JSON_DEPTH)) {
    throw new CodedError('PG_ERR_IMPORT', text('import.tooDeep', { limit: MAX_JSON_DEPTH }));
  }
  if (input instanceof Uint8Array) input = new TextDecoder('utf-8', { fatal: false }).decode(input);
  let value: unknown = input;
  if (typeof input === 'string') {
    if (input.trim() === '') throw new CodedError('PG_ERR_IMPORT', text('import.empty'));
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new CodedError('PG_ERR_IMPORT', text('import.notJson', { detail: (error as Error).message }));
    }
  }
  if ((value as { format?: unknown } | null)?.format === GRAPH_RUN_EXPORT_FORMAT) {
    const graph = checkGraphRunExport(value);
    if (!graph.ok) throw new CodedError('PG_ERR_IMPORT', graph.text, { message: graph.message });
    return { graph: true, doc: graph.value };
  }
  const checked = checkRunExport(value);
  if (!checked.ok) throw new CodedError('PG_ERR_IMPORT', checked.text, { message: checked.message });
  return { graph: false, doc: checked.value };
}

/**
 * Imports an export document as a new run into a SQLite RunStore, synchronously (the writer thread, the inline
 * channel): checked whole first (checkImport), then stored in one transaction.
 */
export function importRun(
  store: RunStore,
  input: unknown,
  owner: string | null = null,
): RecordedRunDetail | RecordedGraphRunDetail {
  const checked = checkImport(input);
  return checked.graph ? store.importGraphRun(checked.doc, owner) : store.importRun(checked.doc, owner);
}

/** The same into any recording store (a write channel of a store without a writer thread of its own uses it). */
export async function importInto(
  store: RecordingStore,
  input: unknown,
  owner: string | null = null,
): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
  const checked = checkImport(input);
  return checked.graph ? store.importGraphRun(checked.doc, owner) : store.importRun(checked.doc, owner);
}
