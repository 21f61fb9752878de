/**
 * Export and import without HTTP: the JSON export comes in page-sized chunks (never one string), stops at the
 * lastSeq the run had when it began, and round-trips through importRun; CSV fields are quoted per RFC 4180.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RUN_EXPORT_VERSION,
  checkRunExport,
  type PlaygroundEvent,
  type RunExport,
} from '../../shared/protocol/index.ts';
import { RunLog } from './run-log.ts';
import { Recorder } from './recorder.ts';
import { RunStore } from './store.ts';
import { EXPORT_PAGE, csvField, exportCsv, exportJson, exportText, importRun } from './export.ts';
import { SqliteRecordingStore } from './sqlite-store.ts';
import { syntheticEvents } from '../../test/recording.ts';

let store: RunStore;
/** The storage interface over `store`: what the export reads through. */
let recording: SqliteRecordingStore;
beforeEach(() => {
  store = RunStore.open(':memory:');
  recording = new SqliteRecordingStore(store);
});
afterEach(() => store.close());

function recordSynthetic(run: string, count: number): { log: RunLog; recorder: Recorder } {
  const log = new RunLog();
  const recorder = new Recorder(store, { id: 'pg-export', scenario: { id: 'tutorial', title: 'The tutorial' }, log });
  for (const event of syntheticEvents(run, { count })) log.append(event);
  recorder.flush();
  return { log, recorder };
}

describe('export', () => {
  it('streams a 10,000-event run in page-sized chunks that join into a valid, importable document', async () => {
    const { recorder } = recordSynthetic('run-000e0001', 10_000);
    const exported = await exportJson(recording, 'run-000e0001', new Date('2026-11-27T10:00:00Z'));
    const chunks: string[] = [];
    for await (const chunk of exported.chunks) chunks.push(chunk);
    expect(chunks.length).toBe(2 + Math.ceil(10_000 / EXPORT_PAGE));
    const largest = Math.max(...chunks.map((c) => c.length));
    expect(largest).toBeLessThan(10_000 * 40); // a page, not the run
    const doc = JSON.parse(chunks.join('')) as RunExport;
    expect(doc).toMatchObject({
      version: RUN_EXPORT_VERSION,
      exportedAt: '2026-11-27T10:00:00.000Z',
      run: { id: 'run-000e0001', eventCount: 10_000 },
    });
    expect(checkRunExport(doc)).toMatchObject({ ok: true });
    const copy = importRun(store, chunks.join(''));
    expect(copy).toMatchObject({
      eventCount: 10_000,
      firstSeq: 1,
      lastSeq: 10_000,
      source: 'imported',
      status: 'ended',
    });
    expect(exported.fileName).toBe('The-tutorial-1-run-000e0001');
    recorder.close();
  });

  it('exports the events the run had when the export began, even if a late one is stored meanwhile', async () => {
    const { log, recorder } = recordSynthetic('run-000e0002', 5000);
    const exported = await exportJson(recording, 'run-000e0002');
    const iterator = exported.chunks[Symbol.asyncIterator]();
    const first = [(await iterator.next()).value, (await iterator.next()).value];
    // A late monitor event of the run arrives between two pages.
    log.append({ type: 'ventilator:state', state: 'idle', run: 'run-000e0002', t: 9999 } as PlaygroundEvent);
    recorder.flush();
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    const doc = JSON.parse([...first, ...rest].join('')) as RunExport;
    expect(doc.events).toHaveLength(5000);
    expect(checkRunExport(doc)).toMatchObject({ ok: true });
    expect(store.getRun('run-000e0002').eventCount).toBe(5001);
    recorder.close();
  });

  it('fails the stream, rather than ending a short file, when the run is deleted during the export', async () => {
    const { recorder } = recordSynthetic('run-000e0003', 5000);
    const iterator = (await exportJson(recording, 'run-000e0003')).chunks[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    store.deleteRun('run-000e0003');
    await expect(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next());
      })(),
    ).rejects.toThrow(/changed while it was exported/);
    recorder.close();
  });

  it('[R6] refuses an import whose summary its events do not add up to (issue 9.12), in any order of the events', async () => {
    const { recorder } = recordSynthetic('run-000e0005', 200);
    const text = await exportText(exportJson(recording, 'run-000e0005'));
    recorder.close();
    const doc = JSON.parse(text) as RunExport;
    expect(checkRunExport(doc)).toMatchObject({ ok: true });
    // A result may now overtake its receipt: the order of task events is not what is checked.
    const reordered = structuredClone(doc);
    const [a, b] = [reordered.events[1]!, reordered.events[2]!];
    [a.seq, b.seq, a.t, b.t] = [b.seq, a.seq, b.t, a.t];
    reordered.events[1] = b;
    reordered.events[2] = a;
    expect(checkRunExport(reordered)).toMatchObject({ ok: true });

    // The summary edited: one more task sent than the events show. In the run:ended event and in run.summary alike.
    const edited = structuredClone(doc);
    const ended = edited.events.at(-1) as Extract<PlaygroundEvent, { type: 'run:ended' }>;
    ended.summary.sent += 1;
    expect(checkRunExport(edited)).toMatchObject({
      ok: false,
      text: { key: 'import.summaryMismatch', params: { field: 'sent', summary: 100, events: 99 } },
    });
    const runEdited = structuredClone(doc);
    runEdited.run.summary!.received['worker-tcp']! += 5;
    expect(checkRunExport(runEdited)).toMatchObject({
      ok: false,
      text: { key: 'import.summaryMismatch', params: { field: 'run.summary.received.worker-tcp' } },
    });
    // An event removed (and the counts kept in line) is a disagreement too.
    const dropped = structuredClone(doc);
    const removed = dropped.events.findIndex((event) => event.type === 'task:received');
    dropped.events.splice(removed, 1);
    dropped.run.eventCount -= 1;
    const refusal = checkRunExport(dropped);
    expect(refusal).toMatchObject({ ok: false, text: { key: 'import.summaryMismatch' } });
    expect(() => importRun(store, JSON.stringify(dropped))).toThrow(/the events add up to/);
  });

  it('writes CSV with RFC 4180 quoting and defused formulas', async () => {
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+x')).toBe("'+x");
    expect(csvField('-x')).toBe("'-x");
    expect(csvField('@sum')).toBe("'@sum");

    const { recorder } = recordSynthetic('run-000e0004', 6);
    const csv = await exportText(exportCsv(recording, 'run-000e0004'));
    expect(csv).toBe(
      'seq,t,type,task,worker,body\r\n' +
        '2,0.5,task:sent,0,,task 0\r\n' +
        '3,1,task:received,0,worker-tcp,task 0\r\n' +
        '4,1.5,task:sent,1,,task 1\r\n' +
        '5,2,task:received,1,worker-ipc,task 1\r\n',
    );
    recorder.close();
  });
});
