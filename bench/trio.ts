/**
 * trio (`npm run bench -- --case trio`): what a learner would run instead of the playground. The zguide's
 * "divide and conquer" trio written in Python with Debian's pyzmq (bench/zguide-trio/: our own code, the
 * guide's shape): a ventilator PUSHes the batch, two workers PULL it (worker-1 over tcp, worker-2 over ipc, as the
 * playground's pipeline has them) and PUSH [worker, task id] to a sink, each worker and the sink printing a
 * line per message, flushed, as the guide's programs print their progress (stdout goes to a file). The sink times
 * the batch from the ventilator's start message to the last result.
 *
 * Beside it, in every round, the playground's same batch (the pipeline scenario, 2 workers, sink on tcp, interval
 * 0, recorded as the server always records, one WebSocket watcher), timed from the first task:sent to the last
 * task:collected. Rounds alternate which side goes first. Medians and the ratio playground / trio are printed
 * (the goal: 2 or more). Loopback only; every process is bounded by a count and a time limit and is
 * ended when its round is over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const TRIO_DIR = fileURLToPath(new URL('./zguide-trio/', import.meta.url));
/** The Python processes give up after this long without a message (the bench's own limit is the case's). */
const PROCESS_TIMEOUT_S = 30;

interface PythonProcess {
  child: ChildProcess;
  /** What the program printed on its "bound ..." line (stderr): where it listens. */
  bound: Promise<string>;
  exited: Promise<number | null>;
}

function startPython(
  dir: string,
  script: string,
  args: string[],
  name: string,
  stdin: 'pipe' | 'ignore',
): PythonProcess {
  const out = fs.openSync(path.join(dir, `${name}.out`), 'w');
  const child = spawn(PYTHON, [path.join(TRIO_DIR, script), ...args], { stdio: [stdin, out, 'pipe'] });
  fs.closeSync(out);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bound = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const line = /^bound (.*)$/m.exec(stderr);
      if (line) resolve(line[1]!);
    });
    void exited.then((code) => reject(new Error(`${name} exited (${code}): ${stderr.trim()}`)));
  });
  bound.catch(() => {}); // awaited where it matters; a worker's exit after the batch is not an error
  return { child, bound, exited };
}

/** One batch of the Python trio; returns tasks per second as its sink timed them. */
export async function trioBatch(
  runtimeDir: string,
  round: number,
  tasks: number,
  payloadBytes: number,
  within: <T>(p: Promise<T>, what: string) => Promise<T>,
): Promise<number> {
  const dir = fs.mkdtempSync(path.join(runtimeDir, `trio-${round}-`));
  const timeout = String(PROCESS_TIMEOUT_S);
  const started: PythonProcess[] = [];
  try {
    const sink = startPython(dir, 'tasksink.py', ['--tasks', String(tasks), '--timeout', timeout], 'sink', 'ignore');
    started.push(sink);
    const sinkAddress = await within(sink.bound, 'the trio sink binding');
    const ipc = `ipc://${dir}/vent.ipc`;
    const ventArgs = [
      '--hold',
      '--ipc',
      ipc,
      '--sink',
      sinkAddress,
      '--tasks',
      String(tasks),
      '--payload-bytes',
      String(payloadBytes),
      '--timeout',
      timeout,
    ];
    const vent = startPython(dir, 'taskvent.py', ventArgs, 'ventilator', 'pipe');
    started.push(vent);
    const [tcp] = (await within(vent.bound, 'the trio ventilator binding')).split(' ');
    started.push(
      startPython(dir, 'taskwork.py', ['worker-1', tcp!, sinkAddress, '--timeout', timeout], 'worker-1', 'ignore'),
    );
    started.push(
      startPython(dir, 'taskwork.py', ['worker-2', ipc, sinkAddress, '--timeout', timeout], 'worker-2', 'ignore'),
    );
    const code = await within(sink.exited, 'the trio batch');
    const printed = fs.readFileSync(path.join(dir, 'sink.out'), 'utf8');
    const elapsed = /elapsed ([\d.]+) s\s*$/.exec(printed);
    if (code !== 0 || !elapsed)
      throw new Error(`the trio's sink ended with ${code} after ${printed.split('\n').length - 1} lines`);
    return tasks / Number(elapsed[1]);
  } finally {
    // The ventilator waits for its stdin to close (so that its ipc queue is delivered); the workers would wait
    // for more tasks until their timeout.
    for (const { child } of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      if (child.stdin) child.stdin.end();
      else child.kill('SIGTERM');
    }
    const allExited = Promise.all(started.map((p) => p.exited));
    const bounded = await Promise.race([
      allExited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    if (!bounded)
      for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

export interface TrioCaseOptions {
  runtimeDir: string;
  tasks: number;
  rounds: number;
  payloadBytes: number;
  within: <T>(p: Promise<T>, what: string) => Promise<T>;
  /** The playground's batch (2 workers, sink, recorded, one watcher): its rate and a line about it. */
  playground: () => Promise<{ rate: number; note: string }>;
}

export async function trioCase(options: TrioCaseOptions): Promise<void> {
  const { runtimeDir, tasks, rounds, payloadBytes, within } = options;
  console.log(
    `\n== trio: the zguide trio in Python (pyzmq; ventilator, 2 workers, sink; a flushed print per task to a file) ` +
      `against the playground's same batch (pipeline, 2 workers, sink, interval 0, recorded, one watcher); ` +
      `${tasks} tasks x ${rounds} rounds; load average ${load()}`,
  );
  if (!fs.existsSync(PYTHON)) {
    console.log(`skipped: no ${PYTHON} (Debian's python3 with python3-zmq)`);
    return;
  }
  const trioRates: number[] = [];
  const playgroundRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const parts: string[] = [];
    // Alternate which side goes first, so that a machine getting busier or quieter does not favour one.
    for (const side of round % 2 === 0 ? (['trio', 'playground'] as const) : (['playground', 'trio'] as const)) {
      if (side === 'trio') {
        const rate = await trioBatch(runtimeDir, round, tasks, payloadBytes, within);
        trioRates.push(rate);
        parts.push(`trio ${Math.round(rate)} tasks/s`);
      } else {
        const { rate, note } = await options.playground();
        playgroundRates.push(rate);
        parts.push(`playground ${Math.round(rate)} tasks/s (${note})`);
      }
    }
    console.log(`round ${round + 1}: ${parts.join(' | ')}; load ${load()}`);
  }
  const trio = median(trioRates);
  const playground = median(playgroundRates);
  console.log(`median trio (Python)  ${Math.round(trio)} tasks/s`);
  console.log(`median playground     ${Math.round(playground)} tasks/s`);
  console.log(
    `ratio playground/trio ${(playground / trio).toFixed(2)} (aim: 2 or more); per round ${playgroundRates.map((p, i) => (p / trioRates[i]!).toFixed(2)).join(', ')}`,
  );
}
