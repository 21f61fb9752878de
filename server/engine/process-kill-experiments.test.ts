/**
 * Experiments behind graph nodes as real processes (issue 11; graph-process.ts, docs/zmq-patterns.md "Process
 * nodes"): what a send that resolved in a process means once that process is killed. A zeromq.js send resolves
 * when libzmq has *queued* the message (zmq-facts section 3); the queue is the process's own memory, so a SIGKILL
 * before its I/O thread wrote the message out loses it, while a live process delivers it when a peer comes. The
 * child is a real OS process (node, its own ZeroMQ context) with a PUSH that connects to an address nobody binds
 * yet, so its message stays parked in its queue (immediate = 0, zmq-facts section 1.4). zeromq.js 6.8.0, libzmq
 * 4.3.5, loopback tcp. Every wait is bounded; a "never" is checked over a window after the event that would have
 * made it happen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const children: ChildProcess[] = [];
const sockets: zmq.Socket[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) if (!socket.closed) socket.close();
});

/** A free loopback port (bound and released by the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose PUSH connects to `address` and sends one message; resolves once that send resolved. */
async function childWithParkedMessage(address: string): Promise<ChildProcess> {
  const code = `
    import * as zmq from 'zeromq';
    zmq.context.blocky = false;
    const push = new zmq.Push();
    push.linger = 1000;
    push.connect(process.argv.at(-1));
    await push.send('parked');
    process.send('queued');
    process.on('message', () => { push.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, address], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child never said its send resolved')), 20_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return child;
}

async function pullAt(address: string): Promise<zmq.Pull> {
  const pull = new zmq.Pull();
  pull.linger = 0;
  sockets.push(pull);
  await pull.bind(address);
  return pull;
}

async function receiveWithin(pull: zmq.Pull, timeoutMs: number): Promise<string | null> {
  pull.receiveTimeout = timeoutMs;
  try {
    return (await pull.receive())[0]!.toString();
  } catch (error) {
    if ((error as { code?: string }).code === 'EAGAIN') return null;
    throw error;
  }
}

describe("a send resolved in a process is in that process's queue", () => {
  it('the process alive: its parked message reaches the peer that binds later', async () => {
    const address = `tcp://127.0.0.1:${await freePort()}`;
    await childWithParkedMessage(address);
    const pull = await pullAt(address);
    expect(await receiveWithin(pull, 10_000)).toBe('parked');
  });

  it('the process killed (SIGKILL) after its send resolved: the message is gone with it', async () => {
    const address = `tcp://127.0.0.1:${await freePort()}`;
    const child = await childWithParkedMessage(address);
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const pull = await pullAt(address);
    // As long as the alive case took at most, and more: nothing ever comes.
    expect(await receiveWithin(pull, 1500)).toBeNull();
  });
});
