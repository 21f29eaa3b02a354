/**
 * `bridgelog login [URL | --server URL] [--token T]`: saves the server and an API token in
 * `BRIDGELOG_HOME/config.json` (mode 600). With a token (--token, BRIDGELOG_TOKEN, or a line piped on
 * stdin, so it stays out of the shell's history) it checks it against the server. Without one it
 * signs in through the browser (browser-login.ts), the way `gh auth login` does, and receives a new
 * personal token; `--with-token` asks for one at the terminal instead (hidden).
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseOptions } from '../args.js';
import { normalizeUrl, updateConfigFile, type Settings } from '../config.js';
import { UsageError } from '../errors.js';
import { BridgelogApi } from '../server-api.js';
import { loginInBrowser } from '../browser-login.js';

export async function login(args: string[], settings: Settings): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    options: { token: { type: 'string' }, server: { type: 'string' }, 'with-token': { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 1 || (positionals.length === 1 && values.server)) throw new UsageError('usage: bridgelog login [URL | --server URL] [--token TOKEN | --with-token]');
  const given = values.server ?? positionals[0];
  const url = given ? normalizeUrl(given) : settings.url;
  if (!url) throw new UsageError('which server? bridgelog login --server http://bridgelog.example:8080');
  // A token piped on stdin is read; at a terminal only when asked (--with-token): else the browser.
  const token = values.token ?? process.env.BRIDGELOG_TOKEN ?? (!process.stdin.isTTY || values['with-token'] ? await readToken() : '');
  if (!token) {
    const { token: issued, user } = await loginInBrowser(url);
    const file = updateConfigFile(settings.home, { url, token: issued });
    console.log(`logged in to ${url} as ${user.name} (${user.role}) through the browser; a new personal token is saved in ${file}`);
    return 0;
  }
  const me = await new BridgelogApi({ url, token }).me();
  const file = updateConfigFile(settings.home, { url, token });
  console.log(`logged in to ${url} as ${me.name} (${me.role}); saved in ${file}`);
  return 0;
}

async function readToken(): Promise<string> {
  if (!process.stdin.isTTY) {
    let input = '';
    for await (const chunk of process.stdin) input += String(chunk);
    return input.split('\n')[0]!.trim();
  }
  process.stderr.write('API token (not shown): ');
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = readline.createInterface({ input: process.stdin, output: silent, terminal: true });
  const line = await new Promise<string>((resolve) => rl.once('line', resolve));
  rl.close();
  process.stderr.write('\n');
  return line.trim();
}
