/**
 * Issue 9.12: a damaged database file started silently, and then every list was a 500 and every event dropped.
 * Now the real server refuses to start on it, naming the file and saying what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { RunStore } from './store.ts';
import { run, testPolicy } from '../../test/helpers.ts';
import { syntheticEvents } from '../../test/recording.ts';
import { RunWriter } from './writer.ts';

const policy = testPolicy();
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-db-'));
afterAll(() => {
  policy.cleanup();
  fs.rmSync(folder, { recursive: true, force: true });
});

/** A database with a few recorded runs, one of its pages overwritten: its first pages (the schema) stay intact. */
function damagedDatabase(): string {
  const file = path.join(folder, 'runs.db');
  const store = RunStore.open(file);
  const writer = new RunWriter(store);
  for (let i = 0; i < 3; i++) {
    const entries = [...syntheticEvents(`run-0000000${i}`, { count: 3000 })].map((event) => ({ event, json: null }));
    writer.write({ playground: { id: `pg-${i}`, title: 'Pipeline' }, entries, wallClock: [], overflow: [] });
  }
  writer.closeAll();
  store.close(); // checkpoints the WAL into the file
  const pageSize = 4096;
  const pages = fs.statSync(file).size / pageSize;
  expect(pages).toBeGreaterThan(12);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, Math.floor(pages / 2) * pageSize);
  fs.closeSync(fd);
  return file;
}

it('refuses to start on a damaged database, naming the file and what to do', async () => {
  const file = damagedDatabase();
  const server = run(
    'node_modules/.bin/tsx',
    ['server/main.ts', '--port', '0', '--runtime-dir', policy.runtimeDir, '--db', file],
    30_000,
  );
  const deadline = Date.now() + 30_000;
  let exited = false;
  void server.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  while (!exited) {
    if (/http:\/\/127\.0\.0\.1:\d+\//.test(server.output())) {
      server.child.kill('SIGKILL');
      throw new Error(`the server started on a damaged database: ${server.output()}`);
    }
    if (Date.now() > deadline) throw new Error('the server neither started nor exited in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const result = await server.exited;
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`The run database ${file} is damaged`);
  expect(result.stderr).toContain(`mv '${file}' '${file}.damaged'`);
  expect(result.stderr).toContain('--db');
}, 60_000);
