/**
 * `bridgelog log "text" [--attach FILE…] [--conclusion "…"] [--kind test]`: a note (or a test) with
 * files attached through the same upload as the browser's, so captures get the same analysis.
 */
import fs from 'node:fs';
import path from 'node:path';
import { newId } from '../../shared/schema/doc.js';
import { entryOptions, kindOf, parseOptions, verdictOf } from '../args.js';
import { requireIncident, requireServer, type Settings } from '../config.js';
import { deliverNew } from '../delivery.js';
import { EntryQueue, type QueuedFile } from '../entry-queue.js';
import { EXIT_QUEUED, UsageError } from '../errors.js';
import { BridgelogApi } from '../server-api.js';

const TITLE_CHARS = 120;

export async function log(args: string[], settings: Settings): Promise<number> {
  const { values, tokens } = parseOptions({
    args,
    options: { ...entryOptions, attach: { type: 'string', short: 'a', multiple: true } },
    allowPositionals: true,
    tokens: true,
  });
  // `--attach a.png b.pcap`: words right after --attach are files too; the others are the text.
  const words: string[] = [];
  const attach: string[] = [];
  let afterAttach = false;
  for (const token of tokens) {
    if (token.kind === 'option') {
      afterAttach = token.name === 'attach';
      if (afterAttach && token.value !== undefined) attach.push(token.value);
    } else if (token.kind === 'positional') {
      (afterAttach ? attach : words).push(token.value);
    } else {
      afterAttach = false;
    }
  }
  const text = words.join(' ').trim();
  if (!text && attach.length === 0) throw new UsageError('nothing to log: bridgelog log "text" [--attach FILE…]');
  const access = requireServer(settings);
  const incidentId = requireIncident(settings, values.incident);
  const kind = kindOf(values, 'note');
  const hypothesis = verdictOf(values);
  const files = attach.map(attachable);

  const firstLine = text.split('\n')[0]!.trim();
  const title = values.title ?? (firstLine ? clipAtWord(firstLine, TITLE_CHARS) : `Attached ${files.map((f) => f.name).join(', ')}`);
  const queue = new EntryQueue(settings.home);
  const item = queue.enqueue({
    version: 1,
    entryId: newId(),
    server: access.url,
    incidentId,
    kind,
    title,
    // A one-line note is its title; anything more goes in the observations.
    ...(text && text !== title ? { text } : {}),
    ...(values.conclusion ? { conclusion: values.conclusion } : {}),
    ...(hypothesis ? { hypothesis } : {}),
    localRanAt: Date.now(),
    files,
  });
  return (await deliverNew(new BridgelogApi(access), queue, item)) ? 0 : EXIT_QUEUED;
}

/** Checked now, while the person is here to fix it, rather than when a queued entry is retried. */
function attachable(file: string): QueuedFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new UsageError(`cannot attach ${file}: no such file`);
  }
  if (!stat.isFile()) throw new UsageError(`cannot attach ${file}: not a file`);
  if (stat.size === 0) throw new UsageError(`cannot attach ${file}: it is empty`);
  return { path: path.resolve(file), name: path.basename(file) };
}

function clipAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}
