/**
 * Lessons of the series' parts (1-8; part 7's is the pipeline page's tutorial lesson, on this engine) on the
 * patterns page: a graph to start from that does not meet the goal, a solution graph that does, and a goal checked
 * from the events of a real run of the graph engine. server/engine/graph-lessons.test.ts runs each start and each solution on real
 * sockets. Texts live in ./text/graph-{en,es}.ts, keyed by lesson id. The graphs are the parts' scenarios
 * (shared/scenarios/series.ts) made short enough to watch: fewer messages, a quicker pace.
 */
import type { GraphNode, GraphSpec, PlaygroundEvent } from '../protocol/index.ts';
import { part1, part2, part3, part4, part5, part6, part7, part8 } from '../scenarios/series.ts';
import type { GoalResult } from './types.ts';
import { counted } from './counted.ts';

export interface GraphLesson {
  id: string;
  /** The graph scenario (shared/scenarios/series.ts) the lesson is about; the page shows it for that scenario. */
  scenario: string;
  start: GraphSpec;
  solution: GraphSpec;
  /** Reads one finished run's events (from its graph:started on) and says whether the goal was met, and why. */
  check(events: readonly PlaygroundEvent[]): GoalResult;
}

function result(met: boolean, en: string, es: string): GoalResult {
  return { met, detail: { en, es } };
}

function ofType<K extends PlaygroundEvent['type']>(events: readonly PlaygroundEvent[], type: K) {
  return events.filter((event): event is Extract<PlaygroundEvent, { type: K }> => event.type === type);
}

function receivedBy(events: readonly PlaygroundEvent[], node: string): string[] {
  return ofType(events, 'message:received')
    .filter((event) => event.node === node)
    .map((event) => event.body);
}

function sentBy(events: readonly PlaygroundEvent[], node: string): string[] {
  return ofType(events, 'message:sent')
    .filter((event) => event.node === node)
    .map((event) => event.body);
}

function stopped(events: readonly PlaygroundEvent[], node: string, reason: string): boolean {
  return ofType(events, 'node:stopped').some((event) => event.node === node && event.reason === reason);
}

/** The events of the newest run in `events` (a page may hand in everything its playground logged). */
export function newestRun(events: readonly PlaygroundEvent[]): readonly PlaygroundEvent[] {
  let start = 0;
  events.forEach((event, index) => {
    if (event.type === 'graph:started') start = index;
  });
  return events.slice(start);
}

/** A graph with some nodes changed (by id) and others dropped with their links. */
function edit(
  graph: GraphSpec,
  changes: Record<string, (node: GraphNode) => GraphNode>,
  drop: readonly string[] = [],
): GraphSpec {
  return {
    ...graph,
    nodes: graph.nodes.filter((node) => !drop.includes(node.id)).map((node) => changes[node.id]?.(node) ?? node),
    links: graph.links.filter((link) => !drop.includes(link.from) && !drop.includes(link.to)),
  };
}

/** A node's send or request role with these fields changed. */
function role(fields: Record<string, unknown>) {
  return (node: GraphNode): GraphNode => ({ ...node, role: { ...node.role, ...fields } as GraphNode['role'] });
}

// Part 1: five sums; the start forgets the "q" that stops the server.
const fiveSums = role({ messages: { kind: 'template', template: '{int:1-1000}:{int:1-1000}', count: 5, seed: 2012 } });
const adding: GraphLesson = {
  id: 'series-1-sums',
  scenario: part1.id,
  start: edit(part1.graph, { client: (node) => withoutLast(fiveSums(node)) }),
  solution: edit(part1.graph, { client: fiveSums }),
  check(all) {
    const events = newestRun(all);
    const requests = receivedBy(events, 'server');
    const replies = sentBy(events, 'server');
    // REP strictly alternates: its n-th reply answers its n-th request.
    const sums = requests.filter((request, i) => {
      const match = /^(-?\d+):(-?\d+)$/.exec(request);
      return match !== null && replies[i] === String(Number(match[1]) + Number(match[2]));
    }).length;
    const onQ = stopped(events, 'server', 'stop-message');
    return result(
      sums >= 5 && onQ,
      `The server answered ${counted('en', sums, 'sum', 'sums')} correctly; ${onQ ? 'it stopped on "q"' : 'it never got "q": it is still waiting'} (goal: 5 sums, then stopped on "q").`,
      `El servidor respondió ${counted('es', sums, 'suma correcta', 'sumas correctas')}; ${onQ ? 'paró con "q"' : 'nunca recibió "q": sigue esperando'} (meta: 5 sumas y parar con "q").`,
    );
  },
};

function withoutLast(node: GraphNode): GraphNode {
  if (node.role.kind !== 'request') return node;
  const { last: _last, ...rest } = node.role;
  return { ...node, role: rest };
}

// Part 2: the start has one client; the solution brings the second, which the PAIR refuses.
const pairClient = role({ messages: { kind: 'template', template: 'mensaje {i}', count: 30 }, intervalMs: 20 });
const exclusive: GraphLesson = {
  id: 'series-2-pair',
  scenario: part2.id,
  start: edit(part2.graph, { 'client-1': pairClient }, ['client-2']),
  solution: edit(part2.graph, {
    'client-1': pairClient,
    'client-2': role({ messages: { kind: 'template', template: 'mensaje {i}', count: 3 } }),
  }),
  check(all) {
    const events = newestRun(all);
    const refused = ofType(events, 'socket:refused').filter((event) => event.reason === 'pair-exclusive');
    const echoes = sentBy(events, 'server').length;
    const met = refused.length > 0 && echoes > 0;
    return result(
      met,
      `${refused.length > 0 ? 'A second PAIR peer was refused' : 'No second PAIR peer was refused'}; the server echoed ${counted('en', echoes, 'message', 'messages')} to its one peer (goal: see a second peer refused while the first is served).`,
      `${refused.length > 0 ? 'Un segundo peer PAIR fue rechazado' : 'Ningún segundo peer PAIR fue rechazado'}; el servidor devolvió ${counted('es', echoes, 'mensaje', 'mensajes')} a su único peer (meta: ver rechazado a un segundo peer mientras se atiende al primero).`,
    );
  },
};

// Part 3: the start's client knows one server only.
const thirty = role({ messages: { kind: 'template', template: 'mensaje {i}', count: 30 } });
const SERVERS = ['server-5000', 'server-6000', 'server-7000'];
const spread: GraphLesson = {
  id: 'series-3-spread',
  scenario: part3.id,
  start: edit(part3.graph, { client: thirty }, ['server-6000', 'server-7000']),
  solution: edit(part3.graph, { client: thirty }),
  check(all) {
    const events = newestRun(all);
    const counts = SERVERS.map((server) => receivedBy(events, server).length);
    const total = counts.reduce((a, b) => a + b, 0);
    const met = total >= 30 && Math.max(...counts) - Math.min(...counts) <= 1;
    return result(
      met,
      `Requests per server: ${counts.join(' / ')} (goal: 30 or more, spread evenly over the three REP servers).`,
      `Peticiones por servidor: ${counts.join(' / ')} (meta: 30 o más, repartidas por igual entre los tres servidores REP).`,
    );
  },
};

// Part 4: one fan; the start subscribes it to everything.
const narrator = (node: GraphNode): GraphNode => {
  if (node.role.kind !== 'send' || node.role.messages.kind !== 'template') return node;
  return {
    ...node,
    role: { ...node.role, intervalMs: 50, waitForPeers: 1, messages: { ...node.role.messages, count: 40 } },
  };
};
/** The fan without the series' 89-message stop (it would wait for ever), subscribed to `prefixes`. */
const fan =
  (prefixes: string[]) =>
  ({ stop: _stop, ...node }: GraphNode): GraphNode => ({ ...node, subscribe: prefixes, role: { kind: 'receive' } });
const filtered: GraphLesson = {
  id: 'series-4-filter',
  scenario: part4.id,
  start: { ...edit(part4.graph, { narrator, 'fan-1': fan(['']) }, ['fan-2']), drainMs: 1000 },
  solution: { ...edit(part4.graph, { narrator, 'fan-1': fan(['argentina']) }, ['fan-2']), drainMs: 1000 },
  check(all) {
    const events = newestRun(all);
    const sent = ofType(events, 'message:sent');
    const countryOf = new Map(sent.map((event) => [event.message, event.body.split(' ')[0] ?? '']));
    const senders = new Set(sent.map((event) => event.node));
    const subscribers = [...new Set(ofType(events, 'message:received').map((event) => event.node))].filter(
      (node) => !senders.has(node),
    );
    // A subscriber with a filter: the narrator filtered some countries for it, and none of those reached it.
    const fans = subscribers.map((node) => {
      const got = [...new Set(receivedBy(events, node).map((body) => body.split(' ')[0] ?? ''))].sort();
      const filteredOut = ofType(events, 'message:dropped').filter(
        (event) => event.peer === node && event.reason === 'filtered',
      );
      const filteredCountries = new Set(filteredOut.map((event) => countryOf.get(event.message) ?? ''));
      return {
        node,
        got,
        received: receivedBy(events, node).length,
        filtered: filteredOut.length,
        clean: got.every((country) => !filteredCountries.has(country)),
      };
    });
    const best = fans.find((fan) => fan.received > 0 && fan.filtered > 0 && fan.clean);
    const shown = best ?? fans[0];
    return result(
      best !== undefined,
      shown
        ? `${shown.node} received ${counted('en', shown.received, 'match', 'matches')} (${shown.got.join(', ')}); the narrator filtered ${counted('en', shown.filtered, 'other', 'others')} for it (goal: a subscriber with a filter gets only its countries, the rest filtered at the narrator).`
        : 'No subscriber received anything.',
      shown
        ? `${shown.node} recibió ${counted('es', shown.received, 'evento', 'eventos')} (${shown.got.join(', ')}); el narrador le filtró ${counted('es', shown.filtered, 'evento más', 'eventos más')} (meta: un suscriptor con filtro recibe solo sus países, el resto se filtra en el narrador).`
        : 'Ningún suscriptor recibió nada.',
    );
  },
};

// Part 5: the start's relay only replies; the solution's also publishes.
const relayFollowers = ['follower-seraph', 'follower-otro'] as const;
const relayed = (node: GraphNode): GraphNode => ({ ...node, startDelayMs: 1000 });
const relay: GraphLesson = {
  id: 'series-5-relay',
  scenario: part5.id,
  start: edit(part5.graph, {
    sender: relayed,
    relay: (node) => ({ ...node, role: { kind: 'reply', transform: 'echo' } }),
  }),
  solution: edit(part5.graph, { sender: relayed }),
  check(all) {
    const events = newestRun(all);
    const tweets = sentBy(events, 'sender');
    const got = relayFollowers.map((follower) => {
      const account = follower === 'follower-seraph' ? '@_seraph1' : '@otro';
      const expected = tweets.filter((tweet) => tweet.startsWith(account));
      const received = receivedBy(events, follower);
      return expected.length > 0 && received.length === expected.length && received.every((t) => t.startsWith(account));
    });
    const replies = sentBy(events, 'relay').length;
    const met = tweets.length === 4 && replies === 4 && got.every(Boolean);
    const counts = relayFollowers.map((follower) => `${follower} ${receivedBy(events, follower).length}`).join(', ');
    return result(
      met,
      `The relay answered ${replies} of ${tweets.length} tweets; the followers got: ${counts} (goal: every tweet answered, and each follower gets all of its account's tweets, and only those).`,
      `El relay respondió ${replies} de ${tweets.length} tweets; los seguidores recibieron: ${counts} (meta: todos los tweets respondidos, y cada seguidor recibe todos los tweets de su cuenta, y solo esos).`,
    );
  },
};

// Part 6: worker-2 starts late (a program started a moment after); the start's source does not wait for it.
const quickWorker = (node: GraphNode): GraphNode =>
  node.role.kind === 'receive' ? { ...node, role: { ...node.role, workMs: 100 } } : node;
const lateWorker = (node: GraphNode): GraphNode => ({ ...quickWorker(node), startDelayMs: 500 });
const waiting: GraphLesson = {
  id: 'series-6-wait',
  scenario: part6.id,
  start: edit(part6.graph, {
    source: role({ waitForPeers: 0 }),
    'worker-1': quickWorker,
    'worker-2': lateWorker,
  }),
  solution: edit(part6.graph, { 'worker-1': quickWorker, 'worker-2': lateWorker }),
  check(all) {
    const events = newestRun(all);
    const shares = ['worker-1', 'worker-2'].map((worker) => receivedBy(events, worker).length);
    const collected = receivedBy(events, 'collector').length;
    const sent = sentBy(events, 'source').length;
    const met = sent === 7 && collected === 7 && Math.min(...shares) >= 3;
    return result(
      met,
      `Shares: ${shares.join(' / ')}; the collector got ${collected} of ${sent} (goal: the sender waits for both workers, so each gets 3 or 4 and all 7 are collected).`,
      `Reparto: ${shares.join(' / ')}; el colector recibió ${collected} de ${sent} (meta: el emisor espera a los dos workers, cada uno recibe 3 o 4 y se recogen los 7).`,
    );
  },
};

// Part 7: the pipeline page's tutorial lesson on this engine: the start is a burst, so the ipc client, which can only
// connect once ipc is bound after "3", gets nothing; the solution paces the server, a few hundred ms a message.
const burst = role({ intervalMs: 0 });
const paced = role({ intervalMs: 300 });
const part7Clients = ['client-tcp', 'client-ipc'] as const;
const sharing: GraphLesson = {
  id: 'series-7-share',
  scenario: part7.id,
  start: edit(part7.graph, { server: burst }),
  solution: edit(part7.graph, { server: paced }),
  check(all) {
    const events = newestRun(all);
    const receiving = part7Clients.filter((client) => receivedBy(events, client).length > 0).length;
    const atX = part7Clients.filter(
      (client) => stopped(events, client, 'stop-message') && receivedBy(events, client).at(-1) === 'x',
    ).length;
    return result(
      receiving === 2 && atX === 2,
      `Clients that received messages: ${receiving} of 2; that stopped at their own "x": ${atX} of 2 (goal: both receive, each stops at its "x").`,
      `Clientes que recibieron mensajes: ${receiving} de 2; que pararon con su propia "x": ${atX} de 2 (meta: los dos reciben y cada uno para con su "x").`,
    );
  },
};

// Part 8: the start's consumer forgot "salir", so it never stops.
const quickProducer = role({ intervalMs: 100 });
const multicast: GraphLesson = {
  id: 'series-8-tcp',
  scenario: part8.id,
  start: edit(part8.graph, {
    producer: quickProducer,
    consumer: (node) => ({ ...node, subscribe: ['prueba', 'hora'] }),
  }),
  solution: edit(part8.graph, { producer: quickProducer }),
  check(all) {
    const events = newestRun(all);
    const started = ofType(events, 'graph:started')[0];
    const pgm = started?.capabilities.pgm === true;
    const overTcp = started !== undefined && started.graph.links.every((link) => link.transport === 'tcp');
    const got = receivedBy(events, 'consumer');
    const atSalir = stopped(events, 'consumer', 'stop-message') && got.at(-1) === 'salir';
    const met = started !== undefined && !pgm && overTcp && atSalir && got.includes('salir ya');
    return result(
      met,
      `This libzmq ${pgm ? 'has' : 'has no'} PGM (epgm ${pgm ? 'would work' : 'is refused'}); the run went over tcp. The consumer got ${counted('en', got.length, 'line', 'lines')}${atSalir ? ' and stopped at exactly "salir"' : ' and never stopped: "salir" did not reach it'} (goal: over tcp, the consumer stops at "salir", after "salir ya" passed).`,
      `Esta libzmq ${pgm ? 'tiene' : 'no tiene'} PGM (epgm ${pgm ? 'funcionaría' : 'se rechaza'}); la ejecución fue por tcp. El consumidor recibió ${counted('es', got.length, 'línea', 'líneas')}${atSalir ? ' y paró exactamente en "salir"' : ' y nunca paró: "salir" no le llegó'} (meta: por tcp, el consumidor para en "salir", tras pasar "salir ya").`,
    );
  },
};

export const GRAPH_LESSONS: readonly GraphLesson[] = [
  adding,
  exclusive,
  spread,
  filtered,
  relay,
  waiting,
  sharing,
  multicast,
];

/** The lesson of a graph scenario, if it has one. */
export function graphLessonFor(scenario: string): GraphLesson | undefined {
  return GRAPH_LESSONS.find((lesson) => lesson.scenario === scenario);
}
