/**
 * Search (#19): `GET /api/search?q=…[&incident=<id>][&limit=N]` (or `POST /api/search` with those
 * fields as JSON, for a query too long for a URL), `GET /api/search/similar?text=…
 * [&incident=<id>][&limit=N]` ("seen before": entries of other incidents) and `POST
 * /api/search/rebuild` (admins: read every incident again). What a query may say: shared/search.ts.
 * Searches are paced like other reads that cost the server time (paced.ts).
 */
import { Router, type Response } from 'express';
import { DefaultResults, MaxResults, QueryError } from '../../shared/search.js';
import { visibleIncident } from '../auth/authenticate.js';
import type { SearchIndexer } from '../search/search-indexer.js';
import { MaxSimilarChars, type SearchService } from '../search/search-service.js';
import { authenticated, type RouteContext, userOf } from './context.js';
import { HttpError, notFound } from './http-error.js';
import { paced } from './paced.js';

type Params = Record<string, unknown>;

function text(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new HttpError(400, `${name}: give it once, as text`, name);
  return value;
}

function limitOf(params: Params, max: number, fallback: number): number {
  const value = text(params, 'limit');
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpError(400, `limit: a whole number from 1 to ${max}`, 'limit');
  return n;
}

export function searchRoutes(ctx: RouteContext, search: SearchService, indexer: SearchIndexer): Router {
  const router = Router();
  const incidentOf = (params: Params, user: ReturnType<typeof userOf>) => {
    const id = text(params, 'incident');
    if (id !== undefined && !visibleIncident(ctx.store, user, id)) throw notFound('incident');
    return id;
  };

  async function answer(params: Params, res: Response): Promise<void> {
    const user = userOf(res);
    const q = text(params, 'q');
    if (q === undefined || !q.trim()) throw new HttpError(400, 'q: what to search for (words, "a phrase", -excluded, severity:sev1, site:ny)', 'q');
    const limit = limitOf(params, MaxResults, DefaultResults);
    const incident = incidentOf(params, user);
    try {
      res.json(await search.search(user, q, { limit, ...(incident ? { incident } : {}) }));
    } catch (err) {
      if (err instanceof QueryError) throw new HttpError(400, `q: ${err.message}`, 'q');
      throw err;
    }
  }

  router.get('/api/search', authenticated(ctx.auth), paced(ctx.timeShare), (req, res) => answer(req.query as Params, res));
  // The same fields as a JSON body, for a query too long for a URL.
  router.post('/api/search', authenticated(ctx.auth), paced(ctx.timeShare), (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'send {"q": "…", "incident"?: "…", "limit"?: N} as JSON');
    return answer(body as Params, res);
  });

  router.get('/api/search/similar', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const user = userOf(res);
    const params = req.query as Params;
    const typed = text(params, 'text');
    if (typed === undefined) throw new HttpError(400, 'text: what the responder is typing (title and command)', 'text');
    if (typed.length > MaxSimilarChars) throw new HttpError(400, `text: too long (${typed.length} characters; at most ${MaxSimilarChars})`, 'text');
    const limit = limitOf(params, 10, 3);
    const incident = incidentOf(params, user);
    res.json(await search.similar(user, typed, { limit, ...(incident ? { incident } : {}) }));
  });

  router.post('/api/search/rebuild', authenticated(ctx.auth, 'admin'), async (_req, res) => {
    const started = performance.now();
    const incidents = await indexer.rebuild();
    res.json({ incidents, ms: Math.round(performance.now() - started) });
  });

  return router;
}
