/**
 * A node's pace, changed while messages flow (issue 11: "slow it ... while messages flow"): the interval between
 * the messages of a sender or requester, or the work time per message of a receiver or replier. The role loops
 * (graph-roles.ts) read it from the node's spec at every wait, so a change acts from the node's next wait on; a
 * wait under way is cut short or stretched to the new pace (counted from when it began), so slowing a node from
 * 10 s to 0 does not keep it asleep for the rest of the old wait.
 *
 * What a slow node shows is ZeroMQ's own behaviour: a slowed subscriber falls behind and its publisher drops its
 * copies at the high-water mark (a PUB never blocks); a slowed REP keeps its REQs waiting; a slowed PULL worker
 * still gets its round-robin share from a PUSH (PUSH does not balance by speed).
 */
import { GRAPH_LIMITS, type GraphNode, type NodeRole } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';
import type { GraphRunContext } from './graph-context.ts';
import type { NodeRuntime } from './graph-node.ts';

export type PaceKind = 'interval' | 'work';

/** What a node's pace is, by its role: none for a proxy or a passive node (they go at their peers' pace). */
export function paceKind(role: NodeRole): PaceKind | null {
  switch (role.kind) {
    case 'send':
    case 'request':
      return 'interval';
    case 'receive':
    case 'reply':
      return 'work';
    default:
      return null;
  }
}

/** The most a pace may be, by kind (the graph's own limits; the free sandbox holds its own too). */
export const PACE_MAX: Record<PaceKind, number> = { interval: GRAPH_LIMITS.intervalMs, work: GRAPH_LIMITS.workMs };

/** The node's pace now, in ms (0: as fast as it goes). */
export function paceOf(node: NodeRuntime): number {
  const role = node.spec.role;
  switch (role.kind) {
    case 'send':
    case 'request':
      return role.intervalMs ?? 0;
    case 'receive':
    case 'reply':
      return role.workMs ?? 0;
    default:
      return 0;
  }
}

/** The node with its pace set to `ms` (checked: a node with a pace, within its kind's range). */
export function withPaceSet(node: GraphNode, ms: number): GraphNode {
  const kind = paceKind(node.role);
  if (kind === null)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.paceNone', { node: node.id, role: node.role.kind }));
  if (!Number.isInteger(ms) || ms < 0 || ms > PACE_MAX[kind])
    throw new CodedError(
      'PG_ERR_VALIDATION',
      text(kind === 'interval' ? 'graph.paceIntervalRange' : 'graph.paceWorkRange', {
        node: node.id,
        max: PACE_MAX[kind],
        got: ms,
      }),
    );
  const role = node.role;
  const next: NodeRole =
    role.kind === 'send' || role.kind === 'request'
      ? { ...role, intervalMs: ms }
      : role.kind === 'receive' || role.kind === 'reply'
        ? { ...role, workMs: ms }
        : role;
  return { ...node, role: next };
}

/** A wait under way per node, to be woken when its pace changes. */
const wakers = new WeakMap<NodeRuntime, () => void>();

/**
 * Waits the node's pace, counted from now, re-reading it when it changes meanwhile. A deliberate wait: the run
 * does not count it as idle. Ends at once when the run ends.
 */
export async function pacedPause(run: GraphRunContext, node: NodeRuntime): Promise<void> {
  const started = performance.now();
  node.pausing = true;
  try {
    for (;;) {
      const left = paceOf(node) - (performance.now() - started);
      if (left <= 0 || run.ended || run.abort.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const signal = run.abort.signal;
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          if (wakers.get(node) === done) wakers.delete(node);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
        wakers.set(node, done);
      });
    }
  } finally {
    node.pausing = false;
  }
}

/**
 * Sets a running node's pace: its spec (and the run's graph) take the new value, a wait under way re-reads it,
 * and `node:paced` says so. The playground checked the value against the graph (withPaceSet) already.
 */
export function setPace(run: GraphRunContext, id: string, ms: number): void {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  const node = run.nodes.get(id);
  if (!node || node.removed || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  const spec = withPaceSet(node.spec, ms);
  node.spec = spec;
  run.options.graph = {
    ...run.options.graph,
    nodes: run.options.graph.nodes.map((other) => (other.id === id ? spec : other)),
  };
  run.emit({ type: 'node:paced', node: id, pace: paceKind(spec.role)!, ms });
  wakers.get(node)?.();
  run.progress();
}
