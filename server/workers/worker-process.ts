/**
 * Entry point of a worker that runs as its own OS process (forked by ProcessWorker). It runs the same WorkerLoop
 * as an in-process worker and reports over the IPC channel, so SIGKILL, SIGSTOP and SIGCONT act on a real peer.
 */
import * as zmq from 'zeromq';
import { WorkerLoop, type WorkerConfig, type WorkerControl, type WorkerReport } from './worker-loop.ts';

type ParentMessage = { type: 'start'; config: WorkerConfig } | WorkerControl;

// Never wait at exit for undelivered results: the parent decides when a worker's life ends.
zmq.context.blocky = false;

let loop: WorkerLoop | null = null;

function report(message: WorkerReport): void {
  // The callback takes a failed send (the parent just went away: EPIPE), which would otherwise be an uncaught
  // 'error'; the 'disconnect' handler below ends this process.
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'start') {
    loop ??= new WorkerLoop(message.config, report);
    void loop.done.then(() => setTimeout(() => process.exit(0), 50));
  } else if (loop) {
    loop.control(message);
  } else if (message.type === 'close') {
    process.exit(0); // closed before it ever started
  }
});

// The parent went away (crashed or closed the channel): do not linger as an orphan.
process.on('disconnect', () => {
  loop?.close();
  setTimeout(() => process.exit(0), 100).unref();
});
