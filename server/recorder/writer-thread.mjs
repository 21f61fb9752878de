// Entry of the recording writer thread (see channel.ts). Plain JavaScript so that it starts the same way under tsx,
// vitest or plain node; it registers tsx and then loads the TypeScript writer.
import { register } from 'tsx/esm/api';

register();
await import('./writer-thread.ts');
