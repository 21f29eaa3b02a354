/**
 * Where the CLI finds its server, token and current incident: the environment first
 * (`BRIDGELOG_URL`, `BRIDGELOG_TOKEN`, `BRIDGELOG_INCIDENT`), then the config file that
 * `bridgelog login` and `bridgelog use` write under `BRIDGELOG_HOME` (default `~/.bridgelog`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, UsageError } from './errors.js';

export interface ConfigFile {
  url?: string;
  token?: string;
  /** The current incident, set by `bridgelog use`. */
  incident?: string;
}

export interface Settings extends ConfigFile {
  /** The CLI's own directory: config file and queue. */
  home: string;
}

/** A server the CLI can talk to. */
export interface ServerAccess {
  url: string;
  token: string;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const home = env.BRIDGELOG_HOME || path.join(os.homedir(), '.bridgelog');
  const file = readConfigFile(home);
  const url = env.BRIDGELOG_URL || file.url;
  return {
    home,
    url: url === undefined ? undefined : normalizeUrl(url),
    token: env.BRIDGELOG_TOKEN || file.token,
    incident: env.BRIDGELOG_INCIDENT || file.incident,
  };
}

/** The server's base URL without a trailing slash, so queued entries compare equal. */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url} (expected e.g. http://bridgelog.example:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`not an http(s) URL: ${url}`);
  }
  return parsed.href.replace(/\/+$/, '');
}

export function requireServer(settings: Settings): ServerAccess {
  if (!settings.url || !settings.token) {
    const missing = !settings.url ? 'no server URL' : 'no API token';
    throw new UsageError(`${missing}: set BRIDGELOG_URL and BRIDGELOG_TOKEN, or run \`bridgelog login <url>\``);
  }
  return { url: settings.url, token: settings.token };
}

export function requireIncident(settings: Settings, flag: string | undefined): string {
  const incident = flag ?? settings.incident;
  if (!incident) throw new UsageError('which incident? Pass --incident ID, or pick one with `bridgelog use ID` (see `bridgelog incidents`)');
  return incident;
}

const configPath = (home: string) => path.join(home, 'config.json');

export function readConfigFile(home: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(configPath(home), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    return JSON.parse(text) as ConfigFile;
  } catch (err) {
    throw new CliError(`${configPath(home)} is not valid JSON (${(err as Error).message}): fix it or delete it and run \`bridgelog login\``);
  }
}

/** Merges `change` into the config file; written whole, then renamed, and readable only by its owner (it holds a token). */
export function updateConfigFile(home: string, change: ConfigFile): string {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = configPath(home);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...readConfigFile(home), ...change }, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}
