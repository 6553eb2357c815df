import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf, uploadedFile, type FormBody } from '../../platform/http.js';
import { adminPagesFor } from '../../platform/navigation.js';
import type { Services } from '../../services.js';
import { fieldsFor, importFieldLabels, type ImportKind } from './import.js';
import { parseDate, personKindLabels, personKinds, postLabels, posts, yearLabel, type PersonInput, type PersonKind } from './schema.js';
import type { Person } from './service.js';

const yearOptions = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((year) => ({ value: String(year), text: yearLabel(year) }));

/** Form fields → the person input; dates typed as DD/MM/YYYY or YYYY-MM-DD. */
function personFromForm(body: FormBody): { input: PersonInput; dateErrors: Array<{ field: string; message: string }> } {
  const dateErrors: Array<{ field: string; message: string }> = [];
  const date = (name: string, label: string) => {
    const parsed = parseDate(field(body, name));
    if (parsed === 'invalid') dateErrors.push({ field: name, message: `${label} must be a real date, like 27/03/2017` });
    return parsed === 'invalid' ? null : parsed;
  };
  const year = field(body, 'yearGroup');
  const flags = fieldList(body, 'markers');
  const gender = field(body, 'gender');
  const input: PersonInput = {
    kind: field(body, 'kind') as PersonKind,
    legalFirstName: field(body, 'legalFirstName'),
    legalLastName: field(body, 'legalLastName'),
    preferredFirstName: field(body, 'preferredFirstName'),
    preferredLastName: field(body, 'preferredLastName'),
    dateOfBirth: date('dateOfBirth', 'Date of birth'),
    gender: gender === '' ? null : (gender as 'M' | 'F' | 'X' | 'U'),
    yearGroup: year === '' ? null : Number(year),
    className: field(body, 'className'),
    send: flags.includes('send'),
    eal: flags.includes('eal'),
    lookedAfter: flags.includes('lookedAfter'),
    misId: field(body, 'misId'),
    jobTitle: field(body, 'jobTitle'),
    email: field(body, 'email'),
    phone: field(body, 'phone'),
    organisation: field(body, 'organisation'),
    networkUsername: field(body, 'networkUsername'),
    startDate: date('startDate', 'Start date'),
    leaveDate: date('leaveDate', 'Leaving date'),
  };
  return { input, dateErrors };
}

function formValues(person: Partial<Person> & { kind: PersonKind }) {
  const uk = (iso: string | null | undefined) => (iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : '');
  return {
    ...person,
    dateOfBirth: uk(person.dateOfBirth),
    startDate: uk(person.startDate),
    leaveDate: uk(person.leaveDate),
    yearGroup: person.yearGroup === null || person.yearGroup === undefined ? '' : String(person.yearGroup),
  };
}

function formContext(values: Record<string, unknown>, action: string, heading: string) {
  return {
    title: heading,
    heading,
    action,
    values,
    kindItems: personKinds.map((kind) => ({ value: kind, text: personKindLabels[kind] })),
    yearItems: [{ value: '', text: 'Not a pupil / not set' }, ...yearOptions],
  };
}

function pageOf(request: FastifyRequest): number {
  const query = request.query as Record<string, string | undefined>;
  return Math.max(1, Number.parseInt(query.page ?? '1', 10) || 1);
}

export function registerPeopleRoutes(app: HavenApp, services: Services): void {
  const { people, users } = services;

  // The administration pages this person may open (they sit behind one "Admin" link).
  app.get('/admin', { config: { access: 'signed-in' } }, async (request, reply) => {
    const pages = adminPagesFor(request.actor);
    if (pages.length === 0) throw notFound('page');
    return reply.render('platform/views/admin.njk', { title: 'Admin', pages });
  });

  app.get('/', { config: { access: 'signed-in' } }, async (request, reply) => {
    const schoolId = schoolIdOf(request);
    const counts = allowed(request, 'people.read')
      ? {
          pupils: (await people.list(schoolId, { kind: 'pupil', status: 'current' }, 1, 1)).total,
          staff: (await people.list(schoolId, { kind: 'staff', status: 'current' }, 1, 1)).total,
          parents: (await people.list(schoolId, { kind: 'parent', status: 'current' }, 1, 1)).total,
        }
      : null;
    const register = await people.rolesRegister(schoolId);
    const incidentPanel = allowed(request, 'incident.respond') ? await services.incidents.dashboard(auditContext(request)) : null;
    const alertPanel = allowed(request, 'monitoring.alerts') ? await services.monitoring.openAlertCounts(auditContext(request)) : null;
    return reply.render('features/people/views/home.njk', {
      title: 'Home',
      counts,
      incidentPanel,
      alertPanel,
      register: register.filter((entry) => entry.onPoster),
    });
  });

  app.get('/people', { config: { access: 'people.read' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const kind = personKinds.includes(query.kind as PersonKind) ? query.kind : undefined;
    const status = query.status === 'left' ? 'left' : query.status === 'all' ? undefined : 'current';
    const page = pageOf(request);
    const result = await people.list(
      schoolIdOf(request),
      { kind, status, search: query.q?.slice(0, 100) || undefined, groupId: query.group || undefined },
      page,
    );
    const params = new URLSearchParams(
      Object.entries({ kind, status: query.status, q: query.q, group: query.group }).filter((entry): entry is [string, string] => Boolean(entry[1])),
    );
    return reply.render('features/people/views/list.njk', {
      title: 'People',
      result,
      query: { ...query, kind },
      kindItems: [{ value: '', text: 'Everyone' }, ...personKinds.map((value) => ({ value, text: personKindLabels[value], selected: value === kind }))],
      previous: page > 1 ? `/people?${params.toString()}&page=${page - 1}` : null,
      next: page * result.pageSize < result.total ? `/people?${params.toString()}&page=${page + 1}` : null,
      canManage: allowed(request, 'people.manage'),
      canImport: allowed(request, 'people.import'),
    });
  });

  app.get('/people/new', { config: { access: 'people.manage' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const kind = personKinds.includes(query.kind as PersonKind) ? (query.kind as PersonKind) : 'pupil';
    return reply.render('features/people/views/form.njk', { ...formContext({ kind }, '/people', 'Add a person'), backLink: '/people' });
  });

  app.post('/people', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { input, dateErrors } = personFromForm(formBody(request));
    return handleForm(
      reply,
      'features/people/views/form.njk',
      formContext({ ...input, ...datesAsTyped(formBody(request)) }, '/people', 'Add a person'),
      async () => {
        if (dateErrors.length > 0) throw invalid('There is a problem with the dates', dateErrors);
        const person = await people.create(schoolIdOf(request), input, auditContext(request));
        return redirect(reply, `/people/${person.id}`);
      },
    );
  });

  app.get('/people/:personId', { config: { access: 'people.read' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const schoolId = schoolIdOf(request);
    const person = await people.get(schoolId, personId);
    const [groups, guardians, children, account] = await Promise.all([
      people.groupsOf(schoolId, personId),
      person.kind === 'pupil' ? people.guardiansOf(schoolId, personId) : Promise.resolve([]),
      person.kind === 'parent' ? people.childrenOf(schoolId, personId) : Promise.resolve([]),
      allowed(request, 'users.read') ? users.findByPerson(schoolId, personId) : Promise.resolve(undefined),
    ]);
    const parents =
      person.kind === 'pupil' && allowed(request, 'people.manage') ? (await people.list(schoolId, { kind: 'parent', status: 'current' }, 1, 500)).people : [];
    return reply.render('features/people/views/show.njk', {
      title: person.displayName,
      person,
      groups,
      guardians,
      children,
      account,
      parents,
      canManage: allowed(request, 'people.manage'),
      canInvite: allowed(request, 'users.manage'),
      canSeeChronology: allowed(request, 'incident.respond'),
      canManageAgreements: allowed(request, 'agreements.manage'),
      canManageConsents: allowed(request, 'consents.manage'),
      backLink: '/people',
    });
  });

  app.get('/people/:personId/edit', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const person = await people.get(schoolIdOf(request), personId);
    return reply.render('features/people/views/form.njk', {
      ...formContext(formValues(person), `/people/${personId}`, `Change ${person.displayName}`),
      editing: true,
      backLink: `/people/${personId}`,
    });
  });

  app.post('/people/:personId', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const body = formBody(request);
    const { input, dateErrors } = personFromForm(body);
    return handleForm(
      reply,
      'features/people/views/form.njk',
      { ...formContext({ ...input, ...datesAsTyped(body) }, `/people/${personId}`, 'Change details'), editing: true },
      async () => {
        if (dateErrors.length > 0) throw invalid('There is a problem with the dates', dateErrors);
        await people.update(schoolIdOf(request), personId, input, auditContext(request));
        return redirect(reply, `/people/${personId}`);
      },
    );
  });

  app.post('/people/:personId/leave', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    await people.markLeft(schoolIdOf(request), personId, services.clock().toISOString().slice(0, 10), auditContext(request));
    return redirect(reply, `/people/${personId}`);
  });

  app.post('/people/:personId/guardians', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const body = formBody(request);
    const parentId = field(body, 'parentId');
    if (!parentId) throw new AppError('VALIDATION', 'Choose a parent or carer to link');
    await services.handle.db
      .transaction()
      .execute((trx) =>
        people.linkGuardian(
          trx,
          schoolIdOf(request),
          { parentId, pupilId: personId, relationship: field(body, 'relationship'), parentalResponsibility: field(body, 'parentalResponsibility') === 'yes' },
          auditContext(request),
        ),
      );
    return redirect(reply, `/people/${personId}`);
  });

  app.get('/groups', { config: { access: 'groups.read' } }, async (request, reply) => {
    const groups = await people.listGroups(schoolIdOf(request));
    return reply.render('features/people/views/groups.njk', { title: 'Groups', groups, canSeePeople: allowed(request, 'people.read') });
  });

  // The staff who teach a class: they see their class's consent grid and, later, its reports.
  async function classStaffPage(request: FastifyRequest, groupId: string, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const group = await people.getGroup(schoolId, groupId);
    if (group.kind !== 'class') throw notFound('class');
    const [teachers, staff] = await Promise.all([people.staffOfGroup(schoolId, groupId), people.list(schoolId, { kind: 'staff', status: 'current' }, 1, 2000)]);
    return {
      title: `${group.name}: staff`,
      group,
      teachers,
      staffItems: staff.people
        .filter((person) => !teachers.some((teacher) => teacher.id === person.id))
        .map((person) => ({ value: person.id, text: `${person.legalLastName}, ${person.legalFirstName}${person.jobTitle ? ` (${person.jobTitle})` : ''}` })),
      canManage: allowed(request, 'people.manage'),
      backLink: '/groups',
      ...extra,
    };
  }

  app.get('/groups/:groupId/staff', { config: { access: 'groups.read' } }, async (request, reply) => {
    const { groupId } = request.params as { groupId: string };
    return reply.render('features/people/views/class-staff.njk', await classStaffPage(request, groupId));
  });

  app.post('/groups/:groupId/staff', { config: { access: 'people.manage' } }, async (request, reply) => {
    const { groupId } = request.params as { groupId: string };
    const body = formBody(request);
    return handleForm(reply, 'features/people/views/class-staff.njk', await classStaffPage(request, groupId), async () => {
      if (field(body, 'remove')) await people.removeGroupStaff(schoolIdOf(request), groupId, field(body, 'remove'), auditContext(request));
      else await people.assignGroupStaff(schoolIdOf(request), groupId, field(body, 'personId'), auditContext(request));
      return redirect(reply, `/groups/${groupId}/staff`);
    });
  });

  // MIS import.
  app.get('/people/import', { config: { access: 'people.import' } }, async (_request, reply) =>
    reply.render('features/people/views/import-upload.njk', { title: 'Import from your MIS', backLink: '/people' }),
  );

  app.post('/people/import', { config: { access: 'people.import' } }, async (request, reply) => {
    const file = uploadedFile(request, 'file');
    const kind = field(formBody(request), 'kind') as ImportKind;
    return handleForm(reply, 'features/people/views/import-upload.njk', { title: 'Import from your MIS' }, async () => {
      if (!file) throw invalid('Choose a CSV file', [{ field: 'file', message: 'Choose a CSV file exported from your MIS' }]);
      const text = file.data.toString('utf8');
      if (text.includes('\u0000'))
        throw invalid('The file is not a CSV text file', [{ field: 'file', message: 'The file must be a CSV (comma-separated text) file' }]);
      const preview = await people.startImport(schoolIdOf(request), { kind, fileName: file.filename, csv: text }, auditContext(request));
      return redirect(reply, `/people/import/${preview.importId}`);
    });
  });

  app.get('/people/import/:importId', { config: { access: 'people.import' } }, async (request, reply) => {
    const { importId } = request.params as { importId: string };
    const preview = await people.previewImport(schoolIdOf(request), importId);
    return reply.render('features/people/views/import-preview.njk', importContext(preview));
  });

  app.post('/people/import/:importId/mapping', { config: { access: 'people.import' } }, async (request, reply) => {
    const { importId } = request.params as { importId: string };
    const body = formBody(request);
    const columns: Record<string, string> = {};
    for (const name of Object.keys(importFieldLabels)) columns[name] = field(body, `column-${name}`);
    await people.remapImport(schoolIdOf(request), importId, columns, field(body, 'markLeavers') === 'yes');
    return redirect(reply, `/people/import/${importId}`);
  });

  app.post('/people/import/:importId/apply', { config: { access: 'people.import' } }, async (request, reply) => {
    const { importId } = request.params as { importId: string };
    const body = formBody(request);
    const preview = await people.previewImport(schoolIdOf(request), importId);
    return handleForm(reply, 'features/people/views/import-preview.njk', importContext(preview), async () => {
      const outcome = await people.applyImport(schoolIdOf(request), importId, { validOnly: field(body, 'validOnly') === 'yes' }, auditContext(request));
      return reply.render('features/people/views/import-done.njk', { title: 'Import complete', outcome });
    });
  });

  // Roles register and the "who to tell" poster (policies 000 and 004: names on display).
  app.get('/who-to-tell', { config: { access: 'rolesRegister.read' } }, async (request, reply) => {
    const register = await people.rolesRegister(schoolIdOf(request));
    const query = request.query as Record<string, string | undefined>;
    return reply.render(query.poster === '1' ? 'features/people/views/poster.njk' : 'features/people/views/who-to-tell.njk', {
      title: 'Who to tell',
      register,
      canManage: allowed(request, 'rolesRegister.manage'),
      postItems: posts.map((post) => ({ value: post, text: postLabels[post] })),
      values: {},
    });
  });

  app.post('/who-to-tell', { config: { access: 'rolesRegister.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const schoolId = schoolIdOf(request);
    const values = { post: field(body, 'post'), name: field(body, 'name'), contact: field(body, 'contact') };
    const register = await people.rolesRegister(schoolId);
    return handleForm(
      reply,
      'features/people/views/who-to-tell.njk',
      {
        title: 'Who to tell',
        register,
        canManage: true,
        postItems: posts.map((post) => ({ value: post, text: postLabels[post], selected: post === values.post })),
        values,
      },
      async () => {
        await services.handle.db
          .transaction()
          .execute((trx) =>
            people.assignPost(
              trx,
              schoolId,
              { post: values.post, personId: null, name: values.name, contact: values.contact || null, onPoster: field(body, 'onPoster') !== 'no' },
              auditContext(request),
            ),
          );
        return redirect(reply, '/who-to-tell');
      },
    );
  });

  app.post('/who-to-tell/:entryId/remove', { config: { access: 'rolesRegister.manage' } }, async (request, reply) => {
    const { entryId } = request.params as { entryId: string };
    await people.removePost(schoolIdOf(request), entryId, auditContext(request));
    return redirect(reply, '/who-to-tell');
  });
}

function datesAsTyped(body: FormBody) {
  return {
    dateOfBirth: field(body, 'dateOfBirth'),
    startDate: field(body, 'startDate'),
    leaveDate: field(body, 'leaveDate'),
    yearGroup: field(body, 'yearGroup'),
  };
}

function importContext(preview: Awaited<ReturnType<Services['people']['previewImport']>>) {
  return {
    title: 'Check the import',
    preview,
    fields: fieldsFor[preview.kind].map((name) => ({
      name,
      label: importFieldLabels[name],
      items: [
        { value: '', text: '(not in this file)' },
        ...preview.headers.map((header, index) => ({ value: String(index), text: header || `Column ${index + 1}`, selected: preview.mapping[name] === index })),
      ],
    })),
    problemRows: preview.problems.slice(0, 200),
    backLink: '/people/import',
  };
}
