/**
 * The patterns page's counted texts agree in number in Spanish (issue 11): "13 filtrados por el publicador", not
 * "13 filtrado"; one is "1 filtrado". The same for every reason a copy is lost, ZeroMQ's refusals and the node
 * box's counts; a live sentence about one dropped message agrees with "mensaje". Plural forms come from the
 * language's own rules (Intl.PluralRules), as the pipeline page's counts do.
 */
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../shared/protocol/index.ts';
import type { GraphNodeCounts } from '../../shared/protocol/graph-stream.ts';
import type { GraphSummary } from '../../shared/protocol/index.ts';
import { happenedSentence, nodeLine, summaryText } from './graph-text.ts';
import { translatorFor } from './i18n/translate.ts';

const es = translatorFor('es');
const en = translatorFor('en');
const fan: GraphNode = { id: 'fan-1', socket: 'SUB', subscribe: ['argentina'], role: { kind: 'receive' } };
const counts = (patch: Partial<GraphNodeCounts>): GraphNodeCounts => ({
  sent: 0,
  received: 0,
  droppedHere: {},
  missed: {},
  refused: {},
  ...patch,
});

describe('counted reasons agree in number', () => {
  it('Spanish: 13 filtrados, 1 filtrado, and so for every reason and refusal', () => {
    expect(nodeLine(fan, counts({ missed: { filtered: 13 } }), es)).toContain('13 filtrados por el publicador');
    expect(nodeLine(fan, counts({ missed: { filtered: 1 } }), es)).toContain('1 filtrado por el publicador');
    const many = nodeLine(
      fan,
      counts({
        missed: { 'not-subscribed': 2, hwm: 3, closed: 4, killed: 5, 'no-peer': 6 },
        refused: { efsm: 2 },
      }),
      es,
    );
    expect(many).toContain('2 perdidos antes de llegar la suscripción');
    expect(many).toContain('3 descartados en el high-water mark');
    expect(many).toContain('4 perdidos con un socket cerrado');
    expect(many).toContain('5 perdidos con un nodo matado');
    expect(many).toContain('6 sin nadie que los tome');
    expect(many).toContain('2 rechazados: EFSM');
    expect(nodeLine(fan, counts({ missed: { 'no-peer': 1 } }), es)).toContain('1 sin nadie que lo tome');
  });

  it('English keeps its words; one count is one phrase', () => {
    expect(nodeLine(fan, counts({ missed: { filtered: 13, killed: 1 } }), en)).toBe(
      'fan-1 (SUB, receives, subscribes to “argentina”): sent 0, received 0; never got: 13 filtered by the publisher, 1 lost with a killed node',
    );
  });

  it('the node box counts and the live sentences', () => {
    expect(es.plural('graph.sentShort', 1)).toBe('enviado');
    expect(es.plural('graph.sentShort', 2)).toBe('enviados');
    expect(es.plural('graph.receivedShort', 1)).toBe('recibido');
    expect(es.plural('graph.sampled', 1)).toMatch(/^1 evento de mensaje llegó/);
    expect(es.plural('graph.count.socket', 1)).toBe('1 socket');
    expect(en.plural('graph.count.link', 0)).toBe('0 links');
    expect(
      happenedSentence(
        [
          { kind: 'dropped', node: 'narrator', peer: 'fan-1', reason: 'filtered' },
          { kind: 'process', node: 'server-6000', action: 'killed' },
        ],
        es,
      ),
    ).toBe('Un mensaje para fan-1: filtrado por el publicador. server-6000 fue matado.');
  });
});

// Learner report (session 11): the live region's last sentence kept the last interval's receipts as if they were the
// run's ("1145 messages received: client 565, server 580" with 2001 counted) and said the end's reason raw
// ("Terminó la ejecución … (completed)"); a node's line said the same reason twice ("1 lost with a killed node; 1 lost
// with a killed node") for what it missed and what it sent; the books called filtered copies "dropped".
describe('the graph in words after a run and its books', () => {
  const totals = { client: { received: 1000 }, server: { received: 1001 } };
  const lastInterval = [
    ...Array.from({ length: 5 }, () => ({ kind: 'received' as const, node: 'client', from: 'server', body: '7' })),
    { kind: 'ended' as const, run: 'r1', reason: 'completed' },
  ];

  it("the live region's sentence at the end gives the run's final counts", () => {
    expect(happenedSentence(lastInterval, en, totals)).toBe(
      'In all, 2001 messages received: client 1000, server 1001. Run r1 ran its course.',
    );
    // While the run goes on, the interval's receipts as before.
    expect(happenedSentence(lastInterval.slice(0, 5), en, totals)).toBe('5 messages received: client 5.');
    expect(happenedSentence(lastInterval.slice(4), es, { 'fan-2': { received: 1 } })).toBe(
      'En total, 1 mensaje recibido: fan-2 1. La ejecución r1 llegó a su fin.',
    );
  });

  it("the end's reason in words, in Spanish too", () => {
    const sentence = happenedSentence(lastInterval, es, totals)!;
    expect(sentence).toBe(
      'En total, 2001 mensajes recibidos: client 1000, server 1001. La ejecución r1 llegó a su fin.',
    );
    expect(sentence).not.toContain('completed');
    expect(happenedSentence([{ kind: 'ended', run: 'r2', reason: 'stopped' }], es)).toBe('La ejecución r2 se detuvo.');
  });

  it('what a node never got and what it sent and was lost are told apart', () => {
    const rep: GraphNode = { id: 'server-6000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } };
    const line = nodeLine(rep, counts({ missed: { killed: 1 }, droppedHere: { killed: 1 } }), en);
    expect(line).toContain('never got: 1 lost with a killed node');
    expect(line).toContain('of what it sent: 1 lost with a killed node');
    expect(nodeLine(rep, counts({ missed: { refused: 1 }, droppedHere: { refused: 1 } }), es)).toContain(
      'no recibidos: 1 ',
    );
  });

  const books = (patch: Partial<GraphSummary>): GraphSummary => ({
    sent: 40,
    copies: 40,
    delivered: 6,
    dropped: 34,
    droppedBy: { filtered: 34 },
    unattributed: 0,
    inFlight: 0,
    nodes: {},
    refusals: 0,
    durationMs: 1000,
    ...patch,
  });

  it("the books: copies filtered by design are not lost, and a publisher's copies are counted as copies", () => {
    expect(summaryText(books({}), en)).toBe(
      'Sent 40 · delivered 6 · filtered out 34 (no matching subscription, by design) · lost 0 · in flight 0',
    );
    const kill = summaryText(books({ sent: 121, copies: 123, delivered: 123, dropped: 0, droppedBy: {} }), en);
    expect(kill).toBe(
      'Sent 121 · 123 copies (a publisher sends one to each subscriber) · delivered 123 · lost 0 · in flight 0',
    );
    const lost = summaryText(
      books({ sent: 40, copies: 71, delivered: 12, dropped: 59, droppedBy: { filtered: 50, 'not-subscribed': 9 } }),
      es,
    );
    expect(lost).toContain('filtrados 50');
    expect(lost).toContain('perdidos 9 (9 perdidos antes de llegar la suscripción');
    expect(lost).not.toContain('descartados 59');
  });
});
