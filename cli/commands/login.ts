/**
 * `bridgelog login [URL] [--token T]`: checks the token against the server and saves both in
 * `BRIDGELOG_HOME/config.json` (mode 600). Without --token it asks, hiding what is typed, or reads
 * the token from stdin, so it stays out of the shell's history.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseOptions } from '../args.js';
import { normalizeUrl, updateConfigFile, type Settings } from '../config.js';
import { UsageError } from '../errors.js';
import { BridgelogApi } from '../server-api.js';

export async function login(args: string[], settings: Settings): Promise<number> {
  const { values, positionals } = parseOptions({ args, options: { token: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError('usage: bridgelog login [URL] [--token TOKEN]');
  const url = positionals[0] ? normalizeUrl(positionals[0]) : settings.url;
  if (!url) throw new UsageError('which server? bridgelog login http://bridgelog.example:8080');
  const token = values.token ?? process.env.BRIDGELOG_TOKEN ?? (await readToken());
  if (!token) throw new UsageError('no token given');
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
