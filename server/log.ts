import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout, timestamps in UTC ISO-8601. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'bridgelog' }, timestamp: pino.stdTimeFunctions.isoTime });
}
