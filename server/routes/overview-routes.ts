/**
 * The incidents overview and trends (issue #18, item 5). `GET /api/incidents` lives here (registered
 * before incidentRoutes): filters, sort and paging, each incident with its derived durations. What
 * the query strings mean and what comes back: `shared/overview.ts`. Restricted incidents exist only
 * for their members, in the list and in the trends alike (`canSee`, as everywhere else).
 */
import { Router, type Request } from 'express';
import { canSee } from '../auth/authenticate.js';
import { presentIncident } from '../incidents/incident-commands.js';
import type { UserRecord } from '../store/metadata.js';
import {
  overviewOf, OverviewQueryError, parseOverviewQuery, parseTrendsQuery, trendsCsv, trendsOf,
  type IncidentOverview, type OverviewPage,
} from '../../shared/overview.js';
import type { Incident } from '../../shared/model.js';
import { authenticated, type RouteContext, userOf } from './context.js';
import { HttpError } from './http-error.js';

function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof OverviewQueryError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}

export function overviewRoutes(ctx: RouteContext): Router {
  const router = Router();
  // As the API shows an incident (its milestones included: the catalog's copy of the document's map).
  const visible = (user: UserRecord): Incident[] => ctx.store.listIncidents().filter((i) => canSee(user, i)).map(presentIncident);

  /**
   * `?status=a,b&severity=sev1,sev2&from=ISO&to=ISO&q=text&sort=-createdAt&limit=&offset=`.
   * A plain array by default (what every client has always read), the match count in X-Total-Count;
   * `&view=page` answers `{incidents, total, offset, limit}`.
   */
  router.get('/api/incidents', authenticated(ctx.auth), (req: Request, res) => {
    const query = checked(() => parseOverviewQuery(req.query));
    const view = req.query.view;
    if (view !== undefined && view !== 'page' && view !== 'list') throw new HttpError(400, `view: unknown value ${JSON.stringify(view)} (page or list)`, 'view');
    const { page, total } = overviewOf(visible(userOf(res)), query, Date.now());
    const incidents: IncidentOverview[] = page;
    res.set('X-Total-Count', String(total));
    if (view === 'page') {
      const body: OverviewPage = { incidents, total, offset: query.offset, limit: query.limit ?? null };
      res.json(body);
    } else res.json(incidents);
  });

  /** `?by=week|month&from=&to=&severity=sev1,sev2&format=json|csv`. */
  router.get('/api/trends', authenticated(ctx.auth), (req: Request, res) => {
    const query = checked(() => parseTrendsQuery(req.query));
    const answer = checked(() => trendsOf(visible(userOf(res)), query, Date.now()));
    if (query.format === 'csv') {
      res.type('text/csv; charset=utf-8');
      res.set('Content-Disposition', `attachment; filename="bridgelog-trends-${query.by}.csv"`);
      res.send(trendsCsv(answer));
    } else res.json(answer);
  });

  return router;
}
