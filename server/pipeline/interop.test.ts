/**
 * The tutorial's own clients, ported to Python 3 (Debian's python3-zmq), against the playground's ventilator with
 * the built-in workers switched off. They are external peers: seen only through the ventilator's monitor.
 */
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { SCENARIOS, TUTORIAL_TEXTS } from '../../shared/scenarios/index.ts';
import { Playground } from './playground.ts';
import { PYTHON, collect, freePort, ofType, requirePyzmq, run, runEnded, testPolicy } from '../../test/helpers.ts';

const CLIENT = path.resolve('examples/tutorial_client.py');
let policy: ReturnType<typeof testPolicy>;
let playground: Playground | null = null;

beforeAll(() => requirePyzmq());
afterEach(async () => {
  await playground?.close();
  policy?.cleanup();
});

it('the tutorial\'s Python clients take every message as external peers, get one "x" each and exit', async () => {
  policy = testPolicy();
  const tcp = `tcp://127.0.0.1:${await freePort()}`;
  const ipc = `ipc://${policy.runtimeDir}/demo`;
  playground = new Playground({
    scenario: SCENARIOS.get('tutorial')!,
    params: { builtInWorkers: false, intervalMs: 150, drainMs: 5000 },
    policy,
    endpointOverrides: { tcp, ipc },
  });
  const events = collect(playground);
  // As in the tutorial, the clients start first and keep retrying until the ventilator binds.
  const tcpClient = run(PYTHON, [CLIENT, tcp, '--timeout', '15'], 20_000);
  const ipcClient = run(PYTHON, [CLIENT, ipc, '--timeout', '15'], 20_000);
  const started = playground.startRun();
  const [tcpExit, ipcExit] = await Promise.all([tcpClient.exited, ipcClient.exited]);
  const ended = await runEnded(playground, started.id);

  expect(tcpExit.code, tcpExit.stderr).toBe(0);
  expect(ipcExit.code, ipcExit.stderr).toBe(0);
  const tcpLines = tcpExit.stdout.trim().split('\n');
  const ipcLines = ipcExit.stdout.trim().split('\n');
  expect(tcpLines.slice(0, 3)).toEqual(['1', '2', '3']);
  expect(tcpLines.at(-1)).toBe('x');
  expect(ipcLines.at(-1)).toBe('x');
  expect([...tcpLines, ...ipcLines].sort()).toEqual(['1', '2', '3', ...TUTORIAL_TEXTS].sort());

  // The playground saw two peers it does not control and attributes the whole batch to them.
  expect(Math.max(...ofType(events, 'peers:changed').map((e) => e.external))).toBe(1);
  expect(ofType(events, 'peers:changed').filter((e) => e.external > 0).map((e) => e.endpoint).sort()).toEqual(['ipc', 'tcp']);
  expect(ended.reason).toBe('completed');
  expect(ended.summary).toMatchObject({ sent: 12, unattributed: 12, externalPeersMax: 2, received: { 'worker-tcp': 0, 'worker-ipc': 0 } });
  expect(ofType(events, 'task:received')).toHaveLength(0);
  // Both clients left after their "x": the run did not wait out drainMs.
  expect(ended.summary.durationMs).toBeLessThan(12 * 150 + 4000);
});
