import { pipelineScenario } from './pipeline.ts';
import { tutorialScenario } from './tutorial.ts';
import type { Scenario } from './types.ts';

export type { Scenario, Step, EndpointSpec, WorkerSpec } from './types.ts';
export { TUTORIAL_TEXTS } from './tutorial.ts';

/** Every scenario the server offers, by id; the first is the default. */
export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [tutorialScenario, pipelineScenario].map((scenario) => [scenario.id, scenario]),
);
