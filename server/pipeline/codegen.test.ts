/**
 * The generated code is real: the Python worker for a playground runs against it (Debian's python3-zmq), takes
 * its share of a batch, and shows up on the diagram as an external peer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { Playground } from './playground.ts';
import { PYTHON, collect, freePort, ofType, requirePyzmq, run, runEnded, testPolicy } from '../../test/helpers.ts';
import { codeContext, generate } from '../../shared/codegen/index.ts';

let policy: ReturnType<typeof testPolicy> | null = null;
let playground: Playground | null = null;

beforeAll(() => requirePyzmq());
afterEach(async () => {
  await playground?.close();
  policy?.cleanup();
});

describe('generated code', () => {
  it('names the playground\'s real endpoints and sink in both languages', () => {
    const context = {
      framing: 'tagged' as const,
      endpoints: { tcp: 'tcp://127.0.0.1:40123', ipc: 'ipc:///tmp/zpg/pg-1-vent.ipc' },
      sinkAddress: 'tcp://127.0.0.1:40999',
      endMarker: null,
    };
    expect(generate('python', 'worker', context, 'ipc')).toContain('"ipc:///tmp/zpg/pg-1-vent.ipc"');
    expect(generate('python', 'worker', context)).toContain('results.connect("tcp://127.0.0.1:40999")');
    expect(generate('typescript', 'worker', context)).toContain('"tcp://127.0.0.1:40123"');
    expect(generate('typescript', 'worker', context)).toContain('results.send(');
    expect(generate('python', 'worker', { ...context, framing: 'plain', endMarker: 'x', sinkAddress: null })).toContain('== "x"');
    // Comments, help texts and prompts follow the page's language; every other line is the same.
    const codeLines = (text: string) => text.split('\n').filter((line) => !/^\s*(\/\/|#)|"""|help=|input\(|^[A-Z]/.test(line));
    for (const language of ['python', 'typescript'] as const) {
      for (const role of ['worker', 'ventilator', 'sink'] as const) {
        const en = generate(language, role, context, 'tcp', 'en');
        const es = generate(language, role, context, 'tcp', 'es');
        expect(es, `${language} ${role}`).not.toBe(en);
        expect(codeLines(es), `${language} ${role}`).toEqual(codeLines(en));
      }
    }
  });

  it('the Python worker runs against a live playground and takes the batch as an external peer', async () => {
    policy = testPolicy();
    playground = new Playground({ scenario: SCENARIOS.get('pipeline')!, policy, params: { builtInWorkers: false, tasks: 20, drainMs: 3000 } });
    await playground.setEndpoint('tcp', `tcp://127.0.0.1:${await freePort()}`);
    const file = path.join(policy.runtimeDir, 'worker.py');
    // The Spanish version: its comments and help texts are not ASCII, and Debian's python3 must still run it.
    const code = generate('python', 'worker', codeContext(playground.info()), 'tcp', 'es');
    expect(code).toContain('Un worker para este playground');
    expect(code).toContain('help="trabajo simulado por tarea"');
    fs.writeFileSync(file, code);
    const events = collect(playground);
    const worker = run(PYTHON, [file, '--timeout', '3'], 20_000);
    const started = playground.startRun();
    const ended = await runEnded(playground, started.id, 20_000);
    const exit = await worker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const lines = exit.stdout.trim().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines.map((line) => Number(line.split(' ')[0]))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(ofType(events, 'peers:changed').some((e) => e.endpoint === 'tcp' && e.external === 1)).toBe(true);
    expect(ended.summary).toMatchObject({ sent: 20, unattributed: 20, externalPeersMax: 1 });
  });
});
