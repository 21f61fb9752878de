/**
 * Connects a running requester makes between two round trips (graph-live.ts: a node added while the run flows
 * binds, and a REQ, or a DEALER requesting, that only connects dials it). Made right before the requester's next
 * request, never while its receive() waits for a reply: zeromq.js re-checks a pending receive only when the
 * socket's file descriptor signals or it sends, and a connect on the socket may take that signal, leaving the reply
 * unread until the receive's next re-check (graph-node.ts RECEIVE_RECHECK_MS; docs/zmq-patterns.md, "Moving a
 * node"; the same reason graph-move.ts moves a REQ's link at the end of its round trip): a round trip would take
 * that much longer. Any other node connects at once: a streaming receiver's re-check covers it. A module of its
 * own: the role loops (graph-roles.ts) call it, and graph-live.ts imports them.
 */
import type { NodeRuntime } from './graph-node.ts';

const waiting = new WeakMap<NodeRuntime, (() => void)[]>();

/** Makes `connect` right before `node`'s next request. */
export function connectBeforeNextRequest(node: NodeRuntime, connect: () => void): void {
  const due = waiting.get(node);
  if (due) due.push(connect);
  else waiting.set(node, [connect]);
}

/** The connects waiting for `node`'s next request, made now (its role loop calls it before each request). */
export function connectsDue(node: NodeRuntime): void {
  const due = waiting.get(node);
  if (due === undefined) return;
  waiting.delete(node);
  for (const connect of due) connect();
}
