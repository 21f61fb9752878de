/**
 * The bookkeeping the zeromq experiments share (server/engine/live-add-experiments, kill-hang-experiments): every
 * socket a test opens gets linger 0 (nothing waits at exit) and is closed after that test.
 */
import { afterEach } from 'vitest';
import type * as zmq from 'zeromq';

/**
 * Registers, for the calling file, an afterEach that closes every socket its tests opened; answers the `open` that
 * records a socket (and sets its linger to 0).
 */
export function socketsClosedAfterEachTest(): <S extends zmq.Socket>(socket: S) => S {
  const opened: zmq.Socket[] = [];
  afterEach(() => {
    for (const socket of opened.splice(0)) if (!socket.closed) socket.close();
  });
  return (socket) => {
    socket.linger = 0;
    opened.push(socket);
    return socket;
  };
}
