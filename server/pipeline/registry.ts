/**
 * All playgrounds of one server: creation with a server-wide limit, lookup, idle clean-up and shutdown.
 */
import { english, text, type ServerText } from '../../shared/protocol/server-text.ts';
import type { RunParamsPatch, ScenarioInfo } from '../../shared/protocol/index.ts';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { IpcClaims, type EndpointPolicy } from './endpoints.ts';
import { Playground, PlaygroundError } from './playground.ts';

export class LimitError extends Error {
  readonly code = 'PG_ERR_LIMIT';
  readonly text: ServerText;

  constructor(reason: ServerText) {
    super(english(reason));
    this.text = reason;
  }
}

export interface RegistryOptions {
  policy: EndpointPolicy;
  /** Most playgrounds open at once on this server. */
  maxPlaygrounds?: number;
  /** A playground with no run and no watcher for this long is closed. */
  idleMs?: number;
  /** Most workers in one playground. */
  maxWorkers?: number;
  /** Requested addresses by endpoint name for every new playground (e.g. to move the tutorial's port). */
  endpointOverrides?: Readonly<Record<string, string>>;
  /** Called right after a playground is created, before anyone can start a run (the recorder subscribes here). */
  onCreate?: (playground: Playground) => void;
  /** Called after a playground has closed, its last run:ended already logged (the recorder flushes here). */
  onClosed?: (playground: Playground) => Promise<void> | void;
}

export const DEFAULT_MAX_PLAYGROUNDS = 50;
export const DEFAULT_IDLE_MS = 30 * 60_000;

export class PlaygroundRegistry {
  readonly #playgrounds = new Map<string, Playground>();
  /** ipc paths bound by any playground here: a second bind on a live path would silently steal its peers. */
  readonly #claimedIpcPaths = new IpcClaims();
  readonly #options: Required<Omit<RegistryOptions, 'endpointOverrides' | 'maxWorkers' | 'onCreate' | 'onClosed'>> &
    Pick<RegistryOptions, 'endpointOverrides' | 'maxWorkers' | 'onCreate' | 'onClosed'>;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: RegistryOptions) {
    this.#options = {
      maxPlaygrounds: DEFAULT_MAX_PLAYGROUNDS,
      idleMs: DEFAULT_IDLE_MS,
      ...options,
    };
    this.#sweeper = setInterval(() => void this.closeIdle(), Math.min(60_000, this.#options.idleMs));
    this.#sweeper.unref();
  }

  get policy(): EndpointPolicy {
    return this.#options.policy;
  }

  scenarios(): ScenarioInfo[] {
    return [...SCENARIOS.values()].map(({ id, title, description, defaults }) => ({ id, title, description, defaults }));
  }

  create(scenarioId = 'tutorial', params?: RunParamsPatch): Playground {
    const scenario = SCENARIOS.get(scenarioId);
    if (!scenario) {
      throw new PlaygroundError('PG_ERR_NOT_FOUND', text('scenario.unknown', { scenario: scenarioId.slice(0, 40), known: [...SCENARIOS.keys()].join(', ') }));
    }
    if (this.#playgrounds.size >= this.#options.maxPlaygrounds) {
      throw new LimitError(text('playground.serverFull', { max: this.#options.maxPlaygrounds }));
    }
    const playground = new Playground({
      scenario,
      params,
      policy: this.#options.policy,
      claimedIpcPaths: this.#claimedIpcPaths,
      endpointOverrides: this.#options.endpointOverrides,
      maxWorkers: this.#options.maxWorkers,
    });
    this.#playgrounds.set(playground.id, playground);
    this.#options.onCreate?.(playground);
    return playground;
  }

  get(id: string): Playground {
    const playground = this.#playgrounds.get(id);
    if (!playground) throw new PlaygroundError('PG_ERR_NOT_FOUND', text('playground.unknown', { playground: id.slice(0, 64) }));
    return playground;
  }

  list(): Playground[] {
    return [...this.#playgrounds.values()];
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
    await Promise.all(all.map(async (p) => {
      await p.close();
      await this.#options.onClosed?.(p);
    }));
  }
}
