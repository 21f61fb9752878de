/**
 * The series "Tutorial de ZeroMQ con Python" (Ernesto Crespo, 2012), parts 1-8, as graph scenarios: the same
 * sockets, messages, sentinels and pace as the original programs (facts in ../shared/seed/series-facts.md, in our
 * own words). Part 7 is also the pipeline page's tutorial (tutorial.ts), run there by its own engine; the two runs
 * are checked against each other in server/engine/pipeline-equivalence.test.ts. Ports are not fixed: the
 * original's are named in each description (5000 is reused by parts 1, 3, 4, 5 and 8), and the playground binds
 * free ones so that the demos can run side by side. Python 3 ports of every program are in examples/series/ (part
 * 7's in examples/: tutorial_server.py, tutorial_client.py).
 */
import type { GraphNode, GraphScenario, GraphSpec } from './graph.ts';
import { linkEnds } from './graph.ts';
import { TUTORIAL_TEXTS } from './tutorial.ts';

const COUNTRIES = 'holanda|brasil|alemania|portugal|argentina|italia|rusia|venezuela';
const MATCH_EVENTS = 'tarjeta amarilla|tarjeta roja|gol|corner|falta';
export const TWEETS = [
  '@_seraph1 Esta es una prueba',
  '@otro viendo el juego',
  '@_seraph1 otra prueba',
  '@otro otro',
] as const;
export const PART6_TEXTS = [
  'hola',
  'aloha',
  'hello',
  'buenas noches',
  'buenas tardes',
  'buenos dias',
  'bienvenido',
] as const;
/** What the part 8 producer's reader types, one line at a time, ending with "salir". */
export const PART8_LINES = [
  'hola a todos',
  'prueba 1',
  'hora 10:00',
  'otra cosa',
  'salir ya',
  'prueba 2',
  'salir',
] as const;

export const part1: GraphScenario = {
  id: 'series-1',
  title: 'Part 1: REQ/REP, an adding server',
  description:
    'The client sends "a:b" with two random numbers from 1 to 1000, waits for the sum, 1000 times, then sends "q" ' +
    'without waiting; the server adds, replies, and ends on "q". Every request and every reply flies: REQ and REP ' +
    'strictly alternate. (The original binds tcp://127.0.0.1:5000.)',
  graph: {
    title: 'REQ/REP: an adding server',
    nodes: [
      {
        id: 'client',
        socket: 'REQ',
        role: {
          kind: 'request',
          messages: { kind: 'template', template: '{int:1-1000}:{int:1-1000}', count: 1000, seed: 2012 },
          last: 'q',
        },
      },
      { id: 'server', socket: 'REP', role: { kind: 'reply', transform: 'sum' }, stop: { onMessage: 'q' } },
    ],
    links: [{ from: 'client', to: 'server', bind: 'to', transport: 'tcp' }],
  },
};

export const part2: GraphScenario = {
  id: 'series-2',
  title: 'Part 2: PAIR, an echo and a second client',
  description:
    'The server echoes what its one peer sends; the client sends "mensaje 0" to "mensaje 99" and waits for each ' +
    'echo. A second client connects while the first runs: PAIR is exclusive. The post says the server then fails; ' +
    "with today's libzmq it does not: it silently never serves the second client, which sends its first message " +
    'and waits for ever. (The original binds tcp://127.0.0.1:5555.)',
  graph: {
    title: 'PAIR: an echo pair, and a second client',
    nodes: [
      { id: 'server', socket: 'PAIR', role: { kind: 'receive', replyBack: true } },
      {
        id: 'client-1',
        socket: 'PAIR',
        role: {
          kind: 'send',
          messages: { kind: 'template', template: 'mensaje {i}', count: 100 },
          awaitEcho: true,
          intervalMs: 20,
        },
      },
      {
        id: 'client-2',
        socket: 'PAIR',
        role: { kind: 'send', messages: { kind: 'template', template: 'mensaje {i}', count: 100 }, awaitEcho: true },
        startAfter: 'client-1',
      },
    ],
    links: [
      { from: 'client-1', to: 'server', bind: 'to', transport: 'tcp' },
      { from: 'client-2', to: 'server', bind: 'to', transport: 'tcp' },
    ],
  },
};

export const part3: GraphScenario = {
  id: 'series-3',
  title: 'Part 3: one REQ, three REP servers',
  description:
    'One REQ socket connected to three REP servers sends "mensaje 0" to "mensaje 99": requests go round-robin in ' +
    'connect order, 34/33/33. (The originals bind ports 5000, 6000 and 7000; here each server is on another ' +
    'transport, which changes nothing in the rotation.)',
  graph: {
    title: 'One REQ, three REP',
    nodes: [
      {
        id: 'client',
        socket: 'REQ',
        role: { kind: 'request', messages: { kind: 'template', template: 'mensaje {i}', count: 100 } },
      },
      { id: 'server-5000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
      { id: 'server-6000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
      { id: 'server-7000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    ],
    links: [
      { from: 'client', to: 'server-5000', bind: 'to', transport: 'tcp' },
      { from: 'client', to: 'server-6000', bind: 'to', transport: 'ipc' },
      { from: 'client', to: 'server-7000', bind: 'to', transport: 'tcp' },
    ],
  },
};

export const part4: GraphScenario = {
  id: 'series-4',
  title: 'Part 4: PUB/SUB, a football narrator',
  description:
    'The narrator publishes a random country and match event every second, 179 times; one fan subscribes to ' +
    '"argentina" and "venezuela", the other to "brasil" and "alemania". Each gets only its matches: the publisher ' +
    'filters the rest. The fans stop after 89 messages, which never come (about 45 match each): they wait for ever. ' +
    'Messages published before a subscription arrives are lost (the slow joiner). (The original binds ' +
    'tcp://127.0.0.1:5000.)',
  graph: {
    title: 'PUB/SUB: a football narrator',
    nodes: [
      {
        id: 'narrator',
        socket: 'PUB',
        role: {
          kind: 'send',
          messages: {
            kind: 'template',
            template: `{pick:${COUNTRIES}} {pick:${MATCH_EVENTS}}`,
            count: 179,
            seed: 2012,
          },
          intervalMs: 1000,
        },
      },
      {
        id: 'fan-1',
        socket: 'SUB',
        subscribe: ['argentina', 'venezuela'],
        role: { kind: 'receive', workMs: 1000 },
        stop: { afterMessages: 89 },
      },
      {
        id: 'fan-2',
        socket: 'SUB',
        subscribe: ['brasil', 'alemania'],
        role: { kind: 'receive', workMs: 1000 },
        stop: { afterMessages: 89 },
      },
    ],
    links: [
      { from: 'narrator', to: 'fan-1', bind: 'from', transport: 'tcp' },
      { from: 'narrator', to: 'fan-2', bind: 'from', transport: 'tcp' },
    ],
    drainMs: 3000,
  },
};

export const part5: GraphScenario = {
  id: 'series-5',
  title: 'Part 5: REQ/REP and PUB/SUB, a tweet relay',
  description:
    'The sender REQs four tweets to the relay, which echoes each one back and PUBlishes it; each follower ' +
    'subscribes to one account ("@_seraph1", "@otro") and sees only its tweets. The followers must be there ' +
    'before the sender starts, or they miss tweets. (The original relay binds tcp://127.0.0.1:4000 and :5000.)',
  graph: {
    title: 'REQ/REP + PUB/SUB: a tweet relay',
    nodes: [
      // Started a moment after the followers, as the series says to (nothing here can tell when they subscribed).
      {
        id: 'sender',
        socket: 'REQ',
        role: { kind: 'request', messages: { kind: 'list', items: [...TWEETS] } },
        startDelayMs: 300,
      },
      { id: 'relay', socket: 'REP', role: { kind: 'reply', transform: 'echo', forwardTo: 'relay-pub' } },
      { id: 'relay-pub', socket: 'PUB', role: { kind: 'passive' } },
      { id: 'follower-seraph', socket: 'SUB', subscribe: ['@_seraph1'], role: { kind: 'receive' } },
      { id: 'follower-otro', socket: 'SUB', subscribe: ['@otro'], role: { kind: 'receive' } },
    ],
    links: [
      { from: 'sender', to: 'relay', bind: 'to', transport: 'tcp' },
      { from: 'relay-pub', to: 'follower-seraph', bind: 'from', transport: 'tcp' },
      { from: 'relay-pub', to: 'follower-otro', bind: 'from', transport: 'tcp' },
    ],
  },
};

export const part6: GraphScenario = {
  id: 'series-6',
  title: 'Part 6: PUSH/PULL, a source, two workers, a collector',
  description:
    'The source waits for both workers (the post waits for Enter), then pushes seven greetings; each worker ' +
    'upper-cases what it gets, takes a second, and pushes it on to the collector. The workers share the work 4/3. ' +
    'Started before the workers connect, the first one to connect would take all seven. (The original binds ' +
    'tcp://*:5557 and :5558.)',
  graph: {
    title: 'PUSH/PULL: source, workers, collector',
    nodes: [
      {
        id: 'source',
        socket: 'PUSH',
        role: { kind: 'send', messages: { kind: 'list', items: [...PART6_TEXTS] }, waitForPeers: 2 },
      },
      {
        id: 'worker-1',
        socket: 'PULL',
        role: { kind: 'receive', transform: 'uppercase', forwardTo: 'worker-1-out', workMs: 1000 },
      },
      { id: 'worker-1-out', socket: 'PUSH', role: { kind: 'passive' } },
      {
        id: 'worker-2',
        socket: 'PULL',
        role: { kind: 'receive', transform: 'uppercase', forwardTo: 'worker-2-out', workMs: 1000 },
      },
      { id: 'worker-2-out', socket: 'PUSH', role: { kind: 'passive' } },
      { id: 'collector', socket: 'PULL', role: { kind: 'receive' } },
    ],
    links: [
      { from: 'source', to: 'worker-1', bind: 'from', transport: 'tcp' },
      { from: 'source', to: 'worker-2', bind: 'from', transport: 'tcp' },
      { from: 'worker-1-out', to: 'collector', bind: 'to', transport: 'tcp' },
      { from: 'worker-2-out', to: 'collector', bind: 'to', transport: 'tcp' },
    ],
  },
};

/** What part 7's server sends: "1" to "3" over tcp alone, then the nine texts once ipc is bound too. */
export const PART7_MESSAGES = ['1', '2', '3', ...TUTORIAL_TEXTS] as const;
/** How many messages part 7's server sends before it binds ipc on the same socket. */
export const PART7_BIND_IPC_AFTER = 3;

export const part7: GraphScenario = {
  id: 'series-7',
  title: 'Part 7: PUSH/PULL, one socket bound on tcp, then also on ipc',
  description:
    'The server has ONE PUSH socket: it binds tcp and sends "1", "2", "3", one a second; then it binds ipc on the ' +
    'same socket and sends nine texts, the last two "x". One client PULLs over tcp, the other over ipc; each ' +
    'prints what it gets and stops at exactly "x" ("q,5" and "q,7" only look like sentinels). "1", "2", "3" all ' +
    'go to the tcp client: it is the only peer. The ipc client has been retrying its connection since the start; ' +
    'once the ipc endpoint exists and its handshake is done, PUSH round-robins the texts between the two, so the ' +
    'first text or two may still go to the tcp client. (The original binds tcp://127.0.0.1:12345 and ' +
    'ipc:///tmp/zmqdemo; the post says a second socket is created for ipc, its code binds the same one twice. ' +
    'The instrumented pipeline playground runs this same tutorial on its own engine.)',
  graph: {
    title: 'PUSH/PULL: one socket on tcp, then also on ipc',
    nodes: [
      {
        id: 'server',
        socket: 'PUSH',
        role: { kind: 'send', messages: { kind: 'list', items: [...PART7_MESSAGES] }, intervalMs: 1000 },
      },
      { id: 'client-tcp', socket: 'PULL', role: { kind: 'receive' }, stop: { onMessage: 'x' } },
      { id: 'client-ipc', socket: 'PULL', role: { kind: 'receive' }, stop: { onMessage: 'x' } },
    ],
    links: [
      { from: 'server', to: 'client-tcp', bind: 'from', transport: 'tcp' },
      { from: 'server', to: 'client-ipc', bind: 'from', transport: 'ipc', bindAfter: PART7_BIND_IPC_AFTER },
    ],
  },
};

export const part8: GraphScenario = {
  id: 'series-8',
  title: 'Part 8: PUB/SUB over epgm multicast, run over tcp',
  description:
    'A producer publishes the lines a person types; the consumer subscribes to "prueba", "hora" and "salir", ' +
    'prints what matches and ends at exactly "salir" ("salir ya" passes the filter but does not stop it). The ' +
    "original runs over epgm (PGM multicast); this server's libzmq has no PGM, so it runs over tcp.",
  graph: {
    title: 'PUB/SUB: producer and consumer (tcp, not epgm)',
    nodes: [
      {
        id: 'producer',
        socket: 'PUB',
        role: { kind: 'send', messages: { kind: 'list', items: [...PART8_LINES] }, intervalMs: 500, waitForPeers: 1 },
      },
      {
        id: 'consumer',
        socket: 'SUB',
        subscribe: ['prueba', 'hora', 'salir'],
        role: { kind: 'receive' },
        stop: { onMessage: 'salir' },
      },
    ],
    links: [{ from: 'producer', to: 'consumer', bind: 'from', transport: 'tcp' }],
  },
  notes: [
    'This libzmq build has no PGM: capability.pgm is false and an epgm:// endpoint is refused with EPROTONOSUPPORT.',
    'With epgm the producer and consumers would join a multicast group: one send reaches every consumer on the ' +
      'network at once, with no connection per consumer and no publisher-side filtering (each consumer filters ' +
      'what it receives); PGM retransmits lost packets only within its recovery window. Over tcp the publisher ' +
      'keeps one connection per subscriber and filters for each.',
    "Debian's python3-zmq (libzmq 4.3.4) does have PGM: examples/series/part8_*.py can use epgm between " +
      'themselves on a network that carries multicast.',
  ],
};

export const SERIES_SCENARIOS: readonly GraphScenario[] = [part1, part2, part3, part4, part5, part6, part7, part8];

/**
 * The graph with some of its nodes left to programs outside the playground (the series' Python ports): those
 * nodes and their links go, and every node that bound for them listens there instead, for the outside programs to
 * connect to. Nodes that would start after a removed one start at once.
 */
export function withOutsidePeers(graph: GraphSpec, outside: readonly string[]): GraphSpec {
  const gone = new Set(outside);
  const listen = new Map<string, NonNullable<GraphNode['listen']>>();
  for (const link of graph.links) {
    if (!gone.has(link.from) && !gone.has(link.to)) continue;
    const { binder } = linkEnds(link);
    if (gone.has(binder)) continue;
    const endpoints = listen.get(binder) ?? [];
    if (!endpoints.some((e) => e.transport === link.transport && e.address === link.address)) {
      endpoints.push({
        transport: link.transport,
        ...(link.address !== undefined ? { address: link.address } : {}),
        // Still bound when the original binds it (part 7's server binds ipc after its third message).
        ...(link.bindAfter !== undefined ? { bindAfter: link.bindAfter } : {}),
      });
    }
    listen.set(binder, endpoints);
  }
  return {
    ...graph,
    nodes: graph.nodes
      .filter((node) => !gone.has(node.id))
      .map((node) => {
        const next: GraphNode = { ...node };
        if (listen.has(node.id)) next.listen = [...(node.listen ?? []), ...listen.get(node.id)!];
        if (next.startAfter !== undefined && gone.has(next.startAfter)) delete next.startAfter;
        return next;
      }),
    links: graph.links.filter((link) => !gone.has(link.from) && !gone.has(link.to)),
  };
}
