import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { precompress } from './scripts/precompress.ts';

// `npm run dev` serves the page with hot reload and proxies the API to a server started with `npm run serve`.
const apiPort = Number(process.env.API_PORT ?? 8080);

export default defineConfig({
  root: 'web',
  // configFile: false: the plugin's defaults are all we need, so no svelte.config.js
  // precompress: .br and .gz beside each built text file, sent as they are by the server (scripts/precompress.ts)
  plugins: [svelte({ configFile: false }), precompress()],
  build: { outDir: '../dist/web', emptyOutDir: true },
  server: {
    proxy: {
      '/api': { target: `http://127.0.0.1:${apiPort}`, ws: true },
    },
  },
});
