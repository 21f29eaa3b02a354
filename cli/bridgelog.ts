#!/usr/bin/env node
/**
 * `bridgelog`: log to an incident from a terminal through the same paths as the web app — entries
 * through the incident's Yjs document, files through the upload API — and say "logged" only once
 * the server has them on disk. Whatever cannot be delivered waits in a local queue.
 */
import { exportIncident } from './commands/export.js';
import { incidents, use } from './commands/incidents.js';
import { log } from './commands/log.js';
import { login } from './commands/login.js';
import { milestone } from './commands/milestone.js';
import { queue } from './commands/queue.js';
import { run } from './commands/run.js';
import { search } from './commands/search.js';
import { tail } from './commands/tail.js';
import { loadSettings, type Settings } from './config.js';
import { CliError, UsageError } from './errors.js';
import { say } from './say.js';

const USAGE = `usage: bridgelog <command> [options]

  run [--incident ID] [--title T] [--hypothesis H --supports|--refutes] -- <command…>
        run a command (output shown live), then log it as a test with its output attached;
        exits with the command's exit code
  log "text" [--attach FILE…] [--conclusion "…"] [--kind test] [--title T]
        log a note (or a test) with files attached
  incidents                 list incidents (* marks the current one)
  use ID                    make ID the current incident
  tail [-n N]               show the last N entries, then new ones as they are logged
  milestone NAME [--at TIME]
        set a milestone: impactStarted, detected, acknowledged, mitigated, resolved or a
        custom name; TIME is -5m, -2h, -1h30m, now (default) or ISO-8601 with a zone;
        --remove takes it away; without NAME, lists milestones and durations
  search "QUERY" [--incident ID | --here] [-n N] [--json]
        search every incident you can see: words, "a phrase", -excluded, severity:sev1,
        status:resolved, from:2026-10-01, to:…, kind:test, and alert labels such as site:ny;
        --rebuild (admins) reads every incident into the index again
  export [ID] --format md   the incident as a report on stdout
  login [--server URL] [--token T]
        sign in through the browser (prints a URL and code for a remote shell) and save
        the server and a new personal token; with --token (or a token on stdin), check and save it
  queue [list|send|drop ID] entries waiting on this machine for the server

Entry options: --incident/-i ID (default: the current incident), --kind test|note|action|conclusion.
Configuration: BRIDGELOG_URL, BRIDGELOG_TOKEN, BRIDGELOG_INCIDENT, or \`bridgelog login\` and
\`bridgelog use\`; BRIDGELOG_HOME (default ~/.bridgelog) holds the config and the queue.
Exit codes: 0 done, 1 error, 2 usage, 75 kept in the queue (not on the server yet).
`;

const commands: Record<string, (args: string[], settings: Settings) => Promise<number>> = {
  run,
  log,
  incidents,
  use,
  tail,
  milestone,
  search,
  export: exportIncident,
  login,
  queue,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    process.stderr.write(USAGE);
    throw new UsageError(name === undefined ? 'which command?' : `unknown command: ${name}`);
  }
  return command(args, loadSettings());
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliError) {
      say(err.message);
      process.exit(err.exitCode);
    }
    say(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
