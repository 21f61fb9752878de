/**
 * Three patterns from the zguide's chapters 1 and 2 (ØMQ - The Guide, Pieter Hintjens), as graph scenarios: the
 * request-reply broker (a ROUTER/DEALER shared queue between clients and workers), the divide-and-conquer pipeline
 * whose sink broadcasts a kill signal to its workers over PUB/SUB, and the weather updates over PUB/SUB with a
 * subscriber that filters by zipcode. The guide's facts (sockets, who binds, messages, what the reader should
 * observe), in our own words and data; where the playground does something differently, the description says so.
 */
import type { GraphLink, GraphNode, GraphScenario } from './graph.ts';

const WORKERS = ['worker-1', 'worker-2', 'worker-3'] as const;
const CLIENTS = ['client-1', 'client-2', 'client-3'] as const;

/** A tcp link in the direction messages flow (the diagram draws them left to right); `binds`: which end binds. */
function tcp(from: string, to: string, binds: 'from' | 'to'): GraphLink {
  return { from, to, bind: binds, transport: 'tcp' };
}

/** How many requests each broker client sends, and how many tasks the kill pipeline's ventilator sends. */
export const BROKER_REQUESTS = 10;
export const KILL_TASKS = 60;
/** The weather client's zipcode; updates come for ten zipcodes, 10000 to 10009. */
export const WEATHER_ZIPCODE = '10001';

export const broker: GraphScenario = {
  id: 'zguide-broker',
  title: 'zguide: a request-reply broker',
  description:
    'Three REQ clients and three REP workers never meet: a broker binds a ROUTER for the clients and a DEALER for ' +
    'the workers, and a proxy passes every request from the ROUTER to the DEALER and every reply back. The ROUTER ' +
    'prepends the identity frame of the client that asked (libzmq makes one up for a client without a routing ' +
    'id), and takes it off again to route the reply; the DEALER deals the requests to the workers in turn, ' +
    `${(BROKER_REQUESTS * CLIENTS.length) / WORKERS.length} each. Clients and workers can come and go: only the ` +
    'broker has a fixed address. (The guide binds the frontend at tcp://*:5559 and the backend at tcp://*:5560; ' +
    'its clients send "Hello" and its workers answer "World" after a second\'s work. Here each client numbers ' +
    'its requests, the workers answer in upper case at once, and the broker waits for its three workers before it ' +
    'forwards anything, as the guide has you start the workers first.)',
  graph: {
    title: 'ROUTER/DEALER: a request-reply broker',
    nodes: [
      ...CLIENTS.map((id): GraphNode => ({
        id,
        socket: 'REQ',
        role: {
          kind: 'request',
          messages: { kind: 'template', template: `Hello {n} from ${id}`, count: BROKER_REQUESTS },
          intervalMs: 300,
        },
      })),
      { id: 'frontend', socket: 'ROUTER', role: { kind: 'proxy', backend: 'backend', waitForPeers: WORKERS.length } },
      { id: 'backend', socket: 'DEALER', role: { kind: 'passive' } },
      ...WORKERS.map((id): GraphNode => ({ id, socket: 'REP', role: { kind: 'reply', transform: 'uppercase' } })),
    ],
    links: [...CLIENTS.map((id) => tcp(id, 'frontend', 'to')), ...WORKERS.map((id) => tcp('backend', id, 'from'))],
  },
};

export const killPipeline: GraphScenario = {
  id: 'zguide-kill',
  title: 'zguide: a pipeline whose sink kills the workers',
  description:
    `The ventilator waits for its three workers, then pushes ${KILL_TASKS} tasks; each worker works on what it ` +
    'pulls and pushes a result to the sink. When the sink has every result it publishes "KILL" on a PUB socket ' +
    'that every worker also subscribes to, and the workers stop: each worker is one program with three sockets ' +
    '(PULL for tasks, PUSH for results, SUB for the kill signal). Every task is accounted for: sent, worked on by ' +
    'one worker, collected by the sink, and only then the workers end. (The guide binds the ventilator at ' +
    "tcp://*:5557, the sink at :5558 and the sink's PUB at :5559; its tasks carry a random workload of 1 to 100 " +
    'ms, which its workers sleep, and its ventilator first tells the sink a batch starts. Here each task carries ' +
    'its number and a workload, every worker works 50 ms a task, and the sink counts the tasks it expects.)',
  graph: {
    title: 'PUSH/PULL + PUB/SUB: a pipeline with a kill signal',
    nodes: [
      {
        id: 'ventilator',
        socket: 'PUSH',
        role: {
          kind: 'send',
          messages: { kind: 'template', template: 'task {n}: {int:1-100} ms', count: KILL_TASKS, seed: 2012 },
          waitForPeers: WORKERS.length,
        },
      },
      ...WORKERS.flatMap((id): GraphNode[] => [
        {
          id,
          socket: 'PULL',
          role: { kind: 'receive', workMs: 50, forwardTo: `${id}-out` },
          stop: { withNode: `${id}-control` },
        },
        { id: `${id}-out`, socket: 'PUSH', role: { kind: 'passive' } },
        {
          id: `${id}-control`,
          socket: 'SUB',
          subscribe: [''],
          role: { kind: 'receive' },
          stop: { onMessage: 'KILL' },
        },
      ]),
      {
        id: 'sink',
        socket: 'PULL',
        role: { kind: 'receive' },
        stop: { afterMessages: KILL_TASKS, announce: { body: 'KILL', through: 'sink-control' } },
      },
      { id: 'sink-control', socket: 'PUB', role: { kind: 'passive' } },
    ],
    links: WORKERS.flatMap((id) => [
      tcp('ventilator', id, 'from'),
      tcp(`${id}-out`, 'sink', 'to'),
      tcp('sink-control', `${id}-control`, 'from'),
    ]),
  },
};

export const weather: GraphScenario = {
  id: 'zguide-weather',
  title: 'zguide: weather updates, filtered by zipcode',
  description:
    'The weather server publishes updates "zipcode temperature humidity" (a temperature from -80 to 134, a ' +
    `relative humidity from 10 to 59); the client subscribes to the prefix "${WEATHER_ZIPCODE}" and gets only ` +
    'that zipcode: over tcp the publisher filters, so the other updates never leave the server. Updates published ' +
    'before the subscription reaches the server are lost to the client (the slow joiner), even though the ' +
    'server waits for it to connect. (The guide binds tcp://*:5556, draws zipcodes from the whole range 1 to ' +
    '99999 and publishes as fast as it can, for ever; its client takes five updates and prints their average ' +
    "temperature. Here the zipcodes are 10000 to 10009, so about one update in ten is the client's, the server " +
    'publishes 400 of them 25 ms apart, and the client keeps listening to the end.)',
  graph: {
    title: 'PUB/SUB: weather updates',
    nodes: [
      {
        id: 'weather-server',
        socket: 'PUB',
        role: {
          kind: 'send',
          messages: {
            kind: 'template',
            template: '{int:10000-10009} {int:-80-134} {int:10-59}',
            count: 400,
            seed: 5556,
          },
          intervalMs: 25,
          waitForPeers: 1,
        },
      },
      { id: 'weather-client', socket: 'SUB', subscribe: [WEATHER_ZIPCODE], role: { kind: 'receive' } },
    ],
    links: [tcp('weather-server', 'weather-client', 'from')],
  },
};

export const ZGUIDE_SCENARIOS: readonly GraphScenario[] = [broker, killPipeline, weather];
