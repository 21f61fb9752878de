/**
 * The books of a graph run: every copy of every message, and where it ended. A message has one copy, or one per
 * subscriber our graph has for a PUB (a subscriber whose prefixes do not match gets its copy dropped at once as
 * "filtered": the publisher filters). A copy ends delivered (a node's receive() returned it), dropped (where and
 * why; a delivered copy its node was killed holding, unhandled, moves here), unattributed (peers we do not
 * control took it, or lost it), or stays in flight.
 *
 * Attribution is the receiving side's (a sender cannot say which peer took a message, zmq-facts section 7): a
 * receipt claims the oldest pending copy with the same body that could have reached that node. Within one pipe
 * ZeroMQ keeps order, so when a subscriber receives a later copy from a publisher, every older copy for it from
 * that publisher is gone: before its first delivery, the subscription had not reached the publisher yet (the slow
 * joiner); after it, the publisher dropped it at the subscriber's high-water mark. Bodies that repeat make which of
 * two equal copies was lost a guess (the counts stay exact).
 */
import type { DropReason, GraphSummary } from '../../shared/protocol/index.ts';

export type CopyState = 'pending' | 'delivered' | 'dropped' | 'unattributed';

interface Copy {
  message: number;
  sender: string;
  body: string;
  /** Our nodes that could receive it; one for a fan-out copy or an addressed reply. */
  candidates: readonly string[];
  /** A PUB's copy for one subscriber: its loss can be told from later deliveries on the same pipe. */
  fanOut: boolean;
  state: CopyState;
  /** Why it was dropped, once it is (present from the start: one shape for every copy). */
  reason: DropReason | undefined;
}

export interface Drop {
  message: number;
  /** Where it was dropped: the socket that held it last (a PUB drops, a closed node loses). */
  node: string;
  /** Whom it was for, when known. */
  peer: string | null;
  reason: DropReason;
}

export interface Receipt {
  message: number | null;
  from: string | null;
  /** Older copies this receipt proves lost (a subscriber's slow join or its HWM). */
  drops: Drop[];
}

/** Copies still pending for one receiver, oldest first, from `head` on (those before it are all settled). */
interface PendingList {
  copies: Copy[];
  head: number;
}

/** What most receipts prove about older copies: nothing (one shared empty list, not one per message). */
const NO_DROPS: Drop[] = Object.freeze([]) as unknown as Drop[];
/** A receipt no copy of ours accounts for (a peer we do not control sent it). */
const UNCLAIMED: Receipt = Object.freeze({ message: null, from: null, drops: NO_DROPS });

/** How a copy's fate is decided when the run ends. */
export interface EndFacts {
  /** The run was stopped by someone: what is still pending is in flight, not lost. */
  stopped: boolean;
  /** Nodes whose receive loop stopped (stop message, count) or closed: what waited for them is lost there. */
  stoppedNodes: ReadonlySet<string>;
  /** Nodes that saw peers we do not control: their unclaimed messages may be theirs. */
  externalPeers: ReadonlySet<string>;
  /** Nodes ZeroMQ refused (a second PAIR peer, an incompatible link): their messages were dropped by the peer. */
  refusedNodes: ReadonlySet<string>;
}

export class MessageBook {
  #nextMessage = 0;
  /**
   * Copies still undecided. Decided ones are only counted: memory follows what is on the way, not the run's
   * length (a dead receiver's lists are swept as they grow).
   */
  readonly #open = new Set<Copy>();
  #copies = 0;
  #delivered = 0;
  #unattributed = 0;
  readonly #droppedBy = new Map<DropReason, number>();
  /** Pending copies by candidate receiver, oldest first (a copy with several candidates is in each list). */
  readonly #pendingFor = new Map<string, PendingList>();
  /** publisher -> subscriber -> has it delivered at least one copy (the subscription is known to be in). */
  readonly #subscribed = new Map<string, Set<string>>();
  readonly #sentBy = new Map<string, number>();
  readonly #receivedBy = new Map<string, number>();
  /** Nodes killed during the run: what is queued for them, or parked on a pipe to them, is lost with them. */
  readonly #killed = new Set<string>();
  /**
   * Links moved during the run (graph-move.ts), as `sender|receiver` both ways: a copy between the two that no
   * receipt claims was lost with the old connection. A pair stays "moving" until the receiver's first delivery
   * from the sender over the new connection: a subscriber's copies lost before it are lost with the move.
   */
  readonly #moving = new Set<string>();
  /** Round-robin copies pending when their link moved: if no live node claims them, they were on the old one. */
  readonly #maybeMoved = new Set<Copy>();
  #refusals = 0;

  /** A new message id, numbered within the run. */
  nextMessage(): number {
    return this.#nextMessage++;
  }

  get sent(): number {
    return this.#nextMessage;
  }

  /**
   * A message one of our nodes sent, with one copy per target set: `[a, b]` is one copy that a or b may take
   * (round-robin), `fanOut` gives each its own copy. No candidate: the copy is pending for peers we do not
   * control; the end of the run decides it. Returns the copies lost at once: those only killed nodes could take.
   */
  recordSend(
    message: number,
    sender: string,
    body: string,
    targets: readonly { readonly candidates: readonly string[]; readonly fanOut: boolean }[],
  ): Drop[] {
    let drops = NO_DROPS;
    this.#sentBy.set(sender, (this.#sentBy.get(sender) ?? 0) + 1);
    for (const target of targets) {
      const copy: Copy = {
        message,
        sender,
        body,
        candidates: target.candidates,
        fanOut: target.fanOut,
        state: 'pending',
        reason: undefined,
      };
      this.#copies++;
      this.#open.add(copy);
      for (const candidate of target.candidates) {
        let list = this.#pendingFor.get(candidate);
        if (!list) this.#pendingFor.set(candidate, (list = { copies: [], head: 0 }));
        const length = list.copies.push(copy);
        // A receiver that stopped reading never sweeps its list on a receipt: sweep it as it doubles.
        if (length >= 1024 && (length & (length - 1)) === 0) this.#sweep(list);
      }
      if (this.#killed.size > 0) {
        const drop = this.#lostWithKilled(copy, true);
        if (drop) (drops === NO_DROPS ? (drops = []) : drops).push(drop);
      }
    }
    return drops;
  }

  /**
   * Nodes killed during the run (one program's sockets): every pending copy that only they could take is lost
   * with them now (a subscriber's copies, a reply addressed to it, a PUSH's task when it was the only PULL). A
   * copy that a live node could still take (round-robin) stays pending: if no live node claims it, the end of the
   * run decides it lost with the killed one (it was queued there, or parked on the pipe to it: a connecting REQ or
   * PUSH keeps dealing to a dead peer's pipe, docs/zmq-patterns.md).
   */
  kill(nodes: readonly string[]): Drop[] {
    for (const node of nodes) this.#killed.add(node);
    const drops: Drop[] = [];
    for (const node of nodes) {
      for (const copy of this.#pendingFor.get(node)?.copies ?? []) {
        const drop = this.#lostWithKilled(copy, true);
        if (drop) drops.push(drop);
      }
    }
    return drops;
  }

  /**
   * A message `node` had received (delivered) and not handled when it was killed: it is lost with it after all,
   * moved from delivered to dropped as `unhandled` (the totals still add up: one copy, one place).
   */
  unhandled(message: number, node: string): Drop {
    this.#delivered--;
    this.#droppedBy.set('unhandled', (this.#droppedBy.get('unhandled') ?? 0) + 1);
    return { message, node, peer: node, reason: 'unhandled' };
  }

  /** Settles `copy` as lost with a killed node when its candidates say so (all killed, or with `any`, one). */
  #lostWithKilled(copy: Copy, all: boolean): Drop | null {
    if (copy.state !== 'pending' || copy.candidates.length === 0) return null;
    const killed = copy.candidates.filter((candidate) => this.#killed.has(candidate));
    if (killed.length === 0 || (all && killed.length < copy.candidates.length)) return null;
    this.#settle(copy, 'dropped', 'killed');
    const where = killed.length === 1 ? killed[0]! : copy.sender;
    return { message: copy.message, node: where, peer: killed.length === 1 ? killed[0]! : null, reason: 'killed' };
  }

  /** A copy decided at once: a publisher filtered it, or nobody could ever take it. */
  recordDrop(message: number, _sender: string, _body: string, drop: Omit<Drop, 'message'>): Drop {
    this.#copies++;
    this.#droppedBy.set(drop.reason, (this.#droppedBy.get(drop.reason) ?? 0) + 1);
    return { message, ...drop };
  }

  /**
   * Our node `receiver` received `body`. Claims the oldest pending copy it could have received, from `from` when
   * the receiver knows the sender (a REQ's reply comes from where its request went).
   */
  recordReceive(receiver: string, body: string, from?: string): Receipt {
    this.#receivedBy.set(receiver, (this.#receivedBy.get(receiver) ?? 0) + 1);
    const list = this.#pendingFor.get(receiver);
    if (!list) return UNCLAIMED;
    const copies = list.copies;
    // Settled copies are skipped here (those before head are all settled) and swept away now and then, so the
    // list stays short.
    let index = -1;
    for (let i = list.head; i < copies.length; i++) {
      const copy = copies[i]!;
      if (copy.state !== 'pending') continue;
      if (copy.body === body && (from === undefined || copy.sender === from)) {
        index = i;
        break;
      }
    }
    if (index < 0) {
      this.#sweep(list);
      return UNCLAIMED;
    }
    const copy = copies[index]!;
    this.#settle(copy, 'delivered');
    // The first delivery over a moved link's new connection ends its move (a subscription is in again).
    const moving = this.#moving.size > 0 && this.#moving.delete(`${copy.sender}|${receiver}`);
    let drops = NO_DROPS;
    if (copy.fanOut) {
      let subscribed = this.#subscribed.get(copy.sender);
      if (!subscribed) this.#subscribed.set(copy.sender, (subscribed = new Set()));
      const reason: DropReason = moving ? 'moved' : subscribed.has(receiver) ? 'hwm' : 'not-subscribed';
      subscribed.add(receiver);
      for (let i = list.head; i < index; i++) {
        const older = copies[i]!;
        if (older.state !== 'pending' || !older.fanOut || older.sender !== copy.sender) continue;
        this.#settle(older, 'dropped', reason);
        if (drops === NO_DROPS) drops = [];
        drops.push({ message: older.message, node: older.sender, peer: receiver, reason });
      }
    }
    // In order (a subscriber, a reply): the settled copies in front are passed over once, not at every receipt,
    // and cut off once they are half the list (a publisher far ahead leaves thousands pending behind them: a
    // sweep of the whole list every few receipts cost more than the rest of the books).
    while (list.head < copies.length && copies[list.head]!.state !== 'pending') list.head++;
    if (index - list.head > 64) this.#sweep(list);
    else if (list.head > 64 && list.head * 2 >= copies.length) {
      list.copies = copies.slice(list.head);
      list.head = 0;
    }
    return { message: copy.message, from: copy.sender, drops };
  }

  /**
   * A subscriber's prefixes changed while the run flows. Its pending copies no longer matched are dropped as
   * filtered (a SUB filters what it reads as well: they will never be received), and until it receives again
   * from a publisher, copies lost on the way are lost before its new subscription arrived (the slow joiner), not
   * at the high-water mark.
   */
  resubscribed(receiver: string, matches: (body: string) => boolean): Drop[] {
    for (const subscribers of this.#subscribed.values()) subscribers.delete(receiver);
    const drops: Drop[] = [];
    for (const copy of this.#pendingFor.get(receiver)?.copies ?? []) {
      if (copy.state !== 'pending' || !copy.fanOut || matches(copy.body)) continue;
      this.#settle(copy, 'dropped', 'filtered');
      drops.push({ message: copy.message, node: copy.sender, peer: receiver, reason: 'filtered' });
    }
    return drops;
  }

  /**
   * The link between `binder` and `connecter` moved to another connection (graph-move.ts): libzmq discards what
   * was queued on the old one. Every pending copy between the two that only the other end could take is dropped
   * as `moved` now; one that another peer could still take (round-robin) stays pending, and is `moved` if none
   * claims it by the run's end. Until the receiver gets a copy over the new connection, a subscriber's copies
   * found lost are lost with the move (routed into the dying pipe, or before the subscription came back).
   */
  moved(binder: string, connecter: string): Drop[] {
    const drops: Drop[] = [];
    for (const [sender, receiver] of [
      [binder, connecter],
      [connecter, binder],
    ] as const) {
      this.#moving.add(`${sender}|${receiver}`);
      for (const copy of this.#pendingFor.get(receiver)?.copies ?? []) {
        if (copy.state !== 'pending' || copy.sender !== sender) continue;
        if (copy.candidates.length > 1) {
          this.#maybeMoved.add(copy);
          continue;
        }
        this.#settle(copy, 'dropped', 'moved');
        drops.push({ message: copy.message, node: sender, peer: receiver, reason: 'moved' });
      }
    }
    return drops;
  }

  /** Copies still pending between two nodes, either way (a REQ and its REP mid round trip). */
  pendingBetween(a: string, b: string): number {
    let count = 0;
    for (const [sender, receiver] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const copy of this.#pendingFor.get(receiver)?.copies ?? [])
        if (copy.state === 'pending' && copy.sender === sender) count++;
    }
    return count;
  }

  /**
   * Whether a copy no one claimed by the run's end was lost with a move: pending when its link moved, or sent to
   * a receiver that got nothing from that sender over the new connection since.
   */
  #lostWithMove(copy: Copy): boolean {
    if (this.#maybeMoved.size === 0 && this.#moving.size === 0) return false;
    return (
      this.#maybeMoved.has(copy) || copy.candidates.some((candidate) => this.#moving.has(`${copy.sender}|${candidate}`))
    );
  }

  /** Every pending copy `sender` has sent, or will send, is lost: ZeroMQ refused the node. */
  refuse(sender: string): Drop[] {
    const drops: Drop[] = [];
    for (const copy of [...this.#open]) {
      if (copy.sender !== sender) continue;
      this.#settle(copy, 'dropped', 'refused');
      drops.push({
        message: copy.message,
        node: copy.candidates[0] ?? sender,
        peer: copy.candidates[0] ?? null,
        reason: 'refused',
      });
    }
    return drops;
  }

  /**
   * One message ZeroMQ refused after it was booked (a process node's send, booked when handed to its socket:
   * graph-messages.ts): its pending copies are dropped as `refused` at the sender.
   */
  refuseMessage(message: number, sender: string): Drop[] {
    const drops: Drop[] = [];
    for (const copy of [...this.#open]) {
      if (copy.message !== message) continue;
      this.#settle(copy, 'dropped', 'refused');
      drops.push({
        message,
        node: sender,
        peer: copy.candidates.length === 1 ? copy.candidates[0]! : null,
        reason: 'refused',
      });
    }
    return drops;
  }

  /** One more thing ZeroMQ refused (an EFSM, a PAIR peer, an incompatible link). */
  countRefusal(): void {
    this.#refusals++;
  }

  /** Decides every pending copy as the run ends; returns the drops to report. */
  /**
   * The killed node the still pending copy of `message` would be lost with at the run's natural end (settle's
   * first rule: no live node claimed it, and a killed one could have taken it): that node, null when several
   * killed ones could have, undefined when the copy is not pending or none of its candidates was killed.
   */
  killedCandidateOf(message: number): string | null | undefined {
    if (this.#killed.size === 0) return undefined;
    for (const copy of this.#open) {
      if (copy.message !== message || copy.state !== 'pending') continue;
      const killed = copy.candidates.filter((candidate) => this.#killed.has(candidate));
      if (killed.length === 0) return undefined;
      return killed.length === 1 ? killed[0]! : null;
    }
    return undefined;
  }

  settle(facts: EndFacts): Drop[] {
    if (facts.stopped) return [];
    const drops: Drop[] = [];
    for (const copy of [...this.#open]) {
      // No live node claimed it by the run's natural end: it was the killed node's (its queue, its pipe).
      const killed = this.#lostWithKilled(copy, false);
      if (killed) {
        drops.push(killed);
        continue;
      }
      // Sent by a node killed since, and taken by nobody: it was still in the dead program's own queue (a send
      // resolves once libzmq queued it; a killed process's I/O thread may never have written it out).
      if (this.#killed.has(copy.sender)) {
        this.#settle(copy, 'dropped', 'killed');
        drops.push({
          message: copy.message,
          node: copy.sender,
          peer: copy.candidates.length === 1 ? copy.candidates[0]! : null,
          reason: 'killed',
        });
        continue;
      }
      if (facts.refusedNodes.has(copy.sender)) {
        this.#settle(copy, 'dropped', 'refused');
      } else if (this.#lostWithMove(copy) && !facts.stoppedNodes.has(copy.candidates[0]!)) {
        this.#settle(copy, 'dropped', 'moved');
      } else if (copy.fanOut) {
        const subscriber = copy.candidates[0]!;
        const reason: DropReason = facts.stoppedNodes.has(subscriber)
          ? 'closed'
          : this.#subscribed.get(copy.sender)?.has(subscriber)
            ? 'hwm'
            : 'not-subscribed';
        this.#settle(copy, 'dropped', reason);
      } else if (facts.externalPeers.has(copy.sender) || copy.candidates.some((c) => facts.externalPeers.has(c))) {
        this.#settle(copy, 'unattributed');
        continue;
      } else {
        this.#settle(copy, 'dropped', copy.candidates.length === 0 ? 'no-peer' : 'closed');
      }
      drops.push({
        message: copy.message,
        node: copy.reason === 'closed' && copy.candidates.length === 1 ? copy.candidates[0]! : copy.sender,
        peer: copy.candidates.length === 1 ? copy.candidates[0]! : null,
        reason: copy.reason!,
      });
    }
    return drops;
  }

  summary(durationMs: number): GraphSummary {
    const droppedBy = Object.fromEntries(this.#droppedBy);
    const dropped = [...this.#droppedBy.values()].reduce((a, b) => a + b, 0);
    const delivered = this.#delivered;
    const unattributed = this.#unattributed;
    const inFlight = this.#open.size;
    const nodes: GraphSummary['nodes'] = {};
    for (const id of new Set([...this.#sentBy.keys(), ...this.#receivedBy.keys()])) {
      nodes[id] = { sent: this.#sentBy.get(id) ?? 0, received: this.#receivedBy.get(id) ?? 0 };
    }
    return {
      sent: this.#nextMessage,
      copies: this.#copies,
      delivered,
      dropped,
      droppedBy,
      unattributed,
      inFlight,
      nodes,
      refusals: this.#refusals,
      durationMs,
    };
  }

  /** Pending copies right now (the run waits for them to settle before it ends by itself). */
  get pending(): number {
    return this.#open.size;
  }

  #settle(copy: Copy, state: Exclude<CopyState, 'pending'>, reason?: DropReason): void {
    if (copy.state !== 'pending') return;
    this.#open.delete(copy);
    copy.state = state;
    if (state === 'delivered') this.#delivered++;
    else if (state === 'unattributed') this.#unattributed++;
    else if (reason) {
      copy.reason = reason;
      this.#droppedBy.set(reason, (this.#droppedBy.get(reason) ?? 0) + 1);
    }
  }

  #sweep(list: PendingList): void {
    list.copies = list.copies.filter((copy) => copy.state === 'pending');
    list.head = 0;
  }
}
