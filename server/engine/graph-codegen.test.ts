/**
 * The graph scenarios' generated code is real (shared/codegen/graph-code.ts): the Python program written for the
 * series' part 1 client (a REQ) and for a part 4 fan (a SUB with a filter) join a running graph playground through
 * the endpoints its run really bound, as peers it does not control; the TypeScript fan does too (zeromq.js through
 * tsx). Every node of every scenario gets a program that Python can parse and tsc accepts (strict, against
 * zeromq.js's types), or a reason why not.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GraphPlayground } from './graph-playground.ts';
import { IpcClaims } from '../pipeline/endpoints.ts';
import { SERIES_SCENARIOS, part1, part4 } from '../../shared/scenarios/series.ts';
import { ZGUIDE_SCENARIOS } from '../../shared/scenarios/zguide.ts';
import { pipelineGraph } from '../../shared/scenarios/pipeline-graph.ts';
import { starterSandbox } from '../../shared/scenarios/sandbox.ts';
import { boundAddresses, graphProgram, programFile } from '../../shared/codegen/graph-code.ts';
import type { GraphNode, GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import { PYTHON, requirePyzmq, run, testPolicy } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy> | null = null;
let playground: GraphPlayground | null = null;
let folder: string | null = null;

beforeAll(() => requirePyzmq());
afterEach(async () => {
  await playground?.close();
  playground = null;
  policy?.cleanup();
  policy = null;
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  folder = null;
});

function open(graph: GraphSpec, scenario: string): GraphPlayground {
  policy = testPolicy();
  const claims = new IpcClaims();
  playground = new GraphPlayground({ owner: null, policy, claims, scenario, graph, maxNodes: 32 });
  return playground;
}

function events(current: GraphPlayground): PlaygroundEvent[] {
  return current.events(0, 20_000).events;
}

function ofType<K extends PlaygroundEvent['type']>(list: readonly PlaygroundEvent[], type: K) {
  return list.filter((event): event is Extract<PlaygroundEvent, { type: K }> => event.type === type);
}

/** Writes a program inside the project, so that `import "zeromq"` finds its node_modules as in a learner's project. */
function save(name: string, code: string): string {
  fs.mkdirSync(path.resolve('test-results'), { recursive: true });
  folder ??= fs.mkdtempSync(path.resolve('test-results', 'graph-code-'));
  const file = path.join(folder, name);
  fs.writeFileSync(file, code);
  return file;
}

/** A node's send role made slower and longer, so that the run is still going when the program joins it. */
function paced(graph: GraphSpec, id: string, intervalMs: number, count: number): GraphSpec {
  return {
    ...graph,
    nodes: graph.nodes.map((node): GraphNode => {
      if (node.id !== id || (node.role.kind !== 'send' && node.role.kind !== 'request')) return node;
      const messages = node.role.messages;
      return {
        ...node,
        role: { ...node.role, intervalMs, messages: messages.kind === 'template' ? { ...messages, count } : messages },
      };
    }),
  };
}

/** Fake bound addresses: every node that binds, on every transport it binds. */
function fakeBound(graph: GraphSpec) {
  const bound: Record<string, { transport: string; address: string }[]> = {};
  let port = 41000;
  for (const link of graph.links) {
    const binder = link.bind === 'from' ? link.from : link.to;
    const list = (bound[binder] ??= []);
    if (list.some((e) => e.transport === link.transport)) continue;
    list.push({
      transport: link.transport,
      address: link.transport === 'tcp' ? `tcp://127.0.0.1:${port++}` : `${link.transport}:///tmp/zpg/${binder}`,
    });
  }
  return bound;
}

describe('generated code for graph nodes', () => {
  it('every node of every scenario: a program Python parses, in both languages, or the reason there is none', () => {
    for (const scenario of [...SERIES_SCENARIOS, ...ZGUIDE_SCENARIOS, pipelineGraph]) {
      const bound = fakeBound(scenario.graph);
      for (const node of scenario.graph.nodes) {
        const where = `${scenario.id} ${node.id}`;
        // Before the first run nothing a connecting node needs is known: no program with a made-up address.
        const before = graphProgram(scenario.graph, node.id, {}, 'python');
        if (before.code !== null) expect(before.joins, where).toBe(false);
        const program = graphProgram(scenario.graph, node.id, bound, 'python', 'es');
        if (node.role.kind === 'passive') {
          expect(program.missing?.reason, where).toBe('passive');
          continue;
        }
        if (program.code === null) {
          expect(program.missing?.reason, where).toBe('inproc');
          continue;
        }
        const parsed = spawnSync(PYTHON, ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
          input: program.code,
          encoding: 'utf8',
        });
        expect(parsed.status, `${where}\n${parsed.stderr}\n${program.code}`).toBe(0);
        // The comments follow the page's language; the code is the same.
        const english = graphProgram(scenario.graph, node.id, bound, 'python', 'en').code!;
        const code = (text: string) =>
          text.split('\n').filter((line) => !/^\s*#|help=|"""|file=sys.stderr|^[A-Z(]/.test(line));
        expect(code(program.code), where).toEqual(code(english));
        expect(graphProgram(scenario.graph, node.id, bound, 'typescript').code, where).toContain(
          'import * as zmq from "zeromq";',
        );
      }
    }
    // A connecting node joins the run where its peer really bound; a binding one binds a port of its own.
    const bound = fakeBound(part1.graph);
    const client = graphProgram(part1.graph, 'client', bound, 'python');
    expect(client.joins).toBe(true);
    expect(client.code).toContain(`sock.connect("${bound.server![0]!.address}")`);
    const server = graphProgram(part1.graph, 'server', bound, 'python');
    expect(server.joins).toBe(false);
    expect(server.code).toContain('sock.bind("tcp://127.0.0.1:5555")');
    expect(graphProgram(part1.graph, 'client', {}, 'typescript').missing).toEqual({ reason: 'run', peer: 'server' });
  });

  it("a socket with no link (the sandbox's lone first REQ) gets no program, and the reason: never 'connects to' nothing", () => {
    const lone = starterSandbox();
    const client = lone.nodes[0]!.id;
    for (const language of ['python', 'typescript'] as const) {
      const program = graphProgram(lone, client, {}, language);
      expect(program.code, language).toBeNull();
      expect(program.missing, language).toEqual({ reason: 'unlinked' });
    }
  });

  it("part 7: the server's program binds tcp, and ipc on the same socket after its third message, as the original", () => {
    const part7 = SERIES_SCENARIOS.find((scenario) => scenario.id === 'series-7')!;
    const bound = fakeBound(part7.graph);
    const python = graphProgram(part7.graph, 'server', bound, 'python').code!;
    const bindTcp = python.indexOf('sock.bind("tcp://127.0.0.1:5555")');
    const bindIpc = python.search(/ {8}sock\.bind\("ipc:\/\/\/tmp\/server-1\.ipc"\)/);
    expect(bindTcp).toBeGreaterThan(0);
    // Inside the send loop, before the fourth message (i == 3), not with the first bind.
    expect(bindIpc).toBeGreaterThan(python.indexOf('    if i == 3:'));
    expect(python.indexOf('    if i == 3:')).toBeGreaterThan(python.indexOf('for i in range(args.count):'));
    const typescript = graphProgram(part7.graph, 'server', bound, 'typescript').code!;
    expect(typescript).toContain('if (i === 3) {');
    expect(typescript).toContain('await sock.bind("ipc:///tmp/server-1.ipc");');
    // Each client joins the run where the server really bound (the ipc client dials the later endpoint).
    const ipcClient = graphProgram(part7.graph, 'client-ipc', bound, 'python');
    expect(ipcClient.joins).toBe(true);
    expect(ipcClient.code).toContain(`sock.connect("${bound.server!.find((b) => b.transport === 'ipc')!.address}")`);
  });

  it('every TypeScript program type-checks against zeromq.js (strict)', async () => {
    const files: string[] = [];
    for (const scenario of [...SERIES_SCENARIOS, ...ZGUIDE_SCENARIOS, pipelineGraph]) {
      const bound = fakeBound(scenario.graph);
      for (const node of scenario.graph.nodes) {
        const program = graphProgram(scenario.graph, node.id, bound, 'typescript');
        if (program.code !== null)
          files.push(save(`${scenario.id}-${programFile(node.id, 'typescript')}`, program.code));
      }
    }
    expect(files.length).toBeGreaterThan(30);
    const tsc = path.resolve('node_modules', '.bin', 'tsc');
    const options = ['--ignoreConfig', '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022'];
    const modules = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node'];
    const exit = await run(tsc, [...options, ...modules, ...files], 120_000).exited;
    expect(exit.code, exit.stdout + exit.stderr).toBe(0);
  });

  it('part 1: the Python REQ client joins the running playground, gets its sums, and its "q" stops the playground\'s server', async () => {
    const current = open(paced(part1.graph, 'client', 30, 1000), part1.id);
    await current.startRun();
    const program = graphProgram(current.info().graph, 'client', boundAddresses(events(current)), 'python');
    expect(program.joins).toBe(true);
    const client = run(PYTHON, [save(programFile('client', 'python'), program.code!), '--count', '5'], 30_000);
    const exit = await client.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const lines = exit.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    const asked = lines.map((line) => {
      const match = /^(\d+):(\d+) -> (\d+)$/.exec(line)!;
      expect(match, line).not.toBeNull();
      expect(Number(match[3])).toBe(Number(match[1]) + Number(match[2]));
      return `${match[1]}:${match[2]}`;
    });
    const summary = await current.activeRun!.done;
    const list = events(current);
    // The server received them from a peer the playground does not control, and stopped on the program's "q".
    const outside = ofType(list, 'message:received').filter((e) => e.node === 'server' && e.from === null);
    expect(outside.map((e) => e.body)).toEqual([...asked, 'q']);
    expect(ofType(list, 'node:stopped')).toContainEqual(
      expect.objectContaining({ node: 'server', reason: 'stop-message' }),
    );
    // Its replies to the program went to no node of the graph: booked as unattributed.
    expect(summary.unattributed).toBeGreaterThanOrEqual(5);
  });

  it('part 4: the Python and the TypeScript fan with a filter join the running narrator and get only their countries', async () => {
    const current = open(paced(part4.graph, 'narrator', 20, 3000), part4.id);
    await current.startRun();
    const bound = boundAddresses(events(current));
    const pythonFan = graphProgram(current.info().graph, 'fan-1', bound, 'python');
    const typescriptFan = graphProgram(current.info().graph, 'fan-1', bound, 'typescript');
    expect(pythonFan.joins && typescriptFan.joins).toBe(true);
    const tsx = path.resolve('node_modules', '.bin', 'tsx');
    const [fromPython, fromTypescript] = await Promise.all([
      run(PYTHON, [save('fan_1.py', pythonFan.code!), '--count', '5', '--timeout', '20'], 40_000).exited,
      run(tsx, [save('fan_1.ts', typescriptFan.code!), '5', '20'], 40_000).exited,
    ]);
    const summary = await current.stopRun();
    const published = ofType(events(current), 'message:sent')
      .filter((e) => e.node === 'narrator')
      .map((e) => e.body);
    for (const exit of [fromPython, fromTypescript]) {
      expect(exit.code, exit.stderr).toBe(0);
      const got = exit.stdout.split('\n').filter(Boolean);
      expect(got).toHaveLength(5);
      for (const message of got) {
        expect(message).toMatch(/^(argentina|venezuela) /);
        expect(published).toContain(message);
      }
    }
    // The narrator published other countries meanwhile: the fan's filter left them out.
    expect(published.some((body) => !/^(argentina|venezuela) /.test(body))).toBe(true);
    // The programs are peers the playground does not control: the narrator's monitor saw their handshakes beside
    // those of the run's own two fans (a PUB's copies are booked for the subscribers it knows only).
    const handshakes = ofType(events(current), 'socket:event').filter(
      (e) => e.node === 'narrator' && e.kind === 'handshake',
    );
    expect(handshakes.length).toBeGreaterThanOrEqual(4);
    expect(summary.nodes['fan-1']!.received).toBeGreaterThan(0);
  });
});
