import { build } from 'vite';

/** The browser tests serve dist/web; build it unless the caller (npm test, .ci/run) already did. */
export default async function globalSetup(): Promise<void> {
  if (process.env.SKIP_CLIENT_BUILD !== '1') await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
}
