/**
 * The patterns page's diagram in words (issue 11): each node as a line (the text twin), and a short sentence of
 * what happened for the polite live region, as diagram-text.ts does for the pipeline. Pure: the components give
 * plain data and the translator.
 */
import type { DropReason, GraphNode, GraphSpec, RefusalReason } from '../../shared/protocol/index.ts';
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
  const base =
    role.kind === 'reply'
      ? t('graph.role.reply', { transform: role.transform })
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
  for (const part of [missed, here, refused]) if (part) parts.push(part);
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
export function happenedSentence(happenings: readonly Happening[], t: Translate): string | null {
  if (happenings.length === 0) return null;
  const said: string[] = [];
  const received = happenings.filter((h) => h.kind === 'received');
  if (received.length > 0 && received.length <= NAMED_MAX) {
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
    if (h.kind === 'ended') said.push(t('graph.live.ended', { run: h.run, reason: h.reason }));
    if (h.kind === 'process') said.push(t(`graph.live.process.${h.action}`, { node: h.node }));
    if (h.kind === 'paced' || h.kind === 'moved') said.push(liveEditText(h, t));
  }
  return said.map((part) => (part.endsWith('.') ? part : `${part}.`)).join(' ');
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
