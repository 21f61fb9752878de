/** Type-safe context for the tab's PlaygroundSession (set once in App.svelte, read by components). */
import { createContext } from 'svelte';
import type { PlaygroundSession } from './session.svelte.ts';

/** getSession() in components; setSession() once in App.svelte. */
export const [getSession, setSession] = createContext<PlaygroundSession>();
