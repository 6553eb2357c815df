import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { authRateLimit } from '../../platform/auth/routes.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf, uploadedFile } from '../../platform/http.js';
import { notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';

export function registerAgreementRoutes(app: HavenApp, services: Services): void {
  const { agreements } = services;

  app.get('/agreements', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const list = await agreements.list(schoolIdOf(request));
    return reply.render('features/agreements/views/list.njk', { title: 'Acceptable use agreements', agreements: list });
  });

  app.get('/agreements/sign', { config: { access: 'agreements.sign' } }, async (request, reply) => {
    const toSign = await agreements.staffToSign(auditContext(request), request.session?.user.personId ?? null);
    return reply.render('features/agreements/views/sign.njk', {
      title: 'Sign the ICT code of conduct',
      toSign,
      values: { fullName: request.session?.user.displayName },
    });
  });

  app.post('/agreements/sign', { config: { access: 'agreements.sign' } }, async (request, reply) => {
    const body = formBody(request);
    const toSign = await agreements.staffToSign(auditContext(request), request.session?.user.personId ?? null);
    const values = { fullName: field(body, 'fullName'), jobTitle: field(body, 'jobTitle') };
    return handleForm(reply, 'features/agreements/views/sign.njk', { title: 'Sign the ICT code of conduct', toSign, values }, async () => {
      await agreements.signAsStaff(auditContext(request), {
        userId: request.session!.user.id,
        versionId: field(body, 'versionId'),
        fullName: values.fullName,
        jobTitle: values.jobTitle,
        accepted: fieldList(body, 'accepted').includes('yes'),
        ip: request.ip,
      });
      return redirect(reply, '/agreements/sign');
    });
  });

  app.get('/agreements/:templateId', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { templateId } = request.params as { templateId: string };
    const view = await agreements.get(schoolIdOf(request), templateId);
    return reply.render('features/agreements/views/show.njk', {
      title: view.template.title,
      view,
      currentHtml: view.current ? agreements.render(view.current.body) : '',
      values: { body: view.draft?.body ?? view.current?.body ?? '' },
      backLink: '/agreements',
    });
  });

  app.post('/agreements/:templateId/draft', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { templateId } = request.params as { templateId: string };
    const body = field(formBody(request), 'body');
    const view = await agreements.get(schoolIdOf(request), templateId);
    return handleForm(
      reply,
      'features/agreements/views/show.njk',
      { title: view.template.title, view, currentHtml: view.current ? agreements.render(view.current.body) : '', values: { body } },
      async () => {
        await agreements.saveDraft(auditContext(request), templateId, body);
        return redirect(reply, `/agreements/${templateId}`);
      },
    );
  });

  // An optional annual (or other) renewal: signatures older than this no longer clear anyone.
  app.post('/agreements/:templateId/renewal', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { templateId } = request.params as { templateId: string };
    const months = field(formBody(request), 'renewalMonths');
    const view = await agreements.get(schoolIdOf(request), templateId);
    return handleForm(
      reply,
      'features/agreements/views/show.njk',
      {
        title: view.template.title,
        view,
        currentHtml: view.current ? agreements.render(view.current.body) : '',
        values: { body: view.draft?.body ?? view.current?.body ?? '', renewalMonths: months },
      },
      async () => {
        await agreements.setRenewal(auditContext(request), templateId, months);
        return redirect(reply, `/agreements/${templateId}`);
      },
    );
  });

  app.post('/agreements/:templateId/publish', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { templateId } = request.params as { templateId: string };
    await agreements.publish(auditContext(request), templateId);
    return redirect(reply, `/agreements/${templateId}`);
  });

  /** Those who manage agreements run sessions for any class; teachers for the classes they teach. */
  async function mayRunSession(request: FastifyRequest, className: string): Promise<boolean> {
    if (allowed(request, 'agreements.manage')) return true;
    const personId = request.session?.user.personId;
    return personId ? (await services.people.classesTaughtBy(schoolIdOf(request), personId)).includes(className) : false;
  }

  app.get('/agreements/class-session', { config: { access: 'agreements.classSession' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const className = query.class?.trim().slice(0, 40) ?? '';
    if (className && !(await mayRunSession(request, className))) throw notFound('class');
    const session = className ? await agreements.classSession(auditContext(request), className) : null;
    return reply.render('features/agreements/views/class-session.njk', { title: 'Class agreement session', className, session });
  });

  app.post('/agreements/class-session', { config: { access: 'agreements.classSession' } }, async (request, reply) => {
    const body = formBody(request);
    const className = field(body, 'class').trim().slice(0, 40);
    if (!(await mayRunSession(request, className))) throw notFound('class');
    const session = await agreements.classSession(auditContext(request), className);
    return handleForm(reply, 'features/agreements/views/class-session.njk', { title: 'Class agreement session', className, session }, async () => {
      const recorded = await agreements.recordClassAgreements(auditContext(request), {
        className,
        versionIds: fieldList(body, 'versionId'),
        pupilIds: fieldList(body, 'pupilIds'),
      });
      return reply.render('features/agreements/views/class-session.njk', {
        title: 'Class agreement session',
        className,
        session: await agreements.classSession(auditContext(request), className),
        notice: `Recorded ${recorded} pupil${recorded === 1 ? '' : 's'}’ agreement.`,
      });
    });
  });

  async function personAgreements(request: FastifyRequest, personId: string, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const person = await services.people.get(schoolId, personId);
    const [signatures, guardians] = await Promise.all([
      agreements.signaturesOfPerson(schoolId, personId),
      person.kind === 'pupil' ? services.people.guardiansOf(schoolId, personId) : Promise.resolve([]),
    ]);
    const audienceItems =
      person.kind === 'pupil'
        ? [
            { value: 'parent', text: 'Parent agreement (signed by a parent or carer)' },
            { value: (person.yearGroup ?? 0) <= 2 ? 'pupil_ks1' : 'pupil_ks2', text: 'Pupil agreement' },
          ]
        : person.kind === 'visitor'
          ? [{ value: 'community', text: 'Community user agreement' }]
          : [{ value: 'staff', text: 'Staff, governor and visitor code of conduct' }];
    return {
      title: `Agreements: ${person.displayName}`,
      person,
      signatures,
      audienceItems,
      parentItems: guardians.filter((guardian) => guardian.parentalResponsibility).map((guardian) => ({ value: guardian.id, text: guardian.displayName })),
      values: {},
      backLink: `/people/${personId}`,
      ...extra,
    };
  }

  app.get('/people/:personId/agreements', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    return reply.render('features/agreements/views/person.njk', await personAgreements(request, personId));
  });

  // Paper slips: office staff record "paper copy signed on <date>", optionally with a scan.
  app.post('/people/:personId/agreements/paper', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const body = formBody(request);
    const scan = uploadedFile(request, 'scan');
    const values = {
      audience: field(body, 'audience'),
      parentId: field(body, 'parentId'),
      signedOn: field(body, 'signedOn'),
      signedName: field(body, 'signedName'),
    };
    return handleForm(reply, 'features/agreements/views/person.njk', await personAgreements(request, personId, { values }), async () => {
      await agreements.recordPaper(auditContext(request), {
        ...values,
        personId,
        parentId: values.parentId || undefined,
        scan: scan ? { name: scan.filename, data: scan.data } : undefined,
      });
      return redirect(reply, `/people/${personId}/agreements`);
    });
  });

  app.get('/agreements/letters', { config: { access: 'agreements.manage' } }, async (_request, reply) =>
    reply.render('features/agreements/views/letters.njk', {
      title: 'Induction letters',
      className: '',
      outstanding: false,
      letters: [],
      backLink: '/agreements',
    }),
  );

  // Making letters issues new links (ending earlier unused ones), so it is a POST, not a page view.
  app.post('/agreements/letters', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const className = field(body, 'class').trim().slice(0, 40);
    const outstanding = fieldList(body, 'outstanding').includes('yes');
    const view = { title: 'Induction letters', className, outstanding, letters: [] as unknown[], backLink: '/agreements' };
    return handleForm(reply, 'features/agreements/views/letters.njk', view, async () => {
      const letters = await agreements.lettersForClass(auditContext(request), className, { outstandingOnly: outstanding });
      return reply.render('features/agreements/views/letters.njk', { ...view, letters });
    });
  });

  // Parents sign without an account, through a single-use link.
  app.get('/agree/:token', { config: { access: 'public' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const opened = await agreements.openParentLink(token);
    return reply.render('features/agreements/views/parent-sign.njk', { title: opened.template.title, opened, token, values: {} });
  });

  app.post('/agree/:token', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const body = formBody(request);
    const opened = await agreements.openParentLink(token);
    const values = { fullName: field(body, 'fullName') };
    return handleForm(reply, 'features/agreements/views/parent-sign.njk', { title: opened.template.title, opened, token, values }, async () => {
      const { pupilName } = await agreements.signWithParentLink(token, {
        versionId: field(body, 'versionId'),
        fullName: values.fullName,
        accepted: fieldList(body, 'accepted').includes('yes'),
        ip: request.ip,
      });
      return reply.render('features/agreements/views/parent-signed.njk', { title: 'Thank you', pupilName });
    });
  });

  async function guestsPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const [guests, visitors] = await Promise.all([
      agreements.guestRegister(schoolId),
      services.people.list(schoolId, { kind: 'visitor', status: 'current' }, 1, 2000),
    ]);
    return {
      title: 'ICT access register: guests',
      guests,
      visitorItems: visitors.people.map((person) => ({
        value: person.id,
        text: `${person.legalLastName}, ${person.legalFirstName}${person.organisation ? ` (${person.organisation})` : ''}`,
      })),
      values: {},
      canGrant: allowed(request, 'agreements.manage'),
      ...extra,
    };
  }

  app.get('/access-register/guests', { config: { access: 'accessRegister.read' } }, async (request, reply) =>
    reply.render('features/agreements/views/guests.njk', await guestsPage(request)),
  );

  app.post('/access-register/guests', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const values = {
      personId: field(body, 'personId'),
      sponsor: field(body, 'sponsor'),
      purpose: field(body, 'purpose'),
      startsOn: field(body, 'startsOn'),
      expiresOn: field(body, 'expiresOn'),
    };
    return handleForm(reply, 'features/agreements/views/guests.njk', await guestsPage(request, { values }), async () => {
      await agreements.grantGuestAccess(auditContext(request), values);
      return redirect(reply, '/access-register/guests');
    });
  });
}
