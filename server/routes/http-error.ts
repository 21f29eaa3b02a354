/** Errors as values with a message for the person who caused them, and the field at fault. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { isStorageUnavailable } from '../storage/storage.js';
import type { z } from 'zod';
import type { ApiError } from '../../shared/api.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, `no such ${what}`);

/** Parses a request body; a 400 names the first offending field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new HttpError(400, 'expected a JSON object body (Content-Type: application/json)');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || undefined;
  throw new HttpError(400, field ? `${field}: ${issue.message}` : issue.message, field);
}

/** Parses a time parameter such as `?at=` (ISO-8601 with a time zone); absent means now. */
export function parseTime(value: unknown, field = 'at'): number {
  if (value === undefined) return Date.now();
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new HttpError(400, `${field}: expected an ISO-8601 time with a zone, e.g. 2026-03-04T06:12:30.500Z`, field);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `${field}: not a valid time: ${value}`, field);
  return ms;
}

/** Express error handler: every failure becomes `{error, field?}` JSON. */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    let status = 500;
    let body: ApiError = { error: 'internal error' };
    if (err instanceof HttpError) {
      status = err.status;
      body = err.field ? { error: err.message, field: err.field } : { error: err.message };
    } else if (isStorageUnavailable(err)) {
      // PostgreSQL cannot be reached: nothing was stored; try again shortly (docs/several-nodes.md).
      status = 503;
      body = { error: 'storage unavailable: nothing was saved; try again shortly' };
      res.set('Retry-After', '2');
      log.warn({ err: (err as Error).message }, 'storage unavailable');
    } else if (typeof err === 'object' && err !== null && 'type' in err && 'status' in err) {
      // body-parser's errors: malformed JSON, body too large, wrong charset
      status = Number((err as { status: number }).status) || 400;
      const type = (err as { type: string }).type;
      body = { error: type === 'entity.parse.failed' ? 'malformed JSON body' : type === 'entity.too.large' ? 'request body too large' : String((err as { message?: unknown }).message) };
    } else {
      log.error({ err }, 'unhandled error in a request');
    }
    res.status(status).json(body);
  };
}
