/**
 * Keeps the keyboard's focus on a group of buttons that take turns being disabled (Run and Stop). A focused button
 * that becomes disabled drops the focus to <body> (learner report: Enter on Run left a keyboard user nowhere, and the
 * next Tab started over from the top of the page); the keeper gives it to the first of the group that is enabled
 * (Stop once the run runs, Run again once it ended), unless the visitor had moved the focus elsewhere.
 *
 * Usage: `onfocusin`/`onfocusout` on the group's container call focusIn/focusOut, and an effect on the state that
 * enables and disables the buttons calls settle().
 */
export class FocusKeeper {
  /** The group has the focus, or lost it to nothing (a button of it became disabled), not to another element. */
  #held = false;
  readonly #buttons: () => readonly (HTMLButtonElement | null | undefined)[];

  /** `buttons`: the group, in order of preference (the first enabled one takes the focus). */
  constructor(buttons: () => readonly (HTMLButtonElement | null | undefined)[]) {
    this.#buttons = buttons;
  }

  focusIn(): void {
    this.#held = true;
  }

  focusOut(event: FocusEvent): void {
    const target = event.target;
    // To another element: the visitor moved on. To nothing from a disabled button: the focus was lost, not moved.
    this.#held = event.relatedTarget === null && target instanceof HTMLButtonElement && target.disabled;
    if (this.#held) queueMicrotask(() => this.settle());
  }

  /** Gives the focus back to the group when it lost it to nothing. */
  settle(): void {
    if (!this.#held) return;
    const buttons = this.#buttons().filter((b): b is HTMLButtonElement => b instanceof HTMLButtonElement);
    const active = document.activeElement;
    const ours = buttons.find((button) => button === active);
    if (active !== null && active !== document.body && !ours) {
      this.#held = false;
      return;
    }
    if (ours && !ours.disabled) return;
    buttons.find((button) => !button.disabled)?.focus();
  }
}
