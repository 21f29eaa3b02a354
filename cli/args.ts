/** Command-line parsing: node:util's parseArgs, with its complaints turned into usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EntryKinds, type EntryKind, type Verdict } from '../shared/schema/doc.js';
import { UsageError } from './errors.js';

export function parseOptions<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see \`bridgelog help\`)`);
  }
}

/** Options of every command that makes an entry (`run`, `log`). */
export const entryOptions = {
  incident: { type: 'string', short: 'i' },
  title: { type: 'string', short: 't' },
  kind: { type: 'string' },
  conclusion: { type: 'string' },
  hypothesis: { type: 'string' },
  supports: { type: 'boolean' },
  refutes: { type: 'boolean' },
} as const;

interface EntryOptionValues {
  kind?: string;
  hypothesis?: string;
  supports?: boolean;
  refutes?: boolean;
}

export function kindOf(values: EntryOptionValues, fallback: EntryKind): EntryKind {
  if (values.kind === undefined) return fallback;
  if (!EntryKinds.includes(values.kind as EntryKind)) throw new UsageError(`--kind: expected one of ${EntryKinds.join(', ')}`);
  return values.kind as EntryKind;
}

export function verdictOf(values: EntryOptionValues): { ref: string; verdict: Verdict } | undefined {
  if (values.supports && values.refutes) throw new UsageError('--supports or --refutes, not both');
  const verdict = values.supports ? 'supports' : values.refutes ? 'refutes' : undefined;
  if (!values.hypothesis !== !verdict) throw new UsageError('--hypothesis H goes with --supports or --refutes');
  return values.hypothesis && verdict ? { ref: values.hypothesis, verdict } : undefined;
}

/**
 * `bridgelog run [options] [--] command…`: the CLI's options end at `--`, or at the first word that
 * is not one of them, so `bridgelog run ping -c 3 host` works as `time` and `sudo` do.
 */
export function splitCommand(args: readonly string[], options: ParseArgsConfig['options'] = {}): { own: string[]; command: string[] } {
  const takesValue = (arg: string): boolean => {
    if (arg.includes('=')) return false;
    const option = arg.startsWith('--') ? options[arg.slice(2)] : Object.values(options).find((o) => `-${o.short}` === arg);
    return option?.type === 'string';
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { own: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') return { own: args.slice(0, i), command: args.slice(i) };
    if (takesValue(arg)) i++;
  }
  return { own: [...args], command: [] };
}
