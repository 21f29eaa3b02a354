/** The HTTP API from the browser: JSON both ways; a failure carries the server's message for the user. */
import type { ApiError } from '../../shared/model';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field the server blamed, e.g. `password`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * The network failed (offline, the server down): fetch says only "Failed to fetch"; the person is
 * told what it means. A TypeError still, as fetch's own, for code that tells the two apart.
 */
export class Unreachable extends TypeError {
  constructor() {
    super('cannot reach the Bridgelog server (offline, or the server is down); try again once connected');
  }
}

/** fetch, with a network failure said in words (an abort stays an abort). */
async function reach(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch (err) {
    if (err instanceof TypeError) throw new Unreachable();
    throw err;
  }
}

/** Waits `ms`, or rejects as fetch does when `signal` aborts first. */
function pause(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * A read refused because its user's share of the server's time is spent (429: opening a very large
 * incident asks for its history several times at once) is asked again after Retry-After, at most
 * three times and never for a wait over 30 s, so the page fills in instead of showing an error.
 * Writes are never repeated.
 */
async function reachPaced(path: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await reach(path, init);
    const seconds = Number(res.headers.get('retry-after'));
    const read = (init.method ?? 'GET') === 'GET';
    if (res.status !== 429 || !read || attempt > 3 || !Number.isFinite(seconds) || seconds > 30) return res;
    await pause(seconds * 1000, init.signal);
  }
}

/** The answer when it is a success; else the server's error, as an ApiFailure. */
async function succeeded(res: Response): Promise<Response> {
  if (res.ok) return res;
  const error = (await res.json().catch(() => undefined)) as ApiError | undefined;
  throw new ApiFailure(res.status, error?.error ?? `the server answered ${res.status} ${res.statusText}`, error?.field);
}

export async function api<T = void>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await succeeded(
    await reachPaced(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A GET whose answer is not JSON (a document's state, history records): the response, to read as needed. */
export async function apiGetRaw(path: string, signal?: AbortSignal): Promise<Response> {
  return succeeded(await reachPaced(path, { credentials: 'same-origin', signal }));
}
