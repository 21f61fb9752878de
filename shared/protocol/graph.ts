/**
 * Graphs of real ZeroMQ sockets, on the wire: the scenario as data (nodes, each one socket with a role; links,
 * which side binds and over which transport) and the events a graph run produces. The pipeline's own events stay
 * in schema.ts; these variants join the same union (PlaygroundEvent), so the log, the stream and the codec carry
 * them unchanged.
 *
 * This module must not import schema.ts (schema.ts imports it to build the union): the few shared building blocks
 * (ids, counts, the event envelope) are repeated here, identical.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Seq = Type.Integer({ minimum: 1 });
const Ms = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });
const GraphTransport = Type.Union([Type.Literal('tcp'), Type.Literal('ipc'), Type.Literal('inproc')]);

/** Limits of one graph; the page's palette and the HTTP API read them too. */
export const GRAPH_LIMITS = {
  nodes: 32,
  links: 64,
  /** Texts a node sends, in a list or generated from a template. */
  messages: 100_000,
  listItems: 1000,
  bodyChars: 256,
  intervalMs: 10_000,
  delayMs: 60_000,
  workMs: 60_000,
  prefixes: 16,
  prefixChars: 64,
  highWaterMark: 1_000_000,
  drainMs: 60_000,
} as const;

export const SOCKET_TYPES = [
  'REQ',
  'REP',
  'DEALER',
  'ROUTER',
  'PUB',
  'SUB',
  'XPUB',
  'XSUB',
  'PUSH',
  'PULL',
  'PAIR',
] as const;
export const SocketType = Type.Union(SOCKET_TYPES.map((type) => Type.Literal(type)));
export type SocketType = (typeof SOCKET_TYPES)[number];

/** What a node does to a message before replying or forwarding it (the series' servers: echo, add, upper-case). */
export const Transform = Type.Union([Type.Literal('echo'), Type.Literal('sum'), Type.Literal('uppercase')]);
export type Transform = Static<typeof Transform>;

const Body = Type.String({ maxLength: GRAPH_LIMITS.bodyChars });

/**
 * The texts a node sends. A template is expanded per message: `{i}` is the message's index (from 0),
 * `{n}` its number (from 1), `{int:A-B}` a whole number drawn from A..B, `{pick:a|b|c}` one of the choices. Draws
 * come from a generator seeded by `seed`, so a run can be repeated exactly.
 */
export const Messages = Type.Union([
  Type.Object(
    { kind: Type.Literal('list'), items: Type.Array(Body, { minItems: 1, maxItems: GRAPH_LIMITS.listItems }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('template'),
      template: Type.String({ minLength: 1, maxLength: GRAPH_LIMITS.bodyChars }),
      count: Type.Integer({ minimum: 1, maximum: GRAPH_LIMITS.messages }),
      seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    },
    { additionalProperties: false },
  ),
]);
export type Messages = Static<typeof Messages>;

const IntervalMs = Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.intervalMs });

/** What a node does with its socket. Which roles fit which socket types: shared/scenarios/graph.ts. */
export const NodeRole = Type.Union([
  /**
   * REQ (or DEALER): send each message and wait for its reply. `last` is sent after them without waiting (the
   * series' "q"). `waitReply: false` sends the next request without waiting: a REQ then gets EFSM.
   */
  Type.Object(
    {
      kind: Type.Literal('request'),
      messages: Messages,
      intervalMs: Type.Optional(IntervalMs),
      last: Type.Optional(Body),
      waitReply: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  /**
   * REP (or ROUTER): receive a request, reply with its transform; `forwardTo` also sends the request on.
   * `workMs` is time spent per request before the reply (a slow server: its clients wait).
   */
  Type.Object(
    {
      kind: Type.Literal('reply'),
      transform: Transform,
      forwardTo: Type.Optional(Id),
      workMs: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.workMs })),
    },
    { additionalProperties: false },
  ),
  /**
   * PUSH, PUB, XPUB, PAIR, DEALER: send each message, `intervalMs` apart. `waitForPeers` first waits until that
   * many peers have shaken hands with this socket (the series' part 6 waits for Enter; the zguide's cure for the
   * slow joiner). `awaitEcho` (PAIR, DEALER) waits for an answer after each message, as the series' part 2 does.
   */
  Type.Object(
    {
      kind: Type.Literal('send'),
      messages: Messages,
      intervalMs: Type.Optional(IntervalMs),
      waitForPeers: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.nodes })),
      awaitEcho: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  /**
   * PULL, SUB, XSUB, PAIR, DEALER, ROUTER: receive. `replyBack` answers on the same socket (a PAIR echo);
   * `forwardTo` sends the transformed message on through another node's socket (a worker's PUSH to the sink);
   * `workMs` is time spent per message (a slow subscriber).
   */
  Type.Object(
    {
      kind: Type.Literal('receive'),
      transform: Type.Optional(Transform),
      replyBack: Type.Optional(Type.Boolean()),
      forwardTo: Type.Optional(Id),
      workMs: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.workMs })),
    },
    { additionalProperties: false },
  ),
  /**
   * ROUTER frontend and DEALER backend (or XSUB and XPUB): every message crosses to the other socket.
   * `waitForPeers` forwards nothing until the backend has that many peers (the zguide starts its workers before its
   * clients): requests wait in the frontend meanwhile, then the DEALER deals them evenly.
   */
  Type.Object(
    {
      kind: Type.Literal('proxy'),
      backend: Id,
      waitForPeers: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.nodes })),
    },
    { additionalProperties: false },
  ),
  /** Sends only what another node forwards through it, or serves as a proxy's backend. */
  Type.Object({ kind: Type.Literal('passive') }, { additionalProperties: false }),
]);
export type NodeRole = Static<typeof NodeRole>;
export type RoleKind = NodeRole['kind'];

const Hwm = Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.highWaterMark });
/** A bind made later in the run: after the binding node has sent this many messages (GraphLink.bindAfter). */
const BindAfter = Type.Integer({ minimum: 1, maximum: GRAPH_LIMITS.messages });

export const GraphNode = Type.Object(
  {
    id: Id,
    socket: SocketType,
    role: NodeRole,
    /** SUB: the prefixes it subscribes to ('' is everything); XSUB sends them as subscription messages. */
    subscribe: Type.Optional(
      Type.Array(Type.String({ maxLength: GRAPH_LIMITS.prefixChars }), { maxItems: GRAPH_LIMITS.prefixes }),
    ),
    /**
     * How it stops: at an exact body (the series' "q", "x", "salir"), after so many messages received, or when
     * another node of the same program stops (`withNode`: a worker whose control socket got "KILL"). `announce`
     * sends one body through a passive node when it stops by its own condition (the zguide's sink broadcasts
     * "KILL" to the workers once it has every result).
     */
    stop: Type.Optional(
      Type.Object(
        {
          onMessage: Type.Optional(Body),
          afterMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: GRAPH_LIMITS.messages })),
          withNode: Type.Optional(Id),
          announce: Type.Optional(Type.Object({ body: Body, through: Id }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Connects and starts its role this long after the run's sockets are wired (a late subscriber, client). */
    startDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.delayMs })),
    /**
     * Connects and starts only once this other node has received its first message (then before startDelayMs):
     * "a second client, started while the first is running", whatever the machine's speed.
     */
    startAfter: Type.Optional(Id),
    /** REQ, REP, DEALER, ROUTER: the identity a ROUTER it connects to sees (else libzmq makes one up). */
    routingId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })),
    sendHighWaterMark: Type.Optional(Hwm),
    receiveHighWaterMark: Type.Optional(Hwm),
    /**
     * Runs as its own OS process (with the sockets of its program: `stop.withNode`, `forwardTo`, `announce.through`,
     * a proxy's backend): killed with SIGKILL, hung with SIGSTOP, resumed with SIGCONT. Not over inproc, which
     * cannot cross a process. Counted in the operator's process limits.
     */
    process: Type.Optional(Type.Boolean()),
    /**
     * Endpoints it binds for peers outside the graph (the series' Python programs), besides its links'. One with
     * the same transport and address as a link's is the same bind; `bindAfter` delays it as a link's does.
     */
    listen: Type.Optional(
      Type.Array(
        Type.Object(
          {
            transport: GraphTransport,
            address: Type.Optional(Type.String({ maxLength: 200 })),
            bindAfter: Type.Optional(BindAfter),
          },
          { additionalProperties: false },
        ),
        { maxItems: 3 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type GraphNode = Static<typeof GraphNode>;

export const GraphLink = Type.Object(
  {
    from: Id,
    to: Id,
    /** Which end binds; the other connects. */
    bind: Type.Union([Type.Literal('from'), Type.Literal('to')]),
    transport: GraphTransport,
    /**
     * The address the binding node asks for (checked as every endpoint is: loopback tcp, ipc in the runtime
     * folder). Absent: a free tcp port, an ipc path or an inproc name of this playground's.
     */
    address: Type.Optional(Type.String({ maxLength: 200 })),
    /**
     * The binding node binds this endpoint only once it has sent this many messages, on the same socket as its
     * other binds (the tutorial's server binds ipc after "1", "2", "3"); the connecting node dials it from the
     * start and ZeroMQ retries until it exists. Only a sending node's ipc link: its path is known before the bind.
     */
    bindAfter: Type.Optional(BindAfter),
  },
  { additionalProperties: false },
);
export type GraphLink = Static<typeof GraphLink>;

export const GraphSpec = Type.Object(
  {
    title: Type.String({ maxLength: 200 }),
    nodes: Type.Array(GraphNode, { minItems: 1, maxItems: GRAPH_LIMITS.nodes }),
    links: Type.Array(GraphLink, { maxItems: GRAPH_LIMITS.links }),
    /** After every finite node is done: how long without a delivery before the run ends. */
    drainMs: Type.Optional(Type.Integer({ minimum: 0, maximum: GRAPH_LIMITS.drainMs })),
  },
  { additionalProperties: false },
);
/**
 * An interface, not the inferred type alias: PlaygroundEvent is a large union, and TypeScript compares a named
 * interface by reference where it would compare the inferred graph's nested unions member by member (it gave up
 * on that, "two different types with this name exist", once nodes gained `listen`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the point is a named type (see above)
export interface GraphSpec extends Static<typeof GraphSpec> {}

/** Why a copy of a message was never delivered (see docs/zmq-patterns.md for the evidence behind each). */
export const DropReason = Type.Union([
  /** The publisher filtered it out: the subscriber has no matching prefix. */
  Type.Literal('filtered'),
  /** Published before this subscriber's subscription had reached the publisher (the slow joiner). */
  Type.Literal('not-subscribed'),
  /** The publisher dropped it at the subscriber's high-water mark (a PUB never blocks). */
  Type.Literal('hwm'),
  /** Nobody to take it: a PUB with no subscriber, a ROUTER with no peer of that identity. */
  Type.Literal('no-peer'),
  /** Sent by (or to) a peer ZeroMQ refused: a second PAIR peer, an incompatible socket type. */
  Type.Literal('refused'),
  /** Lost with a node that stopped reading or closed while it was queued there. */
  Type.Literal('closed'),
  /** Lost with a node killed during the run (live topology): queued for it, or parked on a pipe to it. */
  Type.Literal('killed'),
  /**
   * Received by a node that was killed before it handled it (a REP before its reply, a worker holding its task):
   * its receipt was seen, but what it was for never happened; lost with the killed node.
   */
  Type.Literal('unhandled'),
  /**
   * Lost with a connection a live move closed (graph-move.ts): queued on it when its end disconnected (libzmq
   * discards a pipe's queue then), or sent by a publisher after the move and before the subscriber's subscription
   * reached it over the new connection.
   */
  Type.Literal('moved'),
]);
export type DropReason = Static<typeof DropReason>;

export const RefusalReason = Type.Union([
  /** A REQ sent again before its reply (or a REP replied before a request): libzmq's state machine said no. */
  Type.Literal('efsm'),
  /** A second peer reached a PAIR that already has one: its pipe is terminated without a word. */
  Type.Literal('pair-exclusive'),
  /** The two socket types may not talk (PUSH to SUB): the connection is dropped before any handshake. */
  Type.Literal('incompatible'),
]);
export type RefusalReason = Static<typeof RefusalReason>;

/**
 * A graph run's books: every copy of a message (one per message, one per subscriber for a PUB) is in exactly one
 * of delivered, dropped, unattributed or in flight: delivered + dropped + unattributed + inFlight = copies.
 */
export const GraphSummary = Type.Object({
  /** Messages sent by the run's nodes (requests, replies and forwards each count). */
  sent: Count,
  copies: Count,
  delivered: Count,
  dropped: Count,
  droppedBy: Type.Record(Type.String(), Count),
  /** Sent where peers we do not control were connected, and received by none of ours: theirs, or lost. */
  unattributed: Count,
  inFlight: Count,
  /** Per node: messages it sent and received. */
  nodes: Type.Record(Type.String(), Type.Object({ sent: Count, received: Count }, { additionalProperties: false })),
  refusals: Count,
  durationMs: Ms,
});
export type GraphSummary = Static<typeof GraphSummary>;

const GraphEndReason = Type.Union([Type.Literal('completed'), Type.Literal('stopped'), Type.Literal('failed')]);

function event<K extends string, P extends Record<string, TSchema>>(type: K, props: P) {
  return Type.Object({ type: Type.Literal(type), seq: Seq, run: Id, t: Ms, ...props }, { additionalProperties: false });
}

/** The graph variants of PlaygroundEvent (schema.ts spreads them into the union). */
export const GRAPH_EVENTS = [
  /** A graph run began: the scenario as it runs, and what this libzmq build can do (pgm, ...). */
  event('graph:started', {
    scenario: Id,
    // The same schema (Unsafe keeps its Kind and checks), typed as the interface.
    graph: Type.Unsafe<GraphSpec>(GraphSpec),
    capabilities: Type.Record(Type.String(), Type.Boolean()),
  }),
  /** A node's socket bound an endpoint (what libzmq really bound: `*` ports resolved). */
  event('node:bound', { node: Id, transport: GraphTransport, address: Type.String() }),
  /** A node's socket called connect() towards a peer node's endpoint; ZeroMQ connects (and retries) by itself. */
  event('node:connecting', { node: Id, peer: Id, address: Type.String() }),
  /**
   * A node's send resolved (ZeroMQ queued it). `message` numbers it within the run; `cause` is the message it
   * answers or forwards; `to` is set when the addressee is known (a reply goes to the requester).
   */
  event('message:sent', {
    node: Id,
    message: Count,
    body: Type.String(),
    frames: Type.Integer({ minimum: 1 }),
    cause: Type.Optional(Count),
    to: Type.Optional(Id),
  }),
  /**
   * A node's receive() returned it: the attribution (which message, from which node) is the receiving side's;
   * null when it came from a peer we do not control. `identity` is the frame a ROUTER prepends, printable.
   */
  event('message:received', {
    node: Id,
    message: Type.Union([Count, Type.Null()]),
    from: Type.Union([Id, Type.Null()]),
    body: Type.String(),
    identity: Type.Optional(Type.String()),
  }),
  /** A copy of a message that will never be delivered: where (`node`), for whom (`peer`) and why. */
  event('message:dropped', { message: Count, node: Id, peer: Type.Union([Id, Type.Null()]), reason: DropReason }),
  /** ZeroMQ refused something: shown, not hidden. `peer` is the other node when known. */
  event('socket:refused', {
    node: Id,
    peer: Type.Union([Id, Type.Null()]),
    reason: RefusalReason,
    code: Type.Optional(Type.String()),
    detail: Type.String(),
  }),
  /** A node stopped its role: its stop message, its count, its messages all sent, the run's end, or an error. */
  event('node:stopped', {
    node: Id,
    reason: Type.Union([
      Type.Literal('stop-message'),
      Type.Literal('count'),
      Type.Literal('done'),
      Type.Literal('run-ended'),
      Type.Literal('error'),
      /** Taken out of the running graph (live topology): its socket closed. */
      Type.Literal('removed'),
      /** Killed during the run (live topology): its socket closed at once, linger 0, its queue lost. */
      Type.Literal('killed'),
      /**
       * At the run's end, a requester still waiting for the reply to a request that was lost with a killed node
       * (in its hands unhandled, or queued for it): that reply can never come, the program would wait for ever.
       */
      Type.Literal('reply-lost'),
    ]),
    /** With `reply-lost`: the killed node its request was lost with. */
    lostWith: Type.Optional(Id),
  }),
  /**
   * What a visitor did to a node's program while the run flowed (live topology), as the pipeline's
   * `worker:process` says it of a process worker: `killed` (its sockets closed at once, what waited for it lost),
   * `hung` (it stops reading and sending: its queues fill up to the high-water marks), `resumed` (it goes on).
   * One event per socket of the program; `program` names the node the visitor acted on. A process node (its
   * program in a child process) also has `started` at the run's start, and every one of its events its `pid`.
   */
  event('node:process', {
    node: Id,
    action: Type.Union([
      /** A process node's child is running (right after graph:started), its `pid` said. */
      Type.Literal('started'),
      Type.Literal('killed'),
      Type.Literal('hung'),
      Type.Literal('resumed'),
    ]),
    program: Id,
    /** The OS process holding the node's socket, when it runs as a process node (SIGKILL, SIGSTOP, SIGCONT). */
    pid: Type.Optional(Count),
  }),
  /**
   * A visitor changed a node's pace while the run flowed (live topology): `interval` between the messages of a
   * sender or requester, `work` spent per message by a receiver or replier. From its next wait on.
   */
  event('node:paced', {
    node: Id,
    pace: Type.Union([Type.Literal('interval'), Type.Literal('work')]),
    ms: Count,
  }),
  /**
   * A link moved to another transport while the run flowed (live topology, graph-move.ts): its binder bound
   * `address` (or already had it), its connecter connected there and disconnected `previousAddress`; `node` is the
   * node the visitor moved. `lost`: copies queued on the old connection, dropped as `moved` at once.
   */
  event('link:moved', {
    node: Id,
    from: Id,
    to: Id,
    transport: GraphTransport,
    address: Type.String(),
    previousTransport: GraphTransport,
    previousAddress: Type.String(),
    lost: Count,
  }),
  /**
   * A node joined the running graph (live topology, graph-live.ts): `spec` as it runs, and its one `link` to a node
   * of the graph (which side binds, over which transport). From here on it is drawn, in the live page and in a
   * replay of the run; its bind, its connect and its messages are events of its own that follow.
   */
  event('node:added', {
    node: Id,
    // The same schemas (Unsafe keeps their Kind and checks), typed as the interfaces.
    spec: Type.Unsafe<GraphNode>(GraphNode),
    link: Type.Unsafe<GraphLink>(GraphLink),
  }),
  /** A node left the running graph with its links (live topology: a visitor removed it), after its node:stopped. */
  event('node:removed', { node: Id }),
  event('graph:ended', { reason: GraphEndReason, summary: GraphSummary }),
] as const;

export type GraphEventType = Static<(typeof GRAPH_EVENTS)[number]>['type'];
