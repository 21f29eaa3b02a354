/**
 * `bridgelog run [--incident ID] [--title T] [--hypothesis H --supports|--refutes] -- command…`:
 * runs the command with its output shown live, then logs a test entry with what happened. The
 * command's exit code is always the CLI's, whether or not the entry could be logged.
 */
import fs from 'node:fs';
import os from 'node:os';
import { newId } from '../../shared/schema/doc.js';
import { entryOptions, kindOf, parseOptions, splitCommand, verdictOf } from '../args.js';
import { OutputFiles, runCommand } from '../command-runner.js';
import { requireIncident, requireServer, type Settings } from '../config.js';
import { deliverNew } from '../delivery.js';
import { EntryQueue, type QueuedFile } from '../entry-queue.js';
import { UsageError } from '../errors.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';
import { commandLine, slug } from '../shell.js';

export async function run(args: string[], settings: Settings): Promise<number> {
  const { own, command } = splitCommand(args, entryOptions);
  if (command.length === 0) throw new UsageError('nothing to run: bridgelog run [options] -- <command…>');
  const { values } = parseOptions({ args: own, options: entryOptions, allowPositionals: false });
  // Everything that could stop the CLI from logging is checked before the command runs.
  const access = requireServer(settings);
  const incidentId = requireIncident(settings, values.incident);
  const kind = kindOf(values, 'test');
  const hypothesis = verdictOf(values);

  const queue = new EntryQueue(settings.home);
  const entryId = newId();
  const dir = queue.stage(entryId);
  const result = await runCommand(command, dir).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true }); // it never ran: nothing to log
    throw err;
  });
  try {
    const line = commandLine(command);
    const name = slug(line);
    // The server refuses empty files, and an empty file says nothing the observations do not.
    const files: QueuedFile[] = [];
    if (result.stdoutBytes > 0) files.push({ path: OutputFiles.stdout, name: `${name}.stdout.txt` });
    if (result.stderrBytes > 0) files.push({ path: OutputFiles.stderr, name: `${name}.stderr.txt` });
    const item = queue.enqueue(
      {
        version: 1,
        entryId,
        server: access.url,
        incidentId,
        kind,
        title: values.title ?? line,
        command: line,
        ...(values.conclusion ? { conclusion: values.conclusion } : {}),
        ...(hypothesis ? { hypothesis } : {}),
        localRanAt: result.startedAt,
        run: {
          host: os.hostname(),
          durationMs: result.durationMs,
          exitCode: result.exitCode,
          ...(result.signal ? { signal: result.signal } : {}),
          stdoutBytes: result.stdoutBytes,
          stderrBytes: result.stderrBytes,
          lastLines: result.lastLines,
          totalLines: result.totalLines,
        },
        files,
      },
      dir,
    );
    await deliverNew(new BridgelogApi(access), queue, item);
  } catch (err) {
    say(`could not keep the result of the run: ${(err as Error).message}; its output is in ${dir}`);
  }
  return result.exitCode;
}
