/**
 * `bridgelog login` through the browser, like `gh auth login`: the server gives a one-time code and a
 * page (`/device?code=…`); the CLI opens it in the browser when it can (and always prints it, for a
 * remote shell), the person signs in there as usual — password or the organisation's identity
 * provider — and approves; the CLI, asking every few seconds, then receives a new personal API token.
 */
import { spawn } from 'node:child_process';
import type { User } from '../shared/api.js';
import { CliError, ServerRefused, ServerUnreachable } from './errors.js';
import { say } from './say.js';

interface DeviceStart {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

async function post(url: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new ServerUnreachable(`cannot reach ${url}: ${(err as Error).message}`);
  }
}

/** Opens `url` in the desktop's browser; on a machine without one (a remote shell) the printed URL does. */
function openBrowser(url: string): void {
  if (process.env.BRIDGELOG_NO_BROWSER) return;
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no browser here: the URL is printed
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The token and user the server gives once the login is approved in the browser. */
export async function loginInBrowser(server: string): Promise<{ token: string; user: User }> {
  const started = await post(`${server}/api/auth/device`);
  if (started.status === 404) throw new ServerRefused(`${server} does not offer browser login (an older Bridgelog?): use bridgelog login --token`);
  if (started.status !== 201) throw new ServerRefused(`${server} refused to start a login (${started.status})`);
  const login = (await started.json()) as DeviceStart;
  say(`open ${login.verificationUriComplete}`);
  say(`and check that the page shows the code ${login.userCode}; waiting for you to approve…`);
  openBrowser(login.verificationUriComplete);
  const until = Date.now() + login.expiresIn * 1000;
  while (Date.now() < until) {
    await sleep(login.interval * 1000);
    const res = await post(`${server}/api/auth/device/token`, { deviceCode: login.deviceCode });
    if (res.status === 202) continue;
    if (res.ok) return (await res.json()) as { token: string; user: User };
    const error = ((await res.json().catch(() => ({}))) as { error?: string }).error;
    throw new ServerRefused(`login not completed: ${error ?? res.status}`);
  }
  throw new CliError('the login was not approved within 10 minutes: run bridgelog login again');
}
