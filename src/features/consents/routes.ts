import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { auditContext, field, formBody, handleForm, redirect, schoolIdOf } from '../../platform/http.js';
import type { Services } from '../../services.js';

const stateLabels = { allowed: 'Yes', not_allowed: 'No', awaiting: 'Not yet' } as const;

export function registerConsentRoutes(app: HavenApp, services: Services): void {
  const { consents } = services;

  app.get('/consents', { config: { access: 'consents.grid' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const className = query.class?.trim().slice(0, 40) ?? '';
    const grid = className ? await consents.grid(schoolIdOf(request), className) : null;
    return reply.render('features/consents/views/grid.njk', { title: 'Check before you post', className, grid, stateLabels });
  });

  async function pupilPage(request: FastifyRequest, personId: string) {
    const view = await consents.forPupil(schoolIdOf(request), personId);
    return { title: `Consents: ${view.pupil.displayName}`, view, stateLabels, backLink: `/people/${personId}` };
  }

  app.get('/people/:personId/consents', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    return reply.render('features/consents/views/pupil.njk', await pupilPage(request, personId));
  });

  app.post('/people/:personId/consents', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const body = formBody(request);
    return handleForm(reply, 'features/consents/views/pupil.njk', await pupilPage(request, personId), async () => {
      await consents.record(auditContext(request), {
        pupilId: personId,
        purposeId: field(body, 'purposeId'),
        parentId: field(body, 'parentId'),
        decision: field(body, 'decision'),
        method: field(body, 'method'),
        note: field(body, 'note'),
      });
      return redirect(reply, `/people/${personId}/consents`);
    });
  });
}
