/** Issue #18: filled in by its implementation. */
import { Router } from 'express';
import type { RouteContext } from './context.js';

export function overviewRoutes(_ctx: RouteContext): Router {
  return Router();
}
