/**
 * Who follows a playground and what they are told: the open streams counted (a playground nobody watches for long
 * is closed), the listeners of its info (topology, parameters, active run), and the presenter state the watchers
 * follow (SPEC [S6]). Holds no topology and no run: the playground says when its info changed.
 */
import type { PlaygroundInfo, PresenterState } from '../../shared/protocol/index.ts';

export class PlaygroundWatchers {
  readonly #released: () => void;
  #count = 0;
  readonly #infoListeners = new Set<(info: PlaygroundInfo) => void>();
  readonly #presenterListeners = new Set<(state: PresenterState) => void>();
  #presenter: PresenterState = { presenting: false, lesson: null, replay: null };

  /** `released` is called whenever a watcher leaves (the playground counts its idle time from then). */
  constructor(released: () => void) {
    this.#released = released;
  }

  /** One more watcher; returns its release, which counts once however often it is called. */
  watch(): () => void {
    this.#count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count--;
      this.#released();
    };
  }

  get count(): number {
    return this.#count;
  }

  onInfoChanged(listener: (info: PlaygroundInfo) => void): () => void {
    this.#infoListeners.add(listener);
    return () => this.#infoListeners.delete(listener);
  }

  /** Tells every info listener. */
  infoChanged(info: PlaygroundInfo): void {
    for (const listener of this.#infoListeners) listener(info);
  }

  /** Off until an owner or driver sets it. */
  get presenter(): PresenterState {
    return this.#presenter;
  }

  /** Sets the presenter state whole (already validated by the protocol schema) and tells every listener. */
  setPresenter(state: PresenterState): PresenterState {
    this.#presenter = structuredClone(state);
    for (const listener of [...this.#presenterListeners]) listener(this.#presenter);
    return this.#presenter;
  }

  onPresenterChanged(listener: (state: PresenterState) => void): () => void {
    this.#presenterListeners.add(listener);
    return () => this.#presenterListeners.delete(listener);
  }
}
