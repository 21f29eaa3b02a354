/** The CLI's own messages go to stderr, so that stdout carries only the wrapped command's output or the data asked for. */
export function say(message: string): void {
  process.stderr.write(`bridgelog: ${message}\n`);
}
