/**
 * The setup the pipeline engine's tests share (server/pipeline/*.test.ts, pipeline-equivalence.test.ts): playgrounds
 * on a private runtime folder, fresh for each test, every playground a test made closed after it. Each test file
 * had its own copy of this.
 */
import { SCENARIOS } from '../shared/scenarios/index.ts';
import type { RunParamsPatch } from '../shared/protocol/index.ts';
import { Playground, type PlaygroundOptions } from '../server/pipeline/playground.ts';
import { testPolicy } from './helpers.ts';

type TestPolicy = ReturnType<typeof testPolicy>;

export interface PlaygroundHarnessSettings {
  /**
   * The runtime folder's policy when another harness owns it (its cleanup removes it, not this one's): a test
   * running both engines on one folder. Without it this harness makes its own on first use.
   */
  policy?: () => TestPolicy;
}

/** One per test file: call `cleanup()` in afterEach. */
export function playgroundHarness(settings: PlaygroundHarnessSettings = {}) {
  let owned: TestPolicy | null = null;
  const open: Playground[] = [];

  const policy = settings.policy ?? (() => (owned ??= testPolicy()));

  /** A playground on the test's runtime folder, closed after the test. */
  function playground(options: Omit<PlaygroundOptions, 'policy'>): Playground {
    const made = new Playground({ ...options, policy: policy() });
    open.push(made);
    return made;
  }

  /** The pipeline scenario with no default workers: the test adds the ones it needs. */
  function sandbox(params: RunParamsPatch): Playground {
    return playground({ scenario: { ...SCENARIOS.get('pipeline')!, workers: [] }, params });
  }

  /**
   * The tutorial's endpoints moved where no other test or program is: its fixed tcp://127.0.0.1:12345 to a free
   * port, its ipc:///tmp/zmqdemo into the test's runtime folder (as `demo`).
   */
  const tutorialEndpoints = (port: number) => ({
    tcp: `tcp://127.0.0.1:${port}`,
    ipc: `ipc://${policy().runtimeDir}/demo`,
  });

  return {
    policy,
    playground,
    sandbox,
    tutorialEndpoints,
    /** Closes every playground the test made, then removes the runtime folder this harness made. */
    async cleanup(): Promise<void> {
      await Promise.all(open.splice(0).map((made) => made.close()));
      owned?.cleanup();
      owned = null;
    },
  };
}
