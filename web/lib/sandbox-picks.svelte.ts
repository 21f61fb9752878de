/**
 * Linking two sockets of the free sandbox by clicking them on the diagram (issue 11), besides the link form: the
 * sandbox's editor (SandboxPalette.svelte) switches picking on while it is shown, the diagram (GraphDiagram.svelte)
 * hands it the boxes clicked, and the editor makes the link once two are picked. A pointer shortcut only: the
 * diagram is hidden from screen readers, and the link form does the same from the keyboard.
 */
export class SandboxPicks {
  /** Whether the diagram's boxes can be picked (the sandbox's editor is shown, no run flows). */
  active = $state(false);
  /** The first box clicked, waiting for the second. */
  first = $state<string | null>(null);
  /** Told of the second box clicked (with the first). */
  #onPair: ((from: string, to: string) => void) | null = null;

  /** Picking on, with what to do with a pair; returns the switch-off. */
  enable(onPair: (from: string, to: string) => void): () => void {
    this.active = true;
    this.first = null;
    this.#onPair = onPair;
    return () => {
      if (this.#onPair !== onPair) return;
      this.active = false;
      this.first = null;
      this.#onPair = null;
    };
  }

  /** A box clicked: the first of a pair, the same again (unpicked), or the second (the pair is handed on). */
  pick(node: string): void {
    if (!this.active) return;
    if (this.first === null) this.first = node;
    else if (this.first === node) this.first = null;
    else {
      const from = this.first;
      this.first = null;
      this.#onPair?.(from, node);
    }
  }
}

/** The page's one: the diagram and the editor are siblings on the patterns page. */
export const sandboxPicks = new SandboxPicks();
