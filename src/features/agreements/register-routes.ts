import type { FastifyRequest } from 'fastify';
import type { HavenApp } from '../../app.js';
import { csvCell } from '../../platform/csv.js';
import { allowed, auditContext, fieldList, formBody, handleForm, redirect, schoolIdOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { agreementStateLabels, categoryLabels, type Category, type RegisterEntry } from './access-register.js';

const categoryPlurals: Record<Category, string> = { staff: 'Staff', governor: 'Governors', pupil: 'Pupils', guest: 'Visitors and community users' };

interface RegisterFilter {
  category: Category | '';
  status: 'cleared' | 'not_cleared' | '';
  since: string;
}

function filterOf(request: FastifyRequest): RegisterFilter {
  const query = request.query as Record<string, string | undefined>;
  const category = query.category && query.category in categoryLabels ? (query.category as Category) : '';
  const status = query.status === 'cleared' || query.status === 'not_cleared' ? query.status : '';
  const since = /^\d{4}-\d{2}-\d{2}$/.test(query.since ?? '') ? query.since! : '';
  return { category, status, since };
}

function apply(entries: RegisterEntry[], filter: RegisterFilter): RegisterEntry[] {
  return entries.filter(
    (entry) =>
      (!filter.category || entry.category === filter.category) &&
      (filter.status !== 'cleared' || entry.cleared) &&
      (filter.status !== 'not_cleared' || !entry.cleared) &&
      // "Cleared since" is for the technician creating accounts: only the cleared, from that date.
      (!filter.since || (entry.clearedSince !== null && entry.clearedSince.slice(0, 10) >= filter.since)),
  );
}

function queryString(filter: RegisterFilter): string {
  const params = new URLSearchParams();
  for (const key of ['category', 'status', 'since'] as const) if (filter[key]) params.set(key, filter[key]);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The ICT access register: everyone's clearance, the technician's lists, reminders and the CSV. */
export function registerAccessRegisterRoutes(app: HavenApp, services: Services): void {
  const { accessRegister } = services;

  async function registerPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const filter = filterOf(request);
    const [entries, leavers] = await Promise.all([accessRegister.entries(schoolId), accessRegister.leaversWithAccess(schoolId)]);
    const shown = apply(entries, filter);
    const summary = (Object.keys(categoryLabels) as Category[]).map((category) => {
      const mine = entries.filter((entry) => entry.category === category);
      return { category, plural: categoryPlurals[category], total: mine.length, cleared: mine.filter((entry) => entry.cleared).length };
    });
    const query = request.query as Record<string, string | undefined>;
    return {
      title: 'ICT access register',
      entries: shown,
      summary,
      filter,
      csvLink: `/access-register.csv${queryString(filter)}`,
      leavers: leavers.length,
      categoryLabels,
      agreementStateLabels,
      canRecordAccounts: allowed(request, 'accessRegister.provision'),
      canRemind: allowed(request, 'agreements.manage'),
      recorded: Number(query.recorded ?? '') || null,
      reminded: query.reminded ?? null,
      ...extra,
    };
  }

  app.get('/access-register', { config: { access: 'accessRegister.read' } }, async (request, reply) =>
    reply.render('features/agreements/views/register.njk', await registerPage(request)),
  );

  app.get('/access-register.csv', { config: { access: 'accessRegister.read' } }, async (request, reply) => {
    const filter = filterOf(request);
    const entries = apply(await accessRegister.entries(schoolIdOf(request)), filter);
    const lines = [
      'Name,Category,Class or job title,Cleared,Reason,Cleared since,Filtering,Network account recorded',
      ...entries.map((entry) =>
        [
          `${entry.person.legalLastName}, ${entry.person.legalFirstName}`,
          categoryLabels[entry.category],
          entry.category === 'pupil' ? (entry.person.className ?? entry.person.yearLabel) : (entry.person.jobTitle ?? entry.person.organisation ?? ''),
          entry.cleared ? 'yes' : 'no',
          entry.reason,
          entry.clearedSince?.slice(0, 10) ?? '',
          entry.filtering.label,
          entry.accountRecorded ? 'yes' : 'no',
        ]
          .map(csvCell)
          .join(','),
      ),
    ];
    await services.audit.record(auditContext(request), 'access_register.exported', null, { rows: entries.length, ...filter });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="ict-access-register.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  // The technician records the network accounts made for people newly cleared.
  app.post('/access-register/accounts', { config: { access: 'accessRegister.provision' } }, async (request, reply) => {
    const body = formBody(request);
    return handleForm(reply, 'features/agreements/views/register.njk', await registerPage(request), async () => {
      const count = await accessRegister.recordAccounts(auditContext(request), fieldList(body, 'personIds'));
      return redirect(reply, `/access-register?status=cleared&recorded=${count}`);
    });
  });

  app.post('/access-register/reminders', { config: { access: 'agreements.manage' } }, async (request, reply) => {
    const sent = await accessRegister.sendReminders(auditContext(request));
    return redirect(reply, `/access-register?status=not_cleared&reminded=${sent.staff}-${sent.parents}`);
  });

  async function leaversPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    return {
      title: 'Leavers still holding access',
      leavers: await accessRegister.leaversWithAccess(schoolIdOf(request)),
      canRemove: allowed(request, 'accessRegister.provision'),
      backLink: '/access-register',
      ...extra,
    };
  }

  app.get('/access-register/leavers', { config: { access: 'accessRegister.read' } }, async (request, reply) =>
    reply.render('features/agreements/views/leavers.njk', await leaversPage(request)),
  );

  app.post('/access-register/leavers', { config: { access: 'accessRegister.provision' } }, async (request, reply) => {
    const body = formBody(request);
    return handleForm(reply, 'features/agreements/views/leavers.njk', await leaversPage(request), async () => {
      await accessRegister.removeAccess(auditContext(request), fieldList(body, 'personIds'));
      return redirect(reply, '/access-register/leavers');
    });
  });

  app.get('/access-register/pupils', { config: { access: 'accessRegister.read' } }, async (request, reply) => {
    const entries = (await accessRegister.entries(schoolIdOf(request))).filter((entry) => entry.category === 'pupil');
    const query = request.query as Record<string, string | undefined>;
    const shown =
      query.status === 'not_cleared'
        ? entries.filter((entry) => !entry.cleared)
        : query.status === 'cleared'
          ? entries.filter((entry) => entry.cleared)
          : entries;
    return reply.render('features/agreements/views/pupil-register.njk', {
      title: 'ICT access register: pupils',
      register: shown,
      total: entries.length,
      cleared: entries.filter((entry) => entry.cleared).length,
      agreementStateLabels,
    });
  });
}
