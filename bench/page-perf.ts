/**
 * The page under load (issue 12, "a page that keeps up"): `npx tsx bench/page-perf.ts [--seconds 10]
 * [--burst 200000] [--rounds 2] [--workers 8] [--loads interval,burst] [--profile out.cpuprofile]`.
 *
 * Uses the built page (dist/web; build it first with `npx --no-install vite build`), the real server on loopback
 * (buildApp, recording into a temp SQLite file through the writer thread, as `npm start` records) and Debian's Chromium through playwright-core. One pipeline
 * playground with --workers built-in workers (tcp, ipc, inproc in turn, no work time) and two loads:
 *   interval: the ventilator at interval 1 ms, --seconds × 1,000 tasks;
 *   burst:    --burst tasks at interval 0.
 * Each load runs --rounds times with the page open on the playground and --rounds times without (the tab on
 * about:blank), alternating which side goes first. With the page open it measures, inside the page, from the run's
 * start to its end: frames (requestAnimationFrame deltas: fps, p50, p95), long tasks (PerformanceObserver), the
 * main thread's busy fraction (CDP Performance.getMetrics TaskDuration over the wall time) and event-to-pixel
 * latency: the page calls `globalThis.zpgDrawnProbe(run, t, now)` when a frame first draws run time t with every
 * event up to t folded in (web/lib/flight-plan.svelte.ts); an event the server stamped at run time s is drawn in
 * the first frame whose t ≥ s, and its latency is that frame's wall time minus the run's start plus s (server and
 * browser share this machine's clock). Every run's rate (tasks done per second of the run) is taken from the
 * server's run detail, with and without the page. Medians of the rounds are printed as a table.
 * --profile writes a Chromium CPU profile (CDP Profiler) of the first run with the page open (--loads burst for the burst) and prints its top
 * self-time functions. --trace records a Chromium trace (CDP Tracing, devtools.timeline) of the same run and prints
 * the main thread's time per kind of work (script, style, layout, paint, ...); --trace-file FILE also saves it (Perfetto
 * opens it). --css '<rules>' adds a style sheet to
 * the page (to see what a part costs: `--css '[data-testid=dots]{display:none}'`). --web DIR serves another build of
 * the page (an older commit's `vite build --outDir DIR`), to compare two pages on the same machine in turns.
 * Each run with the page counts the frames it received by form (binary task frames, text: SPEC [W5]);
 * --server-profile FILE profiles this process's main thread (the server) over the first run with the page and
 * prints what its live stream cost (EventBatcher.flush and push, page-perf-devtools.ts).
 * Bounded: every wait has a limit, at most 2 × rounds runs per load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import inspector from 'node:inspector/promises';
import { startTrace, streamCostOfProfile, topOfProfile, type CpuProfile } from './page-perf-devtools.ts';
import * as zmq from 'zeromq';
import type { PlaygroundInfo, RunDetail } from '../shared/protocol/index.ts';
import { DEFAULT_STATIC_DIR, buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { CHROMIUM_ARGS, chromiumPath, waitConnected } from '../e2e/harness.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    burst: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '2' },
    workers: { type: 'string', default: '8' },
    loads: { type: 'string', default: 'interval,burst' },
    profile: { type: 'string' },
    'server-profile': { type: 'string' },
    trace: { type: 'boolean', default: false },
    'trace-file': { type: 'string' },
    css: { type: 'string' },
    web: { type: 'string' },
    dump: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Math.max(1, Number(values.rounds));
const WORKERS = Math.max(1, Number(values.workers));
/** The longest one run may take before the bench gives up on it. */
const RUN_LIMIT_MS = 240_000;

interface Load {
  name: string;
  label: string;
  params: { intervalMs: number; tasks: number };
}
const LOADS: Load[] = [
  {
    name: 'interval',
    label: `${WORKERS} workers, interval 1 ms`,
    params: { intervalMs: 1, tasks: Math.round(SECONDS * 1000) },
  },
  {
    name: 'burst',
    label: `${Number(values.burst).toLocaleString('en')}-task burst`,
    params: { intervalMs: 0, tasks: Number(values.burst) },
  },
].filter((load) => values.loads.split(',').includes(load.name));

/** What the page measured over one run. */
interface PageSample {
  fps: number;
  p50: number;
  p95: number;
  busy: number;
  /** Of the busy fraction: script, style recalculation, layout (CDP's ScriptDuration etc.). */
  script: number;
  style: number;
  layout: number;
  longTasks: number;
  longTasksPer30s: number;
  e2pP50: number;
  e2pP95: number;
  /** The delivery's share: from the event's stamp to the frame carrying it (or a newer one) reaching the page. */
  arrivalP50: number;
  arrivalP95: number;
  /** The live clock's lag (web/lib/run-clock.svelte.ts), median over the frames. */
  lag: number;
  /** Cores used by Chromium (all its processes) and by this process (the server) over the run. */
  chromiumCores: number;
  serverCores: number;
  /** The server's event loop delay p95 (ms) over the run: how late its timers (the stream's frames) fire. */
  loopDelayP95: number;
  /**
   * Frames per second that drew newer run time (the drawn-time probe's calls): at most the page's own drawing rate
   * (~30 while the stream is sampled: frame-loop.svelte.ts), where `fps` counts every frame the browser made.
   */
  drawnFps: number;
  /** WebSocket messages the page received over the run: binary (task frames, SPEC [W5]) and text. */
  binaryFrames: number;
  textFrames: number;
}

/**
 * Runs in the page; a string, not a function (tsx's keepNames would wrap inner functions in a `__name` helper the
 * page does not have). Starts collecting frames, long tasks and the drawn-time probe's calls.
 */
const START_IN_PAGE = `(() => {
  const perf = { frames: [], long: [], longAt: [], drawn: [], arrived: [], isOn: true };
  globalThis.zpgPerf = perf;
  globalThis.zpgDrawnProbe = (run, t, now) => { if (perf.isOn) perf.drawn.push([run, t, now]); };
  globalThis.zpgArrivalProbe = (run, t, now, lag) => { if (perf.isOn) perf.arrived.push([run, t, now, lag]); };
  perf.observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) { perf.long.push(e.duration); perf.longAt.push([e.startTime, e.duration]); } });
  try { perf.observer.observe({ type: 'longtask', buffered: false }); } catch {}
  requestAnimationFrame(function frame(now) {
    if (!perf.isOn) return;
    perf.frames.push(now);
    requestAnimationFrame(frame);
  });
})()`;

const STOP_IN_PAGE = `(() => {
  const perf = globalThis.zpgPerf;
  perf.isOn = false;
  perf.observer.disconnect();
  globalThis.zpgDrawnProbe = undefined;
  globalThis.zpgArrivalProbe = undefined;
  return { frames: perf.frames, long: perf.long, longAt: perf.longAt, drawn: perf.drawn, arrived: perf.arrived, timeOrigin: performance.timeOrigin };
})()`;

interface PageRaw {
  frames: number[];
  long: number[];
  /** Long tasks' start (page time) and duration, for --dump. */
  longAt: [number, number][];
  drawn: [string, number, number][];
  /** Frames of events as they reached the page: run, run time of their newest event, arrival, the clock's lag then (zpgArrivalProbe). */
  arrived: [string, number, number, number?][];
  timeOrigin: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (xs: readonly number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/**
 * Event-to-pixel latencies of run `run`: every millisecond of run time from the first drawn moment to the last
 * stands for the events stamped then (a steady load spreads them evenly), drawn by the first frame that reached it.
 */
function eventToPixel(
  raw: PageRaw,
  run: string,
  runStartWall: number,
  calls: readonly (readonly [string, number, number, number?])[] = raw.drawn,
): number[] {
  const drawn = calls.filter(([r]) => r === run);
  const latencies: number[] = [];
  let i = 0;
  const first = drawn[0]?.[1] ?? 0;
  const last = drawn.at(-1)?.[1] ?? 0;
  for (let s = Math.ceil(first); s <= last; s++) {
    while (i < drawn.length && drawn[i]![1] < s) i++;
    if (i >= drawn.length) break;
    latencies.push(raw.timeOrigin + drawn[i]![2] - (runStartWall + s));
  }
  return latencies;
}

/**
 * --dump FILE: appends one JSON line per run with the page: the run's start, its length and, per millisecond of run
 * time, when it was drawn and when it arrived (ms after the event), to see where in the run a latency tail sits.
 */
function dumpRun(
  file: string,
  load: string,
  detail: RunDetail,
  raw: PageRaw,
  serverLate: readonly (readonly [number, number])[],
): void {
  const start = Date.parse(detail.startedAt);
  const line = {
    load,
    run: detail.id,
    durationMs: detail.summary.durationMs,
    drawn: eventToPixel(raw, detail.id, start).map(Math.round),
    arrived: eventToPixel(raw, detail.id, start, raw.arrived).map(Math.round),
    firstDrawn: raw.drawn.find(([r]) => r === detail.id)?.[1] ?? null,
    firstArrived: raw.arrived.find(([r]) => r === detail.id)?.[1] ?? null,
    /** Run time and length (ms) of the page's long tasks and of the server's late timer ticks (over 20 ms). */
    pageLongTasks: raw.longAt.map(([at, ms]) => [Math.round(raw.timeOrigin + at - start), Math.round(ms)]),
    serverLate: serverLate.map(([at, ms]) => [Math.round(at - start), Math.round(ms)]),
  };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const answer = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return Object.fromEntries(answer.metrics.map((m) => [m.name, m.value]));
}

/** The server on loopback (recording into a temp file, as `npm start` does) and one Chromium tab, on any page build. */
interface Bench {
  baseUrl: string;
  page: Page;
  pageErrors: string[];
  api<T>(apiPath: string, method?: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
  /** CPU seconds used so far by Chromium (the browser process started for this bench and its descendants). */
  chromiumCpu(): number;
}

/** CPU seconds (user + system) of the process whose command line names `marker`, and of all its descendants. */
function treeCpuSeconds(marker: string): number {
  const ticks = 100; // USER_HZ on Linux
  const procs: { pid: number; ppid: number; cpu: number; cmd: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command's closing parenthesis: state ppid ... utime(14) stime(15), 1-based over the line.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      procs.push({ pid: Number(name), ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / ticks, cmd });
    } catch {
      // The process ended while being read.
    }
  }
  const inTree = new Set(procs.filter((p) => p.cmd.includes(marker) && !p.cmd.includes('page-perf')).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
  }
  return procs.filter((p) => inTree.has(p.pid)).reduce((sum, p) => sum + p.cpu, 0);
}

async function startBench(staticDir: string): Promise<Bench> {
  if (!fs.existsSync(path.join(staticDir, 'index.html')))
    throw new Error(`no page in ${staticDir}: build it first (npx --no-install vite build)`);
  zmq.context.blocky = false;
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-page-perf-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chromium-'));
  // A file, not ':memory:': a file store writes in the recorder's writer thread as the real server's does, while
  // ':memory:' writes on the main thread (about 17 % of the server's busy time in a burst), which would charge the
  // page's figures with a cost the server does not have.
  const app = await buildApp({
    store: path.join(runtimeDir, 'page-perf.db'),
    policy: defaultPolicy({ runtimeDir }),
    staticDir,
  });
  const baseUrl = `${await app.listen({ host: '127.0.0.1', port: 0 })}/`;
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    baseUrl,
    page,
    pageErrors,
    async api<T>(apiPath: string, method = 'GET', body?: unknown): Promise<T> {
      const response = await context.request.fetch(`${baseUrl}${apiPath}`, {
        method,
        ...(body === undefined ? {} : { data: body }),
      });
      if (!response.ok()) throw new Error(`${method} ${apiPath}: HTTP ${response.status()} ${await response.text()}`);
      return (await response.json()) as T;
    },
    chromiumCpu: () => treeCpuSeconds(profileDir),
    async close() {
      await context.close().catch(() => {});
      await app.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
      fs.rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
}

/** Starts a run and waits (bounded) until the server says it ended; returns its detail. */
async function runToEnd(harness: Bench, playground: string, params: Load['params']): Promise<RunDetail> {
  const { run } = await harness.api<{ run: string }>(`api/playgrounds/${playground}/runs`, 'POST', { params });
  const deadline = Date.now() + RUN_LIMIT_MS;
  for (;;) {
    const detail = await harness.api<RunDetail>(`api/playgrounds/${playground}/runs/${run}`);
    if (detail.endedAt !== null) return detail;
    if (Date.now() > deadline) throw new Error(`run ${run} did not end within ${RUN_LIMIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Tasks the workers finished per second of the run. */
function rateOf(detail: RunDetail): number {
  const done = Object.values(detail.summary.done).reduce((a, b) => a + b, 0);
  return done / (detail.summary.durationMs / 1000);
}

async function withPage(
  harness: Bench,
  page: Page,
  playground: string,
  load: Load,
  profileTo: string | null,
  isTraced: boolean,
  serverProfileTo: string | null = null,
): Promise<{ sample: PageSample; rate: number }> {
  const cdp = await page.context().newCDPSession(page);
  // The server's own CPU profile (this process's main thread), to see what the live stream costs it.
  const inspectorSession = serverProfileTo ? new inspector.Session() : null;
  try {
    if (inspectorSession) {
      inspectorSession.connect();
      await inspectorSession.post('Profiler.enable');
      await inspectorSession.post('Profiler.setSamplingInterval', { interval: 200 });
      await inspectorSession.post('Profiler.start');
    }
    await cdp.send('Performance.enable');
    // Which form the stream's frames took (binary task frames or JSON), from the page's network events.
    const received = { binary: 0, text: 0 };
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketFrameReceived', (event: { response: { opcode: number } }) => {
      if (event.response.opcode === 2) received.binary++;
      else received.text++;
    });
    if (profileTo) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    const endTrace = isTraced ? await startTrace(cdp, values['trace-file']) : null;
    await page.evaluate(START_IN_PAGE);
    const before = await metrics(cdp);
    const chromiumBefore = harness.chromiumCpu();
    const serverBefore = process.cpuUsage();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    // For --dump: when the server's event loop was late (a 10 ms tick that came more than 20 ms late).
    const serverLate: [number, number][] = [];
    let tickDue = Date.now() + 10;
    const ticker = values.dump
      ? setInterval(() => {
          const late = Date.now() - tickDue;
          if (late > 20) serverLate.push([tickDue, late]);
          tickDue = Date.now() + 10;
        }, 10)
      : null;
    const wallStart = performance.now();
    const detail = await runToEnd(harness, playground, load.params);
    const wallMs = performance.now() - wallStart;
    const serverUsed = process.cpuUsage(serverBefore);
    const chromiumUsed = harness.chromiumCpu() - chromiumBefore;
    loopDelay.disable();
    if (ticker) clearInterval(ticker);
    const after = await metrics(cdp);
    const raw = (await page.evaluate(STOP_IN_PAGE)) as PageRaw;
    if (endTrace) await endTrace();
    if (inspectorSession && serverProfileTo) {
      const { profile } = (await inspectorSession.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      fs.writeFileSync(serverProfileTo, JSON.stringify(profile));
      console.log(`CPU profile of the server (${load.label}) written to ${serverProfileTo}; its live stream:`);
      for (const line of streamCostOfProfile(profile, received.binary + received.text)) console.log(line);
    }
    if (profileTo) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
      fs.writeFileSync(profileTo, JSON.stringify(profile));
      console.log(`CPU profile of the page (${load.label}) written to ${profileTo}; top self time:`);
      for (const line of topOfProfile(profile)) console.log(line);
    }
    const deltas = raw.frames.slice(1).map((t, i) => t - raw.frames[i]!);
    const sorted = deltas.sort((a, b) => a - b);
    const seconds = wallMs / 1000;
    const spent = (metric: string) => ((after[metric] ?? 0) - (before[metric] ?? 0)) / seconds;
    const e2p = eventToPixel(raw, detail.id, Date.parse(detail.startedAt)).sort((a, b) => a - b);
    const arrival = eventToPixel(raw, detail.id, Date.parse(detail.startedAt), raw.arrived).sort((a, b) => a - b);
    if (values.dump) dumpRun(values.dump, load.name, detail, raw, serverLate);
    return {
      sample: {
        fps: raw.frames.length / seconds,
        drawnFps: raw.drawn.filter(([r]) => r === detail.id).length / seconds,
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
        busy: spent('TaskDuration'),
        script: spent('ScriptDuration'),
        style: spent('RecalcStyleDuration'),
        layout: spent('LayoutDuration'),
        longTasks: raw.long.length,
        longTasksPer30s: (raw.long.length * 30) / seconds,
        e2pP50: quantile(e2p, 0.5),
        e2pP95: quantile(e2p, 0.95),
        arrivalP50: quantile(arrival, 0.5),
        arrivalP95: quantile(arrival, 0.95),
        lag: median(raw.arrived.map((a) => a[3] ?? NaN)),
        chromiumCores: chromiumUsed / seconds,
        serverCores: (serverUsed.user + serverUsed.system) / 1e6 / seconds,
        loopDelayP95: loopDelay.percentile(95) / 1e6,
        binaryFrames: received.binary,
        textFrames: received.text,
      },
      rate: rateOf(detail),
    };
  } finally {
    inspectorSession?.disconnect();
    await cdp.detach().catch(() => {});
  }
}

async function openPlayground(page: Page, baseUrl: string, playground: string): Promise<void> {
  await page.goto(`${baseUrl}?p=${playground}`);
  await waitConnected(page);
  if (values.css) await page.addStyleTag({ content: values.css });
  await page.getByTestId(`worker-row-worker-${WORKERS}`).waitFor({ timeout: 15_000 });
}

const harness = await startBench(values.web ? path.resolve(values.web) : DEFAULT_STATIC_DIR);
try {
  const info = await harness.api<PlaygroundInfo>('api/playgrounds', 'POST', { scenario: 'pipeline' });
  const transports = ['tcp', 'ipc', 'inproc'] as const;
  for (let i = info.workers.length + 1; i <= WORKERS; i++) {
    await harness.api(`api/playgrounds/${info.id}/workers`, 'POST', {
      transport: transports[i % 3],
      workMs: { min: 0, max: 0 },
    });
  }
  const page = harness.page;
  let profileTo = values.profile ?? null;
  let serverProfileTo = values['server-profile'] ?? null;
  let isTraced = values.trace || values['trace-file'] !== undefined;
  const rows: string[][] = [];
  for (const load of LOADS) {
    const samples: PageSample[] = [];
    const ratesWith: number[] = [];
    const ratesWithout: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sides = round % 2 === 0 ? ['with', 'without'] : ['without', 'with'];
      for (const side of sides) {
        if (side === 'with') {
          await openPlayground(page, harness.baseUrl, info.id);
          const { sample, rate } = await withPage(harness, page, info.id, load, profileTo, isTraced, serverProfileTo);
          [profileTo, isTraced, serverProfileTo] = [null, false, null];
          samples.push(sample);
          ratesWith.push(rate);
          console.log(
            `${load.name} round ${round + 1} with page: ${Math.round(rate)} tasks/s, ${sample.fps.toFixed(1)} fps ` +
              `(${sample.drawnFps.toFixed(1)} drawing the run), ` +
              `p95 ${sample.p95.toFixed(1)} ms, busy ${(100 * sample.busy).toFixed(0)} % ` +
              `(script ${(100 * sample.script).toFixed(0)}, style ${(100 * sample.style).toFixed(0)}, layout ${(100 * sample.layout).toFixed(0)}), e2p p50/p95 ${sample.e2pP50.toFixed(0)}/${sample.e2pP95.toFixed(0)} ms (arrival ${sample.arrivalP50.toFixed(0)}/${sample.arrivalP95.toFixed(0)}, lag ${sample.lag.toFixed(0)}), ` +
              `CPU: Chromium ${sample.chromiumCores.toFixed(2)} cores, server ${sample.serverCores.toFixed(2)}, ` +
              `server event loop delay p95 ${sample.loopDelayP95.toFixed(0)} ms, ` +
              `frames received: ${sample.binaryFrames} binary, ${sample.textFrames} text`,
          );
        } else {
          await page.goto('about:blank');
          const serverBefore = process.cpuUsage();
          const wallStart = performance.now();
          const rate = rateOf(await runToEnd(harness, info.id, load.params));
          const used = process.cpuUsage(serverBefore);
          const cores = (used.user + used.system) / 1e3 / (performance.now() - wallStart);
          ratesWithout.push(rate);
          console.log(
            `${load.name} round ${round + 1} without page: ${Math.round(rate)} tasks/s, CPU: server ${cores.toFixed(2)} cores`,
          );
        }
      }
    }
    const m = (pick: (s: PageSample) => number) => median(samples.map(pick));
    rows.push([
      load.label,
      m((s) => s.fps).toFixed(1),
      `${m((s) => s.p50).toFixed(1)} / ${m((s) => s.p95).toFixed(1)}`,
      `${(100 * m((s) => s.busy)).toFixed(0)} %`,
      m((s) => s.longTasksPer30s).toFixed(0),
      `${m((s) => s.e2pP50).toFixed(0)} / ${m((s) => s.e2pP95).toFixed(0)}`,
      `${m((s) => s.arrivalP50).toFixed(0)} / ${m((s) => s.arrivalP95).toFixed(0)}`,
      `${Math.round(median(ratesWith))} / ${Math.round(median(ratesWithout))}`,
      (median(ratesWith) / median(ratesWithout)).toFixed(2),
    ]);
  }
  const head = [
    'load',
    'fps',
    'frame p50 / p95 ms',
    'main thread busy',
    'long tasks / 30 s',
    'event-to-pixel p50 / p95 ms',
    'of which arrival p50 / p95 ms',
    'tasks/s with / without page',
    'ratio',
  ];
  console.log(`\nmedians of ${ROUNDS} round(s) each side\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  if (harness.pageErrors.length > 0) console.log('page errors:', harness.pageErrors);
} finally {
  await harness.close();
}
