/**
 * Entry point of a graph node that runs as its own OS process (graph-process.ts forks it): the sockets of one
 * program (the node and the sockets tied to it, graph-signals.ts programOf) live here, in this process's own
 * ZeroMQ context, with their own queues, kernel buffers and I/O thread. The server drives them over the IPC
 * channel, one operation at a time per socket (bind, connect, disconnect, unbind, send, receive, subscribe,
 * close), and this process answers each and reports what the sockets' monitors say. So SIGKILL, SIGSTOP and SIGCONT act on real sockets:
 * the kernel closes a killed process's connections, a stopped one reads nothing while its buffers fill.
 *
 * The role loop itself stays in the server, where the books attribute every receipt as it happens (what a program
 * does with a message is the same code for every node; see docs/zmq-patterns.md, "Process nodes").
 */
import * as zmq from 'zeromq';
import type { GraphNode } from '../../shared/protocol/index.ts';
import { watchSocket } from '../pipeline/monitor.ts';
import { createSocket, type AnySocket } from './graph-node.ts';
import type { ChildCommand, ChildReport } from './graph-process.ts';

// Never wait at exit for undelivered messages: the server decides when this program's life ends.
zmq.context.blocky = false;

const sockets = new Map<string, AnySocket>();
const monitors: Promise<void>[] = [];
/**
 * A socket's unbind under way (a move's: graph-move.ts): zeromq.js throws EBUSY at any send or receive started on
 * that socket meanwhile, so those wait for it here. A bind never needs this: it is made with bindSync.
 */
const unbinding = new Map<string, Promise<void>>();

async function unblocked(node: string): Promise<void> {
  for (let pending = unbinding.get(node); pending; pending = unbinding.get(node)) await pending;
}

function report(message: ChildReport): void {
  // A failed send means the server went away (EPIPE): the 'disconnect' handler below ends this process.
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

function failure(error: unknown): { code: string; message: string } {
  const failed = error as { code?: string; message?: string };
  return { code: failed.code ?? 'ERROR', message: failed.message ?? String(error) };
}

/** Frames as they crossed the channel (a Buffer arrives as a Uint8Array): Buffers again, without a copy. */
function asFrames(frames: readonly (string | Uint8Array)[]): zmq.MessageLike[] {
  return frames.map((frame) =>
    typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
  );
}

function open(nodes: readonly GraphNode[]): void {
  for (const spec of nodes) {
    const socket = createSocket(spec);
    sockets.set(spec.id, socket);
    // Watched before any bind or connect, so the first `bind` is seen (monitor.ts).
    monitors.push(
      watchSocket(socket, (event) => report({ type: 'monitor', node: spec.id, event }))
        .catch(() => {})
        .finally(() => report({ type: 'monitor-end', node: spec.id })),
    );
  }
}

async function run(command: Extract<ChildCommand, { id: number }>, socket: AnySocket): Promise<unknown> {
  switch (command.op) {
    case 'ping':
      return null;
    case 'bind':
      // Synchronously: an asynchronous bind would make a send or receive under way meanwhile throw EBUSY (the
      // server's role loop goes on while a move binds: graph-move.ts). The event loop waits for the bind instead.
      socket.bindSync(command.address);
      return socket.lastEndpoint;
    case 'disconnect':
      socket.disconnect(command.address);
      return null;
    case 'unbind': {
      await unblocked(command.node);
      const done = socket.unbind(command.address);
      const settled = done.then(
        () => {},
        () => {},
      );
      unbinding.set(command.node, settled);
      try {
        await done;
      } finally {
        if (unbinding.get(command.node) === settled) unbinding.delete(command.node);
      }
      return null;
    }
    case 'send':
      await unblocked(command.node);
      await socket.send(asFrames(command.frames));
      return null;
    case 'receive':
      for (;;) {
        await unblocked(command.node);
        try {
          return await socket.receive();
        } catch (error) {
          // Its receive timeout (graph-node.ts RECEIVE_RECHECK_MS) found nothing: receive again, here, without a
          // round trip to the server. A closed socket's receive fails for good.
          if ((error as { code?: string }).code === 'EAGAIN' && !socket.closed) continue;
          throw error;
        }
      }
  }
}

process.on('message', (command: ChildCommand) => {
  if (command.op === 'open') return open(command.nodes);
  if (command.op === 'exit') {
    for (const socket of sockets.values()) if (!socket.closed) socket.close();
    // Bounded: a monitor that never ends must not keep the process.
    void Promise.race([Promise.allSettled(monitors), new Promise((resolve) => setTimeout(resolve, 300))]).then(() =>
      process.exit(0),
    );
    return;
  }
  const socket = sockets.get(command.node);
  if (!socket) {
    if ('id' in command) report({ type: 'failed', id: command.id, code: 'ENOTSOCK', message: 'no such socket' });
    return;
  }
  try {
    switch (command.op) {
      case 'connect':
        socket.connect(command.address);
        return;
      case 'subscribe':
        (socket as unknown as zmq.Subscriber).subscribe(...command.prefixes);
        return;
      case 'unsubscribe':
        (socket as unknown as zmq.Subscriber).unsubscribe(...command.prefixes);
        return;
      case 'option':
        socket[command.name] = command.value;
        return;
      case 'close':
        if (!socket.closed) socket.close();
        return;
    }
  } catch (error) {
    report({ type: 'error', node: command.node, ...failure(error) });
    return;
  }
  run(command, socket).then(
    (value) => report({ type: 'done', id: command.id, value }),
    (error: unknown) => report({ type: 'failed', id: command.id, ...failure(error) }),
  );
});

// The server went away (crashed, or closed the channel): do not linger as an orphan.
process.on('disconnect', () => {
  for (const socket of sockets.values()) if (!socket.closed) socket.close();
  setTimeout(() => process.exit(0), 100).unref();
});

report({ type: 'ready' });
