/** Command lines as text: quoted so they can be pasted back into a shell, and slugged for file names. */

/** POSIX shell quoting: a word that needs none is left alone, anything else is single-quoted. */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** `ping -c 3 127.0.0.1` → `ping-c-3-127-0-0-1`: a file name that says which run it came from. */
export function slug(text: string, maxLength = 48): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '');
  return s || 'output';
}
