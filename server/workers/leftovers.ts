/**
 * What a server that died hard leaves in its runtime folder, and how the next one cleans it (issue 9.10).
 *
 * A server ended by SIGKILL (or the OOM killer) runs no code: its process workers are orphaned. One that can still
 * run exits by itself when its IPC channel closes (worker-process.ts), but one that was hung (SIGSTOP) cannot
 * notice anything and would stay forever. So a running server keeps a record of its workers in its runtime folder
 * (`.server-<pid>.workers`: its own pid and start time, each worker's pid and start time), and a server starting
 * there kills the workers of every record whose server is gone, once each is verified to be the same process (its
 * start time) and one of our workers (its command line). It also removes socket files nobody listens on (ipc
 * endpoints of the dead server): a live one, of another server sharing the folder, answers and stays; and the lock
 * files of ipc paths (endpoints.ts, IpcClaims) whose process is gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { probeIpcPath, removeStaleLockFile } from '../pipeline/endpoints.ts';

/** A record, or the temporary file it is written to before the rename. */
const RECORD = /^\.server-(\d+)\.workers(\.tmp)?$/;

interface ProcessStamp {
  pid: number;
  /** Clock ticks since boot when it started (/proc/<pid>/stat field 22): a reused pid has another. */
  start: string;
}

interface RecordFile {
  server: ProcessStamp;
  workers: ProcessStamp[];
}

/** The start time of a live process, or null if there is none with that pid (a zombie counts as none). */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isSameProcess(stamp: ProcessStamp): boolean {
  return startTimeOf(stamp.pid) === stamp.start;
}

/**
 * True when the command line of `pid` is a process worker's (worker-process.ts from the sources, .js built) or a
 * graph node process's (graph-node-process.ts / .js, recorded the same way: server/engine/graph-process.ts).
 */
function isWorkerProcess(pid: number): boolean {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((arg) => /(^|\/)(worker-process|graph-node-process)\.(ts|js)$/.test(arg));
  } catch {
    return false;
  }
}

/** This server's record of its process workers, rewritten whenever one starts or ends. */
export class WorkerRecord {
  readonly file: string;
  readonly #server: ProcessStamp;
  readonly #workers = new Map<number, ProcessStamp>();

  constructor(runtimeDir: string) {
    fs.mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    this.file = path.join(runtimeDir, `.server-${process.pid}.workers`);
    this.#server = { pid: process.pid, start: startTimeOf(process.pid) ?? '' };
    this.#write();
  }

  started(pid: number): void {
    this.#workers.set(pid, { pid, start: startTimeOf(pid) ?? '' });
    this.#write();
  }

  ended(pid: number): void {
    if (this.#workers.delete(pid)) this.#write();
  }

  /**
   * Kills every worker still recorded (synchronous: it runs in the process's 'exit' handler, when the server ends
   * by an uncaught exception), then forgets the record.
   */
  killAll(): void {
    for (const worker of this.#workers.values()) {
      if (!isSameProcess(worker)) continue;
      try {
        process.kill(worker.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    this.#workers.clear();
    this.remove();
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }

  #write(): void {
    const record: RecordFile = { server: this.#server, workers: [...this.#workers.values()] };
    // Written whole and renamed: a crash mid-write never leaves half a record.
    const temporary = `${this.file}.tmp`;
    try {
      fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
      fs.renameSync(temporary, this.file);
    } catch {
      // A full disk must not end the server: the record only helps the next start clean up after a crash.
    }
  }
}

let current: WorkerRecord | null = null;

/** From now on, process workers of this server are recorded in `runtimeDir` (server/main.ts; not in tests' apps). */
export function recordWorkersIn(runtimeDir: string): WorkerRecord {
  current = new WorkerRecord(runtimeDir);
  return current;
}

/** Called by ProcessWorker when a child is forked and when it has exited. */
export function workerStarted(pid: number | undefined): void {
  if (pid !== undefined) current?.started(pid);
}

export function workerEnded(pid: number | undefined): void {
  if (pid !== undefined) current?.ended(pid);
}

export interface Cleanup {
  /** Worker processes of dead servers that were killed. */
  killed: number[];
  /** Socket files nobody listened on, removed. */
  removedSockets: string[];
  /** Lock files of ipc paths (IpcClaims) whose process is gone, removed. */
  removedLocks: string[];
}

/** Cleans what dead servers left in `runtimeDir`; call before this server records anything there. */
export async function cleanLeftovers(runtimeDir: string): Promise<Cleanup> {
  const cleanup: Cleanup = { killed: [], removedSockets: [], removedLocks: [] };
  let names: string[];
  try {
    names = fs.readdirSync(runtimeDir);
  } catch {
    return cleanup; // no folder yet: nothing left
  }
  for (const name of names) {
    const match = RECORD.exec(name);
    if (!match) continue;
    const file = path.join(runtimeDir, name);
    let record: RecordFile | null = null;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as RecordFile;
    } catch {
      // half written (its server died while writing it) or being written right now by a live server
    }
    // Its server is alive: the workers are its own (and a file it is writing is not ours to touch).
    if (record ? isSameProcess(record.server) : startTimeOf(Number(match[1])) !== null) continue;
    for (const worker of record?.workers ?? []) {
      if (!isSameProcess(worker) || !isWorkerProcess(worker.pid)) continue;
      try {
        process.kill(worker.pid, 'SIGKILL');
        // A stopped process is killed by SIGKILL all the same; SIGCONT costs nothing and covers odd kernels.
        process.kill(worker.pid, 'SIGCONT');
        cleanup.killed.push(worker.pid);
      } catch {
        // gone meanwhile
      }
    }
    fs.rmSync(file, { force: true });
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  for (const name of names) {
    const file = path.join(runtimeDir, name);
    try {
      // Only this user's sockets (a runtime folder shared with others, such as /tmp, holds theirs too).
      if (uid !== null && fs.lstatSync(file).uid !== uid) continue;
      if (removeStaleLockFile(file)) {
        cleanup.removedLocks.push(name);
        continue;
      }
      if ((await probeIpcPath(file)) !== 'stale-socket') continue;
      fs.rmSync(file, { force: true });
      cleanup.removedSockets.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: a start is never stopped by a file it could leave alone
    }
  }
  return cleanup;
}
