/** Where the run database lives: the operator's choice, else the user's data folder; ":memory:" for tests. */
import os from 'node:os';
import path from 'node:path';

export const MEMORY = ':memory:';

/** $XDG_DATA_HOME (if absolute) or ~/.local/share, then zmq-playground/runs.db. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'zmq-playground', 'runs.db');
}

/** Where the server records: the explicit option, else $PLAYGROUND_DB, else the data-folder file. */
export function resolveDbPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.PLAYGROUND_DB || defaultDbPath(env);
}
