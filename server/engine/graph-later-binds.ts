/**
 * Binds a sending node makes later in its run, on the same socket as its first ones (GraphLink.bindAfter): the
 * tutorial's server (the series' part 7) binds tcp, sends "1", "2", "3", and only then binds ipc too. graph-run.ts
 * plans them when it binds the rest (the ipc path claimed, its peers already dialling it); the send loop
 * (graph-roles.ts) makes each one once its node has sent that many messages, before the next send.
 */
import type { GraphRunContext } from './graph-context.ts';
import type { NodeRuntime } from './graph-node.ts';
import { bindWhenFree } from './graph-move.ts';

interface LaterBind {
  after: number;
  bind: () => Promise<void>;
}

/** Per run, per node id, soonest first; a run's entry goes with the run. */
const laterBinds = new WeakMap<GraphRunContext, Map<string, LaterBind[]>>();

/** `bind` runs once `node` has sent `after` messages, before its next send. */
export function bindLater(run: GraphRunContext, node: NodeRuntime, after: number, bind: () => Promise<void>): void {
  let byNode = laterBinds.get(run);
  if (!byNode) laterBinds.set(run, (byNode = new Map()));
  const binds = byNode.get(node.id) ?? [];
  binds.push({ after, bind });
  binds.sort((a, b) => a.after - b.after);
  byNode.set(node.id, binds);
}

/**
 * Makes the binds due now that `node` has sent `sent` messages; null when none is due, so that the per-message
 * path awaits nothing.
 */
export function bindsDue(run: GraphRunContext, node: NodeRuntime, sent: number): Promise<void> | null {
  const binds = laterBinds.get(run)?.get(node.id);
  if (!binds || binds.length === 0 || binds[0]!.after > sent) return null;
  return (async () => {
    // Never during a move's unbind on the same socket, nor a move's bind during this one (graph-move.ts).
    while (binds.length > 0 && binds[0]!.after <= sent && !run.ended) await bindWhenFree(node, binds.shift()!.bind);
  })();
}
