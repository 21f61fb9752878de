/**
 * Type-safe contexts: the tab's live PlaygroundSession (set once in App.svelte and EmbedApp.svelte, read by the
 * components that change the playground) and the run on screen (RunView: the live session, or in ReplayStage the
 * replay; read by the components that only show a run).
 */
import { createContext } from 'svelte';
import type { RunView } from './run-view.ts';
import type { PlaygroundSession } from './session.svelte.ts';

/** getSession() in components that act on the live playground; setSession() once per page. */
export const [getSession, setSession] = createContext<PlaygroundSession>();

/** getRunView() in components that show a run, live or replayed. */
export const [getRunView, setRunView] = createContext<RunView>();
