import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `npm run dev` serves the page with hot reload and proxies the API to a server started with `npm run serve`.
const apiPort = Number(process.env.API_PORT ?? 8080);

export default defineConfig({
  root: 'web',
  // configFile: false: the plugin's defaults are all we need, so no svelte.config.js
  plugins: [svelte({ configFile: false })],
  build: { outDir: '../dist/web', emptyOutDir: true },
  server: {
    proxy: {
      '/api': { target: `http://127.0.0.1:${apiPort}`, ws: true },
    },
  },
});
