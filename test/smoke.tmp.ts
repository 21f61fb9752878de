import { Playground } from '../server/pipeline/playground.ts';
import { SCENARIOS } from '../shared/scenarios/index.ts';
import { testPolicy, collect, runEnded } from '../test/helpers.ts';
const policy = testPolicy();
for (const interval of [100, 0]) {
const pg = new Playground({ scenario: SCENARIOS.get('tutorial')!, policy: {...policy, allowedIpcPaths: new Set(['/tmp/zmqdemo'])}, params: { intervalMs: interval, drainMs: 500 } });
const events = collect(pg);
const run = pg.startRun();
const end = await runEnded(pg, run.id);
for (const e of events) if (e.type !== 'socket:event' || true) console.log(e.seq, e.t.toFixed(1), e.type, JSON.stringify({...e, type: undefined, seq: undefined, run: undefined, t: undefined}));
console.log(pg.runDetail(run.id).messages);
}
policy.cleanup();
