// Entry of the in-process workers' thread (worker-thread-host.ts). Plain JavaScript so that it starts the same way
// under tsx, vitest or plain node; it registers tsx and then loads the TypeScript thread.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
