/**
 * What bench/page-perf.ts asks Chromium's DevTools protocol for when --trace or --profile is given: the renderer
 * main thread's time per kind of work from a timeline trace, and a CPU profile's top self-time entries. Kept apart
 * from the measuring itself, which needs neither.
 */
import fs from 'node:fs';
import type { CDPSession } from 'playwright-core';

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  tid: number;
  pid: number;
  args?: { name?: string };
}

/** Starts a trace of the page's timeline; the returned function ends it and prints the renderer's main thread's top work. */
export async function startTrace(cdp: CDPSession, saveTo?: string): Promise<() => Promise<void>> {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (data) => {
    events.push(...(data.value as unknown as TraceEvent[]));
  });
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute',
    transferMode: 'ReportEvents',
  });
  return async () => {
    const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
    await cdp.send('Tracing.end');
    await complete;
    // The whole trace, for chrome://tracing or Perfetto (--trace-file).
    if (saveTo) fs.writeFileSync(saveTo, JSON.stringify({ traceEvents: events }));
    const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
    const byName = new Map<string, number>();
    for (const e of events) {
      if (!main || e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || !e.dur) continue;
      byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur / 1000);
    }
    console.log('trace, renderer main thread, ms per event name (nested events counted in their parents too):');
    for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 20))
      console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
  };
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** The profile's top self-time entries, as lines. */
export function topOfProfile(profile: CpuProfile, count = 20): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    const ms = (deltas[i] ?? 0) / 1000;
    total += ms;
    if (!node) continue;
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + ms);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${name}`);
}

/** A CPU profile node with its children (the server's profile, node:inspector, has them; CDP's has them too). */
interface TreeNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * What the server's live stream cost in a CPU profile of the server's process (--server-profile): the time inside
 * EventBatcher.flush (every frame: sampling it down, counting, encoding as JSON or binary, deflating, writing to
 * the sockets) and inside EventBatcher.push (per event), as lines: each total with its share of the profile's
 * busy time (idle and garbage collection apart), and the top self-time entries within flush.
 */
export function streamCostOfProfile(profile: CpuProfile, frames: number): string[] {
  const nodes = profile.nodes as unknown as TreeNode[];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const isBatcher = (n: TreeNode, name: string) =>
    n.callFrame.url.endsWith('server/http/event-batcher.ts') && n.callFrame.functionName.endsWith(name);
  /** The nearest ancestor (or itself) that is the batcher's `flush` or `push`, if any. */
  const within = new Map<number, 'flush' | 'push' | null>();
  const inside = (id: number): 'flush' | 'push' | null => {
    const known = within.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const found: 'flush' | 'push' | null = isBatcher(n, 'flush')
      ? 'flush'
      : isBatcher(n, 'push')
        ? 'push'
        : parent.has(id)
          ? inside(parent.get(id)!)
          : null;
    within.set(id, found);
    return found;
  };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busy = 0;
  const spent = { flush: 0, push: 0 };
  const inFlush = new Map<string, number>();
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const ms = (deltas[i] ?? 0) / 1000;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(garbage collector)') continue;
    busy += ms;
    const where = inside(node.id);
    if (!where) continue;
    spent[where] += ms;
    if (where === 'flush') {
      const label = `${name || '(anonymous)'} ${node.callFrame.url.split('/').pop() ?? ''}`;
      inFlush.set(label, (inFlush.get(label) ?? 0) + ms);
    }
  }
  const share = (ms: number) => `${((100 * ms) / busy).toFixed(1)} %`;
  return [
    `server busy ${busy.toFixed(0)} ms; frames out (flush): ${spent.flush.toFixed(0)} ms, ${share(spent.flush)}, ` +
      `${frames > 0 ? ((1000 * spent.flush) / frames).toFixed(0) : '?'} us per frame over ${frames} frames; ` +
      `events in (push): ${spent.push.toFixed(0)} ms, ${share(spent.push)}`,
    ...[...inFlush.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([label, ms]) => `${ms.toFixed(1).padStart(8)} ms  ${label}`),
  ];
}
