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
  },
  server: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
      '/collab': { target: server, ws: true },
    },
  },
});
