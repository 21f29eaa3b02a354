/**
 * An append-only JSON-lines file, group-committed: lines appended while a write + fdatasync is under
 * way go together in the next one, off the event loop. Reading it back tolerates a torn last line (a
 * crash mid-append: that line was never acknowledged) and nothing else.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { writeFileAtomic } from './durable-file.js';

export class AppendLog {
  private fd: number;
  private pending: Array<{ text: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  /** Lines in the file (read, appended or rewritten). */
  lines = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  /** Every complete line of `file`, parsed; a torn last line is cut off (with `onTorn`). */
  static async read<T>(file: string, onTorn?: (bytes: number) => void): Promise<T[]> {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      onTorn?.(Buffer.byteLength(text.slice(end)));
      await fsp.truncate(file, Buffer.byteLength(text.slice(0, end)));
    }
    const out: T[] = [];
    for (const [i, line] of text.slice(0, end).split('\n').entries()) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        throw new Error(`${file}: line ${i + 1} is not JSON; restore the file from a backup or move it aside`);
      }
    }
    return out;
  }

  /** Appends values as lines; resolves once they are durable. */
  append(values: readonly unknown[]): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    const text = values.map((v) => `${JSON.stringify(v)}\n`).join('');
    this.lines += values.length;
    return new Promise((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Replaces the file with `values` (atomically), e.g. to drop lines that later ones superseded. */
  async rewrite(values: readonly unknown[]): Promise<void> {
    await this.flushing;
    await writeFileAtomic(this.file, values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.lines = values.length;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await new Promise<void>((resolve, reject) => fs.write(this.fd, batch.map((b) => b.text).join(''), (err) => (err ? reject(err) : resolve())));
        await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err as Error);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    await this.flushing;
    fs.closeSync(this.fd);
  }
}
