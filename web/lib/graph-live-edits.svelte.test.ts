/**
 * The patterns page's pace and move controls against a fake server (issue 11): the session sends a pace and a move
 * to their routes, and the run's node:paced and link:moved events become the status line and the live region's
 * sentence, in English and Spanish.
 */
import { describe, expect, it } from 'vitest';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import { emptyGraphCounters, type GraphPlaygroundInfo } from '../../shared/protocol/graph-stream.ts';
import { GraphSession } from './graph-session.svelte.ts';
import { happenedSentence, liveEditText } from './graph-text.ts';
import { translatorFor } from './i18n/translate.ts';

const graph: GraphSpec = {
  title: 'narrator',
  nodes: [
    { id: 'narrator', socket: 'PUB', role: { kind: 'send', messages: { kind: 'list', items: ['a'] } } },
    { id: 'fan-1', socket: 'SUB', subscribe: [''], role: { kind: 'receive' } },
  ],
  links: [{ from: 'narrator', to: 'fan-1', bind: 'from', transport: 'tcp' }],
};
const info: GraphPlaygroundInfo = {
  id: 'gr-1',
  kind: 'graph',
  scenario: 'series-4',
  title: graph.title,
  graph,
  notes: [],
  allowIncompatible: false,
  activeRun: 'gr-1-r1',
  lastRun: null,
  lastSeq: 0,
  capabilities: {},
};
const base = { run: 'gr-1-r1', t: 5 };

describe('pace and move on the page', () => {
  it('sends a pace and a move to their routes; their events become the status line and the live sentence', async () => {
    const requests: { method: string; path: string; body?: unknown }[] = [];
    const session = new GraphSession({
      request: async (method, path, body) => {
        requests.push({ method, path, body });
        return info;
      },
      createSocket: () => {
        throw new Error('no stream in this test');
      },
      streamUrl: (id) => id,
    });
    session.info = info;
    await session.setPace('narrator', 100);
    await session.moveNode('fan-1', 'ipc');
    expect(requests).toEqual([
      { method: 'PUT', path: '/api/graphs/gr-1/nodes/narrator/pace', body: { ms: 100 } },
      { method: 'POST', path: '/api/graphs/gr-1/nodes/fan-1/move', body: { transport: 'ipc' } },
    ]);

    const events: PlaygroundEvent[] = [
      { type: 'node:paced', seq: 1, ...base, node: 'narrator', pace: 'interval', ms: 100 },
      {
        type: 'link:moved',
        seq: 2,
        ...base,
        node: 'fan-1',
        from: 'narrator',
        to: 'fan-1',
        transport: 'ipc',
        address: 'ipc:///run/gr-1-n0.ipc',
        previousTransport: 'tcp',
        previousAddress: 'tcp://127.0.0.1:5000',
        lost: 2,
      },
    ];
    session.applyEvents(events, 0, emptyGraphCounters());
    const en = translatorFor('en');
    const es = translatorFor('es');
    expect(liveEditText(session.lastEdit!, en)).toBe(
      'Link narrator - fan-1 moved from tcp to ipc (ipc:///run/gr-1-n0.ipc); 2 lost on the old connection.',
    );
    expect(liveEditText(session.lastEdit!, es)).toBe(
      'El enlace narrator - fan-1 pasó de tcp a ipc (ipc:///run/gr-1-n0.ipc); 2 perdidos en la conexión vieja.',
    );
    expect(happenedSentence(session.takeNews(), en)).toBe(
      'narrator now waits 100 ms between messages. Link narrator - fan-1 moved from tcp to ipc (ipc:///run/gr-1-n0.ipc); 2 lost on the old connection.',
    );
    // A new run forgets the last one's edits.
    session.applyEvents(
      [{ type: 'graph:started', seq: 3, ...base, scenario: 'series-4', graph, capabilities: {} }],
      0,
      emptyGraphCounters(),
    );
    expect(session.lastEdit).toBeNull();
    session.close();
  });
});
