/**
 * Presenter mode on the page (presenter.svelte.ts) with a fake session and history: the presenter's page sends its
 * state when it changes, at most PRESENTER_SENDS_PER_SECOND a second and always the last one; a watcher's page
 * opens the presenter's run, waits for it to load, seeks, plays and pauses with it, and closes it when told.
 * The page runs sendChanges and follow in effects; here they are called after each change.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { NOT_PRESENTING, type ClientCommand, type PresenterState } from '../../shared/protocol/index.ts';
import type { HistoryController } from './history.svelte.ts';
import { PRESENTER_SENDS_PER_SECOND, PresenterController } from './presenter.svelte.ts';
import type { PlaygroundSession } from './session.svelte.ts';

interface FakeReplay {
  runId: string;
  isLoading: boolean;
  loadError: string | null;
  time: number;
  isPlaying: boolean;
  speed: number;
  seek(t: number): Promise<void>;
  play(): void;
  pause(): void;
  setSpeed(speed: number): void;
}

function fakeReplay(runId: string): FakeReplay {
  return {
    runId,
    isLoading: true,
    loadError: null,
    time: 0,
    isPlaying: false,
    speed: 1,
    seek(t) {
      this.time = t;
      return Promise.resolve();
    },
    play() {
      this.isPlaying = true;
    },
    pause() {
      this.isPlaying = false;
    },
    setSpeed(speed) {
      this.speed = speed;
    },
  };
}

function setUp(role: 'owner' | 'watcher') {
  const sent: ClientCommand[] = [];
  const session = {
    canDrive: role === 'owner',
    presenter: NOT_PRESENTING as PresenterState,
    info: { lesson: 'first-pipeline' },
    stream: { send: (command: ClientCommand) => (sent.push(command), true) },
  };
  const history = {
    replay: null as FakeReplay | null,
    opened: [] as string[],
    open(run: string) {
      this.opened.push(run);
      this.replay = fakeReplay(run);
    },
    closeReplay() {
      this.replay = null;
    },
  };
  const controller = new PresenterController(
    session as unknown as PlaygroundSession,
    history as unknown as HistoryController,
  );
  const states = () => sent.map((command) => (command.type === 'presenter:set' ? command.presenter : null));
  return { session, history, controller, states };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it('the presenter sends its state when it changes, throttled, the last one always', () => {
  const { history, controller, states } = setUp('owner');
  controller.sendChanges();
  expect(states()).toEqual([]); // not presenting, never did: nothing to say
  controller.toggle();
  controller.sendChanges();
  expect(states()).toEqual([{ presenting: true, lesson: 'first-pipeline', replay: null }]);
  controller.sendChanges();
  expect(states()).toHaveLength(1); // unchanged: not sent again

  history.open('run-1');
  const replay = history.replay!;
  replay.isLoading = false;
  // A drag: twenty moves within one throttle period; the first waits for the period, then only the last goes.
  for (let t = 1; t <= 20; t++) {
    replay.time = t * 10;
    controller.sendChanges();
  }
  expect(states()).toHaveLength(1);
  vi.advanceTimersByTime(1000 / PRESENTER_SENDS_PER_SECOND);
  expect(states()).toHaveLength(2);
  expect(states()[1]).toEqual({
    presenting: true,
    lesson: 'first-pipeline',
    replay: { run: 'run-1', t: 200, playing: false, speed: 1 },
  });

  // Playing: the playhead moving each frame is sent about once a second, not at every frame.
  replay.isPlaying = true;
  for (let frame = 0; frame < 60; frame++) {
    replay.time = 200 + frame * 16;
    controller.sendChanges();
    vi.advanceTimersByTime(16);
  }
  expect(states().length).toBeLessThanOrEqual(4);

  controller.toggle();
  controller.sendChanges();
  vi.advanceTimersByTime(1000);
  expect(states().at(-1)).toEqual(NOT_PRESENTING);
});

it('a watcher opens the presenter run once it is named, seeks once it is loaded, follows play and pause, and closes it', () => {
  const { session, history, controller } = setUp('watcher');
  controller.follow();
  expect(history.opened).toEqual([]);

  session.presenter = { presenting: true, lesson: null, replay: { run: 'run-1', t: 750, playing: false, speed: 2 } };
  controller.follow();
  expect(controller.isFollowing).toBe(true);
  expect(history.opened).toEqual(['run-1']);
  controller.follow(); // still loading: nothing to seek yet
  expect(history.replay!.time).toBe(0);
  history.replay!.isLoading = false;
  controller.follow();
  expect(history.replay).toMatchObject({ time: 750, speed: 2, isPlaying: false });

  session.presenter = { presenting: true, lesson: null, replay: { run: 'run-1', t: 760, playing: true, speed: 2 } };
  controller.follow();
  expect(history.replay).toMatchObject({ time: 750, isPlaying: true }); // a small drift while playing is left alone
  expect(history.opened).toEqual(['run-1']);

  session.presenter = { presenting: true, lesson: null, replay: null };
  controller.follow();
  expect(history.replay).toBeNull();

  // Stopped presenting: a replay the watcher opened on its own stays.
  session.presenter = NOT_PRESENTING;
  history.open('run-2');
  controller.follow();
  expect(history.replay?.runId).toBe('run-2');
  expect(controller.isFollowing).toBe(false);
});

it('the presenter does not follow its own state back', () => {
  const { session, history, controller } = setUp('owner');
  session.presenter = { presenting: true, lesson: null, replay: null };
  history.open('run-1');
  controller.follow();
  expect(history.replay?.runId).toBe('run-1');
  expect(controller.isFollowing).toBe(false);
});

it('a presenter who reloads the page finds the toggle on, says nothing until something changes, and sees another driver stop', () => {
  // A fresh page (the reload): the toggle starts off, then the stream says the playground is being presented.
  const { session, history, controller, states } = setUp('owner');
  controller.sendChanges();
  controller.adopt();
  expect(controller.isPresenting).toBe(false);
  session.presenter = {
    presenting: true,
    lesson: 'first-pipeline',
    replay: { run: 'run-1', t: 5, playing: false, speed: 1 },
  };
  controller.adopt();
  controller.sendChanges();
  expect(controller.isPresenting).toBe(true);
  expect(states()).toEqual([]); // taking the state over is not a change to announce

  // What the presenter does from now on is sent, as before the reload.
  history.open('run-2');
  history.replay!.isLoading = false;
  controller.sendChanges();
  vi.advanceTimersByTime(1000);
  expect(states()).toEqual([
    { presenting: true, lesson: 'first-pipeline', replay: { run: 'run-2', t: 0, playing: false, speed: 1 } },
  ]);
  // Its own state coming back changes nothing.
  session.presenter = states()[0]!;
  controller.adopt();
  expect(controller.isPresenting).toBe(true);

  // Another driver stopped presenting: the toggle goes off, and nothing is sent back.
  session.presenter = NOT_PRESENTING;
  controller.adopt();
  controller.sendChanges();
  vi.advanceTimersByTime(1000);
  expect(controller.isPresenting).toBe(false);
  expect(states()).toHaveLength(1);
});

it('a watcher never takes the presenter toggle', () => {
  const { session, controller } = setUp('watcher');
  session.presenter = { presenting: true, lesson: null, replay: null };
  controller.adopt();
  expect(controller.isPresenting).toBe(false);
});

it('a presenter whose page goes on in another playground it owns takes the class along', async () => {
  const { session, controller, states } = setUp('owner');
  const told: { playground: string; state: PresenterState }[] = [];
  const moving = Object.assign(session, {
    info: { id: 'pg-a', lesson: 'tutorial' } as { id: string; lesson: string },
    loadLinks: () => Promise.resolve({ watch: 'http://x/?p=pg-b&watch=tok-b', invite: 'http://x/?p=pg-b&invite=i' }),
    setPresenterOf: (playground: string, state: PresenterState) => {
      told.push({ playground, state });
      return Promise.resolve();
    },
  });
  controller.adopt();
  controller.toggle();
  controller.sendChanges();
  expect(states()).toEqual([{ presenting: true, lesson: 'tutorial', replay: null }]);

  // A lesson of another scenario: the page is now on a new playground, which says nobody presents there yet.
  moving.info = { id: 'pg-b', lesson: 'slow-joiner' };
  moving.presenter = NOT_PRESENTING;
  controller.sendChanges();
  controller.adopt();
  vi.advanceTimersByTime(1000);
  await vi.waitFor(() => expect(told).toHaveLength(2));
  expect(controller.isPresenting).toBe(true); // the new playground's "not presented" did not turn it off
  // The new playground first hears the presenter, then the one left behind sends its watchers there.
  expect(told[0]).toEqual({ playground: 'pg-b', state: { presenting: true, lesson: 'slow-joiner', replay: null } });
  expect(states()).toHaveLength(1); // not said twice (the stream only carried the state for pg-a)
  expect(told[1]).toEqual({
    playground: 'pg-a',
    state: {
      presenting: true,
      lesson: 'slow-joiner',
      replay: null,
      moved: { playground: 'pg-b', watchToken: 'tok-b' },
    },
  });

  // Its own state reaches the new playground: from then on the server's word counts again.
  moving.presenter = { presenting: true, lesson: 'slow-joiner', replay: null };
  controller.adopt();
  moving.presenter = NOT_PRESENTING; // another driver stopped it
  controller.adopt();
  expect(controller.isPresenting).toBe(false);
});

it('a watcher goes where the presenter moved, once', () => {
  const { session, history, controller } = setUp('watcher');
  const joined: string[] = [];
  Object.assign(session, {
    followTo: (playground: string, token: string) => {
      joined.push(`${playground} ${token}`);
      return Promise.resolve();
    },
  });
  history.open('run-1');
  session.presenter = {
    presenting: true,
    lesson: 'slow-joiner',
    replay: null,
    moved: { playground: 'pg-b', watchToken: 'tok-b' },
  };
  controller.follow();
  controller.follow();
  expect(joined).toEqual(['pg-b tok-b']);
  expect(history.replay).toBeNull();
});
