/**
 * The generated code is real: the Python worker for a playground runs against it (Debian's python3-zmq), takes
 * its share of a batch, and shows up on the diagram as an external peer; so does the TypeScript worker (zeromq.js,
 * through tsx); and the Python ventilator, worker and sink, run together as a learner would copy them, move a whole
 * batch.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as zmq from 'zeromq';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { Playground } from './playground.ts';
import {
  PYTHON,
  collect,
  freePort,
  ofType,
  requirePyzmq,
  run,
  runEnded,
  testPolicy,
  waitForEvent,
} from '../../test/helpers.ts';
import { codeContext, generate, missingFor, program } from '../../shared/codegen/index.ts';
import { EN } from '../../web/lib/i18n/en.ts';
import { ES } from '../../web/lib/i18n/es.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';

let policy: ReturnType<typeof testPolicy> | null = null;
let playground: Playground | null = null;

beforeAll(() => requirePyzmq());
afterEach(async () => {
  await playground?.close();
  policy?.cleanup();
});

describe('generated code', () => {
  it("names the playground's real endpoints and sink in both languages", () => {
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
    expect(generate('python', 'worker', { ...context, framing: 'plain', endMarker: 'x', sinkAddress: null })).toContain(
      '== "x"',
    );
    // Comments, help texts and prompts follow the page's language; every other line is the same.
    const codeLines = (text: string) =>
      text.split('\n').filter((line) => !/^\s*(\/\/|#)|"""|help=|input\(|^[A-Z]/.test(line));
    for (const language of ['python', 'typescript'] as const) {
      for (const role of ['worker', 'ventilator', 'sink'] as const) {
        const en = generate(language, role, context, 'tcp', 'en');
        const es = generate(language, role, context, 'tcp', 'es');
        expect(es, `${language} ${role}`).not.toBe(en);
        expect(codeLines(es), `${language} ${role}`).toEqual(codeLines(en));
      }
    }
  });

  // Issue 10.6: a fresh sandbox's worker said tcp://127.0.0.1:PORT and crashed (ZMQError: Invalid argument).
  it('never writes a worker with an address that is not known yet: before the first run it says what to do', async () => {
    policy = testPolicy();
    playground = new Playground({ scenario: SCENARIOS.get('pipeline')!, policy, params: { tasks: 5 } });
    const current = playground;
    let context = codeContext(current.info());
    expect(context.endpoints.tcp).toBeNull(); // the system picks the port when the ventilator binds
    for (const language of ['python', 'typescript'] as const) {
      expect(program(language, 'worker', context, 'tcp')).toEqual({ code: null, missing: 'ventilator' });
      expect(() => generate(language, 'worker', context, 'tcp')).toThrow(/only known once it has bound/);
      // The ipc path is decided before any bind: that worker can be written already.
      expect(program(language, 'worker', context, 'ipc').code).toContain(`${policy.runtimeDir}/`);
      // The standalone ventilator and sink bind ports of their own and run as shown.
      for (const role of ['ventilator', 'sink'] as const) {
        const code = program(language, role, context, 'tcp').code!;
        expect(code, `${language} ${role}`).toMatch(/tcp:\/\/127\.0\.0\.1:555[78]"/);
        expect(code).not.toMatch(/PORT|:\*/);
      }
    }

    // A sink switched on: the worker must know where to PUSH its results, which is also only known once bound.
    current.updateSink({ enabled: true, transport: 'tcp' });
    await current.setEndpoint('tcp', `tcp://127.0.0.1:${await freePort()}`);
    context = codeContext(current.info());
    expect(missingFor('worker', context, 'tcp')).toBe('sink');

    // One run, and every address is real: the worker can be copied, and keeps working on the next runs.
    const started = current.startRun();
    await runEnded(current, started.id);
    context = codeContext(current.info());
    const shown = program('python', 'worker', context, 'tcp');
    expect(shown.missing).toBeNull();
    expect(shown.code).toContain(`"${current.info().endpoints.find((e) => e.name === 'tcp')!.requested}"`);
    expect(shown.code).toContain(`results.connect("${current.info().sink.address}")`);
    expect(shown.code).not.toMatch(/PORT|:\*/);
  });

  it('the page says it in both languages: press Run once, then copy', () => {
    for (const [words, run] of [
      [EN, EN['controls.run']],
      [ES, ES['controls.run']],
    ] as const) {
      for (const missing of ['ventilator', 'sink'] as const) {
        const sentence = words[`code.pending.${missing}`];
        expect(sentence, missing).toContain(run); // the button's own label
        expect(sentence).toMatch(/bind/);
      }
    }
    expect(EN['code.pending.ventilator']).toMatch(/port is chosen when it binds: press Run once, then copy/);
  });

  it('the Python worker runs against a live playground and takes the batch as an external peer', async () => {
    policy = testPolicy();
    playground = new Playground({
      scenario: SCENARIOS.get('pipeline')!,
      policy,
      params: { builtInWorkers: false, tasks: 20, drainMs: 3000 },
    });
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

  it(
    'the TypeScript worker runs against a live playground too (zeromq.js, through tsx)',
    { timeout: 40_000 },
    async () => {
      policy = testPolicy();
      playground = new Playground({
        scenario: SCENARIOS.get('pipeline')!,
        policy,
        params: { builtInWorkers: false, tasks: 20, drainMs: 3000 },
      });
      await playground.setEndpoint('tcp', `tcp://127.0.0.1:${await freePort()}`);
      // Inside the project, so that `import "zeromq"` finds its node_modules, as it would in a learner's project.
      fs.mkdirSync(path.resolve('test-results'), { recursive: true });
      const dir = fs.mkdtempSync(path.resolve('test-results', 'codegen-'));
      const file = path.join(dir, 'worker.ts');
      fs.writeFileSync(file, generate('typescript', 'worker', codeContext(playground.info()), 'tcp', 'es'));
      const tsx = path.resolve('node_modules', '.bin', 'tsx');
      const worker = run(tsx, [file], 35_000);
      try {
        // The run starts at once: its PUSH holds the batch until a peer connects (tsx takes a moment to start).
        const started = playground.startRun();
        const ended = await runEnded(playground, started.id, 30_000);
        expect(ended.summary).toMatchObject({ sent: 20, unattributed: 20, externalPeersMax: 1 });
        const deadline = Date.now() + 5_000;
        while (worker.output().trim().split('\n').length < 20 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        const lines = worker.output().trim().split('\n');
        expect(lines.map((line) => Number(line.split(' ')[0]))).toEqual(Array.from({ length: 20 }, (_, i) => i));
      } finally {
        worker.child.kill('SIGTERM');
        await worker.exited.catch(() => {});
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'the Python ventilator, worker and sink run together: a batch of 100 goes through',
    { timeout: 30_000 },
    async () => {
      policy = testPolicy();
      const [ventilatorPort, sinkPort] = [await freePort(), await freePort()];
      const context = {
        framing: 'tagged' as const,
        endpoints: { tcp: 'tcp://127.0.0.1:5555' },
        sinkAddress: `tcp://127.0.0.1:${sinkPort}`,
        endMarker: null,
      };
      // The standalone programs bind 5557 and 5558 (beside a playground's own ports); here, free ports instead.
      const write = (name: string, code: string) => {
        const file = path.join(policy!.runtimeDir, name);
        fs.writeFileSync(file, code);
        return file;
      };
      const ventilatorCode = generate('python', 'ventilator', context);
      const sinkCode = generate('python', 'sink', context);
      expect(ventilatorCode).toContain(':5557"');
      expect(sinkCode).toContain(':5558"');
      const ventilatorFile = write('ventilator.py', ventilatorCode.replace(':5557"', `:${ventilatorPort}"`));
      const sinkFile = write('sink.py', sinkCode.replace(':5558"', `:${sinkPort}"`));
      const workerFile = write('worker.py', generate('python', 'worker', context));

      const sink = run(PYTHON, [sinkFile], 25_000);
      // The ventilator binds, then asks for Enter; once Enter is pressed its PUSH holds the batch until a worker
      // connects. The worker starts only after the prompt: its --timeout (2 s without a task) must not run out while
      // Python is still starting the ventilator, which takes longer than that on a busy machine.
      const ventilator = spawn(PYTHON, [ventilatorFile], { stdio: ['pipe', 'pipe', 'pipe'] });
      let ventilatorErr = '';
      ventilator.stderr.on('data', (chunk: Buffer) => (ventilatorErr += chunk.toString()));
      const ventilatorExit = new Promise<number | null>((resolve) => ventilator.on('exit', resolve));
      const prompted = new Promise<void>((resolve, reject) => {
        let shown = '';
        const timer = setTimeout(
          () => reject(new Error(`the ventilator did not ask for Enter within 20 s\n${ventilatorErr}`)),
          20_000,
        );
        ventilator.stdout.on('data', (chunk: Buffer) => {
          shown += chunk.toString();
          if (shown.includes('press Enter')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void ventilatorExit.then(() => {
          clearTimeout(timer);
          reject(new Error(`the ventilator exited before asking for Enter\n${ventilatorErr}`));
        });
      });
      let worker: ReturnType<typeof run> | null = null;
      try {
        await prompted;
        ventilator.stdin.end('\n');
        worker = run(PYTHON, [workerFile, `tcp://127.0.0.1:${ventilatorPort}`, '--timeout', '2'], 25_000);
        const deadline = Date.now() + 20_000;
        while (sink.output().trim().split('\n').filter(Boolean).length < 100) {
          if (Date.now() > deadline)
            throw new Error(
              `the sink printed ${sink.output().split('\n').length - 1} of 100 results\n${ventilatorErr}`,
            );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await ventilatorExit, ventilatorErr).toBe(0);
        const workerExit = await worker.exited;
        expect(workerExit.code, workerExit.stderr).toBe(0);
        expect(workerExit.stdout.trim().split('\n')).toHaveLength(100);
        const results = sink
          .output()
          .trim()
          .split('\n')
          .map((line) => line.split(' '));
        expect(new Set(results.map(([name]) => name))).toEqual(new Set(['python-worker']));
        expect(results.map(([, task]) => Number(task)).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 100 }, (_, i) => i),
        );
      } finally {
        // The sink runs until interrupted, like the zguide's: Ctrl-C, which it handles by closing its socket.
        sink.child.kill('SIGINT');
        ventilator.kill('SIGKILL');
        worker?.child.kill('SIGKILL');
        const sinkExit = await sink.exited;
        expect(sinkExit.code, sinkExit.stderr).toBe(0);
      }
    },
  );
});

/**
 * Issue 10.7: results an external worker PUSHes to the sink, as the generated code does, are the run's results
 * like any other: counted collected, each once, and the summary's books add up with nothing left in flight.
 */
describe('results from an external worker', () => {
  const TASKS = 40;

  it(
    'the generated Python worker PUSHes [name, task id] to the sink: every result is collected, the books exact',
    { timeout: 40_000 },
    async () => {
      policy = testPolicy();
      playground = new Playground({
        scenario: SCENARIOS.get('pipeline')!,
        policy,
        params: { builtInWorkers: false, tasks: TASKS, drainMs: 3000 },
      });
      const current = playground;
      await current.setEndpoint('tcp', `tcp://127.0.0.1:${await freePort()}`);
      current.updateSink({ enabled: true, transport: 'tcp' });
      // The sink's port is chosen when it first binds: run once (stopped at once), as a learner presses Run first.
      const first = current.startRun();
      await waitForEvent(current, (e) => e.type === 'sink:bound' && e.run === first.id);
      current.stopRun();
      await runEnded(current, first.id);
      const context = codeContext(current.info());
      expect(context.sinkAddress).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const file = path.join(policy.runtimeDir, 'worker.py');
      const code = generate('python', 'worker', context);
      expect(code).toContain(`results.connect("${context.sinkAddress}")`);
      fs.writeFileSync(file, code);

      const events = collect(current);
      const worker = run(PYTHON, [file, '--timeout', '2'], 30_000);
      const started = current.startRun();
      const ended = await runEnded(current, started.id, 30_000);
      const exit = await worker.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout.trim().split('\n')).toHaveLength(TASKS);

      const collected = ofType(events, 'task:collected');
      expect(collected.map((e) => e.task).sort((a, b) => a - b)).toEqual(Array.from({ length: TASKS }, (_, i) => i));
      expect(new Set(collected.map((e) => e.worker))).toEqual(new Set(['python-worker']));
      expect(ended.reason).toBe('completed');
      expect(ended.summary).toMatchObject({ sent: TASKS, collected: TASKS, lost: 0 });
      expect(ended.summary.accounting).toEqual({
        collected: TASKS,
        processed: 0,
        resultsLost: 0,
        resultsLostBy: {},
        lost: 0,
        external: 0,
        inFlight: 0,
      });
    },
  );

  it(
    'beside a built-in worker, a zeromq.js worker connected before Run has its results collected too',
    { timeout: 30_000 },
    async () => {
      policy = testPolicy();
      const scenario = { ...SCENARIOS.get('pipeline')!, workers: [{ id: 'worker-1', transport: 'tcp' as const }] };
      // Paced, so that the external worker (retrying until the bind) joins while most of the batch is still to come.
      playground = new Playground({
        scenario,
        policy,
        params: { tasks: TASKS, intervalMs: 25, syncStart: true, drainMs: 3000 },
      });
      const current = playground;
      const tcp = `tcp://127.0.0.1:${await freePort()}`;
      await current.setEndpoint('tcp', tcp);
      current.updateSink({ enabled: true, transport: 'tcp' });
      const events = collect(current);
      const tasks = new zmq.Pull();
      tasks.linger = 0;
      tasks.receiveTimeout = 1500; // leaves once the batch is over, as the generated worker's --timeout does
      tasks.connect(tcp);
      const results = new zmq.Push();
      results.linger = 1000;
      const started = current.startRun();
      const bound = await waitForEvent(
        current,
        (e): e is Extract<PlaygroundEvent, { type: 'sink:bound' }> => e.type === 'sink:bound' && e.run === started.id,
      );
      results.connect(bound.address);
      let taken = 0;
      try {
        for (;;) {
          const [taskId] = await tasks.receive();
          taken++;
          await results.send(['ts-worker', taskId!]);
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'EAGAIN') throw error;
      } finally {
        tasks.close();
        results.close();
      }
      const ended = await runEnded(current, started.id);

      const collectedBy = (worker: string) =>
        ofType(events, 'task:collected').filter((e) => e.worker === worker).length;
      expect(taken).toBeGreaterThan(0);
      expect(collectedBy('ts-worker')).toBe(taken);
      expect(collectedBy('worker-1')).toBe(ended.summary.received['worker-1']);
      expect(ended.reason).toBe('completed');
      expect(ended.summary).toMatchObject({
        sent: TASKS,
        collected: TASKS,
        lost: 0,
        unattributed: taken,
        externalPeersMax: 1,
      });
      expect(ended.summary.accounting).toEqual({
        collected: TASKS,
        processed: 0,
        resultsLost: 0,
        resultsLostBy: {},
        lost: 0,
        external: 0,
        inFlight: 0,
      });
    },
  );
});
