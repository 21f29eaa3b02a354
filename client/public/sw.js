/**
 * Bridgelog's service worker: keeps the web app's own files so a page can be reloaded with no
 * network, and responders keep logging (their entries wait in IndexedDB). It keeps no data: API
 * calls and sockets always go to the server.
 *
 * Pages: network first, the kept app shell when offline (every page path is the same index.html).
 * Assets: their names carry a content hash, so a kept copy is always right.
 */
const CACHE = 'bridgelog-app';
const SHELL = '/';

const pagesAssets = (html) => [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
/** Chunks the app loads later (the editor) are named in its scripts, relative to them: `./Editor-x1.js`. */
const scriptsAssets = (js) => [...js.matchAll(/["'`]\.\/([\w.-]+\.(?:js|css))["'`]/g)].map((m) => `/assets/${m[1]}`);

/** Keeps this index.html and every asset of its build, and drops assets of older builds. */
async function keepShell(response) {
  const cache = await caches.open(CACHE);
  const assets = new Set(pagesAssets(await response.clone().text()));
  for (const asset of [...assets]) {
    if (!asset.endsWith('.js')) continue;
    const script = (await cache.match(asset)) ?? (await fetch(asset));
    if (script.ok) for (const more of scriptsAssets(await script.clone().text())) assets.add(more);
  }
  const missing = [];
  for (const asset of assets) if (!(await cache.match(asset))) missing.push(asset);
  await cache.addAll(missing);
  await cache.put(SHELL, response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith('/assets/') && !assets.has(path)) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(fetch(SHELL, { cache: 'no-store' }).then(keepShell).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && !url.pathname.startsWith('/api/')) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html')) event.waitUntil(keepShell(response.clone()));
          return response;
        })
        .catch(async () => (await caches.match(SHELL)) ?? Response.error()),
    );
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(caches.match(request).then((kept) => kept ?? fetch(request)));
  }
});
