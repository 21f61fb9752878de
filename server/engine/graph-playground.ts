/**
 * A playground of the graph kind: a graph (a series scenario or the visitor's own), its runs one at a time, the
 * event log every run writes into (seq stamped by the same RunLog as a pipeline playground's), and who may do
 * what (the pipeline's PlaygroundAccess, unchanged). GraphRegistry keeps them within the server's limits. Knows
 * zeromq through GraphRun, never Fastify.
 *
 * Live topology: any node can be removed from a running graph, a node of any type added with one link to a node
 * of it (a REP to a running REQ, a PULL worker to a PUSH, a subscriber to a PUB: addNode), a subscriber change its
 * prefixes (graph-live.ts), any node slowed or sped up (graph-pace.ts) or moved to another transport (graph-move.ts); what
 * each edit makes of the graph is graph-edits.ts. The other changes replace the graph between runs. Every run is
 * recorded as the pipeline's are (server/app.ts gives each playground a Recorder through the registry's onCreate:
 * it fits Recordable). One visitor's playgrounds of both kinds count against one per-visitor limit: at the limit,
 * its least recently used idle one (no run, no page watching), of either kind, is closed to make room
 * (makeRoomAmong in server/pipeline/registry.ts); only when each is in use is a new one refused.
 */
import { randomInt } from 'node:crypto';
import * as zmq from 'zeromq';
import { RunLog } from '../recorder/run-log.ts';
import { text } from '../../shared/protocol/server-text.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent, Transport } from '../../shared/protocol/index.ts';
import { checkGraph, type GraphScenario } from '../../shared/scenarios/graph.ts';
import { SERIES_SCENARIOS } from '../../shared/scenarios/series.ts';
import { ZGUIDE_SCENARIOS } from '../../shared/scenarios/zguide.ts';
import { pipelineGraph } from '../../shared/scenarios/pipeline-graph.ts';
import { PlaygroundAccess, allows, type Role } from '../pipeline/access.ts';
import { IpcClaims, type EndpointPolicy } from '../pipeline/endpoints.ts';
import { makeRoomAmong, type OwnedPlayground } from '../pipeline/registry.ts';
import { CodedError } from '../errors.ts';
import { GraphError, GraphRun } from './graph-run.ts';
import { idOnInstance } from '../instance.ts';
import { graphRunBytes } from './graph-budget.ts';
import { processProblems, processPrograms } from './graph-process.ts';
import {
  withLinkedNode,
  withLinksMoved,
  withPace,
  withSubscriber,
  withSubscriptions,
  withWorker,
  withoutNode,
} from './graph-edits.ts';
import type { LinkedNodeRequest } from '../../shared/scenarios/linked-node.ts';
import {
  addGraphEvent,
  emptyGraphCounters,
  type GraphCounters,
  type GraphPlaygroundInfo,
} from '../../shared/protocol/graph-stream.ts';

/**
 * Graph scenarios the server offers, by id: the series' parts, the zguide's patterns, then the pipeline page's
 * sandbox as a graph.
 */
export const GRAPH_SCENARIOS: ReadonlyMap<string, GraphScenario> = new Map(
  [...SERIES_SCENARIOS, ...ZGUIDE_SCENARIOS, pipelineGraph].map((scenario) => [scenario.id, scenario]),
);

/** A graph that cannot run, said in a text a page can translate ([H2]). */
function graphRefusal(problems: readonly { where: string; problem: string }[]): CodedError {
  return new CodedError(
    'PG_ERR_VALIDATION',
    text('graph.invalid', { problems: problems.map((p) => `${p.where}: ${p.problem}`).join('; ') }),
  );
}

export type { GraphPlaygroundInfo };

export interface GraphPlaygroundOptions {
  owner: string | null;
  policy: EndpointPolicy;
  claims: IpcClaims;
  scenario: string;
  graph: GraphSpec;
  notes?: string[];
  allowIncompatible?: boolean;
  maxNodes: number;
  /** Bytes of messages one run may send, publishers' copies included (graph-budget.ts); none: no cap. */
  maxRunBytes?: number;
  /** This server's instance name behind a proxy (server/instance.ts): the prefix of the id. */
  instance?: string | null;
  /**
   * Process nodes (graph-process.ts), counted as the pipeline's process workers are: programs run as processes in
   * one graph, and on the whole server at once (with the process workers and every other graph's running ones).
   */
  processCaps?: ProcessCaps;
}

export interface ProcessCaps {
  perPlayground: number;
  server: number;
  /** Processes running now elsewhere on the server (pipeline process workers, other graphs' runs). */
  runningElsewhere: (self: GraphPlayground) => number;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `length` characters drawn uniformly from [A-Za-z0-9] (20 of them: about 119 bits). Every id has the same
 * length: stripping '-' and '_' from base64url, as this once did, left 19 or fewer characters about 3 % of the time.
 */
export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

export class GraphPlayground {
  readonly id: string;
  readonly log = new RunLog();
  readonly access: PlaygroundAccess;
  lastActivity = Date.now();
  readonly #options: GraphPlaygroundOptions;
  #graph: GraphSpec;
  #active: GraphRun | null = null;
  #last: { id: string; summary: GraphSummary | null } | null = null;
  #runs = 0;
  #closed = false;
  /** Exact counts of the current (or last) run, kept from every event: the stream samples, these never do. */
  readonly #counters: GraphCounters = emptyGraphCounters();
  /** Told when what info() says changes (a run starts or ends, the graph is replaced): the live streams. */
  readonly #infoListeners = new Set<(info: GraphPlaygroundInfo) => void>();

  constructor(options: GraphPlaygroundOptions) {
    // Behind a proxy the id names this server's instance ("a.gr-..."; server/instance.ts).
    this.id = idOnInstance(options.instance, `gr-${randomAlphanumeric(20)}`);
    this.#options = options;
    this.access = new PlaygroundAccess(options.owner);
    this.#graph = GraphPlayground.#checked(options.graph, options);
    options.claims.register(this.id);
  }

  static #checked(
    graph: GraphSpec,
    options: Pick<GraphPlaygroundOptions, 'allowIncompatible' | 'maxNodes' | 'maxRunBytes' | 'processCaps'>,
  ): GraphSpec {
    if (graph.nodes.length > options.maxNodes) {
      throw new CodedError(
        'PG_ERR_LIMIT',
        text('graph.nodeLimit', { max: options.maxNodes, nodes: graph.nodes.length }),
      );
    }
    // What its queues could hold (a slow or hung subscriber, HWMs of 0 or 1,000,000), as the pipeline's payload cap.
    const bytes = options.maxRunBytes === undefined ? 0 : graphRunBytes(graph);
    if (options.maxRunBytes !== undefined && bytes > options.maxRunBytes) {
      const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
      throw new CodedError(
        'PG_ERR_LIMIT',
        text('limit.graphRunBytes', { mib: mib(bytes), max: mib(options.maxRunBytes) }),
      );
    }
    const programs = processPrograms(graph).length;
    if (options.processCaps && programs > options.processCaps.perPlayground) {
      throw new CodedError(
        'PG_ERR_LIMIT',
        text('limit.graphProcesses', { max: options.processCaps.perPlayground, count: programs }),
      );
    }
    // inproc cannot cross a process: refused here, before any run, with the reason (graph-process.ts).
    const problems = [
      ...checkGraph(graph, { allowIncompatible: options.allowIncompatible }),
      ...processProblems(graph),
    ];
    if (problems.length > 0) throw graphRefusal(problems);
    return graph;
  }

  /** Node processes its run has now (one per process program), 0 between runs: the server-wide count's share. */
  get runningProcesses(): number {
    const run = this.#active;
    return run && !run.ended ? processPrograms(this.#graph).length : 0;
  }

  get owner(): string | null {
    return this.access.owner;
  }

  /** What the recorder names its runs after (server/recorder/recorder.ts Recordable). */
  get scenario(): { id: string; title: string } {
    return { id: this.#options.scenario, title: this.#graph.title };
  }

  get activeRun(): GraphRun | null {
    return this.#active;
  }

  /** The current run's exact counts (the same object, updated in place: copy it to keep a moment). */
  counters(): GraphCounters {
    return this.#counters;
  }

  onInfoChanged(listener: (info: GraphPlaygroundInfo) => void): () => void {
    this.#infoListeners.add(listener);
    return () => this.#infoListeners.delete(listener);
  }

  /** Whether a live stream watches it now (each stream listens for info changes: server/http/graph-stream.ts). */
  get watched(): boolean {
    return this.#infoListeners.size > 0;
  }

  /** In use: a run going (or closing) or a page watching it. An idle one may be closed to make room for another. */
  get inUse(): boolean {
    return this.#active !== null || this.watched;
  }

  #infoChanged(): void {
    if (this.#infoListeners.size === 0) return;
    const info = this.info();
    for (const listener of this.#infoListeners) listener(info);
  }

  info(): GraphPlaygroundInfo {
    return {
      id: this.id,
      kind: 'graph',
      scenario: this.#options.scenario,
      title: this.#graph.title,
      graph: this.#graph,
      notes: this.#options.notes ?? [],
      allowIncompatible: this.#options.allowIncompatible ?? false,
      activeRun: this.#active?.id ?? null,
      lastRun: this.#last,
      lastSeq: this.log.lastSeq,
      capabilities: Object.fromEntries(Object.entries(zmq.capability).map(([name, has]) => [name, has === true])),
    };
  }

  /** Replaces the graph between runs (the free sandbox edits it whole). */
  setGraph(graph: GraphSpec): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.stillRunning', { run: this.#active.id }));
    this.#graph = GraphPlayground.#checked(graph, this.#options);
    this.#infoChanged();
    return this.info();
  }

  /** The run in progress, unless it is already closing (then a change waits for the next run). */
  get #liveRun(): GraphRun | null {
    return this.#active && !this.#active.ended ? this.#active : null;
  }

  /**
   * Adds a subscriber: a SUB with these prefixes ('' is everything), connected to `publisher` where it binds.
   * During a run it joins the run at once, its socket connected while messages flow (graph-live.ts); between runs
   * it is there from the next run. Either way the graph keeps it.
   */
  addSubscriber(request: { id: string; publisher: string; subscribe: string[] }): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    const added = withSubscriber(this.#graph, request);
    const next = GraphPlayground.#checked(added.graph, this.#options);
    this.#liveRun?.addSubscriber(added.node, added.publisher);
    return this.#replaced(next);
  }

  /**
   * Adds a worker: a PULL connected to `pusher` (a PUSH) where it binds. During a run it joins at once and gets its
   * share of the tasks dealt from then on (graph-live.ts); between runs it is there from the next run.
   */
  addWorker(request: { id: string; pusher: string }): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    const added = withWorker(this.#graph, request);
    const next = GraphPlayground.#checked(added.graph, this.#options);
    this.#liveRun?.addWorker(added.node, added.pusher);
    return this.#replaced(next);
  }

  /**
   * Adds a node of any socket type with one link to a node the graph has (graph-edits.ts withLinkedNode: a pair
   * ZeroMQ accepts, a PAIR's one peer; it connects where that node binds, or binds an endpoint its peer connects
   * to). During a run it joins at once (graph-live.ts addLinkedNode), as its own process when asked (the process
   * caps as at a run's start); between runs it is there from the next run. Either way the graph keeps it.
   */
  async addNode(request: LinkedNodeRequest): Promise<GraphPlaygroundInfo> {
    this.lastActivity = Date.now();
    const added = withLinkedNode(this.#graph, request);
    GraphPlayground.#checked(added.graph, this.#options);
    const run = this.#liveRun;
    const caps = this.#options.processCaps;
    if (run && caps && added.node.process) {
      const running = caps.runningElsewhere(this) + processPrograms(this.#graph).length;
      if (running + 1 > caps.server)
        throw new CodedError(
          'PG_ERR_LIMIT',
          text('limit.serverGraphProcesses', { max: caps.server, running, wanted: 1 }),
        );
    }
    if (!run) return this.#replaced(added.graph);
    const wired = run.addNode(added.node, added.link);
    // The graph keeps it from now on (the run has it), whatever came meanwhile; a bind refused takes it out again.
    this.#replaced({
      ...this.#graph,
      nodes: [...this.#graph.nodes, added.node],
      links: [...this.#graph.links, added.link],
    });
    try {
      await wired;
    } catch (error) {
      this.#replaced({
        ...this.#graph,
        nodes: this.#graph.nodes.filter((node) => node !== added.node),
        links: this.#graph.links.filter((link) => link !== added.link),
      });
      if (error instanceof GraphError) throw graphRefusal(error.problems);
      throw error;
    }
    return this.info();
  }

  /** A subscriber's prefixes ('' is everything); during a run they change on its live socket at once. */
  setSubscriptions(id: string, subscribe: string[]): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    const next = GraphPlayground.#checked(withSubscriptions(this.#graph, id, subscribe), this.#options);
    this.#liveRun?.setSubscriptions(id, subscribe);
    return this.#replaced(next);
  }

  /**
   * Removes a node and its links, any node the rest of the graph does not need. During a run it goes at once
   * (graph-live.ts): a subscriber's socket closes, any other node's program dies as a kill does (what it held and
   * what only it could take are lost with it); the graph keeps it removed for the next runs.
   */
  removeNode(id: string): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    const next = GraphPlayground.#checked(withoutNode(this.#graph, id), this.#options);
    this.#liveRun?.removeNode(id);
    return this.#replaced(next);
  }

  /**
   * A node's pace: the interval between its messages (a sender, a requester) or its work time per message (a
   * receiver, a replier). During a run its loop takes it from its next wait on (graph-pace.ts); between runs it is
   * there from the next run. Either way the graph keeps it.
   */
  setPace(id: string, ms: number): GraphPlaygroundInfo {
    this.lastActivity = Date.now();
    const next = GraphPlayground.#checked(withPace(this.#graph, id, ms), this.#options);
    this.#liveRun?.setPace(id, ms);
    return this.#replaced(next);
  }

  /**
   * Moves a node's links (or its link to `peer`) to another transport while a run flows (graph-move.ts): the
   * sockets bind, connect, disconnect and unbind on the way; the graph keeps the new transport for the next runs.
   * Only during a run (between runs, edit the link): PG_ERR_NO_RUN otherwise.
   */
  async moveNode(id: string, transport: Transport, peer?: string): Promise<GraphPlaygroundInfo> {
    this.lastActivity = Date.now();
    const run = this.#liveRun;
    if (!run) throw new CodedError('PG_ERR_NO_RUN', text('graph.moveNoRun'));
    GraphPlayground.#checked(withLinksMoved(this.#graph, id, transport, peer), this.#options);
    await run.moveNode(id, transport, peer);
    // Made from the graph as it is now: another edit may have come while the sockets moved (a subscriber added,
    // a pace changed), which the graph as it was before the move would undo.
    return this.#replaced(withLinksMoved(this.#graph, id, transport, peer));
  }

  /** Keeps a changed graph and tells the live streams. */
  #replaced(next: GraphSpec): GraphPlaygroundInfo {
    this.#graph = next;
    this.#infoChanged();
    return this.info();
  }

  /** Starts a run: binds, connects, starts every role. Resolves with its id once every endpoint is bound. */
  async startRun(): Promise<{ run: string }> {
    this.lastActivity = Date.now();
    if (this.#closed) throw new CodedError('PG_ERR_NOT_FOUND', text('playground.closed'));
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.stillRunning', { run: this.#active.id }));
    const caps = this.#options.processCaps;
    const wanted = processPrograms(this.#graph).length;
    if (caps && wanted > 0) {
      const running = caps.runningElsewhere(this);
      if (running + wanted > caps.server)
        throw new CodedError('PG_ERR_LIMIT', text('limit.serverGraphProcesses', { max: caps.server, running, wanted }));
    }
    const runId = `${this.id}-r${++this.#runs}`;
    let run: GraphRun;
    try {
      run = new GraphRun({
        runId,
        scenario: this.#options.scenario,
        graph: this.#graph,
        policy: this.#options.policy,
        claims: this.#options.claims,
        owner: this.id,
        allowIncompatible: this.#options.allowIncompatible,
        emit: (event: PlaygroundEvent) => {
          addGraphEvent(this.#counters, event);
          this.log.append(event);
        },
      });
    } catch (error) {
      if (error instanceof GraphError) throw graphRefusal(error.problems);
      throw error;
    }
    this.#active = run;
    this.#last = { id: runId, summary: null };
    void run.done.then((summary) => {
      if (this.#last?.id === runId) this.#last = { id: runId, summary };
      if (this.#active === run) this.#active = null;
      this.lastActivity = Date.now();
      this.#infoChanged();
    });
    try {
      await run.start();
    } catch (error) {
      if (error instanceof GraphError) throw graphRefusal(error.problems);
      throw error;
    }
    this.#infoChanged();
    return { run: runId };
  }

  /** Stops the run in progress; resolves with its summary. */
  async stopRun(): Promise<GraphSummary> {
    this.lastActivity = Date.now();
    const run = this.#active;
    if (!run) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
    return await run.stop();
  }

  /** Events of this playground after `sinceSeq` still in the log's backlog, at most `limit`. */
  events(sinceSeq: number, limit: number): { events: PlaygroundEvent[]; lastSeq: number; more: boolean } {
    this.lastActivity = Date.now();
    const all = this.log.since(sinceSeq);
    return { events: all.slice(0, limit), lastSeq: this.log.lastSeq, more: all.length > limit };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#active) await this.#active.stop();
    this.#options.claims.forget(this.id);
  }
}

export interface GraphRegistryOptions {
  policy: EndpointPolicy;
  /** Server-wide: every playground open, of any kind. */
  maxPlaygrounds: number;
  maxPlaygroundsPerVisitor: number;
  /** Nodes per graph (the pipeline's workers per playground). */
  maxNodes: number;
  /** Bytes of messages one run may send (the pipeline's run payload cap; graph-budget.ts). */
  maxRunBytes?: number;
  idleMs?: number;
  /**
   * Playgrounds of the other kinds open now: how many in all, and those `visitor` owns (the caps count every kind,
   * and an idle one of them may be closed to make room, as an idle graph playground may).
   */
  othersOpen?: (visitor: string | null) => { total: number; owned: readonly OwnedPlayground[] };
  /** A playground was created (the app starts recording it). */
  onCreate?: (playground: GraphPlayground) => void;
  /** A playground closed, its last run ended (the app's recorder stores what is left and lets it go). */
  onClosed?: (playground: GraphPlayground) => Promise<void> | void;
  /** This server's instance name behind a proxy (server/instance.ts): the prefix of every id. */
  instance?: string | null;
  /** Process nodes: per graph, on the whole server, and the pipeline's process workers running now. */
  processes?: { perPlayground: number; server: number; pipelineRunning: () => number };
}

export class GraphRegistry {
  readonly #playgrounds = new Map<string, GraphPlayground>();
  /** ipc paths graph runs bind: each playground's own names (`<id>-…`) only, claimed and released here. */
  readonly #claims = new IpcClaims();
  readonly #options: GraphRegistryOptions;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: GraphRegistryOptions) {
    this.#options = options;
    const idleMs = options.idleMs ?? 30 * 60_000;
    this.#sweeper = setInterval(() => void this.closeIdle(idleMs), Math.min(60_000, idleMs));
    this.#sweeper.unref();
  }

  scenarios(): GraphScenario[] {
    return [...GRAPH_SCENARIOS.values()];
  }

  /** A new graph playground of `owner`: a scenario of the server's, or a graph of its own. */
  create(
    owner: string | null,
    request: { scenario?: string; graph?: GraphSpec; allowIncompatible?: boolean },
  ): GraphPlayground {
    const scenario = request.graph ? undefined : GRAPH_SCENARIOS.get(request.scenario ?? 'series-1');
    if (!request.graph && !scenario) {
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('scenario.unknown', {
          scenario: (request.scenario ?? '').slice(0, 40),
          known: [...GRAPH_SCENARIOS.keys()].join(', '),
        }),
      );
    }
    const others = this.#options.othersOpen?.(owner) ?? { total: 0, owned: [] };
    if (this.#playgrounds.size + others.total >= this.#options.maxPlaygrounds) {
      throw new CodedError('PG_ERR_LIMIT', text('playground.serverFull', { max: this.#options.maxPlaygrounds }));
    }
    // As the pipeline's registry: at the visitor's limit its least recently used idle playground (of either kind)
    // is closed, its recorded runs kept; refused only when every one is running or watched.
    if (owner !== null)
      makeRoomAmong([...this.ownedBy(owner), ...others.owned], this.#options.maxPlaygroundsPerVisitor);
    const playground = new GraphPlayground({
      owner,
      policy: this.#options.policy,
      claims: this.#claims,
      scenario: scenario?.id ?? 'sandbox',
      graph: request.graph ?? scenario!.graph,
      notes: scenario?.notes,
      allowIncompatible: request.allowIncompatible,
      maxNodes: this.#options.maxNodes,
      maxRunBytes: this.#options.maxRunBytes,
      instance: this.#options.instance,
      processCaps: this.#processCaps(),
    });
    this.#playgrounds.set(playground.id, playground);
    this.#options.onCreate?.(playground);
    return playground;
  }

  list(): GraphPlayground[] {
    return [...this.#playgrounds.values()];
  }

  /** Node processes the graph runs have now, on this server (the pipeline's registry counts them too). */
  runningProcesses(except?: GraphPlayground): number {
    return this.list().reduce((sum, p) => (p === except ? sum : sum + p.runningProcesses), 0);
  }

  #processCaps(): ProcessCaps | undefined {
    const caps = this.#options.processes;
    if (!caps) return undefined;
    return {
      perPlayground: caps.perPlayground,
      server: caps.server,
      runningElsewhere: (self) => this.runningProcesses(self) + caps.pipelineRunning(),
    };
  }

  /** As the pipeline's registry: no role is "no such playground", a lesser role is PG_ERR_FORBIDDEN. */
  forVisitor(id: string, visitor: string | null, needed: Role): GraphPlayground {
    const playground = this.#playgrounds.get(id);
    const role = playground?.access.roleOf(visitor) ?? null;
    if (!playground || role === null)
      throw new CodedError('PG_ERR_NOT_FOUND', text('playground.unknown', { playground: id.slice(0, 64) }));
    if (!allows(role, needed))
      throw new CodedError(
        'PG_ERR_FORBIDDEN',
        text('access.forbidden', { role: text(`role.${role}`), needed: text(`role.${needed}`) }),
      );
    return playground;
  }

  listFor(visitor: string | null): GraphPlayground[] {
    return this.list().filter((playground) => playground.access.roleOf(visitor) !== null);
  }

  /** The graph playgrounds `owner` created and still has open, as making room sees them (the pipeline's too). */
  ownedBy(owner: string): OwnedPlayground[] {
    return this.list()
      .filter((p) => p.owner === owner)
      .map((p) => ({ lastActivity: p.lastActivity, inUse: p.inUse, close: () => this.remove(p.id) }));
  }

  async remove(id: string): Promise<void> {
    const playground = this.#playgrounds.get(id);
    if (!playground) return;
    this.#playgrounds.delete(id);
    await playground.close();
    await this.#options.onClosed?.(playground);
  }

  /**
   * Closes playgrounds nobody used for idleMs. One with a run still going too, when no stream watches it: a graph
   * run may never end by itself (a hung node holds its end until resumed; servers wait for peers of the learner's),
   * and would otherwise hold its sockets and a place under the server's cap for good, as a visitor who left.
   */
  async closeIdle(idleMs: number, now = Date.now()): Promise<void> {
    const idle = this.list().filter((p) => (!p.activeRun || !p.watched) && now - p.lastActivity >= idleMs);
    await Promise.all(idle.map((p) => this.remove(p.id)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = this.list();
    this.#playgrounds.clear();
    await Promise.all(
      all.map(async (p) => {
        await p.close();
        await this.#options.onClosed?.(p);
      }),
    );
  }
}
