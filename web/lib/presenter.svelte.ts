/**
 * Presenter mode (issue 9): a teacher's page tells the playground's watchers what to look at, and a watcher's page
 * follows it. The state is the protocol's PresenterState (SPEC [S6]): the lesson picked, and the recorded run open
 * in replay with its playhead, playing or paused, at a speed.
 *
 * - The presenter (an owner or driver that pressed "Present to watchers") sends its state when it changes, at most
 *   PRESENTER_SENDS_PER_SECOND times a second; the last state always goes out. While a replay plays, the playhead
 *   moves every frame: it is sent once a second, each watcher's own clock moves it in between.
 * - A watcher applies every state the server announces: it opens the same run in replay (the history controller's
 *   open), seeks to the presenter's moment, plays, pauses and changes speed with it, and goes back to the live view
 *   when the presenter closes the replay or stops presenting.
 * - A page that may drive takes whether the playground is being presented from the server (adopt): a presenter who
 *   reloads the page finds the toggle on, and it goes off when another driver stops presenting. Taking it over
 *   sends nothing; what the page changes from then on is sent.
 * - A presenter whose page goes on in another playground it owns (a lesson of another scenario, the sandbox)
 *   takes the class along: the playground it left says `moved` with the new one's watch token, the watchers' pages
 *   join it and follow there, and the presenter presents in it.
 */
import { untrack } from 'svelte';
import type { PresenterState } from '../../shared/protocol/index.ts';
import type { HistoryController } from './history.svelte.ts';
import type { PlaygroundSession } from './session.svelte.ts';

/** The most presenter states a page sends in a second (the server's per-connection command limit is above it). */
export const PRESENTER_SENDS_PER_SECOND = 10;
/** While playing, how often the presenter's moving playhead is sent again. */
const PLAYING_RESEND_MS = 1000;
/** A following replay that plays is put back on the presenter's playhead only past this drift (ms of run time, per 1x). */
const PLAYING_DRIFT_MS = 300;
/** When the page has no open stream yet, how long before it tries to send again. */
const RETRY_MS = 500;

export class PresenterController {
  /** This page presents (only an owner or driver may). */
  isPresenting = $state(false);
  readonly #session: PlaygroundSession;
  readonly #history: HistoryController;
  /** The state last handed to the throttle, as compared (a playing playhead rounded to PLAYING_RESEND_MS). */
  #lastKey = '';
  #waiting: PresenterState | null = null;
  #lastSentAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The run this page opened because the presenter did (closed again when the presenter stops). */
  #followedRun: string | null = null;
  /** The server's presenter state this page last took `presenting` from (adopt). */
  #adopted: PresenterState | null = null;
  /** The playground this page was on when adopt last ran (a change while presenting takes the class along). */
  #playground: string | null = null;
  /** Gone on in another playground: it says "not presented" until this page's state has reached it. */
  #movingOn = false;
  /** The playground a watcher's page is joining because the presenter moved there. */
  #joining: string | null = null;

  constructor(session: PlaygroundSession, history: HistoryController) {
    this.#session = session;
    this.#history = history;
  }

  /** A watcher following a presenter who presents now. */
  get isFollowing(): boolean {
    return !this.#session.canDrive && this.#session.presenter.presenting;
  }

  /** The lesson the presenter picked, while following. */
  get followedLesson(): string | null {
    return this.isFollowing ? this.#session.presenter.lesson : null;
  }

  toggle(): void {
    if (!this.#session.canDrive) return;
    this.isPresenting = !this.isPresenting;
  }

  /** The presenter's side; call it from an $effect: it reads what the watchers follow and sends it when it changed. */
  sendChanges(): void {
    if (!this.#session.canDrive) return;
    const state = this.#state();
    const key = changeKey(state);
    if (key === this.#lastKey) return;
    // Nothing to say while not presenting, except once that it stopped (the key's first value is '').
    if (!state.presenting && this.#lastKey === '') return;
    this.#lastKey = key;
    this.#waiting = state;
    untrack(() => this.#flush());
  }

  /**
   * A driver's side; call it from an $effect: when the server says the playground is (or is no longer) presented
   * and this page thinks otherwise, the toggle follows the server. Its own state coming back changes nothing.
   */
  adopt(): void {
    const announced = this.#session.presenter;
    const playground = this.#session.info?.id ?? null;
    if (!this.#session.canDrive) return;
    untrack(() => {
      if (playground !== this.#playground) {
        const left = this.#playground;
        this.#playground = playground;
        if (left !== null && playground !== null && this.isPresenting) this.#moveOn(left, playground);
      }
      if (announced === this.#adopted) return;
      this.#adopted = announced;
      if (this.#movingOn) {
        if (announced.presenting) this.#movingOn = false;
        return;
      }
      if (announced.presenting === this.isPresenting) return;
      this.isPresenting = announced.presenting;
      // What the page shows now counts as said: only what changes from here on is sent.
      this.#lastKey = changeKey(this.#state());
    });
  }

  /** The watcher's side; call it from an $effect: it puts this page where the presenter is. */
  follow(): void {
    const wanted = this.#session.presenter;
    const history = this.#history;
    if (this.#session.canDrive) return; // a presenter's own state comes back to it: nothing to follow
    const replay = history.replay;
    if (wanted.presenting && wanted.moved) {
      // The presenter went on in another playground: this page joins it there (once).
      const { playground, watchToken } = wanted.moved;
      if (this.#joining === playground) return;
      this.#joining = playground;
      untrack(() => {
        if (replay) history.closeReplay(false);
        void this.#session.followTo(playground, watchToken);
      });
      return;
    }
    if (!wanted.presenting || !wanted.replay) {
      // The presenter closed its replay (or stopped): back to the live view, if the replay was the presenter's.
      if (replay && (wanted.presenting || replay.runId === this.#followedRun))
        untrack(() => history.closeReplay(false));
      this.#followedRun = null;
      return;
    }
    const target = wanted.replay;
    if (replay?.runId !== target.run) {
      this.#followedRun = target.run;
      untrack(() => history.open(target.run, false)); // this effect runs again with the new replay
      return;
    }
    if (replay.isLoading || replay.loadError) return; // runs again once the run is loaded
    untrack(() => {
      replay.setSpeed(target.speed);
      const drift = Math.abs(replay.time - target.t);
      if (target.playing) {
        if (drift > PLAYING_DRIFT_MS * Math.max(1, target.speed)) void replay.seek(target.t);
        replay.play();
      } else {
        replay.pause();
        if (drift > 0) void replay.seek(target.t);
      }
    });
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * This page, presenting, went on from playground `left` to `playground`: it presents there first, then `left`
   * tells its watchers where to go (the new playground's watch token, which only its owner can read). In that
   * order, a class that arrives finds the presenter's state, not an older one that would send it back.
   */
  #moveOn(left: string, playground: string): void {
    this.#movingOn = true;
    const state = this.#state();
    this.#lastKey = changeKey(state);
    this.#waiting = null; // a state still waiting for the throttle was the old playground's
    void (async () => {
      await this.#session.setPresenterOf(playground, state);
      const links = await this.#session.loadLinks();
      const watchToken = links ? new URL(links.watch, 'http://page.invalid/').searchParams.get('watch') : null;
      if (!watchToken || this.#session.info?.id !== playground) return;
      await this.#session.setPresenterOf(left, { ...state, moved: { playground, watchToken } });
    })();
  }

  /** What this page shows now, as the watchers should see it. */
  #state(): PresenterState {
    if (!this.isPresenting) return { presenting: false, lesson: null, replay: null };
    const replay = this.#history.replay;
    return {
      presenting: true,
      lesson: this.#session.info?.lesson ?? null,
      replay:
        replay && !replay.isLoading && !replay.loadError
          ? { run: replay.runId, t: Math.max(0, replay.time), playing: replay.isPlaying, speed: replay.speed }
          : null,
    };
  }

  /** Sends the waiting state now, or when the throttle allows. */
  #flush(): void {
    if (this.#timer || !this.#waiting) return;
    const wait = this.#lastSentAt + 1000 / PRESENTER_SENDS_PER_SECOND - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#flush();
      }, wait);
      return;
    }
    const state = this.#waiting;
    if (!this.#session.stream?.send({ type: 'presenter:set', presenter: state })) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#flush();
      }, RETRY_MS);
      return;
    }
    this.#waiting = null;
    this.#lastSentAt = Date.now();
  }
}

/** What sendChanges compares: the state, with a playing playhead rounded to PLAYING_RESEND_MS. */
function changeKey(state: PresenterState): string {
  const replay = state.replay;
  return JSON.stringify(
    replay?.playing ? { ...state, replay: { ...replay, t: Math.floor(replay.t / PLAYING_RESEND_MS) } } : state,
  );
}
