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

/** The answer when it is a success; else the server's error, as an ApiFailure. */
async function succeeded(res: Response): Promise<Response> {
  if (res.ok) return res;
  const error = (await res.json().catch(() => undefined)) as ApiError | undefined;
  throw new ApiFailure(res.status, error?.error ?? `the server answered ${res.status} ${res.statusText}`, error?.field);
}

export async function api<T = void>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await succeeded(
    await reach(path, {
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
  return succeeded(await reach(path, { credentials: 'same-origin', signal }));
}
