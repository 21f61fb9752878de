/**
 * The series, part by part (shared/scenarios/series.ts): each scenario runs on the graph engine with its client
 * side left to the part's Python 3 port (examples/series/, Debian's /usr/bin/python3 with python3-zmq), which
 * connects to the endpoints the engine bound, as the tutorial's clients do (server/pipeline/interop.test.ts). The
 * Python programs are peers we do not control: the engine sees them through its sockets and its monitor only.
 * Where a part's pace is seconds (a narrator every second), the test runs it faster; what is asserted holds at
 * any pace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkGraph } from '../../shared/scenarios/graph.ts';
import {
  PART6_TEXTS,
  PART8_LINES,
  SERIES_SCENARIOS,
  TWEETS,
  part1,
  part2,
  part3,
  part4,
  part5,
  part6,
  part7,
  part8,
  PART7_MESSAGES,
  withOutsidePeers,
} from '../../shared/scenarios/series.ts';
import type { GraphNode, GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import { PYTHON, requirePyzmq } from '../../test/helpers.ts';
import { addressOf, graphRunHarness, of, receivedBy, sentBy } from '../../test/graph-run-harness.ts';

const EXAMPLES = path.resolve('examples/series');
// `until` waits 15 s at the most; the runs here end by a stop, or by themselves awaited as the Python peers exit.
const runs = graphRunHarness({ ownerPrefix: 'series', untilTimeoutMs: 15_000, endTimeoutMs: 30_000 });
const children: ChildProcess[] = [];

beforeAll(() => requirePyzmq());
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await runs.cleanup();
});

/** A graph run (the part's scenario) whose events can be awaited and read by node. */
async function startGraph(graph: GraphSpec, scenario: string) {
  const { run, events, until } = await runs.start(graph, { scenario });
  const recorded = {
    events,
    until,
    of: <K extends PlaygroundEvent['type']>(type: K) => of(events, type),
    addressOf: (node: string, transport?: string) => addressOf(events, node, transport),
    sentBy: (node: string) => sentBy(events, node),
    receivedBy: (node: string) => receivedBy(events, node),
  };
  return { run, recorded };
}

/** A change to some nodes of a graph (a faster pace for a test), the rest as it is. */
function tweak(
  graph: GraphSpec,
  changes: Record<string, (node: GraphNode) => GraphNode>,
  extra: Partial<GraphSpec> = {},
): GraphSpec {
  return { ...graph, ...extra, nodes: graph.nodes.map((node) => changes[node.id]?.(node) ?? node) };
}

/** A Python port running, its output kept line by line, waitable. */
function python(script: string, args: string[], timeoutMs = 30_000) {
  const child = spawn(PYTHON, [path.join(EXAMPLES, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string; lines: string[] }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        for (const wake of waiters.splice(0)) wake();
        resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((line) => line !== '') });
      });
    },
  );
  return {
    child,
    exited,
    lines: () => stdout.split('\n').filter((line) => line !== ''),
    /** Resolves once a line matches; rejects if the program exits first or after timeoutMs. */
    async waitForLine(pattern: RegExp, waitMs = 15_000): Promise<string> {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const found = stdout.split('\n').find((line) => pattern.test(line));
        if (found !== undefined) return found;
        if (child.exitCode !== null)
          throw new Error(`${script} exited (${child.exitCode}) before printing ${pattern}\n${stdout}\n${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${script} never printed ${pattern}\n${stdout}\n${stderr}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

describe('the series as scenarios', () => {
  it('every part is a valid graph, and part 8 says honestly that it runs over tcp', () => {
    for (const scenario of SERIES_SCENARIOS) expect(checkGraph(scenario.graph), scenario.id).toEqual([]);
    expect(SERIES_SCENARIOS.map((s) => s.id)).toEqual([
      'series-1',
      'series-2',
      'series-3',
      'series-4',
      'series-5',
      'series-6',
      'series-7',
      'series-8',
    ]);
    expect(part8.notes?.join(' ')).toMatch(/no PGM/);
    expect(part8.graph.links.every((link) => link.transport === 'tcp')).toBe(true);
  });
});

describe('each part with its Python 3 port as the outside peer', () => {
  it('part 1: the Python client asks the engine\'s adding server 50 sums, then "q" stops it', async () => {
    const { run, recorded } = await startGraph(withOutsidePeers(part1.graph, ['client']), part1.id);
    const client = python('part1_client.py', [
      recorded.addressOf('server'),
      '--rounds',
      '50',
      '--seed',
      '3',
      '--timeout',
      '10',
    ]);
    const [exit, summary] = await Promise.all([client.exited, run.done]);
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.lines).toHaveLength(50);
    const asked: string[] = [];
    exit.lines.forEach((line, i) => {
      const match = /^Iteracion: (\d+) Enviado: (\d+):(\d+) Recibido: (\d+)$/.exec(line)!;
      expect(match, line).not.toBeNull();
      expect(Number(match[1])).toBe(i);
      expect(Number(match[4])).toBe(Number(match[2]) + Number(match[3]));
      asked.push(`${match[2]}:${match[3]}`);
    });
    // The engine's server received exactly what the Python client sent, from a peer it does not control, and
    // stopped on "q" as the series' server does; the run then ended by itself.
    expect(recorded.receivedBy('server').map((e) => e.body)).toEqual([...asked, 'q']);
    expect(recorded.receivedBy('server').every((e) => e.from === null && e.message === null)).toBe(true);
    expect(recorded.of('node:stopped')).toContainEqual(
      expect.objectContaining({ node: 'server', reason: 'stop-message' }),
    );
    expect(recorded.of('graph:ended')[0]!.reason).toBe('completed');
    expect(summary).toMatchObject({ sent: 50, copies: 50, unattributed: 50, dropped: 0 });
  });

  it("part 2: a second Python client is never served by the engine's PAIR, which reports the refusal", async () => {
    const { run, recorded } = await startGraph(withOutsidePeers(part2.graph, ['client-1', 'client-2']), part2.id);
    const address = recorded.addressOf('server');
    // The first client runs on and on; the second starts once the first has its first echo.
    const first = python('part2_client.py', [address, '--rounds', '100000', '--pause', '0.02', '--timeout', '10']);
    await first.waitForLine(/^Recibido: mensaje 0$/);
    const second = python('part2_client.py', [address, '--rounds', '3', '--timeout', '3']);
    const secondExit = await second.exited;
    // As the series' second client: its first "Enviando", then it waits for an echo that never comes.
    expect(secondExit.code).toBe(2);
    expect(secondExit.lines).toEqual(['Enviando: mensaje 0']);
    await recorded.until((events) => events.some((e) => e.type === 'socket:refused'), 'the refusal');
    expect(recorded.of('socket:refused')).toEqual([
      expect.objectContaining({ node: 'server', peer: null, reason: 'pair-exclusive' }),
    ]);
    first.child.kill('SIGTERM');
    await first.exited;
    const summary = await run.stop();
    // The server echoed the first client only: every message it got is "mensaje <n>" in order, none twice.
    const bodies = recorded.receivedBy('server').map((e) => e.body);
    expect(bodies).toEqual(bodies.map((_, i) => `mensaje ${i}`));
    expect(first.lines().filter((line) => line.startsWith('Recibido: ')).length).toBeGreaterThan(0);
    expect(summary.refusals).toBe(1);
  });

  it("part 3: the Python client's one REQ spreads 100 requests over the engine's three REP servers 34/33/33", async () => {
    const { run, recorded } = await startGraph(withOutsidePeers(part3.graph, ['client']), part3.id);
    const servers = ['server-5000', 'server-6000', 'server-7000'];
    const client = python('part3_client.py', [...servers.map((s) => recorded.addressOf(s)), '--timeout', '10']);
    const exit = await client.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.lines).toEqual(Array.from({ length: 100 }, (_, i) => `Enviando: mensaje ${i}`));
    await recorded.until((events) => events.filter((e) => e.type === 'message:sent').length === 100, 'the 100 replies');
    await run.stop();
    servers.forEach((server, index) => {
      expect(recorded.receivedBy(server).map((e) => e.body)).toEqual(
        Array.from({ length: 100 }, (_, i) => i)
          .filter((i) => i % 3 === index)
          .map((i) => `mensaje ${i}`),
      );
    });
  });

  it("part 4: two Python fans get only their countries from the engine's narrator, and wait for ever for their 89th", async () => {
    const graph = withOutsidePeers(
      tweak(
        part4.graph,
        {
          narrator: (n) => ({
            ...n,
            role: {
              ...(n.role as Extract<GraphNode['role'], { kind: 'send' }>),
              intervalMs: 20,
              messages: {
                kind: 'template',
                template: (n.role as { messages: { template: string } }).messages.template,
                count: 80,
                seed: 4,
              },
              waitForPeers: 2,
            },
          }),
        },
        { drainMs: 500 },
      ),
      ['fan-1', 'fan-2'],
    );
    const { run, recorded } = await startGraph(graph, part4.id);
    const address = recorded.addressOf('narrator');
    const fans = {
      'argentina venezuela': python('part4_client.py', [
        address,
        'argentina',
        'venezuela',
        '--sleep',
        '0',
        '--timeout',
        '2',
      ]),
      'brasil alemania': python('part4_client.py', [address, 'brasil', 'alemania', '--sleep', '0', '--timeout', '2']),
    };
    await run.done;
    const published = recorded.sentBy('narrator').map((e) => e.body);
    expect(published).toHaveLength(80);
    for (const [prefixes, fan] of Object.entries(fans)) {
      const exit = await fan.exited;
      // The series' trap: fewer than 89 matches, so the fan would wait for ever; the port gives up.
      expect(exit.code).toBe(2);
      expect(exit.stderr).toMatch(/giving up/);
      const got = exit.lines.map((line) => /^\d+ -> (.*)$/.exec(line)![1]!);
      const matching = published.filter((m) => prefixes.split(' ').some((p) => m.startsWith(p)));
      expect(got.length).toBeGreaterThan(0);
      // Only its countries, and every one of them from its first on (anything missed was before its
      // subscription reached the narrator: the slow joiner).
      expect(matching.slice(matching.length - got.length)).toEqual(got);
    }
  });

  it("part 5: the Python sender REQs four tweets to the engine's relay, and each Python follower gets its account's two", async () => {
    const { run, recorded } = await startGraph(
      withOutsidePeers(part5.graph, ['sender', 'follower-seraph', 'follower-otro']),
      part5.id,
    );
    const pub = recorded.addressOf('relay-pub');
    const seraph = python('part5_receiver.py', [pub, '@_seraph1', '--count', '2', '--timeout', '10']);
    const otro = python('part5_receiver.py', [pub, '@otro', '--count', '2', '--timeout', '10']);
    // The followers must be there first (the series: started together, both got nothing in 1 of 5 trials).
    await recorded.until(
      (events) =>
        events.filter((e) => e.type === 'socket:event' && e.node === 'relay-pub' && e.kind === 'handshake').length ===
        2,
      'both followers',
    );
    const sender = python('part5_sender.py', [recorded.addressOf('relay'), '--timeout', '10']);
    const [sent, seraphExit, otroExit] = await Promise.all([sender.exited, seraph.exited, otro.exited]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(seraphExit.lines).toEqual(TWEETS.filter((t) => t.startsWith('@_seraph1')).map((t) => `-> ${t}`));
    expect(otroExit.lines).toEqual(TWEETS.filter((t) => t.startsWith('@otro')).map((t) => `-> ${t}`));
    await run.stop();
    // The relay received each tweet, echoed it to the sender and published it. The tweets came from a program
    // we do not control: no message of ours, so no cause to name.
    expect(recorded.receivedBy('relay').map((e) => [e.body, e.from])).toEqual(TWEETS.map((t) => [t, null]));
    expect(recorded.sentBy('relay').map((e) => e.body)).toEqual([...TWEETS]);
    const published = recorded.sentBy('relay-pub');
    expect(published.map((e) => e.body)).toEqual([...TWEETS]);
    expect(published.every((e) => e.cause === undefined)).toBe(true);
  });

  it("part 6: two Python workers share the engine source's seven greetings 4/3 and push them upper-cased to its collector", async () => {
    const { run, recorded } = await startGraph(
      withOutsidePeers(part6.graph, ['worker-1', 'worker-1-out', 'worker-2', 'worker-2-out']),
      part6.id,
    );
    const source = recorded.addressOf('source');
    const collector = recorded.addressOf('collector');
    const workers = [0, 1].map(() => python('part6_worker.py', [source, collector, '--work', '0.1', '--timeout', '3']));
    await recorded.until(
      (events) => events.filter((e) => e.type === 'message:received' && e.node === 'collector').length === 7,
      'seven results',
    );
    const exits = await Promise.all(workers.map((w) => w.exited));
    await run.stop();
    // The source waited for both workers (the series waits for Enter): strict alternation, 4 and 3.
    const shares = exits.map((exit) => exit.lines.map((line) => line.replace(/^Proceso:/, '')));
    const even = PART6_TEXTS.filter((_, i) => i % 2 === 0);
    const odd = PART6_TEXTS.filter((_, i) => i % 2 === 1);
    expect([shares[0], shares[1]]).toEqual(shares[0]!.length === 4 ? [even, odd] : [odd, even]);
    const firstSend = recorded.sentBy('source')[0]!.seq;
    expect(
      recorded.of('socket:event').filter((e) => e.node === 'source' && e.kind === 'handshake' && e.seq < firstSend),
    ).toHaveLength(2);
    expect(
      recorded
        .receivedBy('collector')
        .map((e) => e.body)
        .sort(),
    ).toEqual(PART6_TEXTS.map((t) => t.toUpperCase()).sort());
  });

  it("part 7: the tutorial's two Python clients, over tcp and ipc, share the engine server's texts once ipc is bound", async () => {
    // The clients are the tutorial's own port (examples/tutorial_client.py). The ipc client starts first, dialling
    // an ipc path the server binds only after "3" (libzmq retries every 100-200 ms), and the tcp client after it:
    // the server's first send waits for a peer, and until the ipc bind the tcp client is the only one. Paced at
    // 300 ms, the ipc client has over two seconds after the bind to join before the first "x".
    const ipcAddress = `ipc://${runs.policy().runtimeDir}/${runs.nextOwner()}-zmqdemo`;
    const graph = withOutsidePeers(
      {
        ...part7.graph,
        nodes: part7.graph.nodes.map((node) =>
          node.role.kind === 'send' ? { ...node, role: { ...node.role, intervalMs: 300 } } : node,
        ),
        links: part7.graph.links.map((link) => (link.transport === 'ipc' ? { ...link, address: ipcAddress } : link)),
      },
      ['client-tcp', 'client-ipc'],
    );
    const { run, recorded } = await startGraph(graph, part7.id);
    const tutorialClient = path.join('..', 'tutorial_client.py');
    const ipcClient = python(tutorialClient, [ipcAddress, '--timeout', '10']);
    const tcpClient = python(tutorialClient, [recorded.addressOf('server', 'tcp'), '--timeout', '10']);
    const [tcp, ipc] = await Promise.all([tcpClient.exited, ipcClient.exited]);
    await run.done;
    expect(tcp.code, tcp.stderr).toBe(0);
    expect(ipc.code, ipc.stderr).toBe(0);
    // "1", "2", "3" to the tcp client; ipc bound on the same socket after them; each client ends at its "x".
    expect(tcp.lines.slice(0, 3)).toEqual(['1', '2', '3']);
    const bound = recorded.of('node:bound').map((e) => e.transport);
    expect(bound).toEqual(['tcp', 'ipc']);
    const ipcBind = recorded.of('node:bound')[1]!;
    expect(recorded.sentBy('server').filter((e) => e.seq < ipcBind.seq)).toHaveLength(3);
    expect(tcp.lines.at(-1)).toBe('x');
    expect(ipc.lines.at(-1)).toBe('x');
    // Each message printed once, by one client or the other; outside peers: unattributed in the engine's books.
    expect([...tcp.lines, ...ipc.lines].sort()).toEqual([...PART7_MESSAGES].sort());
    expect(recorded.of('graph:ended')[0]!.summary).toMatchObject({ sent: 12, unattributed: 12, dropped: 0 });
  });

  it('part 8: the Python consumer prints only "prueba", "hora" and "salir" lines from the engine\'s producer, over tcp: no PGM here', async () => {
    const { run, recorded } = await startGraph(withOutsidePeers(part8.graph, ['consumer']), part8.id);
    expect(recorded.of('graph:started')[0]!.capabilities.pgm).toBe(false);
    const consumer = python('part8_consumer.py', [recorded.addressOf('producer'), '--timeout', '15']);
    const exit = await consumer.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.lines).toEqual(PART8_LINES.filter((line) => /^(prueba|hora|salir)/.test(line)));
    await run.done;
    expect(recorded.sentBy('producer').map((e) => e.body)).toEqual([...PART8_LINES]);
  });
});

describe('whole parts inside the playground', () => {
  it("part 5 with its own sender and followers: each follower gets exactly its account's tweets, once", async () => {
    const { run, recorded } = await startGraph(part5.graph, part5.id);
    await recorded.until(
      (events) => events.filter((e) => e.type === 'message:received' && e.node === 'sender').length === 4,
      'four echoes',
    );
    await recorded.until(
      (events) =>
        events.filter(
          (e) => e.type === 'message:dropped' || (e.type === 'message:received' && e.node.startsWith('follower')),
        ).length >= 8,
      'every copy placed',
    );
    await run.stop();
    for (const [follower, account] of [
      ['follower-seraph', '@_seraph1'],
      ['follower-otro', '@otro'],
    ] as const) {
      const got = recorded.receivedBy(follower);
      expect(got.every((e) => e.body.startsWith(account) && e.from === 'relay-pub')).toBe(true);
      expect(new Set(got.map((e) => e.message)).size).toBe(got.length);
    }
    expect(recorded.of('message:dropped').filter((d) => d.reason === 'filtered')).toHaveLength(4);
    // Each publish names the request it relays.
    const relayed = recorded.receivedBy('relay');
    expect(relayed.map((e) => e.from)).toEqual(['sender', 'sender', 'sender', 'sender']);
    expect(recorded.sentBy('relay-pub').map((e) => e.cause)).toEqual(relayed.map((e) => e.message));
  });

  it('part 6 with its own workers: 4/3 between them, all seven upper-cased at the collector', async () => {
    const graph = tweak(
      part6.graph,
      {
        'worker-1': (n) => ({
          ...n,
          role: { ...(n.role as Extract<GraphNode['role'], { kind: 'receive' }>), workMs: 20 },
        }),
        'worker-2': (n) => ({
          ...n,
          role: { ...(n.role as Extract<GraphNode['role'], { kind: 'receive' }>), workMs: 20 },
        }),
      },
      { drainMs: 300 },
    );
    const { run, recorded } = await startGraph(graph, part6.id);
    const summary = await run.done;
    expect([recorded.receivedBy('worker-1').length, recorded.receivedBy('worker-2').length].sort()).toEqual([3, 4]);
    expect(
      recorded
        .receivedBy('collector')
        .map((e) => e.body)
        .sort(),
    ).toEqual(PART6_TEXTS.map((t) => t.toUpperCase()).sort());
    expect(recorded.receivedBy('collector').every((e) => e.from === 'worker-1-out' || e.from === 'worker-2-out')).toBe(
      true,
    );
    expect(summary).toMatchObject({ sent: 14, delivered: 14, dropped: 0 });
  });
});

describe('part 8 as written: epgm between the two Python ports', () => {
  it("Debian's pyzmq has PGM, and the producer reaches the consumer over epgm on loopback (multicast, no connection)", async () => {
    const has = await new Promise<string>((resolve) => {
      const child = spawn(PYTHON, ['-c', 'import zmq; print(zmq.has("pgm"))']);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', () => resolve(out.trim()));
    });
    expect(has).toBe('True');
    const group = `epgm://127.0.0.1;239.192.1.1:${5000 + (process.pid % 1000)}`;
    const consumer = python('part8_consumer.py', [group, '--timeout', '15']);
    const producer = python('part8_producer.py', [group]);
    // Multicast has no handshake to wait for: "prueba" lines go out until the consumer prints one.
    const deadline = Date.now() + 15_000;
    let synced = false;
    for (let i = 0; !synced; i++) {
      if (Date.now() > deadline) throw new Error(`the consumer never got a line\n${consumer.lines().join('\n')}`);
      producer.child.stdin!.write(`prueba ${i}\n`);
      synced = await consumer.waitForLine(/^prueba \d+$/, 300).then(
        () => true,
        () => false,
      );
    }
    for (const line of ['otra cosa', 'hora 10:00', 'salir ya', 'salir']) producer.child.stdin!.write(`${line}\n`);
    const exit = await consumer.exited;
    expect(exit.code, exit.stderr).toBe(0);
    // OpenPGM prints its own warnings about the loopback interface ("Warn: ... non-multicast capable device").
    expect(exit.lines.filter((line) => !line.startsWith('prueba') && !line.startsWith('Warn:'))).toEqual([
      'hora 10:00',
      'salir ya',
      'salir',
    ]);
    expect((await producer.exited).code).toBe(0);
  });
});
