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
 * task:collected, and bare zeromq.js on the trio's topology in this process (no events, no recording): the floor
 * any Node program on zeromq.js stands on. Rounds alternate the order. Medians and the ratio playground / trio are
 * printed (the issue's goal: 2 or more), with each side's CPU time per task (every thread of every process it
 * uses), which says why on a shared machine. Loopback only; every process is bounded by a count and a time limit
 * and is ended when its round is over.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';

export const PYTHON = '/usr/bin/python3';
const TRIO_DIR = fileURLToPath(new URL('./zguide-trio/', import.meta.url));
/** The Python processes give up after this long without a message (the bench's own limit is the case's). */
const PROCESS_TIMEOUT_S = 30;

interface PythonProcess {
  child: ChildProcess;
  /** What the program printed on its "bound ..." line (stderr): where it listens. */
  bound: Promise<string>;
  exited: Promise<number | null>;
  /** What it printed on stderr so far (for the error when a batch fails). */
  errors: () => string;
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
  return { child, bound, exited, errors: () => stderr.trim() };
}

/** Clock ticks per second of /proc's CPU times (100 on Linux almost always; asked once). */
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** A live process's CPU time so far in seconds (user + system, all its threads), from /proc; 0 when unreadable. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond(); // utime, stime: fields 14 and 15
  } catch {
    return 0;
  }
}

/** A side's batch: tasks per second, and CPU time per task (microseconds, every thread of every process). */
export interface BatchFigures {
  rate: number;
  cpuUsPerTask: number;
}

/**
 * One batch of the Python trio: tasks per second as its sink timed them, and the CPU the four processes spent
 * (the sink's own count, the others' read while they still run; Python's start-up included, about 0.05 s each).
 */
export async function trioBatch(
  runtimeDir: string,
  round: number,
  tasks: number,
  payloadBytes: number,
  within: <T>(p: Promise<T>, what: string) => Promise<T>,
): Promise<BatchFigures> {
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
    const othersCpu = started.slice(1).reduce((sum, { child }) => sum + processCpuSeconds(child.pid), 0);
    const printed = fs.readFileSync(path.join(dir, 'sink.out'), 'utf8');
    const elapsed = /elapsed ([\d.]+) s\s*$/.exec(printed);
    const sinkCpu = /^cpu ([\d.]+) s$/m.exec(printed);
    if (code !== 0 || !elapsed || !sinkCpu)
      throw new Error(
        `the trio's sink ended with ${code} after ${printed.split('\n').length - 1} lines; stderr: ` +
          started
            .map((p, i) => `${['sink', 'ventilator', 'worker-1', 'worker-2'][i]}: ${p.errors() || '-'}`)
            .join('; '),
      );
    return { rate: tasks / Number(elapsed[1]), cpuUsPerTask: ((othersCpu + Number(sinkCpu[1])) * 1e6) / tasks };
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

/**
 * Bare zeromq.js on the trio's topology, in this process: a PUSH bound on tcp and ipc, two PULL workers each
 * PUSHing [worker, task id] to a PULL sink on tcp; no prints, no events, no recording. Timed from the first send to
 * the last result; its CPU is this process's (every thread, libzmq's I/O thread included) over the same span.
 */
export async function bareTrioBatch(
  runtimeDir: string,
  round: number,
  tasks: number,
  payloadBytes: number,
  within: <T>(p: Promise<T>, what: string) => Promise<T>,
): Promise<BatchFigures> {
  const sockets: zmq.Socket[] = [];
  const own = <S extends zmq.Socket>(socket: S): S => {
    socket.linger = 0;
    sockets.push(socket);
    return socket;
  };
  try {
    const ventilator = own(new zmq.Push());
    let handshakes = 0;
    const workersJoined = new Promise<void>((resolve) =>
      ventilator.events.on('handshake', () => ++handshakes === 2 && resolve()),
    );
    await within(ventilator.bind('tcp://127.0.0.1:*'), 'the bare ventilator binding tcp');
    const tcp = ventilator.lastEndpoint!;
    const ipc = `ipc://${runtimeDir}/bare-trio-${round}`;
    await within(ventilator.bind(ipc), 'the bare ventilator binding ipc');
    const sink = own(new zmq.Pull());
    await within(sink.bind('tcp://127.0.0.1:*'), 'the bare sink binding');
    let sinkHandshakes = 0;
    const sinkJoined = new Promise<void>((resolve) =>
      sink.events.on('handshake', () => ++sinkHandshakes === 2 && resolve()),
    );
    const workerLoops = ['worker-1', 'worker-2'].map(async (name, i) => {
      const source = own(new zmq.Pull());
      const results = own(new zmq.Push());
      source.connect(i === 0 ? tcp : ipc);
      results.connect(sink.lastEndpoint!);
      const id = Buffer.from(name);
      for await (const [taskId] of source) await results.send([id, taskId!]);
    });
    await within(Promise.all([workersJoined, sinkJoined]), 'the bare workers joining');
    let collected = 0;
    const allCollected = (async () => {
      for await (const _result of sink) if (++collected === tasks) return performance.now();
      return performance.now();
    })();
    const padding = 'x'.repeat(payloadBytes);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    for (let task = 0; task < tasks; task++) await ventilator.send([String(task), `task ${task} ${padding}`]);
    const end = await within(allCollected, 'the bare sink collecting the batch');
    const cpu = process.cpuUsage(cpuBefore);
    if (collected !== tasks) throw new Error(`the bare trio collected ${collected} of ${tasks} tasks`);
    for (const socket of sockets) socket.close();
    await within(
      Promise.allSettled(workerLoops).then(() => undefined),
      'the bare workers ending',
    );
    return { rate: tasks / ((end - start) / 1000), cpuUsPerTask: (cpu.user + cpu.system) / tasks };
  } finally {
    for (const socket of sockets) if (!socket.closed) socket.close();
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
  /** The playground's batch (2 workers, sink, recorded, one watcher): its rate, CPU per task and a line about it. */
  playground: () => Promise<BatchFigures & { note: string }>;
}

export async function trioCase(options: TrioCaseOptions): Promise<void> {
  const { runtimeDir, tasks, rounds, payloadBytes, within } = options;
  console.log(
    `\n== trio: the zguide trio in Python (pyzmq; ventilator, 2 workers, sink; a flushed print per task to a file) ` +
      `against the playground's same batch (pipeline, 2 workers, sink, interval 0, recorded, one watcher) and bare ` +
      `zeromq.js on the same topology in one process; ${tasks} tasks x ${rounds} rounds; load average ${load()}`,
  );
  if (!fs.existsSync(PYTHON)) {
    console.log(`skipped: no ${PYTHON} (Debian's python3 with python3-zmq)`);
    return;
  }
  const sides = ['trio', 'bare', 'playground'] as const;
  const figures: Record<(typeof sides)[number], BatchFigures[]> = { trio: [], bare: [], playground: [] };
  const us = (value: number) => value.toFixed(1);
  for (let round = 0; round < rounds; round++) {
    const parts: string[] = [];
    // Rotate which side goes first, so that a machine getting busier or quieter does not favour one.
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
    for (const side of order) {
      let result: BatchFigures;
      let note = '';
      if (side === 'trio') result = await trioBatch(runtimeDir, round, tasks, payloadBytes, within);
      else if (side === 'bare') result = await bareTrioBatch(runtimeDir, round, tasks, payloadBytes, within);
      else ({ note, ...result } = await options.playground());
      figures[side].push(result);
      parts.push(
        `${side} ${Math.round(result.rate)} tasks/s, ${us(result.cpuUsPerTask)} us CPU a task${note ? ` (${note})` : ''}`,
      );
    }
    console.log(`round ${round + 1}: ${parts.join(' | ')}; load ${load()}`);
  }
  const rate = (side: (typeof sides)[number]) => median(figures[side].map((f) => f.rate));
  const cpu = (side: (typeof sides)[number]) => median(figures[side].map((f) => f.cpuUsPerTask));
  console.log(`median trio (Python)         ${Math.round(rate('trio'))} tasks/s, ${us(cpu('trio'))} us CPU a task`);
  console.log(`median bare zeromq.js        ${Math.round(rate('bare'))} tasks/s, ${us(cpu('bare'))} us CPU a task`);
  console.log(
    `median playground            ${Math.round(rate('playground'))} tasks/s, ${us(cpu('playground'))} us CPU a task`,
  );
  const perRound = figures.playground.map((p, i) => (p.rate / figures.trio[i]!.rate).toFixed(2)).join(', ');
  console.log(
    `ratio playground/trio ${(rate('playground') / rate('trio')).toFixed(2)} (aim: 2 or more); per round ${perRound}`,
  );
  console.log(`ratio bare zeromq.js/trio ${(rate('bare') / rate('trio')).toFixed(2)}`);
  // Twice the trio's rate on the same share of the machine takes half its CPU per task.
  console.log(
    `CPU a task: playground / trio ${(cpu('playground') / cpu('trio')).toFixed(2)}, bare zeromq.js / trio ` +
      `${(cpu('bare') / cpu('trio')).toFixed(2)} (2x the trio's rate on the same cores needs 0.5 or less)`,
  );
}
