/**
 * Test helpers shared by the server tests: a private runtime folder per test file and an event collector that
 * waits for a condition without sleeping.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { defaultPolicy, type EndpointPolicy } from '../server/pipeline/endpoints.ts';
import type { Playground } from '../server/pipeline/playground.ts';

/** A short, private runtime folder (ipc paths must stay under 107 characters). */
export function testPolicy(overrides: Partial<EndpointPolicy> = {}): EndpointPolicy & { cleanup(): void } {
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-'));
  const policy = defaultPolicy({ runtimeDir, allowedIpcPaths: new Set(), ...overrides });
  return { ...policy, cleanup: () => fs.rmSync(runtimeDir, { recursive: true, force: true }) };
}

/** Collects every event a playground logs from now on. */
export function collect(playground: Playground): PlaygroundEvent[] {
  const events: PlaygroundEvent[] = [];
  playground.log.subscribe((event) => events.push(event));
  return events;
}

/** Resolves with the first event matching `predicate` (already logged or future); rejects after `timeoutMs`. */
export function waitForEvent<T extends PlaygroundEvent>(
  playground: Playground,
  predicate: (event: PlaygroundEvent) => event is T,
  timeoutMs?: number,
): Promise<T>;
export function waitForEvent(playground: Playground, predicate: (event: PlaygroundEvent) => boolean, timeoutMs?: number): Promise<PlaygroundEvent>;
export function waitForEvent(
  playground: Playground,
  predicate: (event: PlaygroundEvent) => boolean,
  timeoutMs = 10_000,
): Promise<PlaygroundEvent> {
  const seen = playground.log.since(0).find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = playground.log.subscribe((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** Resolves once the run ends, with its run:ended event. */
export function runEnded(playground: Playground, run: string, timeoutMs = 20_000) {
  return waitForEvent(
    playground,
    (event): event is Extract<PlaygroundEvent, { type: 'run:ended' }> => event.type === 'run:ended' && event.run === run,
    timeoutMs,
  );
}

export function ofType<K extends PlaygroundEvent['type']>(events: PlaygroundEvent[], type: K) {
  return events.filter((event): event is Extract<PlaygroundEvent, { type: K }> => event.type === type);
}
