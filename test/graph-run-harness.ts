/**
 * The harness the graph-engine tests share (server/engine/graph-*.test.ts, series.test.ts,
 * pipeline-equivalence.test.ts): a GraphRun started on real sockets in
 * a private runtime folder, its events recorded with seq numbers (as the RunLog would stamp them), and bounded
 * waits on those events. Each test file had its own copy of this; they differed only in the owner prefix and the
 * bounds, which each file still chooses here, so every test waits exactly as long as it did.
 */
import { expect } from 'vitest';
import { GraphRun, type GraphRunOptions } from '../server/engine/graph-run.ts';
import { IpcClaims } from '../server/pipeline/endpoints.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../shared/protocol/index.ts';
import { testPolicy } from './helpers.ts';

export type EventOfType<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

/** The recorded events of one type, typed as that type. */
export function of<K extends PlaygroundEvent['type']>(events: PlaygroundEvent[], type: K): EventOfType<K>[] {
  return events.filter((event): event is EventOfType<K> => event.type === type);
}

/** The messages a node received. */
export const receivedBy = (events: PlaygroundEvent[], node: string) =>
  of(events, 'message:received').filter((e) => e.node === node);

/** The messages a node sent. */
export const sentBy = (events: PlaygroundEvent[], node: string) =>
  of(events, 'message:sent').filter((e) => e.node === node);

/** The address a node bound (on one transport when named): where a peer outside the run connects. */
export function addressOf(events: PlaygroundEvent[], node: string, transport?: string): string {
  const bound = of(events, 'node:bound').find(
    (e) => e.node === node && (transport === undefined || e.transport === transport),
  );
  if (!bound) throw new Error(`${node} bound nothing`);
  return bound.address;
}

/** The books of a run add up ([G3]): every copy is delivered, dropped, unattributed or still in flight. */
export function checkBooks(summary: GraphSummary): void {
  expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
  expect(Object.values(summary.droppedBy).reduce((a, b) => a + b, 0)).toBe(summary.dropped);
}

export interface GraphRunHarnessSettings {
  /** Prefix of each run's IpcClaims owner, distinct per test file so the owners never collide. */
  ownerPrefix: string;
  /** How long `until` waits by default before it fails. */
  untilTimeoutMs: number;
  /** How long `ended` waits for the run to end before it fails. */
  endTimeoutMs: number;
}

/**
 * One per test file. Call `cleanup()` in afterEach (or `stopRuns()` and `releasePolicy()` when something else must
 * close in between); `policy()` is the runtime folder's policy, created on first use and shared until cleanup.
 */
export function graphRunHarness(settings: GraphRunHarnessSettings) {
  let policy: ReturnType<typeof testPolicy> | null = null;
  const running: GraphRun[] = [];
  let runNumber = 0;

  const sharedPolicy = () => (policy ??= testPolicy());

  /** Stops every run a test started and left running. */
  async function stopRuns(): Promise<void> {
    for (const run of running.splice(0)) if (!run.ended) await run.stop();
  }

  /** Removes the runtime folder; the next test gets a fresh one. */
  function releasePolicy(): void {
    policy?.cleanup();
    policy = null;
  }

  /** A run whose events can be awaited: `until(condition)` resolves once the events so far meet it (bounded). */
  async function start(graph: GraphSpec, options: Partial<GraphRunOptions> = {}) {
    const events: PlaygroundEvent[] = [];
    const waiters = new Set<() => void>();
    const claims = new IpcClaims();
    const owner = `${settings.ownerPrefix}${++runNumber}`;
    claims.register(owner);
    const run = new GraphRun({
      runId: `run-${runNumber}`,
      scenario: 'test',
      graph,
      policy: sharedPolicy(),
      claims,
      owner,
      emit: (event) => {
        events.push({ ...event, seq: events.length + 1 });
        for (const wake of waiters) wake();
      },
      ...options,
    });
    running.push(run);
    await run.start();
    const until = (
      condition: (events: PlaygroundEvent[]) => boolean,
      what: string,
      timeoutMs = settings.untilTimeoutMs,
    ) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!condition(events)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what} (${events.length} events)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    const ended = () => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        run.done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the run did not end')), settings.endTimeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    };
    /** Whether the run ends by itself within `timeoutMs` ('late' if not), for a test to assert with its own words. */
    const endsWithin = async (timeoutMs = settings.endTimeoutMs): Promise<'ended' | 'late'> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
      try {
        return await Promise.race([run.done.then(() => 'ended' as const), late]);
      } finally {
        clearTimeout(timer);
      }
    };
    return { run, events, until, ended, endsWithin };
  }

  /**
   * Runs a graph that ends by itself (a count of messages, then its drain) to its end: its events. A run still going
   * after `timeoutMs` (the harness's endTimeoutMs unless given) fails the test, naming the scenario.
   */
  async function runToEnd(
    graph: GraphSpec,
    options: Partial<GraphRunOptions> = {},
    timeoutMs = settings.endTimeoutMs,
  ): Promise<PlaygroundEvent[]> {
    const { events, endsWithin } = await start(graph, options);
    const scenario = options.scenario ?? 'test';
    expect(await endsWithin(timeoutMs), `${scenario}: the run did not end by itself within ${timeoutMs} ms`).toBe(
      'ended',
    );
    return events;
  }

  return {
    start,
    runToEnd,
    /** The owner the next start() gives its run: an ipc path a graph names must start with it and a dash. */
    nextOwner: () => `${settings.ownerPrefix}${runNumber + 1}`,
    policy: sharedPolicy,
    stopRuns,
    releasePolicy,
    async cleanup(): Promise<void> {
      await stopRuns();
      releasePolicy();
    },
  };
}
