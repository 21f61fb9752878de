/**
 * The patterns page's counted texts agree in number in Spanish (issue 11): "13 filtrados por el publicador", not
 * "13 filtrado"; one is "1 filtrado". The same for every reason a copy is lost, ZeroMQ's refusals and the node
 * box's counts; a live sentence about one dropped message agrees with "mensaje". Plural forms come from the
 * language's own rules (Intl.PluralRules), as the pipeline page's counts do.
 */
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../shared/protocol/index.ts';
import type { GraphNodeCounts } from '../../shared/protocol/graph-stream.ts';
import { happenedSentence, nodeLine } from './graph-text.ts';
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
      'fan-1 (SUB, receives, subscribes to “argentina”): sent 0, received 0; 13 filtered by the publisher, 1 lost with a killed node',
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
