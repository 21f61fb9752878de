/**
 * The graph run's books, without sockets: how a receipt is attributed and what it proves about older copies.
 */
import { describe, expect, it } from 'vitest';
import { MessageBook } from './books.ts';

function send(
  book: MessageBook,
  sender: string,
  body: string,
  targets: { candidates: string[]; fanOut: boolean }[],
): number {
  const message = book.nextMessage();
  book.recordSend(message, sender, body, targets);
  return message;
}

describe('MessageBook', () => {
  it('a receipt claims the oldest pending copy with its body among those that could reach it', () => {
    const book = new MessageBook();
    const a = send(book, 'push', 'x', [{ candidates: ['w1', 'w2'], fanOut: false }]);
    const b = send(book, 'push', 'x', [{ candidates: ['w1', 'w2'], fanOut: false }]);
    expect(book.recordReceive('w2', 'x')).toEqual({ message: a, from: 'push', drops: [] });
    expect(book.recordReceive('w1', 'x')).toEqual({ message: b, from: 'push', drops: [] });
    // Nothing of ours was waiting for it: a peer we do not control sent it.
    expect(book.recordReceive('w1', 'x')).toEqual({ message: null, from: null, drops: [] });
    expect(book.summary(1)).toMatchObject({
      sent: 2,
      copies: 2,
      delivered: 2,
      inFlight: 0,
      nodes: { w1: { received: 2 }, w2: { received: 1 } },
    });
  });

  it("a subscriber's first delivery proves the older copies lost to the slow joiner, a later one to the HWM", () => {
    const book = new MessageBook();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((body) =>
      send(book, 'pub', body, [{ candidates: ['sub'], fanOut: true }]),
    );
    expect(book.recordReceive('sub', 'c').drops).toEqual([
      { message: ids[0], node: 'pub', peer: 'sub', reason: 'not-subscribed' },
      { message: ids[1], node: 'pub', peer: 'sub', reason: 'not-subscribed' },
    ]);
    expect(book.recordReceive('sub', 'f').drops).toEqual([
      { message: ids[3], node: 'pub', peer: 'sub', reason: 'hwm' },
      { message: ids[4], node: 'pub', peer: 'sub', reason: 'hwm' },
    ]);
    expect(book.summary(1)).toMatchObject({
      copies: 6,
      delivered: 2,
      dropped: 4,
      droppedBy: { 'not-subscribed': 2, hwm: 2 },
      inFlight: 0,
    });
  });

  it("settles what is left at the end, places every copy once, and counts a stopped run's as in flight", () => {
    const book = new MessageBook();
    send(book, 'pub', 'late', [{ candidates: ['reader'], fanOut: true }]);
    send(book, 'pub', 'never', [{ candidates: ['quitter'], fanOut: true }]);
    send(book, 'req', 'q', [{ candidates: ['rep'], fanOut: false }]);
    send(book, 'rep', 'reply', [{ candidates: [], fanOut: false }]);
    book.recordDrop(book.nextMessage(), 'pub', 'brasil gol', { node: 'pub', peer: 'fan', reason: 'filtered' });
    const stoppedBook = structuredClone(book.summary(1));
    expect(stoppedBook.inFlight).toBe(4);
    const drops = book.settle({
      stopped: false,
      stoppedNodes: new Set(['quitter']),
      externalPeers: new Set(['rep']),
      refusedNodes: new Set(),
    });
    expect(drops.map((d) => d.reason).sort()).toEqual(['closed', 'not-subscribed']);
    const summary = book.summary(2);
    // The reply went to a peer we do not control; the request's copy was for a REP that had one too.
    expect(summary).toMatchObject({ copies: 5, delivered: 0, unattributed: 2, dropped: 3, inFlight: 0 });
    expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
  });

  it('a refused sender loses every copy it has pending, and none of its later ones wait', () => {
    const book = new MessageBook();
    send(book, 'client-2', 'mensaje 0', [{ candidates: ['server'], fanOut: false }]);
    expect(book.refuse('client-2')).toEqual([{ message: 0, node: 'server', peer: 'server', reason: 'refused' }]);
    expect(book.pending).toBe(0);
  });

  it('keeps only what is undecided: 100,000 copies for a receiver that never reads stay countable', () => {
    const book = new MessageBook();
    for (let i = 0; i < 100_000; i++) send(book, 'push', `m${i}`, [{ candidates: ['a', 'dead'], fanOut: false }]);
    for (let i = 0; i < 100_000; i++) book.recordReceive('a', `m${i}`);
    expect(book.pending).toBe(0);
    expect(book.summary(1)).toMatchObject({ copies: 100_000, delivered: 100_000 });
  });
});
