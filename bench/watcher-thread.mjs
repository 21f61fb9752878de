// Entry of the watchers bench case's thread (bench/run.ts): plain JavaScript so that it starts the same way under
// tsx or plain node; it registers tsx and then loads the TypeScript class of watchers.
import { register } from 'tsx/esm/api';

register();
await import('./watcher-thread.ts');
