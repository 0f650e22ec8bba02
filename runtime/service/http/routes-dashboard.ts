/**
 * The dashboard's files: `GET /dashboard/` (the page), its script, stylesheet and icon, with a strict
 * Content-Security-Policy (see ../dashboard/assets.ts). `/` and `/dashboard` redirect to `/dashboard/`.
 * The files hold no data and need no credentials; everything they show comes from the API with the
 * token the user enters.
 */
import type { FastifyInstance } from 'fastify';
import { DASHBOARD_ASSETS, DASHBOARD_HEADERS } from '../dashboard/assets.js';

export function registerDashboardRoutes(app: FastifyInstance): void {
  app.get('/', async (_request, reply) => reply.redirect('/dashboard/', 302));
  app.get('/dashboard', async (_request, reply) => reply.redirect('/dashboard/', 302));
  for (const [path, asset] of DASHBOARD_ASSETS) {
    app.get(path, async (_request, reply) =>
      reply.type(asset.contentType).headers(DASHBOARD_HEADERS).send(asset.body),
    );
  }
}
