/** The web app's build: client/ → dist/client, which the server serves (server/app.ts). */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npx vite` serves the app with hot reload against a server started with `npm start` on :8080.
const server = 'http://127.0.0.1:8080';

export default defineConfig({
  root: 'client',
  plugins: [react()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    // The editor's chunk (CodeMirror, with the languages Markdown embeds) is just over Vite's default
    // warning size; it loads only after the log is on screen (components/EntryLog.tsx).
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
      '/collab': { target: server, ws: true },
    },
  },
});
