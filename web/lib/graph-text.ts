/**
 * The patterns page's diagram in words (issue 11): each node as a line (the text twin), and a short sentence of
 * what happened for the polite live region, as diagram-text.ts does for the pipeline. Pure: the components give
 * plain data and the translator.
 */
import type { DropReason, GraphNode, GraphSpec, GraphSummary, RefusalReason } from '../../shared/protocol/index.ts';
import type { GraphNodeCounts } from '../../shared/protocol/graph-stream.ts';
import type { Happening } from './graph-session.svelte.ts';
import type { LiveEdit } from './graph-marks.ts';
import type { MessageKey, PluralBase, Translate } from './i18n/translate.ts';

/** Up to this many receipts are named one by one in a sentence; more are counted per node. */
export const NAMED_MAX = 3;

export function dropText(reason: DropReason, t: Translate): string {
  return t(`graph.drop.${reason}` as MessageKey);
}

export function refusalText(reason: RefusalReason, t: Translate): string {
  return t(`graph.refusal.${reason}` as MessageKey);
}

/** "requests", "replies (sum)", "sends"... plus a SUB's prefixes. */
export function roleText(node: GraphNode, t: Translate): string {
  const role = node.role;
  // A receiver that answers on the same socket (part 2's PAIR echo server) echoes: "receives" undersold it.
  const base =
    role.kind === 'reply'
      ? t('graph.role.reply', { transform: role.transform })
      : role.kind === 'receive' && role.replyBack
        ? t('graph.role.echo')
        : t(`graph.role.${role.kind}` as MessageKey);
  return node.subscribe ? `${base}, ${subscriptionText(node.subscribe, t)}` : base;
}

export function subscriptionText(prefixes: readonly string[], t: Translate): string {
  const named = prefixes.filter((prefix) => prefix !== '');
  return t('graph.subscribesTo', {
    prefixes:
      named.length < prefixes.length || named.length === 0
        ? t('graph.everything')
        : named.map((p) => `“${p}”`).join(', '),
  });
}

/** "5 filtered by the publisher, 1 dropped at the high-water mark" from counts by reason. */
export function reasonsText(
  byReason: Partial<Record<string, number>>,
  say: (reason: string, count: number) => string,
): string {
  return Object.entries(byReason)
    .filter(([, count]) => (count ?? 0) > 0)
    .map(([reason, count]) => say(reason, count ?? 0))
    .join(', ');
}

/** "13 filtered by the publisher": the count and its reason, agreeing in number ("13 filtrados" in Spanish). */
export function dropCountText(reason: DropReason, count: number, t: Translate): string {
  return t.plural(`graph.dropCount.${reason}` as PluralBase, count);
}

export function refusalCountText(reason: RefusalReason, count: number, t: Translate): string {
  return t.plural(`graph.refusalCount.${reason}` as PluralBase, count);
}

/**
 * A node box's problem line, short enough for the box: "refused: 1 · filtered: 362" (the whole words, "1 refused:
 * PAIR is exclusive (one peer only)", were cut to "1 refused: PAIR is exclusiv…"). The box's tooltip and the text
 * twin keep the whole words.
 */
export function problemShort(counts: GraphNodeCounts | undefined, refusals: number, t: Translate): string {
  const parts: string[] = [];
  if (refusals > 0) parts.push(t('graph.box.refused', { n: refusals }));
  for (const [reason, n] of Object.entries(counts?.missed ?? {}))
    if ((n ?? 0) > 0) parts.push(t(`graph.box.drop.${reason}` as MessageKey, { n: n ?? 0 }));
  return parts.join(' · ');
}

/** One line of the text twin: what the node is and its counts, then what it missed, dropped and was refused. */
export function nodeLine(
  node: GraphNode,
  counts: GraphNodeCounts | undefined,
  t: Translate,
  lastBody?: string,
): string {
  const c = counts ?? { sent: 0, received: 0, droppedHere: {}, missed: {}, refused: {} };
  const parts = [
    t('graph.nodeLine', {
      node: node.id,
      socket: node.socket,
      role: roleText(node, t),
      sent: c.sent,
      received: c.received,
    }),
  ];
  const missed = reasonsText(c.missed, (r, n) => dropCountText(r as DropReason, n, t));
  const here = reasonsText(c.droppedHere, (r, n) => dropCountText(r as DropReason, n, t));
  const refused = reasonsText(c.refused, (r, n) => refusalCountText(r as RefusalReason, n, t));
  // Copies meant for the node and copies it sent are counted with the same reasons: each list says which it is, or
  // a node with both read "1 lost with a killed node; 1 lost with a killed node".
  if (missed) parts.push(t('graph.missedList', { list: missed }));
  if (here) parts.push(t('graph.droppedHereList', { list: here }));
  if (refused) parts.push(refused);
  if (lastBody !== undefined) parts.push(t('graph.lastReceived', { body: lastBody }));
  return parts.join('; ');
}

/** The link's words: its transport and which end binds (the other connects). */
export function linkText(link: GraphSpec['links'][number], t: Translate): string {
  return t('graph.linkLabel', { transport: link.transport, binder: link.bind === 'from' ? link.from : link.to });
}

/**
 * One sentence for the live region from what happened since the last one (null: nothing worth saying). A few
 * receipts by name; more as counts per node; run starts, ends and refusals always.
 */
export function happenedSentence(
  happenings: readonly Happening[],
  t: Translate,
  totals?: Readonly<Record<string, { received: number }>>,
): string | null {
  if (happenings.length === 0) return null;
  const said: string[] = [];
  const received = happenings.filter((h) => h.kind === 'received');
  const ended = happenings.some((h) => h.kind === 'ended');
  if (ended && totals) {
    // The region is throttled: its last sentence stays once the run has ended, so it gives the run's final counts
    // (the exact counters), not the receipts of the last interval, which read as the run's total.
    const shares = Object.entries(totals).filter(([, counts]) => counts.received > 0);
    const count = shares.reduce((sum, [, counts]) => sum + counts.received, 0);
    if (count > 0)
      said.push(
        t.plural('graph.live.receivedTotal', count, {
          shares: shares.map(([node, c]) => `${node} ${c.received}`).join(', '),
        }),
      );
  } else if (received.length > 0 && received.length <= NAMED_MAX) {
    for (const h of received) said.push(t('graph.live.received', { node: h.node, body: h.body, from: h.from ?? '?' }));
  } else if (received.length > NAMED_MAX) {
    const perNode = new Map<string, number>();
    for (const h of received) perNode.set(h.node, (perNode.get(h.node) ?? 0) + 1);
    said.push(
      t('graph.live.receivedMany', {
        count: received.length,
        shares: [...perNode].map(([node, n]) => `${node} ${n}`).join(', '),
      }),
    );
  }
  const drops = happenings.filter((h) => h.kind === 'dropped');
  const lastDrop = drops.at(-1);
  if (lastDrop)
    said.push(t('graph.live.dropped', { peer: lastDrop.peer ?? '?', reason: dropText(lastDrop.reason, t) }));
  for (const h of happenings) {
    if (h.kind === 'refused') said.push(t('graph.live.refused', { node: h.node, reason: refusalText(h.reason, t) }));
    if (h.kind === 'started') said.push(t('graph.live.started', { run: h.run }));
    if (h.kind === 'ended')
      // A requester left waiting for a reply lost with a killed node: the run did not run its course.
      said.push(
        h.reason === 'completed' && happenings.some((other) => other.kind === 'replyLost')
          ? t('graph.live.endedStuck', { run: h.run })
          : endedText(h.run, h.reason, t),
      );
    if (h.kind === 'process') said.push(t(`graph.live.process.${h.action}`, { node: h.node }));
    if (h.kind === 'replyLost') said.push(replyLostText(h.node, h.killed, t));
    if (h.kind === 'paced' || h.kind === 'moved') said.push(liveEditText(h, t));
  }
  return said.map((part) => (part.endsWith('.') ? part : `${part}.`)).join(' ');
}

/** "Run r1 ran its course.": the end's reason in words (the stream's reason is a code: completed, stopped...). */
export function endedText(run: string, reason: string, t: Translate): string {
  const known = ['completed', 'stopped', 'failed'].includes(reason);
  return known ? t(`graph.live.ended.${reason}` as MessageKey, { run }) : t('graph.live.ended', { run, reason });
}

/**
 * The run's books in one line (the summary under Run and Stop): what was sent, the copies when a publisher made
 * more than one of a message, what was delivered, what the publishers filtered out by design apart from what was
 * really lost (and why), and what is still in flight. Before, every copy not delivered was "dropped": a filtered
 * PUB/SUB run read "Sent 40 · delivered 6 · dropped 34", and a PUB's copies made "delivered" exceed "sent".
 */
export function summaryText(summary: GraphSummary, t: Translate): string {
  const filtered = summary.droppedBy['filtered'] ?? 0;
  const lostBy = Object.fromEntries(Object.entries(summary.droppedBy).filter(([reason]) => reason !== 'filtered'));
  const lost = Math.max(0, summary.dropped - filtered);
  const parts = [t('graph.summary.sent', { n: summary.sent })];
  if (summary.copies !== summary.sent) parts.push(t('graph.summary.copies', { n: summary.copies }));
  parts.push(t('graph.summary.delivered', { n: summary.delivered }));
  if (filtered > 0) parts.push(t('graph.summary.filtered', { n: filtered }));
  const reasons = reasonsText(lostBy, (r, n) => dropCountText(r as DropReason, n, t));
  parts.push(reasons ? t('graph.summary.lostWhy', { n: lost, reasons }) : t('graph.summary.lost', { n: lost }));
  if (summary.unattributed > 0) parts.push(t('graph.summary.unattributed', { n: summary.unattributed }));
  parts.push(t('graph.summary.inFlight', { n: summary.inFlight }));
  return parts.join(' · ');
}

/**
 * The run's state in words (the run bar): after the end, how it ended; a run that ended by itself with a requester
 * left waiting for a reply lost with a killed node did not run its course: nothing more could happen.
 */
export function runStateText(
  run: { runState: string; endReason: string | null; repliesLost: Readonly<Record<string, string | null>> },
  t: Translate,
): string {
  if (run.runState !== 'ended' || !run.endReason) return t(`graph.state.${run.runState}` as MessageKey);
  const stuck = run.endReason === 'completed' && Object.keys(run.repliesLost).length > 0;
  return t((stuck ? 'graph.ended.stuck' : `graph.ended.${run.endReason}`) as MessageKey);
}

/** A requester the run's end left waiting for a reply lost with a killed node (null: one of several killed). */
export function replyLostText(node: string, killed: string | null, t: Translate): string {
  return killed === null ? t('graph.replyLostUnknown', { node }) : t('graph.replyLost', { node, killed });
}

/** A visitor's live edit in words (the node controls' status line and the text twin's live region). */
export function liveEditText(edit: LiveEdit, t: Translate): string {
  if (edit.kind === 'paced') return t(`graph.edits.paced.${edit.pace}`, { node: edit.node, ms: edit.ms });
  return t('graph.edits.moved', {
    from: edit.from,
    to: edit.to,
    previous: edit.previous,
    transport: edit.transport,
    address: edit.address,
    lost: edit.lost,
  });
}
