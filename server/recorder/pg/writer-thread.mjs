// Entry of the PostgreSQL writer thread (see writer-thread.ts). Plain JavaScript, as ../writer-thread.mjs: it
// registers tsx and then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./writer-thread.ts');
