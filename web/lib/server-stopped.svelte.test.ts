/**
 * Issue 13: the server holding the page's playground stops (a course site's instance behind the proxy). The stream
 * closes and its reconnections fail; the session then asks for the playground, and the proxy's 503 (its JSON
 * PG_ERR_INSTANCE_DOWN, or a bare 502/503/504 from another proxy) makes it stop reconnecting and say that the
 * playground's server stopped; a new playground is one action away. Without a proxy (a network error: the whole
 * site is down) it keeps reconnecting as before. The patterns page's GraphSession says it too.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type PlaygroundInfo, type ServerMessage } from '../../shared/protocol/index.ts';
import { VALID_SERVER_MESSAGES } from '../../shared/protocol/fixtures.ts';
import { FakeFetch, ScriptedSocket, SteppedFrames, stubPage } from '../../test/page-fakes.ts';
import { PlaygroundSession } from './session.svelte.ts';
import { GraphSession } from './graph-session.svelte.ts';
import { ApiError } from './api.ts';
import type { GraphPlaygroundInfo } from '../../shared/protocol/graph-stream.ts';

const template = (VALID_SERVER_MESSAGES.hello as Extract<ServerMessage, { type: 'hello' }>).playground;
const playground = (id: string): PlaygroundInfo => ({ ...structuredClone(template), id });

describe('PlaygroundSession when its server stops', () => {
  let fetch: FakeFetch;
  let frames: SteppedFrames;
  let sockets: ScriptedSocket[];
  let session: PlaygroundSession;
  let page: { readonly href: string };

  beforeEach(() => {
    fetch = new FakeFetch();
    frames = new SteppedFrames();
    sockets = [];
    vi.stubGlobal('fetch', fetch.fetch);
    fetch.on('GET', '/api/scenarios', () => ({ body: [] }));
  });
  afterEach(() => {
    session?.close();
    vi.unstubAllGlobals();
  });

  /**
   * A session on playground a.pg-1 (as `info` says), connected; then its server dies: the stream closes, every
   * reconnection fails.
   */
  async function connectedThenServerDies(info: PlaygroundInfo = playground('a.pg-1')): Promise<void> {
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: info }));
    page = stubPage('http://127.0.0.1:8080/');
    session = new PlaygroundSession({
      loop: frames.loop,
      createSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        // Every socket after the first fails to connect, as a handshake the proxy answers with 503 does.
        if (sockets.length > 1) queueMicrotask(() => socket.onclose?.({} as CloseEvent));
        return socket;
      },
    });
    session.start();
    await vi.waitUntil(() => sockets.length === 1, { timeout: 2000, interval: 5 });
    sockets[0]!.open();
    sockets[0]!.deliver({ type: 'hello', protocolVersion: PROTOCOL_VERSION, playground: info });
    expect(session.connection).toBe('connected');
    sockets[0]!.onclose?.({} as CloseEvent);
  }

  it("says the playground's server stopped on the proxy's PG_ERR_INSTANCE_DOWN, stops reconnecting, and opens a new one", async () => {
    fetch.on('GET', '/api/playgrounds/a.pg-1', () => ({
      status: 503,
      body: { code: 'PG_ERR_INSTANCE_DOWN', message: 'The server that held this playground has stopped.' },
    }));
    await connectedThenServerDies();
    // Two failed reconnections (about 0.5 s and 1 s apart), then the question to the proxy.
    await vi.waitUntil(() => session.serverStopped !== null, { timeout: 10_000, interval: 20 });
    expect(session.serverStopped).toEqual({ playground: 'a.pg-1' });
    expect(session.connection).toBe('closed');
    const socketsWhenStopped = sockets.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sockets.length).toBe(socketsWhenStopped);
    // No playground was made behind the visitor's back: the notice offers one.
    expect(fetch.changes().filter((call) => call.path === '/api/playgrounds')).toHaveLength(1);

    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground('b.pg-2') }));
    const opening = session.openNewAfterStop();
    await vi.waitUntil(() => sockets.length > socketsWhenStopped, { timeout: 2000, interval: 5 });
    await opening;
    expect(session.serverStopped).toBeNull();
    expect(session.info?.id).toBe('b.pg-2');
    expect(new URL(page.href).searchParams.get('p')).toBe('b.pg-2');
    expect(sockets.at(-1)!.url).toBe('ws://127.0.0.1:8080/api/playgrounds/b.pg-2/stream');
  });

  it('does not say a run is running once the server that ran it stopped: the badge says it was cut short', async () => {
    fetch.on('GET', '/api/playgrounds/a.pg-1', () => ({
      status: 503,
      body: { code: 'PG_ERR_INSTANCE_DOWN', message: 'The server that held this playground has stopped.' },
    }));
    // The server said a run is in progress when the page connected.
    await connectedThenServerDies({ ...playground('a.pg-1'), activeRun: 'run-1' });
    expect(session.runStateKey).toBe('running');
    await vi.waitUntil(() => session.serverStopped !== null, { timeout: 10_000, interval: 20 });
    expect(session.isRunActive).toBe(false);
    expect(session.runStateKey).toBe('interrupted');
    // A new playground starts idle.
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground('b.pg-2') }));
    await session.openNewAfterStop();
    expect(session.runStateKey).toBe('idle');
  });

  it('asks again when its question hangs (the dying server accepted it and never answers), and then says so', async () => {
    let probes = 0;
    fetch.on('GET', '/api/playgrounds/a.pg-1', () => {
      probes++;
      if (probes === 1) return new Promise<never>(() => {});
      return {
        status: 503,
        body: { code: 'PG_ERR_INSTANCE_DOWN', message: 'The server that held this playground has stopped.' },
      };
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await connectedThenServerDies();
      // The reconnections keep failing; the first question never gets an answer.
      for (let elapsed = 0; elapsed < 60_000 && session.serverStopped === null; elapsed += 250)
        await vi.advanceTimersByTimeAsync(250);
    } finally {
      vi.useRealTimers();
    }
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(session.serverStopped).toEqual({ playground: 'a.pg-1' });
    expect(session.connection).toBe('closed');
  });

  it('takes a bare 502 from another proxy (nginx) the same way', async () => {
    fetch.on('GET', '/api/playgrounds/a.pg-1', () => ({ status: 502 }));
    await connectedThenServerDies();
    await vi.waitUntil(() => session.serverStopped !== null, { timeout: 10_000, interval: 20 });
    expect(session.serverStopped).toEqual({ playground: 'a.pg-1' });
  });

  it('keeps reconnecting when the server cannot be reached at all (no proxy: the whole site is down)', async () => {
    let probes = 0;
    fetch.on('GET', '/api/playgrounds/a.pg-1', () => {
      probes++;
      throw new TypeError('Failed to fetch');
    });
    await connectedThenServerDies();
    await vi.waitUntil(() => probes > 0, { timeout: 10_000, interval: 20 });
    const socketsAfterProbe = sockets.length;
    await vi.waitUntil(() => sockets.length > socketsAfterProbe, { timeout: 15_000, interval: 20 });
    expect(session.serverStopped).toBeNull();
    expect(session.connection).toBe('reconnecting');
  });
});

describe('GraphSession when its server stops', () => {
  const graphInfo: GraphPlaygroundInfo = {
    id: 'a.gr-1',
    kind: 'graph',
    scenario: 'series-1',
    title: 'pair',
    graph: { title: 'pair', nodes: [], links: [] },
    notes: [],
    allowIncompatible: false,
    activeRun: null,
    lastRun: null,
    lastSeq: 0,
    capabilities: { pgm: false },
  };

  async function graphSessionWhoseServerDies(probe: () => unknown): Promise<{
    session: GraphSession;
    sockets: ScriptedSocket[];
  }> {
    const sockets: ScriptedSocket[] = [];
    const session = new GraphSession({
      request: async (method, path) => {
        if (path === '/api/graph-scenarios') return [];
        if (path === '/api/graphs') return [graphInfo];
        if (method === 'GET' && path === '/api/graphs/a.gr-1') return probe();
        throw new ApiError('PG_ERR_NOT_FOUND', `${method} ${path}`, 404);
      },
      createSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        if (sockets.length > 1) queueMicrotask(() => socket.onclose?.({} as CloseEvent));
        return socket;
      },
      streamUrl: (id) => `ws://127.0.0.1:8080/api/graphs/${id}/stream`,
    });
    await session.open('series-1');
    expect(sockets).toHaveLength(1);
    sockets[0]!.open();
    sockets[0]!.deliver({ type: 'hello', protocolVersion: PROTOCOL_VERSION, graph: graphInfo } as never);
    expect(session.connection).toBe('connected');
    sockets[0]!.onclose?.({} as CloseEvent);
    return { session, sockets };
  }

  it("says the graph playground's server stopped on the proxy's 503, and stops reconnecting", async () => {
    const { session, sockets } = await graphSessionWhoseServerDies(() => {
      throw new ApiError('PG_ERR_INSTANCE_DOWN', 'The server that held this playground has stopped.', 503);
    });
    try {
      await vi.waitUntil(() => session.serverStopped !== null, { timeout: 10_000, interval: 20 });
      expect(session.serverStopped).toEqual({ playground: 'a.gr-1' });
      expect(session.connection).toBe('closed');
      expect(session.error?.code).toBe('PG_ERR_INSTANCE_DOWN');
      expect(session.error?.message).toContain('recorded runs are safe');
      const socketsWhenStopped = sockets.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(sockets.length).toBe(socketsWhenStopped);
    } finally {
      session.close();
    }
  });

  it('gives up on a stream attempt that hangs, and so still asks and says the server stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sockets: ScriptedSocket[] = [];
    const session = new GraphSession({
      request: async (method, path) => {
        if (path === '/api/graph-scenarios') return [];
        if (path === '/api/graphs') return [graphInfo];
        if (method === 'GET' && path === '/api/graphs/a.gr-1')
          throw new ApiError('PG_ERR_INSTANCE_DOWN', 'The server that held this playground has stopped.', 503);
        throw new ApiError('PG_ERR_NOT_FOUND', `${method} ${path}`, 404);
      },
      // Every attempt after the first hangs: the server accepted it and never answers.
      createSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        return socket;
      },
      streamUrl: (id) => `ws://127.0.0.1:8080/api/graphs/${id}/stream`,
    });
    try {
      await session.open('series-1');
      sockets[0]!.open();
      sockets[0]!.deliver({ type: 'hello', protocolVersion: PROTOCOL_VERSION, graph: graphInfo } as never);
      sockets[0]!.onclose?.({} as CloseEvent);
      for (let elapsed = 0; elapsed < 60_000 && session.serverStopped === null; elapsed += 250)
        await vi.advanceTimersByTimeAsync(250);
      expect(session.serverStopped).toEqual({ playground: 'a.gr-1' });
      expect(session.connection).toBe('closed');
    } finally {
      session.close();
      vi.useRealTimers();
    }
  });

  it('keeps reconnecting while its server answers (a passing network failure)', async () => {
    let probes = 0;
    const { session, sockets } = await graphSessionWhoseServerDies(() => {
      probes++;
      return graphInfo;
    });
    try {
      await vi.waitUntil(() => probes > 0, { timeout: 10_000, interval: 20 });
      const socketsAfterProbe = sockets.length;
      await vi.waitUntil(() => sockets.length > socketsAfterProbe, { timeout: 15_000, interval: 20 });
      expect(session.serverStopped).toBeNull();
    } finally {
      session.close();
    }
  });
});
