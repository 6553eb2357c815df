import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HavenApp } from '../../app.js';
import { csvCell } from '../../platform/csv.js';
import { invalid } from '../../platform/errors.js';
import { allowed, auditContext, field, formBody, handleForm, redirect, schoolIdOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { logFormats, type LogFormat } from './parse.js';
import { themeNames, themes } from './phrases.js';
import { alertStatuses, alertStatusLabels, maxBatchLines, themeLabel } from './service.js';

const roles = ['victim', 'instigator', 'witness', 'affected', 'other'] as const;
const roleLabels: Record<(typeof roles)[number], string> = {
  victim: 'Victim',
  instigator: 'Instigator',
  witness: 'Witness',
  affected: 'Affected',
  other: 'Other',
};

/** A real calendar day as YYYY-MM-DD (not 2026-02-31), between the years 2000 and 2999. */
function isDay(value: string | undefined): value is string {
  if (!value || !/^2\d{3}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/** A report period from the query: "from" inclusive, "to" inclusive on the page (exclusive inside); the last 30 days by default. */
function periodOf(request: FastifyRequest, today: Date) {
  const query = request.query as Record<string, string | undefined>;
  const to = isDay(query.to) ? query.to : today.toISOString().slice(0, 10);
  const from = isDay(query.from) ? query.from : new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  const toExclusive = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from, to, toExclusive };
}

/** Bars for the report tables: the widest is 100%. */
function withBars<T extends Record<string, unknown>>(rows: T[], key: keyof T) {
  const max = Math.max(1, ...rows.map((row) => Number(row[key])));
  return rows.map((row) => ({ ...row, bar: Math.max(1, Math.round((Number(row[key]) / max) * 100)) }));
}

export function registerMonitoringRoutes(app: HavenApp, services: Services): void {
  const { monitoring, incidents, filtering } = services;

  async function categoryNames(schoolId: string) {
    return new Map((await filtering.categories(schoolId)).map((category) => [category.code, category.name]));
  }

  app.get('/monitoring/alerts', { config: { access: 'monitoring.alerts' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const status = (alertStatuses as readonly string[]).includes(query.status ?? '') ? query.status : query.status === 'any' ? undefined : 'open';
    const minSeverity = /^[1-5]$/.test(query.severity ?? '') ? Number(query.severity) : undefined;
    const schoolId = schoolIdOf(request);
    const names = await categoryNames(schoolId);
    const knownTheme = (themes as readonly string[]).includes(query.theme ?? '') || names.has(query.theme ?? '');
    const alerts = await monitoring.alerts(auditContext(request), { status, minSeverity, theme: knownTheme ? query.theme : undefined });
    return reply.render('features/monitoring/views/alerts.njk', {
      title: 'Monitoring alerts',
      alerts: alerts.map((alert) => ({ ...alert, themeLabel: themeLabel(alert.theme, names), statusLabel: alertStatusLabels[alert.status as 'open'] })),
      query: { ...query, status: status ?? 'any' },
      statusItems: [...alertStatuses.map((value) => ({ value, text: alertStatusLabels[value] })), { value: 'any', text: 'Any' }],
      severityItems: [{ value: '', text: 'Any' }, ...[5, 4, 3, 2].map((value) => ({ value: String(value), text: `${value} or more` }))],
      themeItems: [
        { value: '', text: 'Any' },
        ...themes.map((value) => ({ value, text: themeNames[value] })),
        ...[...names].map(([value, text]) => ({ value, text: `Blocked: ${text}` })),
      ],
      canEditPhrases: allowed(request, 'monitoring.phrases'),
      canReport: allowed(request, 'monitoring.reports'),
    });
  });

  async function alertPage(request: FastifyRequest, id: string, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const [view, names, types] = await Promise.all([monitoring.alert(auditContext(request), id), categoryNames(schoolId), incidents.typesFor(schoolId)]);
    const suggestion = monitoring.suggestionFor(view.row.theme);
    const suggestedType = types.find((type) => type.code === suggestion.type)?.id;
    return {
      title: `Monitoring alert ${view.row.reference}`,
      view,
      themeLabel: themeLabel(view.row.theme, names),
      categoryName: view.row.category ? (names.get(view.row.category) ?? view.row.category) : null,
      statusLabel: alertStatusLabels[view.row.status as 'open'],
      typeItems: types.filter((type) => type.retired_at === null).map((type) => ({ value: type.id, text: type.name, selected: type.id === suggestedType })),
      roleItems: roles.map((role) => ({ value: role, text: roleLabels[role], selected: role === suggestion.role })),
      values: {},
      backLink: '/monitoring/alerts',
      ...extra,
    };
  }

  app.get('/monitoring/alerts/:id', { config: { access: 'monitoring.alerts' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return reply.render('features/monitoring/views/alert.njk', await alertPage(request, id));
  });

  app.post('/monitoring/alerts/:id/note', { config: { access: 'monitoring.alerts' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const values = { note: field(formBody(request), 'note') };
    return handleForm(reply, 'features/monitoring/views/alert.njk', await alertPage(request, id, { values }), async () => {
      await monitoring.addNote(auditContext(request), id, values.note);
      return redirect(reply, `/monitoring/alerts/${id}`);
    });
  });

  app.post('/monitoring/alerts/:id/dismiss', { config: { access: 'monitoring.alerts' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = formBody(request);
    const values = { reason: field(body, 'reason'), falsePositive: field(body, 'falsePositive') === 'yes' };
    return handleForm(reply, 'features/monitoring/views/alert.njk', await alertPage(request, id, { values }), async () => {
      await monitoring.dismiss(auditContext(request), id, values);
      return redirect(reply, `/monitoring/alerts/${id}`);
    });
  });

  app.post('/monitoring/alerts/:id/escalate', { config: { access: 'monitoring.alerts' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = formBody(request);
    const values = { typeId: field(body, 'typeId'), role: field(body, 'role'), escalateNote: field(body, 'escalateNote') };
    return handleForm(reply, 'features/monitoring/views/alert.njk', await alertPage(request, id, { values }), async () => {
      if (!(roles as readonly string[]).includes(values.role))
        throw invalid('Choose the person’s role', [{ field: 'role', message: 'Choose the person’s role' }]);
      const incident = await monitoring.escalate(auditContext(request), id, {
        typeId: values.typeId,
        role: values.role as (typeof roles)[number],
        note: values.escalateNote,
      });
      return redirect(reply, `/incidents/${incident.id}`);
    });
  });

  // Reports for the head and DSL: blocked attempts and alerts by person, group, category and time.
  app.get('/monitoring/reports', { config: { access: 'monitoring.reports' } }, async (request, reply) => {
    const period = periodOf(request, services.clock());
    const report = await monitoring.report(auditContext(request), { from: period.from, to: period.toExclusive });
    return reply.render('features/monitoring/views/report.njk', {
      title: 'Monitoring report',
      period,
      report: {
        ...report,
        byCategory: withBars(report.byCategory, 'blocked'),
        byHost: withBars(report.byHost, 'blocked'),
        byGroup: withBars(report.byGroup, 'blocked'),
        byPerson: withBars(report.byPerson, 'blocked'),
        byClass: withBars(report.byClass, 'blocked'),
        byDay: withBars(report.byDay, 'blocked'),
        alertsByTheme: withBars(report.alertsByTheme, 'alerts'),
      },
      csvLink: `/monitoring/reports.csv?from=${period.from}&to=${period.to}`,
      canSeeGovernorSummary: allowed(request, 'monitoring.governorReport'),
    });
  });

  app.get('/monitoring/reports.csv', { config: { access: 'monitoring.reports' } }, async (request, reply) => {
    const period = periodOf(request, services.clock());
    const report = await monitoring.report(auditContext(request), { from: period.from, to: period.toExclusive });
    const lines = [
      'Section,Label,Blocked attempts,Alerts',
      ...report.byCategory.map((row) => ['Blocked by category', row.label, row.blocked, '']),
      ...report.byGroup.map((row) => ['Blocked by group', row.label, row.blocked, '']),
      ...report.byHost.map((row) => ['Top blocked sites', row.label, row.blocked, '']),
      ...report.byClass.map((row) => ['Blocked by class', row.label, row.blocked, '']),
      ...report.byPerson.map((row) => ['Blocked by person', row.label, row.blocked, '']),
      ...report.byDay.map((row) => ['Blocked by day', row.label, row.blocked, '']),
      ...report.alertsByTheme.map((row) => ['Alerts by theme', row.label, '', row.alerts]),
      ...report.searchHits.map((row) => ['Search-term hits', `${row.at} ${row.reference} ${row.theme}: ${row.term}`, '', row.count]),
    ].map((row) => (typeof row === 'string' ? row : row.map((cell) => csvCell(String(cell))).join(',')));
    await services.audit.record(auditContext(request), 'monitoring.report_exported', null, { from: period.from, to: period.to });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="monitoring-${period.from}-to-${period.to}.csv"`)
      .send(`${lines.join('\r\n')}\r\n`);
  });

  // The governors' version: counts only, small numbers suppressed.
  app.get('/monitoring/governors', { config: { access: 'monitoring.governorReport' } }, async (request, reply) => {
    const period = periodOf(request, services.clock());
    const report = await monitoring.governorReport(auditContext(request), { from: period.from, to: period.toExclusive });
    return reply.render('features/monitoring/views/governors.njk', { title: 'Monitoring summary for governors', period, report });
  });

  app.get('/people/:personId/web-activity', { config: { access: 'monitoring.reports' } }, async (request, reply) => {
    const { personId } = request.params as { personId: string };
    const period = periodOf(request, services.clock());
    const visits = await monitoring.siteVisits(auditContext(request), personId, { from: period.from, to: period.toExclusive });
    return reply.render('features/monitoring/views/visits.njk', {
      title: `Web activity: ${visits.person.displayName}`,
      period,
      visits,
      backLink: `/people/${personId}`,
    });
  });

  async function phrasesPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const list = await monitoring.phraseList(schoolIdOf(request));
    return { title: 'Phrase lists', list, values: { text: list.current.text }, backLink: '/monitoring/alerts', ...extra };
  }

  app.get('/monitoring/phrases', { config: { access: 'monitoring.phrases' } }, async (request, reply) =>
    reply.render('features/monitoring/views/phrases.njk', await phrasesPage(request)),
  );

  app.get('/monitoring/phrases/:version', { config: { access: 'monitoring.phrases' } }, async (request, reply) => {
    const { version } = request.params as { version: string };
    const row = await monitoring.phraseListVersion(schoolIdOf(request), /^\d{1,9}$/.test(version) ? Number(version) : 0);
    return reply.type('text/plain; charset=utf-8').header('content-disposition', `inline; filename="phrases-v${row.version}.txt"`).send(row.text);
  });

  app.post('/monitoring/phrases', { config: { access: 'monitoring.phrases' } }, async (request, reply) => {
    const body = formBody(request);
    const values = { text: (Array.isArray(body.text) ? body.text[0] : body.text) ?? '', note: field(body, 'note') };
    return handleForm(reply, 'features/monitoring/views/phrases.njk', await phrasesPage(request, { values }), async () => {
      await monitoring.savePhraseList(auditContext(request), values);
      return redirect(reply, '/monitoring/phrases');
    });
  });

  // For the technician: what is kept, how old it is, and what the last ingests made of their logs.
  app.get('/monitoring/data', { config: { access: 'monitoring.admin' } }, async (request, reply) => {
    const schoolId = schoolIdOf(request);
    const [volumes, sources] = await Promise.all([monitoring.volumes(schoolId), monitoring.sources(schoolId)]);
    return reply.render('features/monitoring/views/data.njk', {
      title: 'Monitoring data',
      volumes,
      ingests: volumes.ingests.map((row) => ({ ...row, badSamples: JSON.parse(row.bad_samples) as Array<{ line: number; reason: string; text: string }> })),
      sources,
    });
  });

  const batchSchema = z.object({
    format: z.enum(logFormats as [LogFormat, ...LogFormat[]]),
    source: z.string().trim().min(1).max(200),
    batchId: z.string().trim().min(1).max(200),
    lines: z.array(z.string().max(65_536)).max(maxBatchLines),
  });
  app.post(
    '/api/v1/monitoring/logs',
    {
      config: { access: 'monitoring.ingest' },
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags: ['monitoring'],
        summary: 'Send a batch of web-activity log lines (Squid, e2guardian or Haven decision-log format); a repeated batchId is not stored twice',
        body: batchSchema,
        response: {
          200: z.object({
            lines: z.number(),
            bad: z.number(),
            events: z.number(),
            alerts: z.number(),
            duplicate: z.boolean(),
            badSamples: z.array(z.object({ line: z.number(), reason: z.string() })),
          }),
        },
      },
    },
    async (request) => {
      const body = request.body as z.infer<typeof batchSchema>;
      const outcome = await monitoring.ingestBatch(auditContext(request), body);
      return {
        lines: outcome.lines,
        bad: outcome.bad,
        events: outcome.events,
        alerts: outcome.alerts,
        duplicate: outcome.duplicateBatch === true,
        badSamples: outcome.badSamples.map((sample) => ({ line: sample.line, reason: sample.reason })),
      };
    },
  );
}
