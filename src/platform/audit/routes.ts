import type { HavenApp } from '../../app.js';
import type { Services } from '../../services.js';
import { schoolIdOf } from '../http.js';

const day = /^\d{4}-\d{2}-\d{2}$/;

export function registerAuditRoutes(app: HavenApp, services: Services): void {
  app.get('/audit', { config: { access: 'audit.read' } }, async (request, reply) => {
    const schoolId = schoolIdOf(request);
    const query = request.query as Record<string, string | undefined>;
    const page = Math.max(1, Number.parseInt(query.page ?? '1', 10) || 1);
    const filter = {
      actorUserId: query.actor || undefined,
      action: query.action || undefined,
      from: query.from && day.test(query.from) ? `${query.from}T00:00:00.000Z` : undefined,
      to: query.to && day.test(query.to) ? new Date(Date.parse(`${query.to}T00:00:00.000Z`) + 86_400_000).toISOString() : undefined,
    };
    const [events, actions, accounts] = await Promise.all([
      services.audit.list(schoolId, filter, page),
      services.audit.actions(schoolId),
      services.users.list(schoolId),
    ]);
    const params = new URLSearchParams(
      Object.entries({ actor: query.actor, action: query.action, from: query.from, to: query.to }).filter((entry): entry is [string, string] =>
        Boolean(entry[1]),
      ),
    );
    return reply.render('platform/audit/views/list.njk', {
      title: 'Audit trail',
      events: events.map((event) => ({ ...event, details: event.details === '{}' ? '' : event.details })),
      actions,
      accounts,
      query,
      page,
      previous: page > 1 ? `/audit?${params.toString()}&page=${page - 1}` : null,
      next: events.length === 50 ? `/audit?${params.toString()}&page=${page + 1}` : null,
    });
  });
}
