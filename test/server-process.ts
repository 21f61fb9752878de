/**
 * What a test can see of a server process from outside, as an operator would: its memory, its child processes,
 * its tcp connections (from /proc; Linux only, as the project is).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

function processes(): ProcessRow[] {
  return spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args ?? '' }));
}

/** Every process below `root` (children, grandchildren...). */
export function descendantsOf(root: number): ProcessRow[] {
  const rows = processes();
  const under = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const row of rows) {
      if (under.has(row.ppid) && !under.has(row.pid)) {
        under.add(row.pid);
        grew = true;
      }
    }
  }
  return rows.filter((row) => row.pid !== root && under.has(row.pid));
}

/**
 * The node process that runs server/main.ts under the tsx launcher `launcher` (tsx runs it as its child), or the
 * launcher itself when it runs the server in its own process.
 */
export function serverPid(launcher: number): number {
  const server = descendantsOf(launcher).find(
    (row) => row.args.includes('server/main.ts') && !row.args.includes('worker-process'),
  );
  return server?.pid ?? launcher;
}

/** Resident memory of a process in MiB (VmRSS in /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/** True while `pid` exists (a zombie counts as gone). */
export function processExists(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Socket inodes a process holds open (its fds that are sockets). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * True while process `pid` still holds the loopback tcp connection from client port `clientPort` to its own
 * `serverPort` (read from /proc/net/tcp: the connection's inode among the process's open sockets). A connection the
 * server closed is no longer its own, even while the kernel still holds unsent bytes of it.
 */
export function holdsConnection(pid: number, serverPort: number, clientPort: number): boolean {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const mine = socketInodes(pid);
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [local, remote, inode] = [fields[1]!, fields[2]!, fields[9]!];
    if (local.endsWith(`:${hex(serverPort)}`) && remote.endsWith(`:${hex(clientPort)}`) && mine.has(inode)) return true;
  }
  return false;
}
