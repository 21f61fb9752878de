/**
 * Socket monitor: turns zeromq.js Observer events into our MonitorKind. Monitor events arrive on the event loop
 * after libzmq already acted (a peer can have received messages before its `handshake` is seen here), so
 * consumers treat them as news about the past, never as a gate for routing.
 */
import type * as zmq from 'zeromq';
import type { MonitorKind } from '../../shared/protocol/index.ts';

export interface MonitorEvent {
  kind: MonitorKind;
  address: string;
  interval?: number;
  error?: string;
}

function toMonitorEvent(event: zmq.Event): MonitorEvent | null {
  switch (event.type) {
    case 'end':
    case 'unknown':
      return null;
    case 'connect:retry':
      return { kind: 'connect:retry', address: event.address, interval: event.interval };
    case 'handshake:error:protocol':
    case 'handshake:error:auth':
    case 'handshake:error:other':
      return { kind: 'handshake:error', address: event.address, error: event.error.message };
    case 'bind:error':
    case 'accept:error':
    case 'close:error':
      return { kind: event.type, address: event.address, error: event.error.message };
    default:
      return { kind: event.type, address: event.address };
  }
}

/**
 * Reads a socket's monitor until the socket closes. Call it right after constructing the socket (before bind or
 * connect) so the first `bind` is seen; the returned promise settles once the monitor has ended.
 */
export async function watchSocket(socket: zmq.Socket, onEvent: (event: MonitorEvent) => void): Promise<void> {
  const observer = socket.events;
  try {
    for await (const raw of observer) {
      const event = toMonitorEvent(raw);
      if (event) onEvent(event);
    }
  } catch (error) {
    // The observer rejects with EAGAIN/ENOTSOCK when its socket is closed under it: that is its normal end.
    if (!socket.closed && !observer.closed) throw error;
  }
}
