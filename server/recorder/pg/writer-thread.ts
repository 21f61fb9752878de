/**
 * The PostgreSQL writer thread: the SQLite writer thread's messages (ToWriter / FromWriter in ../channel.ts, whose
 * ThreadChannel starts it), over a pool of its own. Off the event loop the pipeline shares: rebuilding each batch's
 * events, packing task events into chunks, building the statements' arrays, and an import's parse and checks (a
 * 100 MB file) all run here; PostgreSQL does the storing in its own processes. Messages are handled one after the
 * other, each answered in order. Started through writer-thread.mjs (tsx) from the sources, or as the built
 * pg-writer-thread.js (server/layout.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterFailure } from '../channel.ts';
import { checkImport } from '../export.ts';
import { PackedBatch } from '../packed.ts';
import { toDetail, toGraphDetail } from '../store/reads.ts';
import type { WriteReport } from '../writer.ts';
import { CodedError } from '../../errors.ts';
import { importGraphRun, importRun } from './import.ts';
import { runRow } from './reads.ts';
import { connect } from './schema.ts';
import { PgRunWriter, transaction } from './writer.ts';
import { deleteRun } from './writes.ts';

const RETRY_MS = 100;
/** Connections of the thread: one writes the recorders' batches, the others serve an import or delete meanwhile. */
const THREAD_CONNECTIONS = 3;

const port = parentPort!;
const { url, instance } = workerData as { url: string; instance: string | null };
// The main thread connected and migrated already: an error here is the thread's failure, and the channel then
// writes on the main thread.
const pool = await connect(url, THREAD_CONNECTIONS);
const writer = new PgRunWriter(pool, instance);
let retry: NodeJS.Timeout | null = null;
let closed = false;
/** The message being handled: the next waits for it. */
let tail: Promise<void> = Promise.resolve();

function reply(id: number, report: WriteReport): void {
  port.postMessage({ type: 'report', id, report } satisfies FromWriter);
  if (report.retry && !retry && !closed) {
    retry = setTimeout(() => {
      retry = null;
      tail = tail.then(async () => reply(0, await writer.retry()));
    }, RETRY_MS);
  }
}

function failureOf(error: unknown): WriterFailure {
  return error instanceof CodedError
    ? { code: error.code, message: error.message, text: error.text }
    : { code: null, message: (error as Error).message, text: null };
}

async function handle(message: ToWriter): Promise<void> {
  switch (message.type) {
    case 'batch': {
      // Task events stay in the posted columns: the chunks are encoded from them (store/chunk-pack.ts).
      const entries = PackedBatch.of(message.events);
      const { playground, wallClock, overflow } = message;
      reply(message.id, await writer.write({ playground, entries, wallClock, overflow }));
      return;
    }
    case 'closePlayground':
      reply(message.id, await writer.closePlayground(message.playground));
      return;
    case 'import':
    case 'delete': {
      let result: Extract<FromWriter, { type: 'done' }>['result'] = null;
      let failure: WriterFailure | null = null;
      try {
        if (message.type === 'import') {
          const checked = checkImport(message.input);
          const id = checked.graph
            ? await importGraphRun(pool, checked.doc, message.owner)
            : await importRun(pool, checked.doc, message.owner);
          const row = await runRow(pool, id);
          const visitor = message.owner ?? undefined;
          result = checked.graph ? toGraphDetail(row, visitor) : toDetail(row, visitor);
        } else await transaction(pool, (client) => deleteRun(client, message.run));
      } catch (error) {
        failure = failureOf(error);
      }
      port.postMessage({ type: 'done', id: message.id, result, failure } satisfies FromWriter);
      return;
    }
    case 'close': {
      if (retry) clearTimeout(retry);
      retry = null;
      closed = true;
      const report = await writer.closeAll();
      await pool.end();
      reply(message.id, report);
      port.close();
      return;
    }
  }
}

port.on('message', (message: ToWriter) => {
  tail = tail.then(() =>
    handle(message).catch((error: unknown) => {
      // The writer reports its own failures; this is a bug or a lost pool: say so for the message, go on.
      const report: WriteReport = {
        recorded: 0,
        dropped: message.type === 'batch' ? message.events.count : 0,
        flushes: 0,
        errors: [
          { message: `the PostgreSQL writer thread: ${(error as Error).message}`, at: new Date().toISOString() },
        ],
        retry: false,
      };
      if (message.type === 'import' || message.type === 'delete')
        port.postMessage({
          type: 'done',
          id: message.id,
          result: null,
          failure: failureOf(error),
        } satisfies FromWriter);
      else reply(message.id, report);
    }),
  );
});
