/**
 * The endpoints of one run's ventilator: where each will be bound, binding them one at a time on the one PUSH
 * socket (as the tutorial binds tcp and then ipc), and the addresses workers connect to.
 *
 * - ipc paths and inproc names are decided before anything binds, because a worker may connect to them long
 *   before the ventilator binds (the tutorial's ipc client does); a tcp port is only known once bound.
 * - A configured ipc path that another playground claimed, another program listens on, or that is not a socket,
 *   is never bound over: a path in the runtime folder is used instead, and the endpoint's note says why.
 * - Every ipc path the run binds, the sink's and the fallbacks included, is claimed first (IpcClaims): probed,
 *   held against every other playground, and removed at the end only if it is still the socket this run bound.
 * - A taken tcp port falls back to a free one, with a note.
 */
import { randomBytes } from 'node:crypto';
import { text, english, type EndpointInfo, type ServerText, type Transport } from '../../shared/protocol/index.ts';
import { checkEndpoint, ensureRuntimeDir, type EndpointPolicy, type IpcClaims, type IpcRefusal } from './endpoints.ts';
import type { Ventilator } from './sockets.ts';
import { CodedError } from '../errors.ts';

/** Attempts at a fresh path of the playground's own (`<id>-<node>.ipc`, then with a random suffix) before failing. */
const OWN_PATH_ATTEMPTS = 4;

export interface VentilatorEndpointsOptions {
  policy: EndpointPolicy;
  /** The server-wide ipc claims (shared between runs and playgrounds). */
  claimedIpcPaths: IpcClaims;
  playgroundId: string;
  /** The run's ventilator, once created. */
  ventilator: () => Ventilator | null;
  /** After each bind: the endpoint with its real address. */
  onBound: (endpoint: EndpointInfo) => void;
}

/** A refusal about the run's topology; the run (run.ts) makes it a CodedError with its code. */
export type EndpointLookupError = (reason: ServerText) => Error;

export class VentilatorEndpoints {
  /** One entry per endpoint of the scenario, updated in place as they are bound. */
  readonly list: EndpointInfo[];
  /** ipc paths this run claimed (the ventilator's, and the sink's): released when it ends (releaseIpcPaths). */
  readonly #claimed: string[] = [];
  readonly #options: VentilatorEndpointsOptions;
  readonly #notFound: EndpointLookupError;
  /** Addresses decided before binding (ipc, inproc), so workers can connect early. */
  readonly #planned = new Map<string, string>();
  /** Endpoint name by the address really bound (monitor events name the local address). */
  readonly #nameByAddress = new Map<string, string>();
  readonly #binding = new Map<string, Promise<void>>();
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;

  constructor(endpoints: readonly EndpointInfo[], options: VentilatorEndpointsOptions, notFound: EndpointLookupError) {
    this.list = endpoints.map((endpoint) => ({ ...endpoint, actual: null }));
    this.#options = options;
    this.#notFound = notFound;
  }

  get(name: string): EndpointInfo {
    const endpoint = this.list.find((candidate) => candidate.name === name);
    if (!endpoint) throw this.#notFound(text('endpoint.noTransport', { name }));
    return endpoint;
  }

  /** The endpoint bound at `address`, if any. */
  nameOf(address: string): string | undefined {
    return this.#nameByAddress.get(address);
  }

  /** Checks every requested address and picks ipc paths and inproc names now, before any worker connects. */
  async plan(): Promise<void> {
    const { policy, claimedIpcPaths, playgroundId } = this.#options;
    for (const endpoint of this.list) {
      const parsed = checkEndpoint(endpoint.requested, policy);
      if (parsed.transport === 'ipc') {
        ensureRuntimeDir(policy);
        let file = parsed.path;
        const refusal = await claimedIpcPaths.claim(file, playgroundId);
        if (refusal === null) {
          this.#claimed.push(file);
        } else {
          file = await this.claimOwnPath(endpoint.name);
          const key = (
            {
              'other-playground': 'note.ipcClaimed',
              'live-socket': 'note.ipcInUse',
              'not-a-socket': 'note.ipcNotSocket',
              unknown: 'note.ipcUnknown',
            } as const satisfies Record<IpcRefusal, string>
          )[refusal];
          setNote(endpoint, text(key, { path: parsed.path, file }));
        }
        this.#planned.set(endpoint.name, `ipc://${file}`);
      } else if (parsed.transport === 'inproc') {
        this.#planned.set(endpoint.name, endpoint.requested);
      }
    }
  }

  /**
   * Binds an endpoint once. Binds are queued one after another, and sends wait for a bind in progress
   * (settled()): zeromq.js throws EBUSY for a bind or a send while another bind is pending (a bind during a
   * pending send is fine, which is how a blocked ventilator gets a new endpoint).
   */
  bindOnce(name: string): Promise<void> {
    let binding = this.#binding.get(name);
    if (!binding) {
      this.#inFlight++;
      binding = this.#queue.then(() => this.#bind(name)).finally(() => this.#inFlight--);
      this.#queue = binding.catch(() => {});
      this.#binding.set(name, binding);
    }
    return binding;
  }

  /**
   * Claims a path of this playground's own in the runtime folder for `node` ("ipc", "sink"): `<id>-<node>.ipc`,
   * or, when that is taken (a file, a live socket, another playground's claim), the same with a random suffix.
   * Released with the others at the end of the run.
   */
  async claimOwnPath(node: string): Promise<string> {
    const { policy, claimedIpcPaths, playgroundId } = this.#options;
    ensureRuntimeDir(policy);
    const first = `${policy.runtimeDir}/${playgroundId}-${node}.ipc`;
    for (let attempt = 0; attempt < OWN_PATH_ATTEMPTS; attempt++) {
      const file =
        attempt === 0 ? first : `${policy.runtimeDir}/${playgroundId}-${node}-${randomBytes(4).toString('hex')}.ipc`;
      checkEndpoint(`ipc://${file}`, policy); // a long runtime folder may leave no room: a clear refusal
      if ((await claimedIpcPaths.claim(file, playgroundId)) === null) {
        this.#claimed.push(file);
        return file;
      }
    }
    throw new CodedError(
      'PG_ERR_ENDPOINT',
      text('endpoint.ipcNoFreePath', { node, folder: policy.runtimeDir, path: first }),
    );
  }

  /** After a bind on a claimed ipc path (`address` as libzmq reports it): the socket file there is ours. */
  ipcBound(address: string): void {
    if (!address.startsWith('ipc://')) return;
    this.#options.claimedIpcPaths.bound(address.slice('ipc://'.length), this.#options.playgroundId);
  }

  /** At the end of the run: every claim released, and only the socket files this run bound removed. */
  releaseIpcPaths(): void {
    for (const file of this.#claimed.splice(0)) this.#options.claimedIpcPaths.release(file, this.#options.playgroundId);
  }

  /** A bind is in progress: a send must wait for settled() first. */
  get isBinding(): boolean {
    return this.#inFlight > 0;
  }

  /** Resolves once the binds queued so far are done (failed ones included). */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** Whether a worker on this transport knows where to connect (bound, or an ipc/inproc address planned). */
  isKnown(transport: Transport): boolean {
    const endpoint = this.list.find((e) => e.transport === transport);
    return Boolean(endpoint && (endpoint.actual ?? this.#planned.get(endpoint.name)));
  }

  /** Where a worker on this transport connects: the bound address, else the planned one, else null. */
  addressOf(transport: Transport): string | null {
    const endpoint = this.get(transport);
    return endpoint.actual ?? this.#planned.get(endpoint.name) ?? null;
  }

  async #bind(name: string): Promise<void> {
    const endpoint = this.get(name);
    const ventilator = this.#options.ventilator()!;
    let address = this.#planned.get(name) ?? endpoint.requested;
    try {
      address = await ventilator.bind(address);
    } catch (error) {
      if (endpoint.transport !== 'tcp' || codeOf(error) !== 'EADDRINUSE') throw error;
      const requestedPort = endpoint.requested.split(':').pop();
      address = await ventilator.bind('tcp://127.0.0.1:*');
      setNote(endpoint, text('note.tcpInUse', { port: requestedPort ?? '' }));
    }
    this.ipcBound(address);
    endpoint.actual = address;
    this.#nameByAddress.set(address, name);
    this.#options.onBound(endpoint);
  }
}

/** Says on the endpoint why it is not what was asked for, in English and as a text for the page. */
function setNote(endpoint: EndpointInfo, note: ServerText): void {
  endpoint.note = english(note);
  endpoint.noteText = note;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}
