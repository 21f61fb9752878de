/**
 * How many bytes of messages a graph's run may have on the way at once, at most: what its senders send, times the
 * copies a publisher makes (one per subscriber linked to it). The pipeline holds its runs to the operator's
 * `--max-run-payload-mib` (tasks x payload, playground-checks.ts); a graph run is held to the same figure here
 * (issue 9: "limits must hold ... for memory-heavy parameters"). Without it one playground of a PUB sending
 * 100,000 texts of 256 characters to 8 subscribers with high-water marks of 1,000,000 (or 0, no limit) that read
 * slowly, or that a visitor hung, grew the server by 560 MiB; the schema allows 31 subscribers and a visitor 5
 * playgrounds.
 */
import type { GraphNode, GraphSpec } from '../../shared/protocol/index.ts';

/** Bytes a template's expansion adds at most per placeholder ("{n}" -> 6 digits, "{int:...}" a number). */
const PLACEHOLDER_BYTES = 8;

/** The longest text a node's role sends, in bytes (a template's placeholders at their widest). */
function longestBody(messages: Extract<GraphNode['role'], { kind: 'request' | 'send' }>['messages']): number {
  if (messages.kind === 'list') return Math.max(0, ...messages.items.map((item) => Buffer.byteLength(item)));
  const placeholders = messages.template.split('{').length - 1;
  return Buffer.byteLength(messages.template) + placeholders * PLACEHOLDER_BYTES;
}

/** Copies of each message a node sends: one per linked peer for a publisher, else one (round-robin, a pair). */
function copiesPerMessage(graph: Pick<GraphSpec, 'links'>, node: GraphNode): number {
  if (node.socket !== 'PUB' && node.socket !== 'XPUB') return 1;
  return Math.max(1, graph.links.filter((link) => link.from === node.id || link.to === node.id).length);
}

/** The bytes of every message the graph's senders send, counting each copy a publisher makes. */
export function graphRunBytes(graph: Pick<GraphSpec, 'nodes' | 'links'>): number {
  let total = 0;
  for (const node of graph.nodes) {
    const role = node.role;
    if (role.kind !== 'request' && role.kind !== 'send') continue;
    const count = role.messages.kind === 'list' ? role.messages.items.length : role.messages.count;
    total += count * longestBody(role.messages) * copiesPerMessage(graph, node);
  }
  return total;
}
