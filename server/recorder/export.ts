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
  type RecordedGraphRunDetail,
  type RecordedRunDetail,
} from '../../shared/protocol/index.ts';
import type { RunStore, TaskRow } from './store.ts';
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
  chunks: Iterable<string>;
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
export function exportJson(store: RunStore, id: string, now = new Date()): Export {
  const found = store.exportable(id);
  const { pk, run } = found;
  function* chunks(): Generator<string> {
    // A graph run has a format of its own (shared/protocol/graph-history.ts): a pipeline export keeps its shape.
    const head =
      'graph' in found
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
      const page = store.eventsAfter(pk, afterSeq, run.lastSeq, EXPORT_PAGE);
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
export function exportCsv(store: RunStore, id: string): Export {
  const { pk, run } = store.exportable(id);
  function* chunks(): Generator<string> {
    yield `${CSV_HEADER}\r\n`;
    let afterSeq = 0;
    for (;;) {
      const page = store.tasksAfter(pk, afterSeq, run.lastSeq, EXPORT_PAGE);
      if (page.length === 0) break;
      yield page.map(csvLine).join('');
      afterSeq = page[page.length - 1]!.seq;
    }
  }
  return { run, fileName: fileNameOf(run), chunks: chunks() };
}

/**
 * Imports an export document (its text, its UTF-8 bytes, or an already-parsed value) as a new run: a pipeline
 * run's, or a graph run's (its own format). Everything is checked before anything is stored; a refusal is a
 * CodedError PG_ERR_IMPORT whose message says what is wrong.
 */
export function importRun(
  store: RunStore,
  input: unknown,
  owner: string | null = null,
): RecordedRunDetail | RecordedGraphRunDetail {
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
    return store.importGraphRun(graph.value, owner);
  }
  const checked = checkRunExport(value);
  if (!checked.ok) throw new CodedError('PG_ERR_IMPORT', checked.text, { message: checked.message });
  return store.importRun(checked.value, owner);
}
