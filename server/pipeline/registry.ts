/**
 * All playgrounds of one server: creation with a server-wide limit, lookup, idle clean-up and shutdown.
 */
import { text } from '../../shared/protocol/server-text.ts';
import type { RunParamsPatch, ScenarioInfo } from '../../shared/protocol/index.ts';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { IpcClaims, type EndpointPolicy } from './endpoints.ts';
import { Playground, newId } from './playground.ts';
import { idOnInstance } from '../instance.ts';
import { allows, type Role } from './access.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { CodedError } from '../errors.ts';

export interface RegistryOptions {
  policy: EndpointPolicy;
  /** Most playgrounds open at once on this server. */
  maxPlaygrounds?: number;
  /** A playground with no run and no watcher for this long is closed. */
  idleMs?: number;
  /** Most workers in one playground. */
  maxWorkers?: number;
  /** Most playgrounds one visitor may have created and still open. */
  maxPlaygroundsPerVisitor?: number;
  /** Most process workers in one playground, on the server at once, and tasks x payload bytes of one batch. */
  maxProcessWorkers?: number;
  maxServerProcessWorkers?: number;
  maxRunPayloadBytes?: number;
  /** Processes running now outside this registry (graph runs' process nodes): counted in the server-wide cap. */
  otherProcesses?: () => number;
  /** This server's instance name behind a proxy (server/instance.ts): the prefix of every playground id. */
  instance?: string | null;
  /** Requested addresses by endpoint name for every new playground (e.g. to move the tutorial's port). */
  endpointOverrides?: Readonly<Record<string, string>>;
  /** Called right after a playground is created, before anyone can start a run (the recorder subscribes here). */
  onCreate?: (playground: Playground) => void;
  /** Called after a playground has closed, its last run:ended already logged (the recorder flushes here). */
  onClosed?: (playground: Playground) => Promise<void> | void;
  /**
   * The visitor's playgrounds of the other kinds (graph playgrounds): they count against the same per-visitor
   * limit, and an idle one of them may be closed to make room as an idle one of these may.
   */
  otherOwned?: (owner: string) => readonly OwnedPlayground[];
}

/**
 * A visitor's playground of any kind as making room for a new one sees it: when it was last used, whether it is in
 * use (a run, or a page watching it), and how to close it (its recorded runs stay: the recorder flushes on close).
 */
export interface OwnedPlayground {
  lastActivity: number;
  inUse: boolean;
  close: () => Promise<void>;
}

/**
 * Room for one more playground among `own` (every kind) under `max`: the least recently used ones nobody uses are
 * closed (the pages open a fresh playground for each scenario or part they switch to and leave the old one idle);
 * when every one of them is in use, the new one is refused with a text that says so.
 */
export function makeRoomAmong(own: readonly OwnedPlayground[], max: number): void {
  if (own.length < max) return;
  const idle = own.filter((p) => !p.inUse).sort((a, b) => a.lastActivity - b.lastActivity);
  const evict = idle.slice(0, own.length - max + 1);
  if (own.length - evict.length >= max) {
    throw new CodedError('PG_ERR_LIMIT', text('limit.playgroundsPerVisitor', { max }));
  }
  // Each leaves the lists at once; its sockets close in the background.
  for (const playground of evict) void playground.close().catch(() => {});
}

export const DEFAULT_MAX_PLAYGROUNDS = DEFAULT_LIMITS.playgrounds;
export const DEFAULT_IDLE_MS = 30 * 60_000;

export class PlaygroundRegistry {
  readonly #playgrounds = new Map<string, Playground>();
  /** ipc paths bound by any playground here: a second bind on a live path would silently steal its peers. */
  readonly #claimedIpcPaths = new IpcClaims();
  readonly #options: Required<
    Omit<
      RegistryOptions,
      'endpointOverrides' | 'maxWorkers' | 'onCreate' | 'onClosed' | 'instance' | 'otherProcesses' | 'otherOwned'
    >
  > &
    Pick<
      RegistryOptions,
      'endpointOverrides' | 'maxWorkers' | 'onCreate' | 'onClosed' | 'instance' | 'otherProcesses' | 'otherOwned'
    >;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: RegistryOptions) {
    this.#options = {
      maxPlaygrounds: DEFAULT_MAX_PLAYGROUNDS,
      idleMs: DEFAULT_IDLE_MS,
      maxPlaygroundsPerVisitor: DEFAULT_LIMITS.playgroundsPerVisitor,
      maxProcessWorkers: DEFAULT_LIMITS.processWorkersPerPlayground,
      maxServerProcessWorkers: DEFAULT_LIMITS.processWorkers,
      maxRunPayloadBytes: DEFAULT_LIMITS.runPayloadBytes,
      ...options,
    };
    this.#sweeper = setInterval(() => void this.closeIdle(), Math.min(60_000, this.#options.idleMs));
    this.#sweeper.unref();
  }

  get policy(): EndpointPolicy {
    return this.#options.policy;
  }

  /** Most playgrounds open at once here (the health figure's denominator). */
  get maxPlaygrounds(): number {
    return this.#options.maxPlaygrounds;
  }

  scenarios(): ScenarioInfo[] {
    return [...SCENARIOS.values()].map(({ id, title, description, defaults }) => ({
      id,
      title,
      description,
      defaults,
    }));
  }

  /** A new playground of `owner` (a visitor id, see access.ts; none for headless use). */
  create(scenarioId = 'tutorial', params?: RunParamsPatch, owner: string | null = null): Playground {
    const scenario = SCENARIOS.get(scenarioId);
    if (!scenario) {
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('scenario.unknown', { scenario: scenarioId.slice(0, 40), known: [...SCENARIOS.keys()].join(', ') }),
      );
    }
    if (this.#playgrounds.size >= this.#options.maxPlaygrounds) {
      throw new CodedError('PG_ERR_LIMIT', text('playground.serverFull', { max: this.#options.maxPlaygrounds }));
    }
    if (owner !== null) this.#makeRoomFor(owner);
    const playground: Playground = new Playground({
      id: idOnInstance(this.#options.instance, newId('pg')),
      scenario,
      params,
      policy: this.#options.policy,
      claimedIpcPaths: this.#claimedIpcPaths,
      endpointOverrides: this.#options.endpointOverrides,
      maxWorkers: this.#options.maxWorkers,
      owner,
      caps: {
        maxProcessWorkers: this.#options.maxProcessWorkers,
        maxServerProcessWorkers: this.#options.maxServerProcessWorkers,
        maxRunPayloadBytes: this.#options.maxRunPayloadBytes,
        processWorkersElsewhere: (): number =>
          this.list().reduce((sum, p) => (p === playground ? sum : sum + p.runningProcessWorkers), 0) +
          (this.#options.otherProcesses?.() ?? 0),
      },
    });
    this.#playgrounds.set(playground.id, playground);
    this.#options.onCreate?.(playground);
    return playground;
  }

  /**
   * A visitor at its limit of playgrounds (of every kind) gets room by closing its own least recently used ones that
   * nobody watches and that have no run (makeRoomAmong); when each of them is in use, the new one is refused.
   */
  #makeRoomFor(owner: string): void {
    makeRoomAmong(
      [...this.ownedBy(owner), ...(this.#options.otherOwned?.(owner) ?? [])],
      this.#options.maxPlaygroundsPerVisitor,
    );
  }

  /** The playgrounds `owner` created and still has open, as making room sees them (the other kinds' too). */
  ownedBy(owner: string): OwnedPlayground[] {
    return this.list()
      .filter((p) => p.owner === owner)
      .map((p) => ({
        lastActivity: p.lastActivity,
        inUse: Boolean(p.activeRun) || p.watcherCount > 0,
        // Gone from the list at once (remove() deletes it before it awaits the sockets' close).
        close: () => (this.#playgrounds.has(p.id) ? this.remove(p.id) : Promise.resolve()),
      }));
  }

  get(id: string): Playground {
    const playground = this.#playgrounds.get(id);
    if (!playground) throw this.#unknown(id);
    return playground;
  }

  list(): Playground[] {
    return [...this.#playgrounds.values()];
  }

  /**
   * The playground `id` if `visitor` has at least the role `needed` in it. A visitor with no role at all is told
   * the playground does not exist (PG_ERR_NOT_FOUND, as for an unknown id: ids are not revealed); one with a
   * lesser role gets PG_ERR_FORBIDDEN.
   */
  forVisitor(id: string, visitor: string | null, needed: Role): Playground {
    const playground = this.#playgrounds.get(id);
    const role = playground?.access.roleOf(visitor) ?? null;
    if (!playground || role === null) throw this.#unknown(id);
    if (!allows(role, needed))
      throw new CodedError(
        'PG_ERR_FORBIDDEN',
        text('access.forbidden', { role: text(`role.${role}`), needed: text(`role.${needed}`) }),
      );
    return playground;
  }

  /** The playgrounds `visitor` has any role in (owned first, then joined), oldest first. */
  listFor(visitor: string | null): Playground[] {
    const mine = this.list().filter((playground) => playground.access.roleOf(visitor) !== null);
    return [...mine.filter((p) => p.owner === visitor), ...mine.filter((p) => p.owner !== visitor)];
  }

  /** Ids of the live playgrounds `visitor` may at least watch (their recorded runs are readable to it too). */
  watchableIds(visitor: string | null): string[] {
    return this.listFor(visitor).map((playground) => playground.id);
  }

  #unknown(id: string): CodedError {
    return new CodedError('PG_ERR_NOT_FOUND', text('playground.unknown', { playground: id.slice(0, 64) }));
  }

  async remove(id: string): Promise<void> {
    const playground = this.get(id);
    this.#playgrounds.delete(id);
    await playground.close();
    await this.#options.onClosed?.(playground);
  }

  /** Closes playgrounds that have had no run and nobody watching for idleMs. */
  async closeIdle(now = Date.now()): Promise<number> {
    const idle = this.list().filter(
      (p) => !p.activeRun && p.watcherCount === 0 && now - p.lastActivity >= this.#options.idleMs,
    );
    await Promise.all(idle.map((p) => this.remove(p.id)));
    return idle.length;
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
