import type { FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { HavenApp } from '../../app.js';
import { authRateLimit } from '../../platform/auth/routes.js';
import { notFound } from '../../platform/errors.js';
import { allowed, auditContext, field, formBody, handleForm, redirect, schoolIdOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { stateLabels } from './service.js';

export function registerConsentRoutes(app: HavenApp, services: Services): void {
  const { consents, people } = services;

  /** Those who keep consent records see every class; other staff see the classes they teach. */
  async function classesFor(request: FastifyRequest): Promise<string[]> {
    const schoolId = schoolIdOf(request);
    if (allowed(request, 'consents.manage')) return (await people.listGroups(schoolId)).filter((group) => group.kind === 'class').map((group) => group.code);
    const personId = request.session?.user.personId;
    return personId ? people.classesTaughtBy(schoolId, personId) : [];
  }

  app.get('/consents', { config: { access: 'consents.grid' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const className = query.class?.trim().slice(0, 40) ?? '';
    const classes = await classesFor(request);
    // A class the member of staff does not teach is not found, as if it did not exist.
    if (className && !classes.includes(className)) throw notFound('class');
    const grid = className ? await consents.grid(schoolIdOf(request), className) : null;
    return reply.render('features/consents/views/grid.njk', {
      title: 'Check before you post',
      className,
      classes,
      grid,
      stateLabels,
      now: services.clock().toISOString(),
    });
  });

  async function purposesPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    return { title: 'Consent purposes', purposes: await consents.allPurposes(schoolIdOf(request)), values: {}, backLink: '/consents', ...extra };
  }

  app.get('/consents/purposes', { config: { access: 'consents.manage' } }, async (request, reply) =>
    reply.render('features/consents/views/purposes.njk', await purposesPage(request)),
  );

  app.post('/consents/purposes', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const values = { name: field(body, 'name'), terms: field(body, 'terms') };
    return handleForm(reply, 'features/consents/views/purposes.njk', await purposesPage(request, { values }), async () => {
      const retire = field(body, 'retire');
      if (retire) await consents.retirePurpose(auditContext(request), retire);
      else await consents.addPurpose(auditContext(request), values);
      return redirect(reply, '/consents/purposes');
    });
  });

  async function pupilPage(request: FastifyRequest, personId: string, extra: Record<string, unknown> = {}) {
    const view = await consents.forPupil(schoolIdOf(request), personId);
    return { title: `Consents: ${view.pupil.displayName}`, view, stateLabels, backLink: `/people/${personId}`, values: {}, ...extra };
  }

  app.get('/people/:personId/consents', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    return reply.render('features/consents/views/pupil.njk', await pupilPage(request, personId));
  });

  app.post('/people/:personId/consents', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const body = formBody(request);
    return handleForm(reply, 'features/consents/views/pupil.njk', await pupilPage(request, personId), async () => {
      // The office records paper and in-person decisions; "link" is only ever set by the parent's own link.
      const method = field(body, 'method');
      await consents.record(auditContext(request), {
        pupilId: personId,
        purposeId: field(body, 'purposeId'),
        parentId: field(body, 'parentId'),
        decision: field(body, 'decision'),
        method: method === 'link' ? '' : method,
        note: field(body, 'note'),
      });
      return redirect(reply, `/people/${personId}/consents`);
    });
  });

  app.post('/people/:personId/consents/review', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const reason = field(formBody(request), 'reason');
    return handleForm(reply, 'features/consents/views/pupil.njk', await pupilPage(request, personId, { values: { reason } }), async () => {
      await consents.flagReview(auditContext(request), personId, reason);
      return redirect(reply, `/people/${personId}/consents`);
    });
  });

  app.post('/people/:personId/consents/review/resolve', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const resolution = field(formBody(request), 'resolution');
    return handleForm(reply, 'features/consents/views/pupil.njk', await pupilPage(request, personId, { values: { resolution } }), async () => {
      await consents.resolveReview(auditContext(request), personId, resolution);
      return redirect(reply, `/people/${personId}/consents`);
    });
  });

  // A single-use link for a parent to see and change their own decisions for this child.
  app.post('/people/:personId/consents/link', { config: { access: 'consents.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const parentId = field(formBody(request), 'linkParentId');
    return handleForm(reply, 'features/consents/views/pupil.njk', await pupilPage(request, personId), async () => {
      const sent = await consents.sendLink(auditContext(request), personId, parentId);
      const parent = await people.get(schoolIdOf(request), parentId);
      return reply.render('features/consents/views/link-sent.njk', {
        title: 'Consent link',
        parent,
        sent,
        qrSvg: await QRCode.toString(sent.url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }),
        backLink: `/people/${personId}/consents`,
      });
    });
  });

  // Parents, without an account: their own decisions for their own child, through a single-use link.
  app.get('/consent/:token', { config: { access: 'public' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const opened = await consents.openLink(token);
    return reply.render('features/consents/views/parent.njk', { title: 'Photographs and video: your choices', opened, token, values: {} });
  });

  app.post('/consent/:token', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const body = formBody(request);
    const opened = await consents.openLink(token);
    const choices = Object.fromEntries(opened.purposes.map((entry) => [entry.purpose.id, field(body, `purpose-${entry.purpose.id}`)]));
    const values = { fullName: field(body, 'fullName'), choices };
    return handleForm(reply, 'features/consents/views/parent.njk', { title: 'Photographs and video: your choices', opened, token, values }, async () => {
      const outcome = await consents.submitLink(token, { choices, fullName: values.fullName, ip: request.ip });
      return reply.render('features/consents/views/parent-done.njk', { title: 'Thank you', ...outcome });
    });
  });
}
