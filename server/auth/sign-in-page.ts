/**
 * The page a browser lands on when a sign-in through the identity provider fails: served by the
 * server itself (the IdP may be the thing that is down; the web app needs no sign-in to show it),
 * saying what went wrong and offering to start again. Light and dark follow the system.
 */
/** For element content only (nothing here goes into an attribute). */
const escape = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);

export function signInFailedPage(message: string, detail?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · Bridgelog</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { max-width: 32rem; padding: 1.5rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: 8px; margin: 1rem; }
  h1 { font-size: 1.25rem; margin-top: 0; }
  details { margin-top: 1rem; font-size: .85rem; opacity: .8; word-break: break-word; }
  a.button { display: inline-block; margin-top: 1rem; padding: .5rem 1rem; border-radius: 6px; background: #2563eb; color: #fff; text-decoration: none; }
</style></head>
<body><main role="alert">
<h1>Sign-in failed</h1>
<p>${escape(message)}</p>
${detail ? `<details><summary>Details for your admin</summary><code>${escape(detail)}</code></details>` : ''}
<a class="button" href="/login">Back to sign-in</a>
</main></body></html>`;
}
