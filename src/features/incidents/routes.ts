import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { csvCell } from '../../platform/csv.js';
import { AppError, invalid } from '../../platform/errors.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf, uploadedFile, type FormBody } from '../../platform/http.js';
import type { Permission } from '../../platform/permissions.js';
import { londonInstant } from '../../platform/time.js';
import type { Services } from '../../services.js';
import { personRoles, riskAreas, severities, statusLabels, statuses, visibilities, type PersonRole } from './procedure.js';
import type { ConcernInput } from './schema.js';
import { themeLabel } from '../monitoring/service.js';

const roleLabels: Record<PersonRole, string> = { victim: 'Victim', instigator: 'Instigator', witness: 'Witness', affected: 'Affected', other: 'Other' };
const peopleRows = 6;
const outsideRows = 2;

function concernFromForm(body: FormBody, pupil: boolean): ConcernInput {
  const people: ConcernInput['people'] = [];
  for (let row = 0; row < peopleRows; row += 1) {
    const personId = field(body, `person-${row}`);
    if (personId) people.push({ personId, role: (field(body, `role-${row}`) || 'other') as PersonRole });
  }
  for (let row = 0; row < outsideRows; row += 1) {
    const outsideName = field(body, `outside-name-${row}`);
    if (outsideName)
      people.push({
        outsideName,
        outsideDescription: field(body, `outside-description-${row}`),
        role: (field(body, `outside-role-${row}`) || 'other') as PersonRole,
      });
  }
  const occurred = field(body, 'occurredAt');
  return {
    reporterName: field(body, 'reporterName'),
    occurredAt: occurred ? londonInstant(occurred) : '',
    location: field(body, 'location'),
    device: field(body, 'device'),
    typeIds: fieldList(body, 'typeIds'),
    riskArea: (field(body, 'riskArea') || null) as ConcernInput['riskArea'],
    people,
    whatHappened: pupil
      ? [field(body, 'whatHappened'), field(body, 'who') ? `Who was involved: ${field(body, 'who')}` : ''].filter(Boolean).join('\n\n')
      : field(body, 'whatHappened'),
    immediateAction: field(body, 'immediateAction'),
    urgent: fieldList(body, 'flags').includes('urgent'),
    outOfSchool: fieldList(body, 'flags').includes('outOfSchool'),
  };
}

function isPupilOnly(request: FastifyRequest): boolean {
  const actor = request.actor;
  return actor?.kind === 'user' && actor.roles.length > 0 && actor.roles.every((role) => role === 'pupil');
}

function pageOf(request: FastifyRequest): number {
  const query = request.query as Record<string, string | undefined>;
  return Math.max(1, Math.min(10_000, Number.parseInt(query.page ?? '1', 10) || 1));
}

const day = /^\d{4}-\d{2}-\d{2}$/;

export function registerIncidentRoutes(app: HavenApp, services: Services): void {
  const { incidents, people } = services;

  /** Pupils, then staff, then parents and carers, for the "who was involved" choices. */
  async function personChoices(request: FastifyRequest) {
    // Only people who may read the school's records choose from them; others name people in their own words.
    if (!allowed(request, 'people.read')) return [];
    const everyone = (await people.list(schoolIdOf(request), { status: 'current' }, 1, 2000)).people.filter(
      (person) => person.kind === 'pupil' || person.kind === 'staff' || person.kind === 'parent',
    );
    const order = { pupil: 0, staff: 1, parent: 2 } as Record<string, number>;
    return [
      { value: '', text: 'Choose a pupil or member of staff' },
      ...everyone
        .sort((a, b) => (a.kind === b.kind ? a.legalLastName.localeCompare(b.legalLastName) : (order[a.kind] ?? 3) - (order[b.kind] ?? 3)))
        .map((person) => ({
          value: person.id,
          text: `${person.legalLastName}, ${person.preferredFirstName ?? person.legalFirstName} — ${person.kind === 'pupil' ? `${person.yearLabel}${person.className ? ` ${person.className}` : ''}` : person.kind === 'parent' ? 'parent or carer' : (person.jobTitle ?? 'staff')}`,
        })),
    ];
  }

  async function concernForm(request: FastifyRequest, values: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const types = (await incidents.typesFor(schoolId)).filter((type) => type.retired_at === null && type.code !== 'pupil_worry');
    const personItems = await personChoices(request);
    return {
      title: isPupilOnly(request) ? 'Tell a trusted adult' : 'Report a concern',
      values,
      typeItems: types.map((type) => ({ value: type.id, text: type.name, checked: ((values.typeIds as string[] | undefined) ?? []).includes(type.id) })),
      riskItems: [
        { value: '', text: 'Not sure' },
        ...riskAreas.map((area) => ({ value: area, text: area[0]!.toUpperCase() + area.slice(1), selected: values.riskArea === area })),
      ],
      personItems,
      roleItems: personRoles.map((role) => ({ value: role, text: roleLabels[role] })),
      peopleRows: Array.from({ length: peopleRows }, (_, index) => index),
      outsideRows: Array.from({ length: outsideRows }, (_, index) => index),
    };
  }

  app.get('/concerns/new', { config: { access: 'incident.report' } }, async (request, reply) => {
    const now = services.clock();
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/London', dateStyle: 'short', timeStyle: 'short' }).format(now).replace(' ', 'T');
    const context = await concernForm(request, { occurredAt: local, reporterName: request.actor?.displayName });
    return reply.render(isPupilOnly(request) ? 'features/incidents/views/tell-an-adult.njk' : 'features/incidents/views/report.njk', context);
  });

  app.post('/concerns', { config: { access: 'incident.report' } }, async (request, reply) => {
    const body = formBody(request);
    const pupil = isPupilOnly(request);
    const input = concernFromForm(body, pupil);
    if (!allowed(request, 'people.read')) input.people = input.people.filter((person) => !person.personId);
    if (pupil) {
      const worry = (await incidents.typesFor(schoolIdOf(request))).find((type) => type.code === 'pupil_worry');
      input.typeIds = worry ? [worry.id] : [];
      input.reporterName = request.actor?.displayName;
    }
    const context = await concernForm(request, {
      ...input,
      occurredAt: field(body, 'occurredAt'),
      flags: fieldList(body, 'flags'),
      who: field(body, 'who'),
      whatHappened: field(body, 'whatHappened'),
    });
    return handleForm(reply, pupil ? 'features/incidents/views/tell-an-adult.njk' : 'features/incidents/views/report.njk', context, async () => {
      const { id, reference } = await incidents.report(auditContext(request), input);
      return reply.render('features/incidents/views/reported.njk', { title: 'Thank you', reference, id, pupil });
    });
  });

  app.get('/concerns/mine', { config: { access: 'incident.report' } }, async (request, reply) => {
    const reports = await incidents.myReports(auditContext(request));
    return reply.render('features/incidents/views/mine.njk', { title: 'Your reports', reports });
  });

  // The incident log (policy 002), CSV export and print view.
  function logFilter(request: FastifyRequest) {
    const query = request.query as Record<string, string | undefined>;
    return {
      status: statuses.includes(query.status as (typeof statuses)[number]) ? query.status : undefined,
      open: query.status === 'open' ? true : undefined,
      severity: severities.includes(query.severity as (typeof severities)[number]) ? query.severity : undefined,
      typeId: query.type && /^[0-9a-f-]{36}$/.test(query.type) ? query.type : undefined,
      from: query.from && day.test(query.from) ? `${query.from}T00:00:00.000Z` : undefined,
      to: query.to && day.test(query.to) ? new Date(Date.parse(`${query.to}T00:00:00.000Z`) + 86_400_000).toISOString() : undefined,
      personIds: query.person && /^[0-9a-f-]{36}$/.test(query.person) ? [query.person] : undefined,
      className: query.class?.slice(0, 40) || undefined,
    };
  }

  app.get('/incidents', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const page = pageOf(request);
    const filter = logFilter(request);
    const schoolId = schoolIdOf(request);
    const [result, types] = await Promise.all([incidents.log(auditContext(request), filter, page), incidents.typesFor(schoolId)]);
    const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => Boolean(entry[1]) && entry[0] !== 'page'));
    return reply.render('features/incidents/views/log.njk', {
      title: 'Incident log',
      result,
      query,
      print: query.print === '1',
      csvLink: `/incidents.csv?${params.toString()}`,
      statusItems: [
        { value: '', text: 'Any' },
        { value: 'open', text: 'Open (not closed)', selected: query.status === 'open' },
        ...statuses.map((status) => ({ value: status, text: statusLabels[status], selected: query.status === status })),
      ],
      severityItems: [
        { value: '', text: 'Any' },
        ...severities.map((severity) => ({ value: severity, text: severity, selected: query.severity === severity })),
      ],
      typeItems: [{ value: '', text: 'Any' }, ...types.map((type) => ({ value: type.id, text: type.name, selected: query.type === type.id }))],
      previous: page > 1 ? `/incidents?${params.toString()}&page=${page - 1}` : null,
      next: page * result.pageSize < result.total ? `/incidents?${params.toString()}&page=${page + 1}` : null,
      canReview: allowed(request, 'incident.review'),
    });
  });

  app.get('/incidents.csv', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const filter = logFilter(request);
    const lines = [
      [
        'Reference',
        'Date and time',
        'Status',
        'Severity',
        'Types',
        'People (role, gender, class)',
        'Room',
        'Device',
        'What happened',
        'Evidence',
        'Actions',
        'Reported by',
      ]
        .map(csvCell)
        .join(','),
    ];
    for (let page = 1; page <= 200; page += 1) {
      const result = await incidents.log(auditContext(request), filter, page, 500, { export: true });
      for (const row of result.rows) {
        lines.push(
          [
            row.incident.reference,
            row.incident.occurred_at,
            row.statusLabel,
            row.incident.severity ?? '',
            row.types.map((type) => type.name).join('; '),
            row.people
              .map((person) => `${person.name} (${person.role}${person.gender ? `, ${person.gender}` : ''}${person.className ? `, ${person.className}` : ''})`)
              .join('; '),
            row.incident.location ?? '',
            row.incident.device ?? '',
            row.incident.what_happened,
            row.evidence.map((item) => item.description).join('; '),
            row.actions.map((action) => `${action.description} (${action.owner_name}, due ${action.due_date}${action.done_at ? ', done' : ''})`).join('; '),
            `${row.incident.reporter_name} (${row.incident.reporter_role})`,
          ]
            .map(csvCell)
            .join(','),
        );
      }
      if (page * 500 >= result.total) break;
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="incident-log.csv"')
      .header('cache-control', 'no-store')
      .send(`\uFEFF${lines.join('\r\n')}\r\n`);
  });

  app.get('/incidents/reviews', { config: { access: 'incident.review' } }, async (request, reply) => {
    const reviews = await incidents.reviews(schoolIdOf(request));
    return reply.render('features/incidents/views/reviews.njk', { title: 'Termly reviews of the incident log', reviews, values: {} });
  });

  app.post('/incidents/reviews', { config: { access: 'incident.review' } }, async (request, reply) => {
    const body = formBody(request);
    const values = {
      periodFrom: field(body, 'periodFrom'),
      periodTo: field(body, 'periodTo'),
      reviewerName: field(body, 'reviewerName'),
      reviewerRole: field(body, 'reviewerRole'),
      reviewedOn: field(body, 'reviewedOn'),
      comments: field(body, 'comments'),
    };
    const reviews = await incidents.reviews(schoolIdOf(request));
    return handleForm(reply, 'features/incidents/views/reviews.njk', { title: 'Termly reviews of the incident log', reviews, values }, async () => {
      await incidents.recordReview(auditContext(request), values);
      return redirect(reply, '/incidents/reviews');
    });
  });

  app.get('/incidents/:incidentId', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const { incidentId } = request.params as { incidentId: string };
    return reply.render('features/incidents/views/show.njk', await incidentPage(request, incidentId));
  });

  async function incidentPage(request: FastifyRequest, incidentId: string, extra: Record<string, unknown> = {}) {
    const view = await incidents.get(auditContext(request), incidentId);
    const types = await incidents.typesFor(schoolIdOf(request));
    return {
      title: `Incident ${view.incident.reference}`,
      view,
      typeItems: types
        .filter((type) => type.retired_at === null || view.types.some((chosen) => chosen.id === type.id))
        .map((type) => ({ value: type.id, text: type.name, checked: view.types.some((chosen) => chosen.id === type.id) })),
      visibilityItems: visibilities.map((visibility) => ({
        value: visibility,
        text:
          visibility === 'normal'
            ? 'Online-safety responders (e-safety lead, DSL, deputies, headteacher)'
            : visibility === 'dsl_only'
              ? 'DSL, deputies and headteacher only'
              : 'Headteacher and DSL only (allegation about staff)',
      })),
      personItems: await personChoices(request),
      roleItems: personRoles.map((role) => ({ value: role, text: roleLabels[role] })),
      backLink: '/incidents',
      isHead: request.actor?.kind === 'user' && request.actor.roles.includes('headteacher'),
      ...extra,
    };
  }

  /** Every incident action re-renders the incident page with its errors, or returns to it. */
  function incidentAction(
    path: string,
    run: (request: FastifyRequest, incidentId: string, body: FormBody) => Promise<void>,
    access: Permission = 'incident.respond',
  ) {
    app.post(`/incidents/:incidentId/${path}`, { config: { access } }, async (request, reply) => {
      const { incidentId } = request.params as { incidentId: string };
      const body = formBody(request);
      try {
        await run(request, incidentId, body);
      } catch (error) {
        if (error instanceof AppError && (error.code === 'VALIDATION' || error.code === 'CONFLICT')) {
          reply.code(error.statusCode);
          const fields = error.fields.length > 0 ? error.fields : [{ field: 'main-content', message: error.message }];
          return reply.render(
            'features/incidents/views/show.njk',
            await incidentPage(request, incidentId, {
              errors: fields.map((item) => ({ text: item.message, href: `#${item.field}` })),
              errorFor: Object.fromEntries(fields.map((item) => [item.field, { text: item.message }])),
            }),
          );
        }
        throw error;
      }
      return redirect(reply, `/incidents/${incidentId}${path.startsWith('steps') ? '#steps' : ''}`);
    });
  }

  incidentAction('triage', (request, id, body) =>
    incidents.triage(auditContext(request), id, {
      severity: field(body, 'severity') as 'low',
      severityReason: field(body, 'severityReason'),
      illegal: field(body, 'illegal') as 'no',
      policeAdvice: field(body, 'policeAdvice'),
      treatAsIllegal: field(body, 'treatAsIllegal') === 'yes',
      visibility: (field(body, 'visibility') || 'normal') as 'normal',
    }),
  );
  incidentAction('types', (request, id, body) => incidents.setTypes(auditContext(request), id, fieldList(body, 'typeIds')));
  incidentAction('severity', (request, id, body) =>
    incidents.changeSeverity(auditContext(request), id, field(body, 'severity'), field(body, 'severityReason')),
  );
  incidentAction('visibility', (request, id, body) =>
    incidents.setVisibility(auditContext(request), id, field(body, 'visibility'), field(body, 'visibilityReason')),
  );
  incidentAction(
    'share-with-dsl',
    (request, id, body) => incidents.shareWithDsl(auditContext(request), id, field(body, 'share') === 'yes', field(body, 'shareReason')),
    'incident.shareAllegation',
  );
  app.post('/incidents/:incidentId/people', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const { incidentId } = request.params as { incidentId: string };
    const body = formBody(request);
    try {
      const { becameAllegation } = await incidents.addPerson(auditContext(request), incidentId, {
        personId: field(body, 'personId') || null,
        outsideName: field(body, 'outsideName') || undefined,
        outsideDescription: field(body, 'outsideDescription') || undefined,
        role: field(body, 'role'),
      });
      const stillVisible = !becameAllegation || (request.actor?.kind === 'user' && request.actor.roles.includes('headteacher'));
      return redirect(reply, stillVisible ? `/incidents/${incidentId}` : '/incidents');
    } catch (error) {
      if (error instanceof AppError && error.code === 'VALIDATION') {
        reply.code(400);
        return reply.render(
          'features/incidents/views/show.njk',
          await incidentPage(request, incidentId, {
            errors: [{ text: error.message, href: '#add-person' }],
            errorFor: { addPerson: { text: error.fields[0]?.message ?? error.message } },
          }),
        );
      }
      throw error;
    }
  });

  incidentAction('steps', (request, id, body) =>
    incidents.recordStep(
      auditContext(request),
      id,
      field(body, 'step'),
      field(body, 'outcome') === 'not_applicable' ? 'not_applicable' : 'done',
      field(body, 'note'),
    ),
  );
  incidentAction('not-illegal', (request, id, body) => incidents.notConfirmedIllegal(auditContext(request), id, field(body, 'reason')));
  incidentAction('debrief', (request, id) => incidents.startDebrief(auditContext(request), id));
  incidentAction('actions', (request, id, body) =>
    incidents.addAction(auditContext(request), id, {
      kind: field(body, 'actionKind'),
      description: field(body, 'actionDescription'),
      ownerName: field(body, 'actionOwner'),
      dueDate: field(body, 'actionDue'),
    }),
  );
  incidentAction('actions-done', (request, id, body) => incidents.completeAction(auditContext(request), id, field(body, 'actionId')));
  incidentAction('misuse', (request, id, body) => incidents.startMisuseInvestigation(auditContext(request), id, field(body, 'secondSeniorStaff')));
  incidentAction('sanctions', (request, id, body) =>
    incidents.recordSanction(auditContext(request), id, {
      incidentPersonId: field(body, 'incidentPersonId'),
      ruleId: field(body, 'ruleId') || null,
      actions: fieldList(body, 'actions'),
      note: field(body, 'note'),
    }),
  );
  incidentAction('close', (request, id, body) =>
    incidents.close(auditContext(request), id, { lessonsLearnt: field(body, 'lessonsLearnt'), monitoringNote: field(body, 'monitoringNote') }),
  );
  incidentAction('reopen', (request, id, body) => incidents.reopen(auditContext(request), id, field(body, 'reopenReason')));

  app.post('/incidents/:incidentId/evidence', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const { incidentId } = request.params as { incidentId: string };
    const body = formBody(request);
    const text = (name: string) => field(body, name);
    const upload = uploadedFile(request, 'evidenceFile');
    try {
      await incidents.addEvidence(auditContext(request), incidentId, {
        url: text('evidenceUrl'),
        description: text('evidenceDescription'),
        heldWhere: text('heldWhere'),
        heldBy: text('heldBy'),
        file: upload ? { name: upload.filename, contentType: upload.mimetype, data: upload.data } : undefined,
      });
    } catch (error) {
      if (error instanceof AppError && (error.code === 'VALIDATION' || error.code === 'CONFLICT')) {
        reply.code(error.statusCode);
        return reply.render(
          'features/incidents/views/show.njk',
          await incidentPage(request, incidentId, {
            errors: [{ text: error.message, href: `#${error.fields[0]?.field ?? 'evidence'}` }],
            errorFor: Object.fromEntries(error.fields.map((item) => [item.field, { text: item.message }])),
          }),
        );
      }
      throw error;
    }
    return redirect(reply, `/incidents/${incidentId}#evidence`);
  });

  app.post('/incidents/:incidentId/evidence/:evidenceId/open', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const { incidentId, evidenceId } = request.params as { incidentId: string; evidenceId: string };
    const reason = field(formBody(request), 'reason');
    if (!reason) throw invalid('Give your reason for opening this file');
    const file = await incidents.openEvidence(auditContext(request), incidentId, evidenceId, reason);
    return reply
      .type('application/octet-stream')
      .header('content-disposition', contentDisposition(file.meta.file_name))
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(file.data);
  });

  app.get('/people/:personId/chronology', { config: { access: 'incident.respond' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const chronology = await incidents.chronology(auditContext(request), personId);
    // Consents and agreements from their own features, merged in time order with the incidents.
    const schoolId = schoolIdOf(request);
    const [consentHistory, signatures, alerts] = await Promise.all([
      chronology.person.kind === 'pupil' ? services.consents.historyOf(schoolId, personId) : Promise.resolve([]),
      services.agreements.signaturesOfPerson(schoolId, personId),
      services.monitoring.alertsOfPerson(auditContext(request), personId),
    ]);
    const methods: Record<string, string> = { online: 'online', parent_link: 'by a parent online', paper: 'on paper', class_session: 'in a class session' };
    const entries = [
      ...chronology.entries,
      ...consentHistory.map((entry) => ({ at: entry.at, kind: 'note' as const, text: entry.text })),
      ...alerts.map((alert) => ({
        at: alert.first_at,
        kind: 'alert' as const,
        alertId: alert.id,
        text: `${alert.reference}: ${themeLabel(alert.theme)}, severity ${alert.severity}${alert.count > 1 ? `, ${alert.count} times` : ''}`,
      })),
      ...signatures.map((signature) => ({
        at: signature.signed_at,
        kind: 'note' as const,
        text: `${signature.title}, version ${signature.version}: signed ${methods[signature.method] ?? signature.method} (${signature.signed_name})`,
      })),
    ].sort((a, b) => b.at.localeCompare(a.at));
    return reply.render('features/incidents/views/chronology.njk', {
      title: `Chronology: ${chronology.person.displayName}`,
      chronology: { ...chronology, entries },
      backLink: `/people/${personId}`,
    });
  });

  async function sanctionsPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const [tables, types] = await Promise.all([incidents.sanctionTables(schoolId), incidents.typesFor(schoolId)]);
    return {
      title: 'Actions and sanctions',
      tables: tables.map((table) => ({
        ...table,
        rules: table.rules.map((rule) => ({
          ...rule,
          actionItems: table.columns.map((column) => ({ value: column.value, text: column.text, checked: rule.actions.includes(column.value) })),
          typeItems: [
            { value: '*', text: 'Any type (continued infringements)', checked: rule.typeCodes.includes('*') },
            ...types.map((type) => ({ value: type.code, text: type.name, checked: rule.typeCodes.includes(type.code) })),
          ],
        })),
        newActionItems: table.columns.map((column) => ({ value: column.value, text: column.text })),
        newTypeItems: types.map((type) => ({ value: type.code, text: type.name })),
      })),
      ...extra,
    };
  }

  app.get('/admin/sanctions', { config: { access: 'incidentSettings.manage' } }, async (request, reply) =>
    reply.render('features/incidents/views/sanctions.njk', await sanctionsPage(request)),
  );

  app.post('/admin/sanctions', { config: { access: 'incidentSettings.manage' } }, async (request, reply) => {
    const body = formBody(request);
    try {
      if (field(body, 'action') === 'retire') await incidents.retireSanctionRule(auditContext(request), field(body, 'ruleId'));
      else
        await incidents.saveSanctionRule(auditContext(request), {
          id: field(body, 'ruleId') || undefined,
          audience: field(body, 'audience'),
          offence: field(body, 'offence'),
          actions: fieldList(body, 'actions'),
          typeCodes: fieldList(body, 'typeCodes'),
        });
    } catch (error) {
      if (error instanceof AppError && error.code === 'VALIDATION') {
        reply.code(400);
        return reply.render(
          'features/incidents/views/sanctions.njk',
          await sanctionsPage(request, { errors: error.fields.map((item) => ({ text: item.message, href: `#${item.field}` })) }),
        );
      }
      throw error;
    }
    return redirect(reply, '/admin/sanctions');
  });

  app.get('/admin/incident-types', { config: { access: 'incidentSettings.manage' } }, async (request, reply) => {
    const types = await incidents.typesFor(schoolIdOf(request));
    return reply.render('features/incidents/views/types.njk', { title: 'Types of concern', types });
  });

  app.post('/admin/incident-types', { config: { access: 'incidentSettings.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const types = await incidents.typesFor(schoolIdOf(request));
    return handleForm(reply, 'features/incidents/views/types.njk', { title: 'Types of concern', types }, async () => {
      const action = field(body, 'action');
      const typeId = field(body, 'typeId');
      if (action === 'add') await incidents.addType(auditContext(request), field(body, 'name'));
      else if (action === 'rename') await incidents.renameType(auditContext(request), typeId, field(body, `name-${typeId}`));
      else if (action === 'retire' || action === 'restore') await incidents.setTypeRetired(auditContext(request), typeId, action === 'retire');
      else throw invalid('Choose what to do');
      return redirect(reply, '/admin/incident-types');
    });
  });
}

/** An ASCII fallback name and the exact name in RFC 5987 form, so any file name can be downloaded. */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
