/**
 * Issue 9.12: what visitors see names no server path. `/api/recording` said where the run database is (the data
 * folder, under the operator's home); error messages could quote the server's source paths. The operator still
 * sees them: the server prints the database's path at start, and the log has every error whole.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { toErrorBody } from './errors.ts';
import { CodedError } from '../errors.ts';
import { text, type RecordingStatus } from '../../shared/protocol/index.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance | null = null;
let folder: string | null = null;
let policy: ReturnType<typeof testPolicy> | null = null;
afterEach(async () => {
  await app?.close();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  policy?.cleanup();
  app = folder = policy = null;
});

it('/api/recording names the database file, not where it is', async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-data-'));
  policy = testPolicy();
  const file = path.join(folder, 'runs.db');
  app = await buildApp({ policy, staticDir: null, store: file });
  const status = (await new Visitor(app).inject('/api/recording')).json<RecordingStatus>();
  expect(status.path).toBe('runs.db');
  expect(JSON.stringify(status)).not.toContain(folder);
});

it('error bodies carry no path of the server (its sources, its data folder); ipc paths of the runtime folder stay', () => {
  const source = path.resolve('server/workers/worker-process.ts');
  const { body } = toErrorBody(
    new CodedError('PG_ERR_VALIDATION', text('request.refused', { detail: `Cannot find module '${source}'` }), {
      message: `Cannot find module '${source}'`,
    }),
  );
  expect(body.message).toBe("Cannot find module 'server/workers/worker-process.ts'");
  expect(body.text).toEqual(
    text('request.refused', { detail: "Cannot find module 'server/workers/worker-process.ts'" }),
  );
  const taken = 'ipc path "/tmp/zmq-playground-0/x" is taken';
  const ipc = toErrorBody(
    new CodedError('PG_ERR_ENDPOINT', text('request.refused', { detail: taken }), { message: taken }),
  );
  expect(ipc.body.message).toBe('ipc path "/tmp/zmq-playground-0/x" is taken');
});
