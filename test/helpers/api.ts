/** A JSON call to a Bridgelog server's API by URL (a child process, a node of a cluster); throws on an error status. */
export async function api<T = { id: string; token: string }>(url: string, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
