/**
 * Lessons of the series' parts (1-8; part 7's is the pipeline page's tutorial lesson, on this engine) on the
 * patterns page: a graph to start from that does not meet the goal, a solution graph that does, and a goal checked
 * from the events of a real run of the graph engine. server/engine/graph-lessons.test.ts runs each start, each
 * solution and each start with its hint followed on real sockets. Texts live in ./text/graph-{en,es}.ts, keyed by
 * lesson id. The graphs are the parts' scenarios (shared/scenarios/series.ts) made short enough to watch: fewer
 * messages, a quicker pace.
 *
 * Every lesson can be done on the page: its hint is a list of steps, each made with one of the page's controls
 * (the pace box, the subscriptions card, the add-a-node card), and the test makes those same edits (the server's
 * own graph-edits.ts) before it runs the start. A lesson whose change no control can make (part 2: a second PAIR
 * peer, which the add-a-node card refuses as ZeroMQ would) has no steps, and its texts say so and that "Load the
 * solution" shows it.
 *
 * A run is checked only when it is of the lesson's graph: its start or its solution (each with a title of its own,
 * which the page's edits keep), loaded from the lesson panel, with whatever the learner changed since. The page
 * opens on the series' original, and several originals meet their lesson's goal as they stand (part 1's sends
 * "q", part 3's client knows three servers, part 6's source waits): a verdict on them would be unearned.
 */
import type { GraphNode, GraphSpec, PlaygroundEvent } from '../protocol/index.ts';
import { part1, part2, part3, part4, part5, part6, part7, part8 } from '../scenarios/series.ts';
import type { LinkedNodeRequest } from '../scenarios/linked-node.ts';
import type { GoalResult } from './types.ts';
import { counted } from './counted.ts';

/** One step of a hint, as a learner makes it with one of the patterns page's controls between runs. */
export type HintStep =
  /** The pace box of the node edits card (GraphNodeEdits.svelte): a sender's interval, a receiver's work time. */
  | { control: 'pace'; node: string; ms: number }
  /** A subscriber's prefixes in the subscriptions card (GraphSubscriptions.svelte). */
  | { control: 'subscriptions'; node: string; prefixes: string[] }
  /** A subscriber added to a publisher in the subscriptions card. */
  | { control: 'subscriber'; publisher: string; id: string; prefixes: string[] }
  /** The add-a-node card (GraphAddNode.svelte): a socket linked to a node the graph has. */
  | { control: 'add-node'; request: LinkedNodeRequest };

export interface GraphLesson {
  id: string;
  /** The graph scenario (shared/scenarios/series.ts) the lesson is about; the page shows it for that scenario. */
  scenario: string;
  start: GraphSpec;
  solution: GraphSpec;
  /** What following the hint does from the start, control by control; null when no control on the page can. */
  hint: readonly HintStep[] | null;
  /** Reads one finished run's events (from its graph:started on) and says whether the goal was met, and why. */
  check(events: readonly PlaygroundEvent[]): GoalResult;
}

/** The lesson's start or solution, titled apart from the original so that the page can tell which is loaded. */
function titled(graph: GraphSpec, which: 'start' | 'solution'): GraphSpec {
  return { ...graph, title: `${graph.title} (lesson ${which})` };
}

/** Which of the lesson's graphs this is (by its title, which edits keep), or null: the original or another. */
export function lessonGraphOf(
  lesson: GraphLesson,
  graph: Pick<GraphSpec, 'title'> | null | undefined,
): 'start' | 'solution' | null {
  if (!graph) return null;
  if (graph.title === lesson.start.title) return 'start';
  if (graph.title === lesson.solution.title) return 'solution';
  return null;
}

/** Which of the lesson's graphs the newest run in `events` ran (its graph:started), or null. */
export function lessonRunOf(lesson: GraphLesson, events: readonly PlaygroundEvent[]): 'start' | 'solution' | null {
  const started = newestRun(events)[0];
  return started?.type === 'graph:started' ? lessonGraphOf(lesson, started.graph) : null;
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

/** The nodes of a run: those it started with and those added while it flowed (node:added). */
function nodesOfRun(events: readonly PlaygroundEvent[]): GraphNode[] {
  const started = ofType(events, 'graph:started')[0];
  return [...(started?.graph.nodes ?? []), ...ofType(events, 'node:added').map((event) => event.spec)];
}

// Part 1: five sums and "q"; the server answers at once. REQ and REP alternate strictly, so a slow server slows its
// client, which has no pause of its own: the learner sees it by giving the server a work time.
const SLOW_SERVER_MS = 200;
const fiveSums = role({ messages: { kind: 'template', template: '{int:1-1000}:{int:1-1000}', count: 5, seed: 2012 } });
const adding: GraphLesson = {
  id: 'series-1-sums',
  scenario: part1.id,
  start: titled(edit(part1.graph, { client: fiveSums }), 'start'),
  solution: titled(edit(part1.graph, { client: fiveSums, server: role({ workMs: 250 }) }), 'solution'),
  hint: [{ control: 'pace', node: 'server', ms: 250 }],
  check(all) {
    const events = newestRun(all);
    const requests = ofType(events, 'message:received').filter((event) => event.node === 'server');
    const replies = ofType(events, 'message:sent').filter((event) => event.node === 'server');
    // REP strictly alternates: its n-th reply answers its n-th request.
    const answered = requests.filter((request, i) => {
      const match = /^(-?\d+):(-?\d+)$/.exec(request.body);
      return match !== null && replies[i]?.body === String(Number(match[1]) + Number(match[2]));
    });
    const sums = answered.length;
    // How long the server took over each sum (its reply's time less its request's), the quickest of them.
    const quickest = Math.min(...answered.map((request, i) => replies[i]!.t - request.t));
    const took = sums > 0 ? Math.round(quickest) : 0;
    // The client's own sends: each next request left only after the reply to the one before had arrived.
    const clientSent = ofType(events, 'message:sent').filter((event) => event.node === 'client');
    const clientGot = ofType(events, 'message:received').filter((event) => event.node === 'client');
    const waited = clientSent.slice(1).every((next, i) => clientGot[i] !== undefined && clientGot[i]!.t <= next.t);
    const onQ = stopped(events, 'server', 'stop-message');
    const met = sums >= 5 && onQ && waited && took >= SLOW_SERVER_MS;
    return result(
      met,
      `The server answered ${counted('en', sums, 'sum', 'sums')} correctly, the quickest after ${took} ms; the client ${waited ? 'waited for every reply before its next request' : 'did not wait for every reply'}; ${onQ ? 'the server stopped on "q"' : 'the server never got "q"'} (goal: 5 sums, each taking the server ${SLOW_SERVER_MS} ms or more, the client waiting for each, then "q").`,
      `El servidor respondió ${counted('es', sums, 'suma correcta', 'sumas correctas')}, la más rápida en ${took} ms; el cliente ${waited ? 'esperó cada respuesta antes de su siguiente petición' : 'no esperó cada respuesta'}; ${onQ ? 'el servidor paró con "q"' : 'el servidor nunca recibió "q"'} (meta: 5 sumas, cada una de ${SLOW_SERVER_MS} ms o más en el servidor, el cliente esperando cada una, y luego "q").`,
    );
  },
};

// Part 2: the start has one client; the solution brings the second, which the PAIR refuses. No control adds it:
// the add-a-node card refuses a second PAIR peer (as the API does), so the texts say so and the solution shows it.
const pairClient = role({ messages: { kind: 'template', template: 'mensaje {i}', count: 30 }, intervalMs: 20 });
const exclusive: GraphLesson = {
  id: 'series-2-pair',
  scenario: part2.id,
  start: titled(edit(part2.graph, { 'client-1': pairClient }, ['client-2']), 'start'),
  solution: titled(
    edit(part2.graph, {
      'client-1': pairClient,
      'client-2': role({ messages: { kind: 'template', template: 'mensaje {i}', count: 3 } }),
    }),
    'solution',
  ),
  hint: null,
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

// Part 3: the start's client knows one server only; the learner adds two REP with the add-a-node card.
const thirty = role({ messages: { kind: 'template', template: 'mensaje {i}', count: 30 } });
const spread: GraphLesson = {
  id: 'series-3-spread',
  scenario: part3.id,
  start: titled(edit(part3.graph, { client: thirty }, ['server-6000', 'server-7000']), 'start'),
  solution: titled(edit(part3.graph, { client: thirty }), 'solution'),
  hint: [
    { control: 'add-node', request: { id: 'server-1', socket: 'REP', peer: 'client' } },
    { control: 'add-node', request: { id: 'server-2', socket: 'REP', peer: 'client' } },
  ],
  check(all) {
    const events = newestRun(all);
    // Every REP of the run, whatever the learner named them: those it started with and those added meanwhile.
    const servers = nodesOfRun(events)
      .filter((node) => node.socket === 'REP')
      .map((node) => node.id);
    const counts = servers.map((server) => receivedBy(events, server).length);
    const total = counts.reduce((a, b) => a + b, 0);
    const met = servers.length >= 3 && total >= 30 && Math.max(...counts) - Math.min(...counts) <= 1;
    const per = servers.map((server, i) => `${server} ${counts[i]}`).join(', ');
    return result(
      met,
      `Requests per server: ${per} (goal: 30 or more, spread evenly over three or more REP servers, at most one apart).`,
      `Peticiones por servidor: ${per} (meta: 30 o más, repartidas por igual entre tres o más servidores REP, con una de diferencia como mucho).`,
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
  start: titled({ ...edit(part4.graph, { narrator, 'fan-1': fan(['']) }, ['fan-2']), drainMs: 1000 }, 'start'),
  solution: titled(
    { ...edit(part4.graph, { narrator, 'fan-1': fan(['argentina']) }, ['fan-2']), drainMs: 1000 },
    'solution',
  ),
  hint: [{ control: 'subscriptions', node: 'fan-1', prefixes: ['argentina'] }],
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

// Part 5: the relay replies and publishes; the start has a follower for "@_seraph1" only, so "@otro"'s tweets
// reach nobody. The learner adds a follower of "@otro" in the subscriptions card (any name: the check reads what
// each subscriber got). The sender starts a second late, so a follower added between runs has subscribed by then.
const ACCOUNTS = ['@_seraph1', '@otro'] as const;
const relayed = (node: GraphNode): GraphNode => ({ ...node, startDelayMs: 1000 });
const relay: GraphLesson = {
  id: 'series-5-relay',
  scenario: part5.id,
  start: titled(edit(part5.graph, { sender: relayed }, ['follower-otro']), 'start'),
  solution: titled(edit(part5.graph, { sender: relayed }), 'solution'),
  hint: [{ control: 'subscriber', publisher: 'relay-pub', id: 'follower-otro', prefixes: ['@otro'] }],
  check(all) {
    const events = newestRun(all);
    const tweets = sentBy(events, 'sender');
    const followers = nodesOfRun(events)
      .filter((node) => node.socket === 'SUB')
      .map((node) => node.id);
    // An account is followed when some follower got all of its tweets, and only tweets of that account.
    const followed = ACCOUNTS.map((account) => {
      const expected = tweets.filter((tweet) => tweet.startsWith(account)).length;
      return followers.some((follower) => {
        const received = receivedBy(events, follower);
        return expected > 0 && received.length === expected && received.every((t) => t.startsWith(account));
      });
    });
    const replies = sentBy(events, 'relay').length;
    const met = tweets.length === 4 && replies === 4 && followed.every(Boolean);
    const counts = followers.map((follower) => `${follower} ${receivedBy(events, follower).length}`).join(', ');
    const missing = ACCOUNTS.filter((_, i) => !followed[i]);
    return result(
      met,
      `The relay answered ${replies} of ${tweets.length} tweets; the followers got: ${counts}${missing.length > 0 ? `; no follower got all of ${missing.join(' and ')}'s tweets, and only those` : ''} (goal: every tweet answered, and each account's tweets all reach a follower of that account, and only those).`,
      `El relay respondió ${replies} de ${tweets.length} tweets; los seguidores recibieron: ${counts}${missing.length > 0 ? `; ningún seguidor recibió todos los tweets de ${missing.join(' y ')}, y solo esos` : ''} (meta: todos los tweets respondidos, y los tweets de cada cuenta llegan todos a un seguidor de esa cuenta, y solo esos).`,
    );
  },
};

// Part 6: worker-2 starts late (a program started a moment after); the start's source does not wait for it and
// sends in a burst, so worker-1 takes everything. The page's way: pace the source, so that worker-2 has connected
// before most greetings leave. The series' way (the solution): the source waits for 2 peers.
const quickWorker = (node: GraphNode): GraphNode =>
  node.role.kind === 'receive' ? { ...node, role: { ...node.role, workMs: 100 } } : node;
const lateWorker = (node: GraphNode): GraphNode => ({ ...quickWorker(node), startDelayMs: 500 });
const waiting: GraphLesson = {
  id: 'series-6-wait',
  scenario: part6.id,
  start: titled(
    edit(part6.graph, { source: role({ waitForPeers: 0 }), 'worker-1': quickWorker, 'worker-2': lateWorker }),
    'start',
  ),
  solution: titled(edit(part6.graph, { 'worker-1': quickWorker, 'worker-2': lateWorker }), 'solution'),
  hint: [{ control: 'pace', node: 'source', ms: 600 }],
  check(all) {
    const events = newestRun(all);
    const shares = ['worker-1', 'worker-2'].map((worker) => receivedBy(events, worker).length);
    const collected = receivedBy(events, 'collector').length;
    const sent = sentBy(events, 'source').length;
    const met = sent === 7 && collected === 7 && Math.min(...shares) >= 2;
    return result(
      met,
      `Shares: ${shares.join(' / ')}; the collector got ${collected} of ${sent} (goal: both workers get a share, 2 greetings or more each, and all 7 are collected).`,
      `Reparto: ${shares.join(' / ')}; el colector recibió ${collected} de ${sent} (meta: los dos workers reciben su parte, 2 saludos o más cada uno, y se recogen los 7).`,
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
  start: titled(edit(part7.graph, { server: burst }), 'start'),
  solution: titled(edit(part7.graph, { server: paced }), 'solution'),
  hint: [{ control: 'pace', node: 'server', ms: 300 }],
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
  start: titled(
    edit(part8.graph, {
      producer: quickProducer,
      consumer: (node) => ({ ...node, subscribe: ['prueba', 'hora'] }),
    }),
    'start',
  ),
  solution: titled(edit(part8.graph, { producer: quickProducer }), 'solution'),
  hint: [{ control: 'subscriptions', node: 'consumer', prefixes: ['prueba', 'hora', 'salir'] }],
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
