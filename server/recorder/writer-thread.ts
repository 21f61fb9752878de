/**
 * The writer thread: its own connection to the run database, a RunWriter, and one report per message, in order.
 * Started by ThreadChannel (channel.ts) through writer-thread.mjs, which registers tsx first; the built server (npm start)
 * starts its bundle, dist/server/writer-thread.js, directly (server/layout.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter } from './channel.ts';
import { RunStore } from './store.ts';
import { importRun } from './export.ts';
import { PackedBatch } from './packed.ts';
import { RunWriter, type WriteReport } from './writer.ts';
import { CodedError } from '../errors.ts';

/** Off the event loop the pipeline uses, a write may wait for the lock of a large import or delete. */
const WRITER_BUSY_TIMEOUT_MS = 30_000;
const RETRY_MS = 100;

const port = parentPort!;
// Interrupted runs were already marked by the main thread's connection when the server started.
const store = RunStore.open((workerData as { location: string }).location, {
  recover: false,
  busyTimeoutMs: WRITER_BUSY_TIMEOUT_MS,
});
const writer = new RunWriter(store);
let retry: NodeJS.Timeout | null = null;

function reply(id: number, report: WriteReport): void {
  port.postMessage({ type: 'report', id, report } satisfies FromWriter);
  if (report.retry && !retry && !store.closed) {
    retry = setTimeout(() => {
      retry = null;
      reply(0, writer.retry());
    }, RETRY_MS);
  }
}

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'batch': {
      // Task events stay in the posted columns: the store encodes their chunks from them (store/chunk-pack.ts).
      const entries = PackedBatch.of(message.events);
      reply(
        message.id,
        writer.write({
          playground: message.playground,
          entries,
          wallClock: message.wallClock,
          overflow: message.overflow,
        }),
      );
      return;
    }
    case 'closePlayground':
      reply(message.id, writer.closePlayground(message.playground));
      return;
    case 'import':
    case 'delete': {
      let result = null;
      let failure = null;
      try {
        if (message.type === 'import') result = importRun(store, message.input, message.owner);
        else store.deleteRun(message.run);
      } catch (error) {
        failure =
          error instanceof CodedError
            ? { code: error.code, message: error.message, text: error.text }
            : { code: null, message: (error as Error).message, text: null };
      }
      port.postMessage({ type: 'done', id: message.id, result, failure } satisfies FromWriter);
      return;
    }
    case 'close': {
      if (retry) clearTimeout(retry);
      retry = null;
      const report = writer.closeAll();
      store.close();
      reply(message.id, report);
      port.close();
      return;
    }
  }
});
