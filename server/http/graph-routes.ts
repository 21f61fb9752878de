/**
 * The HTTP API of graph playgrounds (issue 11): create one from a series scenario or a graph of one's own, run
 * it, stop it, read its events, add a subscriber, change its prefixes, a node's pace or remove a node (also
 * while a run flows), kill, hang, resume or move a node to another transport while a run flows. Visitors and
 * roles as for the pipeline's playgrounds (access.ts): watchers read, drivers run and change, the owner also
 * deletes and shares. Documented in docs/api.md ("Graph playgrounds").
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  GRAPH_LIMITS,
  GraphLink,
  GraphNode,
  GraphSpec,
  NodeRole,
  SocketType,
  type Transport,
} from '../../shared/protocol/index.ts';
import type { LinkedNodeRequest } from '../../shared/scenarios/linked-node.ts';
import { sandboxExcesses, withLinkRemoved, withNodeChanged } from '../../shared/scenarios/sandbox.ts';
import { text } from '../../shared/protocol/server-text.ts';
import type { Role } from '../pipeline/access.ts';
import type { GraphPlayground, GraphRegistry } from '../engine/graph-playground.ts';
import { CodedError } from '../errors.ts';
import { withLinkedNode, withPace } from '../engine/graph-edits.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const CreateGraphBody = Type.Object(
  {
    /** A scenario of the server's (GET /api/graph-scenarios), or... */
    scenario: Type.Optional(Type.String({ maxLength: 64 })),
    /** ...a graph of the caller's own (the free sandbox). */
    graph: Type.Optional(GraphSpec),
    /** Keep links between socket types that may not talk (tcp, ipc), to see ZeroMQ refuse them. */
    allowIncompatible: Type.Optional(Type.Boolean()),
    /** The patterns page's free sandbox: held to SANDBOX_LIMITS from now on, as the page's menu holds it. */
    sandbox: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
// Query strings arrive as text and the app does not coerce types: numbers are checked by pattern, then converted.
const UInt = Type.String({ pattern: '^[0-9]{1,15}$' });
const EventsQuery = Type.Object(
  { since: Type.Optional(UInt), limit: Type.Optional(UInt) },
  { additionalProperties: false },
);
const EVENTS_PER_PAGE = 5000;
/** A node's name, as the graph's schema has it (shared/protocol/graph.ts). */
const NodeId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const NodeParams = Type.Object({ id: Type.String({ maxLength: 64 }), node: NodeId });
/** A subscriber's prefixes ('' is everything): at least one, as many and as long as a graph's node may have. */
const Prefixes = Type.Array(Type.String({ maxLength: GRAPH_LIMITS.prefixChars }), {
  minItems: 1,
  maxItems: GRAPH_LIMITS.prefixes,
});
/** A subscriber to add: its name, the publisher it connects to, its prefixes. */
const SubscriberBody = Type.Object(
  { id: NodeId, publisher: NodeId, subscribe: Prefixes },
  { additionalProperties: false },
);
const WorkerBody = Type.Object({ id: NodeId, pusher: NodeId }, { additionalProperties: false });
/**
 * A node of any socket type with one link to a node the graph has (shared/scenarios/linked-node.ts): its name, its
 * type, the node it links to; a SUB's prefixes (everything when absent), whether it runs as its own process, and
 * its role (absent: the one the pair suggests).
 */
const LinkedNodeBody = Type.Object(
  {
    id: NodeId,
    socket: SocketType,
    peer: NodeId,
    subscribe: Type.Optional(Prefixes),
    process: Type.Optional(Type.Boolean()),
    role: Type.Optional(NodeRole),
  },
  { additionalProperties: false },
);
const SubscriptionsBody = Type.Object({ subscribe: Prefixes }, { additionalProperties: false });
/** A link named by its two ends, in either order (the one between them; the sandbox links two nodes once). */
const LinkParams = Type.Object({ id: Type.String({ maxLength: 64 }), from: NodeId, to: NodeId });
/** A node's pace in ms: its interval (a sender, a requester) or its work per message (a receiver, a replier). */
const PaceBody = Type.Object(
  { ms: Type.Integer({ minimum: 0, maximum: Math.max(GRAPH_LIMITS.intervalMs, GRAPH_LIMITS.workMs) }) },
  { additionalProperties: false },
);
/** Where a node's links go: the transport, and optionally the one peer whose link moves. */
const MoveBody = Type.Object(
  {
    transport: Type.Union([Type.Literal('tcp'), Type.Literal('ipc'), Type.Literal('inproc')]),
    peer: Type.Optional(NodeId),
  },
  { additionalProperties: false },
);
const JoinBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

/**
 * A graph of one's own (the free sandbox) is held to the sandbox's limits here as the page's menu holds it
 * (SANDBOX_LIMITS): the schema alone allows any scenario's size. The first parameter beyond them is refused with
 * which node, which parameter, its cap and the value sent.
 */
function checkSandbox(graph: GraphSpec): GraphSpec {
  const [first] = sandboxExcesses(graph);
  if (!first) return graph;
  const params = { node: first.node ?? '', param: first.param, max: first.max, got: first.got };
  const key =
    first.node === null
      ? 'graph.sandboxGraphValue'
      : first.unit === 'chars'
        ? 'graph.sandboxChars'
        : first.unit === 'items'
          ? 'graph.sandboxItems'
          : 'graph.sandboxValue';
  throw new CodedError('PG_ERR_VALIDATION', text(key, params));
}

/**
 * Playgrounds opened as the free sandbox (`sandbox: true`, as the patterns page opens its own): the HTTP layer's
 * policy, kept here. Other graphs of one's own (scripts, the tests' high-rate graphs) are held to the schema's
 * limits (GRAPH_LIMITS), the server's own for any graph.
 */
const sandboxes = new WeakSet<GraphPlayground>();

/** The graph a change makes, held to the sandbox's limits when the playground is a sandbox. */
function withinLimits(playground: GraphPlayground, graph: GraphSpec): GraphSpec {
  return sandboxes.has(playground) ? checkSandbox(graph) : graph;
}

export async function graphRoutes(app: FastifyInstance, { graphs }: { graphs: GraphRegistry }): Promise<void> {
  const graphOf = (request: { params: { id: string }; visitor: string }, needed: Role) =>
    graphs.forVisitor(request.params.id, request.visitor, needed);

  app.get('/api/graph-scenarios', async () =>
    graphs
      .scenarios()
      .map(({ id, title, description, notes, graph }) => ({ id, title, description, notes: notes ?? [], graph })),
  );

  app.get('/api/graphs', async (request) => graphs.listFor(request.visitor).map((playground) => playground.info()));

  app.post<{ Body: { scenario?: string; graph?: GraphSpec; allowIncompatible?: boolean; sandbox?: boolean } }>(
    '/api/graphs',
    { schema: { body: CreateGraphBody } },
    async (request, reply) => {
      const sandbox = request.body.sandbox === true && request.body.graph !== undefined;
      if (sandbox) checkSandbox(request.body.graph!);
      const playground = graphs.create(request.visitor, request.body);
      if (sandbox) sandboxes.add(playground);
      return reply.code(201).send(playground.info());
    },
  );

  app.get<{ Params: { id: string } }>('/api/graphs/:id', { schema: { params: IdParams } }, async (request) =>
    graphOf(request, 'watcher').info(),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/graphs/:id',
    { schema: { params: IdParams } },
    async (request, reply) => {
      graphOf(request, 'owner');
      await graphs.remove(request.params.id);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { id: string }; Body: GraphSpec }>(
    '/api/graphs/:id/graph',
    { schema: { params: IdParams, body: GraphSpec } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      return playground.setGraph(withinLimits(playground, request.body));
    },
  );

  // The free sandbox's edits, one at a time, between runs (the graph so changed is checked as a new one; a run in
  // progress refuses them with PG_ERR_RUN_ACTIVE). Each reads and replaces the graph in one turn: two drivers
  // editing at once each see the other's change, where a whole PUT would undo it.
  app.post<{ Params: { id: string }; Body: GraphNode }>(
    '/api/graphs/:id/nodes',
    { schema: { params: IdParams, body: GraphNode } },
    async (request, reply) => {
      const playground = graphOf(request, 'driver');
      const graph = playground.info().graph;
      if (graph.nodes.some((node) => node.id === request.body.id))
        throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeExists', { node: request.body.id }));
      return reply
        .code(201)
        .send(playground.setGraph(withinLimits(playground, { ...graph, nodes: [...graph.nodes, request.body] })));
    },
  );

  // A node replaced: its role, its name (its links follow), anything a node has.
  app.put<{ Params: { id: string; node: string }; Body: GraphNode }>(
    '/api/graphs/:id/nodes/:node',
    { schema: { params: NodeParams, body: GraphNode } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      const graph = playground.info().graph;
      const { node } = request.params;
      if (!graph.nodes.some((candidate) => candidate.id === node))
        throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node }));
      if (request.body.id !== node && graph.nodes.some((candidate) => candidate.id === request.body.id))
        throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeExists', { node: request.body.id }));
      return playground.setGraph(withinLimits(playground, withNodeChanged(graph, node, request.body)));
    },
  );

  app.post<{ Params: { id: string }; Body: GraphLink }>(
    '/api/graphs/:id/links',
    { schema: { params: IdParams, body: GraphLink } },
    async (request, reply) => {
      const playground = graphOf(request, 'driver');
      const graph = playground.info().graph;
      const { from, to } = request.body;
      if (graph.links.some((link) => (link.from === from && link.to === to) || (link.from === to && link.to === from)))
        throw new CodedError('PG_ERR_VALIDATION', text('graph.linkExists', { from, to }));
      return reply.code(201).send(playground.setGraph({ ...graph, links: [...graph.links, request.body] }));
    },
  );

  app.delete<{ Params: { id: string; from: string; to: string } }>(
    '/api/graphs/:id/links/:from/:to',
    { schema: { params: LinkParams } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      const graph = playground.info().graph;
      const { from, to } = request.params;
      const index = graph.links.findIndex(
        (link) => (link.from === from && link.to === to) || (link.from === to && link.to === from),
      );
      if (index < 0) throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownLink', { from, to }));
      return playground.setGraph(withLinkRemoved(graph, index));
    },
  );

  // A node of any type linked to one the graph has (server/engine/graph-live.ts addLinkedNode): while a run flows
  // it joins at once (it connects where that node binds, or binds an endpoint that node connects to), as its own
  // process if asked; between runs it is there from the next run. An incompatible pair, a PAIR that has its peer:
  // 400 with a text to act on.
  app.post<{ Params: { id: string }; Body: LinkedNodeRequest }>(
    '/api/graphs/:id/linked-nodes',
    { schema: { params: IdParams, body: LinkedNodeBody } },
    async (request, reply) => {
      const playground = graphOf(request, 'driver');
      // The free sandbox holds the new node to its limits, as its menu does (its name, its role's numbers).
      const { node } = withLinkedNode(playground.info().graph, request.body);
      withinLimits(playground, { title: '', nodes: [node], links: [] });
      return reply.code(201).send(await playground.addNode(request.body));
    },
  );

  // While a run flows the subscriber joins it at once; between runs it is there from the next run.
  app.post<{ Params: { id: string }; Body: { id: string; publisher: string; subscribe: string[] } }>(
    '/api/graphs/:id/subscribers',
    { schema: { params: IdParams, body: SubscriberBody } },
    async (request, reply) => {
      const playground = graphOf(request, 'driver');
      const { id, subscribe } = request.body;
      withinLimits(playground, {
        title: '',
        nodes: [{ id, socket: 'SUB', subscribe, role: { kind: 'receive' } }],
        links: [],
      });
      return reply.code(201).send(playground.addSubscriber(request.body));
    },
  );

  // A PULL worker for a PUSH that binds: while a run flows it joins at once and gets its share of the next tasks;
  // between runs it is there from the next run.
  app.post<{ Params: { id: string }; Body: { id: string; pusher: string } }>(
    '/api/graphs/:id/workers',
    { schema: { params: IdParams, body: WorkerBody } },
    async (request, reply) => {
      const playground = graphOf(request, 'driver');
      withinLimits(playground, {
        title: '',
        nodes: [{ id: request.body.id, socket: 'PULL', role: { kind: 'receive' } }],
        links: [],
      });
      return reply.code(201).send(playground.addWorker(request.body));
    },
  );

  // While a run flows the subscriber's socket unsubscribes and subscribes at once.
  app.put<{ Params: { id: string; node: string }; Body: { subscribe: string[] } }>(
    '/api/graphs/:id/nodes/:node/subscriptions',
    { schema: { params: NodeParams, body: SubscriptionsBody } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      const { node } = request.params;
      const { subscribe } = request.body;
      withinLimits(playground, {
        title: '',
        nodes: [{ id: node, socket: 'SUB', subscribe, role: { kind: 'receive' } }],
        links: [],
      });
      return playground.setSubscriptions(node, subscribe);
    },
  );

  // Between runs or while a run flows (server/engine/graph-live.ts removeNode): a subscriber's socket closes, any
  // other node's program dies as a kill does, and the node leaves the graph.
  app.delete<{ Params: { id: string; node: string } }>(
    '/api/graphs/:id/nodes/:node',
    { schema: { params: NodeParams } },
    async (request) => graphOf(request, 'driver').removeNode(request.params.node),
  );

  // Kill, hang or resume a node's program while a run flows (server/engine/graph-signals.ts), as the pipeline's
  // signal route does to a process worker; the same role as the other live edits. Answers the playground.
  for (const signal of ['kill', 'hang', 'resume'] as const) {
    app.post<{ Params: { id: string; node: string } }>(
      `/api/graphs/:id/nodes/:node/${signal}`,
      { schema: { params: NodeParams } },
      async (request) => {
        const playground = graphOf(request, 'driver');
        const run = playground.activeRun;
        if (!run || run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
        run.signalNode(request.params.node, signal);
        // A use of the playground, as every other edit is (an idle one is closed, its run stopped: graph-playground.ts).
        playground.lastActivity = Date.now();
        return playground.info();
      },
    );
  }

  // A node's pace (its interval, or its work per message), while a run flows or for the next run
  // (server/engine/graph-pace.ts); the same role as the other live edits. Answers the playground.
  app.put<{ Params: { id: string; node: string }; Body: { ms: number } }>(
    '/api/graphs/:id/nodes/:node/pace',
    { schema: { params: NodeParams, body: PaceBody } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      const { node } = request.params;
      // The free sandbox holds a pace to its own limits, as its menu does (a graph's own limits: graph-pace.ts).
      withinLimits(playground, withPace(playground.info().graph, node, request.body.ms));
      return playground.setPace(node, request.body.ms);
    },
  );

  // A node's links (or its link to `peer`) moved to another transport while a run flows
  // (server/engine/graph-move.ts): 409 PG_ERR_NO_RUN between runs. Answers the playground, its graph showing the
  // new transport.
  app.post<{ Params: { id: string; node: string }; Body: { transport: Transport; peer?: string } }>(
    '/api/graphs/:id/nodes/:node/move',
    { schema: { params: NodeParams, body: MoveBody } },
    async (request) => {
      const playground = graphOf(request, 'driver');
      const { transport, peer } = request.body;
      return await playground.moveNode(request.params.node, transport, peer);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/graphs/:id/runs',
    { schema: { params: IdParams } },
    async (request, reply) => reply.code(201).send(await graphOf(request, 'driver').startRun()),
  );

  app.post<{ Params: { id: string } }>(
    '/api/graphs/:id/runs/stop',
    { schema: { params: IdParams } },
    async (request) => ({
      summary: await graphOf(request, 'driver').stopRun(),
    }),
  );

  // The playground's events after `since` still held in memory (the last 20,000), oldest first.
  app.get<{ Params: { id: string }; Querystring: { since?: string; limit?: string } }>(
    '/api/graphs/:id/events',
    { schema: { params: IdParams, querystring: EventsQuery } },
    async (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? EVENTS_PER_PAGE), 1), EVENTS_PER_PAGE);
      return graphOf(request, 'watcher').events(Number(request.query.since ?? 0), limit);
    },
  );

  app.get<{ Params: { id: string } }>('/api/graphs/:id/access', { schema: { params: IdParams } }, async (request) => {
    const playground = graphOf(request, 'watcher');
    return { playground: playground.id, role: playground.access.roleOf(request.visitor) };
  });

  app.get<{ Params: { id: string } }>('/api/graphs/:id/links', { schema: { params: IdParams } }, async (request) => {
    const { watchToken, inviteToken } = graphOf(request, 'owner').access;
    return { watchToken, inviteToken };
  });

  app.post<{ Params: { id: string }; Body: { token: string } }>(
    '/api/graphs/:id/join',
    { schema: { params: IdParams, body: JoinBody } },
    async (request) => {
      const playground = graphs.list().find((candidate) => candidate.id === request.params.id);
      const role = playground?.access.join(request.visitor, request.body.token) ?? null;
      if (!playground || role === null)
        throw new CodedError(
          'PG_ERR_NOT_FOUND',
          text('access.badToken', { playground: request.params.id.slice(0, 64) }),
        );
      return { role, playground: playground.info() };
    },
  );
}
