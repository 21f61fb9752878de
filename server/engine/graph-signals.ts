/**
 * Kill, hang and resume a node of a running graph (issue 11: "kill, hang or resume a process node ... while
 * messages flow"), as the pipeline kills (SIGKILL), hangs (SIGSTOP) and resumes (SIGCONT) a process worker.
 *
 * A node with `process: true` runs its program's sockets in a child process (graph-process.ts): then a kill is
 * SIGKILL (the kernel closes its connections), a hang SIGSTOP (its I/O thread stops: its kernel buffers fill, then
 * the HWMs), a resume SIGCONT, and its role loop in the server is held or ended with it. The other nodes are
 * sockets in the server's own process, and a signal acts on the node's *program* the way the network sees a real
 * one:
 *   - kill: every socket of the program is closed at once with linger 0, as a killed process's are: its peers see
 *     the connection go (a `disconnect`), what was queued for it is gone, and a peer that connected to it keeps
 *     dealing to the dead pipe (the experiments in kill-hang-experiments.test.ts). The books lose with it what
 *     only it could take at once, and, when the run ends, what no live node claimed of what it could have taken.
 *   - hang: the program neither reads nor sends until resumed; its sockets stay open, so its receive queues fill
 *     up to their high-water marks and its peers see back-pressure (a PUSH blocks, a PUB drops for it).
 *   - resume: it reads and sends again, starting with what waited for it.
 * A program is the node and the sockets that stop with it (`stop.withNode`), that it forwards or announces
 * through, or that are its proxy's backend: the zguide's worker is one program of three sockets.
 *
 * Either way, a message the program had received and not yet handled (a REP before its reply was queued, a worker
 * working on its task, a proxy before it passed it on: NodeRuntime.holding) is lost with it: its receipt stays in
 * the log, and the books move it from delivered to dropped as `unhandled` (graph-signals.test.ts).
 */
import type { EventInput, GraphNode, GraphSpec } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';
import type { GraphRunContext } from './graph-context.ts';
import { unbindingNow } from './graph-move.ts';

export type NodeSignal = 'kill' | 'hang' | 'resume';

/** The sockets of one program: `id` and every node tied to it (stops with, forwards through, announces through). */
export function programOf(graph: Pick<GraphSpec, 'nodes'>, id: string): string[] {
  const ties = (node: GraphNode): string[] => {
    const role = node.role;
    return [
      node.stop?.withNode,
      node.stop?.announce?.through,
      role.kind === 'reply' || role.kind === 'receive' ? role.forwardTo : undefined,
      role.kind === 'proxy' ? role.backend : undefined,
    ].filter((tied): tied is string => tied !== undefined);
  };
  const neighbours = new Map<string, Set<string>>();
  for (const node of graph.nodes) {
    for (const tied of ties(node)) {
      if (!neighbours.has(node.id)) neighbours.set(node.id, new Set());
      if (!neighbours.has(tied)) neighbours.set(tied, new Set());
      neighbours.get(node.id)!.add(tied);
      neighbours.get(tied)!.add(node.id);
    }
  }
  const program = [id];
  for (let i = 0; i < program.length; i++) {
    for (const next of neighbours.get(program[i]!) ?? []) if (!program.includes(next)) program.push(next);
  }
  return program;
}

/**
 * Kills, hangs or resumes the program of node `id` in the running graph. Throws a coded refusal a page translates
 * when the run, the node or its state does not allow it (the run is over, no such node, killed already, hung
 * already, not hung).
 */
export function signalNode(run: GraphRunContext, id: string, signal: NodeSignal): string[] {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  const target = run.nodes.get(id);
  if (!target || target.removed || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  if (target.killed) throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeKilled', { node: id }));
  if (target.finished) throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeFinished', { node: id }));
  // Held by a move for a moment, not by the visitor (see below): said as that, not as "hung already".
  if (signal !== 'kill' && unbindingNow(target))
    throw new CodedError('PG_ERR_VALIDATION', text('graph.signalMoving', { node: id }));
  if (signal === 'hang' && target.hung) throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeHung', { node: id }));
  if (signal === 'resume' && !target.hung)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeNotHung', { node: id }));
  const program = programOf(run.options.graph, id)
    .map((member) => run.nodes.get(member))
    .filter((member) => member !== undefined && !member.killed && !member.removed)
    .map((member) => member!);
  // A move's unbind holds a socket of the program for a moment (graph-move.ts): a resume now would let its loop
  // send or receive on that socket, which zeromq.js refuses (EBUSY), and the node would end with that error.
  if (signal !== 'kill' && program.some(unbindingNow))
    throw new CodedError('PG_ERR_VALIDATION', text('graph.signalMoving', { node: id }));
  // A process program is one child: the signal goes to it, the real thing (graph-process.ts).
  const child = target.process;
  if (child) child.signal(signal === 'kill' ? 'SIGKILL' : signal === 'hang' ? 'SIGSTOP' : 'SIGCONT');
  const pid = child?.pid ?? undefined;
  for (const node of program) {
    const action = signal === 'hang' ? 'hung' : signal === 'resume' ? 'resumed' : 'killed';
    // A deliberate wait of the visitor's: the run does not end by its drain while a node is hung.
    if (signal === 'hang') node.hang();
    else if (signal === 'resume') node.release();
    else node.killed = true;
    const event: Extract<EventInput, { type: 'node:process' }> = {
      type: 'node:process',
      node: node.id,
      action,
      program: id,
    };
    if (pid !== undefined) event.pid = pid;
    run.emit(event);
  }
  if (signal === 'kill') {
    // Every socket of the program closes in the same turn, as a process's do when the kernel reaps it (a process
    // node's are gone with its SIGKILL already: this only ends what the server awaited of them).
    for (const node of program) if (!node.socket.closed) node.socket.close();
    // What it held, received but not handled, is lost with it: a receipt whose purpose never happened.
    for (const node of program) {
      if (node.holding === null) continue;
      run.reportDrops([run.books.unhandled(node.holding, node.id)]);
      node.holding = null;
    }
    // Booked before the nodes finish: a finish may end the run (its last sender killed), which settles the books.
    run.reportDrops(run.books.kill(program.map((node) => node.id)));
    for (const node of program) {
      node.release();
      run.finish(node, 'killed');
    }
  }
  run.progress();
  return program.map((node) => node.id);
}
