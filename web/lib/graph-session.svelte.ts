/**
 * The patterns page's one connection to the server (issue 11): a graph playground of the visitor's for the
 * scenario in the URL (reused if it has one, else created), its live stream (/api/graphs/:id/stream, see
 * shared/protocol/graph-stream.ts), and what the diagram draws: a dot per delivery (from its sender to the node
 * that received it), a mark per drop where it happened and why, ZeroMQ's refusals, and the exact counters.
 * Separate from the pipeline's session on purpose: the pipeline's run model does not know graphs.
 *
 * Running, stopping and changing the graph go over HTTP; the stream only carries what happened. A subscriber can
 * be added or removed, and its prefixes changed, while a run flows (the server wires its socket into the run);
 * other changes replace the graph between runs. What it draws and says (dots, marks, refusals, news) is
 * described in graph-marks.ts.
 */
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../../shared/protocol/index.ts';
import {
  emptyGraphCounters,
  type GraphCounters,
  type GraphPlaygroundInfo,
  type GraphServerMessage,
} from '../../shared/protocol/graph-stream.ts';
import type { WireServerText } from '../../shared/protocol/server-text.ts';
import { starterSandbox } from '../../shared/scenarios/sandbox.ts';
import type { LinkedNodeRequest } from '../../shared/scenarios/linked-node.ts';
import { toErrorInfo } from './api.ts';
import { t } from './i18n/index.svelte.ts';
import { isServerStopped, withinCheckTime } from './server-stopped.ts';
import { CONNECT_TIMEOUT_MS, backoffDelay, type SocketLike } from './stream-client.svelte.ts';
import {
  DROP_MARK_MS,
  FLIGHT_MS,
  MAX_DROP_MARKS,
  MAX_FLIGHTS,
  MAX_NEWS,
  type DropMark,
  type Flight,
  type Happening,
  type LiveEdit,
  type Refusal,
} from './graph-marks.ts';

// Also said from here, where the diagram, the texts and the tests have always imported them.
export {
  DROP_MARK_MS,
  FLIGHT_MS,
  MAX_DROP_MARKS,
  MAX_FLIGHTS,
  MAX_NEWS,
  type DropMark,
  type Flight,
  type Happening,
  type Refusal,
} from './graph-marks.ts';

export type GraphRunState = 'idle' | 'running' | 'ended';
export type GraphConnection = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** What the session needs of the network; tests hand in fakes. */
export interface GraphSessionOptions {
  request: (method: string, path: string, body?: unknown) => Promise<unknown>;
  createSocket: (url: string) => SocketLike;
  /** The stream's URL for a playground id. */
  streamUrl: (id: string) => string;
  now?: () => number;
}

export function browserGraphSessionOptions(request: GraphSessionOptions['request']): GraphSessionOptions {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    request,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    streamUrl: (id) => `${protocol}//${location.host}/api/graphs/${encodeURIComponent(id)}/stream`,
  };
}

/** A scenario the server offers (GET /api/graph-scenarios). */
export interface GraphScenarioInfo {
  id: string;
  title: string;
  description: string;
  notes: string[];
}

export class GraphSession {
  info = $state<GraphPlaygroundInfo | null>(null);
  /** The scenario opened, as the server describes it (English: its descriptions are not translated yet). */
  scenario = $state<GraphScenarioInfo | null>(null);
  counters = $state<GraphCounters>(emptyGraphCounters());
  connection = $state<GraphConnection>('connecting');
  runState = $state<GraphRunState>('idle');
  /** Why the last run ended ('completed', 'stopped', 'failed'), once this page saw it end. */
  endReason = $state<string | null>(null);
  summary = $state<GraphSummary | null>(null);
  flights = $state<Flight[]>([]);
  drops = $state<DropMark[]>([]);
  refusals = $state<Refusal[]>([]);
  /** Message events the server left out of its frames (sampled at a high rate); the counters stay exact. */
  sampledOut = $state(0);
  /** The newest body each node received (of those the frames carried): which messages reached whom. */
  lastBodies = $state<Record<string, string>>({});
  error = $state<{ code: string; message: string; text?: WireServerText } | null>(null);
  /**
   * The server that held this graph playground has stopped (a course site's instance behind the proxy is down) and
   * the playground with it: the page says so (`error`) and stops reconnecting. Null while it runs.
   */
  serverStopped = $state<{ playground: string } | null>(null);
  busy = $state(false);
  /** The last pace change or move of the run shown (node:paced, link:moved), for the node controls' status. */
  lastEdit = $state<LiveEdit | null>(null);
  /** Nodes a visitor killed, hung or resumed in the run shown (node:process), by node; the others run. */
  nodeStates = $state<Record<string, 'killed' | 'hung' | 'resumed'>>({});
  /**
   * Requesters the run shown left waiting for a reply that will never come (node:stopped `reply-lost`): the killed
   * node their request was lost with (null: one of several), by requester.
   */
  repliesLost = $state<Record<string, string | null>>({});
  /** Nodes of the run shown that run as their own OS process (node:process `started`): their pid, by node. */
  processPids = $state<Record<string, number>>({});

  readonly #options: GraphSessionOptions;
  readonly #now: () => number;
  #socket: SocketLike | null = null;
  #lastSeq = 0;
  #key = 0;
  #failures = 0;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | null = null;
  /** Gives up on a stream attempt that got no hello within CONNECT_TIMEOUT_MS (stream-client.svelte.ts says why). */
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #isCheckingServer = false;
  /** What happened since the live region last spoke (not reactive: the region reads it on its own pace). */
  #news: Happening[] = [];

  constructor(options: GraphSessionOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  get graph(): GraphSpec | null {
    return this.info?.graph ?? null;
  }

  /** The visitor's playground of this scenario (an earlier tab's, or a new one), then its stream. */
  async open(scenario: string): Promise<void> {
    try {
      const scenarios = (await this.#options.request('GET', '/api/graph-scenarios')) as GraphScenarioInfo[];
      this.scenario = scenarios.find((candidate) => candidate.id === scenario) ?? null;
      const mine = (await this.#options.request('GET', '/api/graphs')) as GraphPlaygroundInfo[];
      const found = mine.find((playground) => playground.scenario === scenario && playground.kind === 'graph');
      // The free sandbox is a graph of the visitor's own (the server names its playground's scenario 'sandbox').
      const create = scenario === 'sandbox' ? { graph: starterSandbox(), sandbox: true } : { scenario };
      this.info = found ?? ((await this.#options.request('POST', '/api/graphs', create)) as GraphPlaygroundInfo);
      this.#connect();
    } catch (error) {
      this.error = toErrorInfo(error);
      // No playground to connect to (refused: the visitor's limit, the server's): the light says closed, not
      // "connecting…" for ever, beside the refusal itself (GraphPage.svelte shows `error`).
      this.close();
    }
  }

  async run(): Promise<void> {
    await this.#act(async (id) => {
      await this.#options.request('POST', `/api/graphs/${encodeURIComponent(id)}/runs`);
    });
  }

  async stop(): Promise<void> {
    await this.#act(async (id) => {
      await this.#options.request('POST', `/api/graphs/${encodeURIComponent(id)}/runs/stop`);
    });
  }

  /**
   * Adds a SUB with these prefixes, connected to the publisher where it binds. While a run flows it joins the run
   * at once (the server connects a new socket); between runs it is there from the next run.
   */
  async addSubscriber(publisher: string, id: string, prefixes: string[]): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request('POST', `/api/graphs/${encodeURIComponent(playground)}/subscribers`, {
        id,
        publisher,
        subscribe: prefixes,
      })) as GraphPlaygroundInfo;
    });
  }

  /**
   * Adds a worker: a PULL connected to a PUSH where it binds. While a run flows it joins at once (the server connects
   * a new socket) and takes its round-robin share of the tasks sent from then on; between runs it is there from the
   * next run.
   */
  async addWorker(pusher: string, id: string): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request('POST', `/api/graphs/${encodeURIComponent(playground)}/workers`, {
        id,
        pusher,
      })) as GraphPlaygroundInfo;
    });
  }

  /**
   * Adds a node of any socket type linked to an existing node (the server's POST /api/graphs/:id/linked-nodes): it
   * connects where that node binds, or binds an endpoint of its own that node connects to. While a run flows it
   * joins at once (as its own process when asked); between runs it is there from the next run.
   */
  async addLinkedNode(request: LinkedNodeRequest): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'POST',
        `/api/graphs/${encodeURIComponent(playground)}/linked-nodes`,
        request,
      )) as GraphPlaygroundInfo;
    });
  }

  /** A subscriber's prefixes ('' is everything); while a run flows its socket changes them at once. */
  async setSubscriptions(node: string, prefixes: string[]): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'PUT',
        `/api/graphs/${encodeURIComponent(playground)}/nodes/${encodeURIComponent(node)}/subscriptions`,
        { subscribe: prefixes },
      )) as GraphPlaygroundInfo;
    });
  }

  /** Removes a node and its links; while a run flows a subscriber's socket closes, any other node dies as a kill does. */
  async removeNode(node: string): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'DELETE',
        `/api/graphs/${encodeURIComponent(playground)}/nodes/${encodeURIComponent(node)}`,
      )) as GraphPlaygroundInfo;
    });
  }

  /**
   * Kills, hangs or resumes a node's program while a run flows (the server's graph-signals.ts): its sockets close
   * at once, it stops reading and sending, or it goes on. The stream's node:process events say what happened.
   */
  async signalNode(node: string, signal: 'kill' | 'hang' | 'resume'): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'POST',
        `/api/graphs/${encodeURIComponent(playground)}/nodes/${encodeURIComponent(node)}/${signal}`,
      )) as GraphPlaygroundInfo;
    });
  }

  /**
   * A node's pace in ms: the interval between its messages (a sender, a requester) or its work time per message
   * (a receiver, a replier). While a run flows the node takes it from its next wait on; between runs it is kept
   * for the next run. The stream's node:paced event says it happened.
   */
  async setPace(node: string, ms: number): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'PUT',
        `/api/graphs/${encodeURIComponent(playground)}/nodes/${encodeURIComponent(node)}/pace`,
        { ms },
      )) as GraphPlaygroundInfo;
    });
  }

  /**
   * Moves a node's links to another transport while a run flows (the server's graph-move.ts): they bind, connect,
   * disconnect and unbind on the way; the stream's link:moved events say what moved and what was lost.
   */
  async moveNode(node: string, transport: 'tcp' | 'ipc' | 'inproc'): Promise<void> {
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        'POST',
        `/api/graphs/${encodeURIComponent(playground)}/nodes/${encodeURIComponent(node)}/move`,
        { transport },
      )) as GraphPlaygroundInfo;
    });
  }

  /**
   * One edit of the graph between runs (the free sandbox's): `path` is under the playground's (`/nodes`,
   * `/links/a/b`, ...; docs/api.md). The server checks the graph so changed as any graph and answers with the
   * playground as it is now; a refused edit leaves the graph as it was and says why in `error`.
   */
  async editGraph(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<boolean> {
    let accepted = false;
    await this.#act(async (playground) => {
      this.info = (await this.#options.request(
        method,
        `/api/graphs/${encodeURIComponent(playground)}${path}`,
        body,
      )) as GraphPlaygroundInfo;
      accepted = true;
    });
    return accepted;
  }

  /**
   * A recorded run instead of a live playground (graph-replay.svelte.ts): the graph it ran, no stream. The replay
   * then folds the run's events in with applyEvents, and rewinds before going back in time.
   */
  showRecording(info: GraphPlaygroundInfo): void {
    this.close();
    this.info = info;
    this.rewind();
  }

  /** Forgets everything of the run shown (state, counters, dots, marks): the start of a replay. */
  rewind(): void {
    this.#lastSeq = 0;
    this.runState = 'idle';
    this.endReason = null;
    this.summary = null;
    this.flights = [];
    this.drops = [];
    this.refusals = [];
    this.sampledOut = 0;
    this.lastBodies = {};
    this.nodeStates = {};
    this.repliesLost = {};
    this.lastEdit = null;
    this.processPids = {};
    this.counters = emptyGraphCounters();
  }

  /** Forgets dots and marks that have landed or faded (the diagram calls this from its frame loop). */
  prune(now = this.#now()): void {
    if (this.flights.length > 0 && now - this.flights[0]!.born > FLIGHT_MS)
      this.flights = this.flights.filter((f) => now - f.born <= FLIGHT_MS);
    if (this.drops.length > 0 && now - this.drops[0]!.born > DROP_MARK_MS)
      this.drops = this.drops.filter((d) => now - d.born <= DROP_MARK_MS);
  }

  /** What happened since the last call, oldest first. */
  takeNews(): Happening[] {
    return this.#news.splice(0);
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#socket?.close(1000);
    this.#socket = null;
    this.connection = 'closed';
  }

  async #act(action: (id: string) => Promise<void>): Promise<void> {
    const id = this.info?.id;
    if (!id) return;
    this.busy = true;
    this.error = null;
    try {
      await action(id);
    } catch (error) {
      this.error = toErrorInfo(error);
    } finally {
      this.busy = false;
    }
  }

  #connect(): void {
    const id = this.info?.id;
    if (!id || this.#closed) return;
    const socket = this.#options.createSocket(this.#options.streamUrl(id));
    this.#socket = socket;
    let isHelloSeen = false;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      if (this.#socket !== socket || isHelloSeen) return;
      // The attempt hangs (a server that accepted it and never answers): drop it and count it as failed.
      const onclose = socket.onclose;
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close(1000);
      onclose?.({ code: 1006 } as CloseEvent);
    }, CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      this.#failures = 0;
    };
    socket.onmessage = (event) => {
      let message: GraphServerMessage;
      try {
        message = JSON.parse(String(event.data)) as GraphServerMessage;
      } catch {
        return;
      }
      if (message.type === 'hello' && this.#socket === socket) {
        isHelloSeen = true;
        if (this.#connectTimer) clearTimeout(this.#connectTimer);
        this.#connectTimer = null;
      }
      this.#onMessage(socket, message);
    };
    socket.onclose = () => {
      if (this.#socket !== socket || this.#closed) return;
      this.#socket = null;
      this.connection = 'reconnecting';
      this.#retry = setTimeout(() => this.#connect(), backoffDelay(++this.#failures, Math.random()));
      // The stream keeps failing: is the playground's server still there (behind a proxy, it may have stopped)?
      if (this.#failures >= 2) void this.#checkServer(id);
    };
    socket.onerror = () => {};
  }

  /** Asks for the playground; the proxy's 503 for a stopped server ends the reconnecting and says so. */
  async #checkServer(id: string): Promise<void> {
    if (this.#isCheckingServer) return;
    this.#isCheckingServer = true;
    try {
      // Bounded: while it is unanswered no other check starts (a stopped server's request may hang, not fail).
      await withinCheckTime(this.#options.request('GET', `/api/graphs/${encodeURIComponent(id)}`));
    } catch (error) {
      if (!this.#closed && this.info?.id === id && isServerStopped(error)) {
        this.close();
        this.serverStopped = { playground: id };
        this.error = {
          code: 'PG_ERR_INSTANCE_DOWN',
          message: `${t('stopped.title')}. ${t('stopped.body', { id })} ${t('stopped.reload')}`,
        };
      }
    } finally {
      this.#isCheckingServer = false;
    }
  }

  #onMessage(socket: SocketLike, message: GraphServerMessage): void {
    switch (message.type) {
      case 'hello':
        this.info = message.graph;
        this.connection = 'connected';
        if (message.graph.lastSeq < this.#lastSeq) this.#lastSeq = 0; // the server lost our history: start over
        if (this.#lastSeq === 0)
          this.runState = message.graph.activeRun ? 'running' : message.graph.lastRun ? 'ended' : 'idle';
        if (this.#lastSeq === 0 && message.graph.lastRun?.summary) this.summary = message.graph.lastRun.summary;
        socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: this.#lastSeq }));
        return;
      case 'graph:updated':
        this.info = message.graph;
        return;
      case 'events':
        this.applyEvents(message.events, message.dropped, message.counters);
        return;
      case 'error':
        this.error = { code: message.code, message: message.message, ...(message.text ? { text: message.text } : {}) };
        return;
    }
  }

  /**
   * One events frame: what it shows is drawn (a dot per delivery, a mark per drop), what it counts replaces the
   * counters. Public for tests; the stream calls it.
   */
  applyEvents(events: PlaygroundEvent[], dropped: number, counters: GraphCounters): void {
    const now = this.#now();
    const flights: Flight[] = [];
    const drops: DropMark[] = [];
    const happened: Happening[] = [];
    // A plain record (not reactive): it only gathers this frame's bodies before one assignment below.
    const bodies: Record<string, string> = {};
    for (const event of events) {
      if (event.seq <= this.#lastSeq) continue; // a backlog after a reconnect repeats what we have
      this.#lastSeq = event.seq;
      switch (event.type) {
        case 'graph:started':
          this.runState = 'running';
          this.endReason = null;
          this.summary = null;
          this.refusals = [];
          this.sampledOut = 0;
          this.lastBodies = {};
          this.nodeStates = {};
          this.repliesLost = {};
          this.lastEdit = null;
          this.processPids = {};
          for (const node of Object.keys(bodies)) delete bodies[node];
          this.flights = [];
          this.drops = [];
          flights.length = 0;
          drops.length = 0;
          happened.push({ kind: 'started', run: event.run });
          break;
        case 'message:received':
          bodies[event.node] = event.body;
          if (event.from !== null)
            flights.push({ key: ++this.#key, from: event.from, to: event.node, body: event.body, born: now });
          happened.push({ kind: 'received', node: event.node, from: event.from, body: event.body });
          break;
        case 'message:dropped':
          drops.push({ key: ++this.#key, node: event.node, peer: event.peer, reason: event.reason, born: now });
          happened.push({ kind: 'dropped', node: event.node, peer: event.peer, reason: event.reason });
          break;
        case 'socket:refused':
          this.refusals = [
            ...this.refusals,
            { node: event.node, peer: event.peer, reason: event.reason, code: event.code, detail: event.detail },
          ];
          happened.push({ kind: 'refused', node: event.node, peer: event.peer, reason: event.reason });
          break;
        case 'node:process':
          if (event.pid !== undefined && this.processPids[event.node] !== event.pid)
            this.processPids = { ...this.processPids, [event.node]: event.pid };
          // `started` only says which nodes are processes: the node runs as any other.
          if (event.action === 'started') break;
          this.nodeStates = { ...this.nodeStates, [event.node]: event.action };
          happened.push({ kind: 'process', node: event.node, action: event.action });
          break;
        case 'node:stopped':
          if (event.reason !== 'reply-lost') break;
          this.repliesLost = { ...this.repliesLost, [event.node]: event.lostWith ?? null };
          happened.push({ kind: 'replyLost', node: event.node, killed: event.lostWith ?? null });
          break;
        case 'node:paced': {
          const edit: LiveEdit = { kind: 'paced', node: event.node, pace: event.pace, ms: event.ms };
          this.lastEdit = edit;
          happened.push(edit);
          break;
        }
        case 'link:moved': {
          const edit: LiveEdit = {
            kind: 'moved',
            node: event.node,
            from: event.from,
            to: event.to,
            transport: event.transport,
            previous: event.previousTransport,
            address: event.address,
            lost: event.lost,
          };
          this.lastEdit = edit;
          happened.push(edit);
          break;
        }
        case 'graph:ended':
          this.runState = 'ended';
          this.endReason = event.reason;
          this.summary = event.summary;
          happened.push({ kind: 'ended', run: event.run, reason: event.reason });
          break;
        default:
          break;
      }
    }
    this.sampledOut += dropped;
    if (Object.keys(bodies).length > 0) this.lastBodies = { ...this.lastBodies, ...bodies };
    // Exact, of the newest run the server started, whatever the frame sampled out.
    this.counters = counters;
    if (flights.length > 0) this.flights = [...this.flights, ...flights].slice(-MAX_FLIGHTS);
    if (drops.length > 0) this.drops = [...this.drops, ...drops].slice(-MAX_DROP_MARKS);
    if (happened.length > 0) {
      this.#news.push(...happened);
      if (this.#news.length > MAX_NEWS) this.#news.splice(0, this.#news.length - MAX_NEWS);
    }
  }
}
