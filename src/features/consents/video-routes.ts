import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { csvCell } from '../../platform/csv.js';
import { invalid } from '../../platform/errors.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf } from '../../platform/http.js';
import { londonInstant } from '../../platform/time.js';
import type { Services } from '../../services.js';
import { conferenceStatuses, conferenceStatusLabels } from './video-log.js';

/** The video-conference log: request, the headteacher's approval beforehand, held, CSV. */
export function registerVideoConferenceRoutes(app: HavenApp, services: Services): void {
  const { videoLog, people } = services;

  function filterOf(request: FastifyRequest) {
    const query = request.query as Record<string, string | undefined>;
    return {
      status: query.status && (conferenceStatuses as readonly string[]).includes(query.status) ? query.status : undefined,
      // Days are the school's (London) days: a conference at 00:30 BST belongs to that day, not the one before.
      from: /^\d{4}-\d{2}-\d{2}$/.test(query.from ?? '') ? londonInstant(`${query.from!}T00:00`) : undefined,
      to: /^\d{4}-\d{2}-\d{2}$/.test(query.to ?? '')
        ? londonInstant(`${new Date(Date.parse(`${query.to!}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10)}T00:00`)
        : undefined,
    };
  }

  app.get('/video-conferences', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const rows = await videoLog.list(schoolIdOf(request), filterOf(request));
    return reply.render('features/consents/views/video/list.njk', {
      title: 'Video conferences',
      rows,
      query,
      statusItems: [{ value: '', text: 'Any' }, ...conferenceStatuses.map((status) => ({ value: status, text: conferenceStatusLabels[status] }))],
      csvLink: `/video-conferences.csv${request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''}`,
    });
  });

  app.get('/video-conferences.csv', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const rows = await videoLog.list(schoolIdOf(request), filterOf(request));
    const lines = [
      'Reference,Starts,Ends,Purpose,External end-points,Supervising staff,Pupils,Other participants,Recorded,Written consent confirmed,Status,Decision',
      ...rows.map((row) =>
        [
          row.reference,
          row.starts_at,
          row.ends_at,
          row.purpose,
          row.external_endpoints,
          row.supervisor,
          String(row.pupils),
          row.other_participants ?? '',
          row.recorded ? 'yes' : 'no',
          row.written_consent_confirmed ? 'yes' : 'no',
          row.statusLabel,
          row.decision_note ?? '',
        ]
          .map(csvCell)
          .join(','),
      ),
    ];
    await services.audit.record(auditContext(request), 'video_conference.exported', null, { rows: rows.length });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="video-conferences.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  async function formPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const query = request.query as Record<string, string | undefined>;
    const className = (extra.className as string | undefined) ?? query.class?.trim().slice(0, 40) ?? '';
    const [staff, groups] = await Promise.all([people.list(schoolId, { kind: 'staff', status: 'current' }, 1, 2000), people.listGroups(schoolId)]);
    const pupils = className
      ? (await people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 5000)).people.filter((pupil) => pupil.className === className)
      : [];
    return {
      title: 'Ask for a video conference',
      className,
      classes: groups.filter((group) => group.kind === 'class').map((group) => group.code),
      staffItems: [
        { value: '', text: 'Choose' },
        ...staff.people.map((person) => ({ value: person.id, text: `${person.legalLastName}, ${person.legalFirstName}` })),
      ],
      pupils: pupils.sort((a, b) => a.legalLastName.localeCompare(b.legalLastName)),
      values: {},
      backLink: '/video-conferences',
      ...extra,
    };
  }

  app.get('/video-conferences/new', { config: { access: 'videoConferences.request' } }, async (request, reply) =>
    reply.render('features/consents/views/video/form.njk', await formPage(request)),
  );

  app.post('/video-conferences', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const body = formBody(request);
    const values = {
      startsAt: field(body, 'startsAt'),
      minutes: field(body, 'minutes'),
      purpose: field(body, 'purpose'),
      externalEndpoints: field(body, 'externalEndpoints'),
      supervisorId: field(body, 'supervisorId'),
      otherParticipants: field(body, 'otherParticipants'),
      recorded: field(body, 'recorded') === 'yes',
      pupilIds: fieldList(body, 'pupilIds'),
    };
    return handleForm(reply, 'features/consents/views/video/form.njk', await formPage(request, { values, className: field(body, 'class') }), async () => {
      const id = await videoLog.request(auditContext(request), { ...values, startsAt: londonInstant(values.startsAt) });
      return redirect(reply, `/video-conferences/${id}`);
    });
  });

  async function showPage(request: FastifyRequest, id: string, extra: Record<string, unknown> = {}) {
    const view = await videoLog.get(schoolIdOf(request), id);
    const now = services.clock().toISOString();
    return {
      title: `Video conference ${view.row.reference}`,
      view,
      canDecide: allowed(request, 'videoConferences.approve') && view.row.status === 'requested' && view.row.starts_at > now,
      canMarkHeld: view.row.status === 'approved' && view.row.starts_at <= now,
      canCancel: view.row.status === 'requested' || view.row.status === 'approved',
      backLink: '/video-conferences',
      values: {},
      ...extra,
    };
  }

  app.get('/video-conferences/:id', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return reply.render('features/consents/views/video/show.njk', await showPage(request, id));
  });

  app.post('/video-conferences/:id/decision', { config: { access: 'videoConferences.approve' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = formBody(request);
    const values = { note: field(body, 'note'), decision: field(body, 'decision') };
    return handleForm(reply, 'features/consents/views/video/show.njk', await showPage(request, id, { values }), async () => {
      // No choice is no decision: it must not be recorded as a refusal.
      if (values.decision !== 'approve' && values.decision !== 'decline')
        throw invalid('Choose whether to approve or decline', [{ field: 'decision', message: 'Choose whether to approve or decline' }]);
      await videoLog.decide(auditContext(request), id, {
        approve: values.decision === 'approve',
        note: values.note,
        writtenConsent: fieldList(body, 'writtenConsent').includes('yes'),
      });
      return redirect(reply, `/video-conferences/${id}`);
    });
  });

  app.post('/video-conferences/:id/held', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const note = field(formBody(request), 'heldNote');
    return handleForm(reply, 'features/consents/views/video/show.njk', await showPage(request, id), async () => {
      await videoLog.markHeld(auditContext(request), id, note);
      return redirect(reply, `/video-conferences/${id}`);
    });
  });

  app.post('/video-conferences/:id/cancel', { config: { access: 'videoConferences.request' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return handleForm(reply, 'features/consents/views/video/show.njk', await showPage(request, id), async () => {
      await videoLog.cancel(auditContext(request), id);
      return redirect(reply, `/video-conferences/${id}`);
    });
  });
}
