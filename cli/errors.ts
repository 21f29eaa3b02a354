/**
 * Errors the person at the terminal can act on: each message says what happened and what to do.
 * The class says whether trying again later, unchanged, can help.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong (exit code 2, as most tools do). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The server could not be reached or did not answer in time: retrying later, as is, can work. */
export class ServerUnreachable extends CliError {}

/** The server answered no (token, role, incident): retrying needs a change on someone's side. */
export class ServerRefused extends CliError {}

/** Exit code of `bridgelog log` when the entry is kept in the local queue (sysexits' EX_TEMPFAIL). */
export const EXIT_QUEUED = 75;
