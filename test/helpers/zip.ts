/** Reads a zip (an export bundle) back into memory: file name → bytes. */
import yauzl from 'yauzl';

export function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, Buffer>();
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err || !z) return reject(err);
      z.readEntry();
      z.on('entry', (entry: yauzl.Entry) => z.openReadStream(entry, (e2, s) => {
        if (e2 || !s) return reject(e2);
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c)).on('end', () => (out.set(entry.fileName, Buffer.concat(chunks)), z.readEntry()));
      }));
      z.on('end', () => resolve(out));
    });
  });
}
