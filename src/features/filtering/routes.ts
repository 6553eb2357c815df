import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HavenApp } from '../../app.js';
import { AppError, invalid, notFound } from '../../platform/errors.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf, uploadedFile } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { illegalCategories } from './catalogue.js';
import { exportFormats, exportLabels, type ExportFormat } from './dns-exports.js';

const statusLabels: Record<string, string> = {
  pending: 'Waiting for a decision',
  approved: 'Approved',
  declined: 'Declined',
  withdrawn: 'Withdrawn',
  expired: 'Ended',
};

export function registerFilteringRoutes(app: HavenApp, services: Services): void {
  const { filtering } = services;

  async function groupItems(schoolId: string, selected?: string) {
    return (await filtering.policies(schoolId)).map((policy) => ({ value: policy.group_code, text: policy.name, selected: policy.group_code === selected }));
  }

  app.get('/filtering', { config: { access: 'filtering.read' } }, async (request, reply) => {
    const schoolId = schoolIdOf(request);
    const [policies, lists, networks, categories, engine] = await Promise.all([
      filtering.policies(schoolId),
      filtering.lists(schoolId),
      filtering.networks(schoolId),
      filtering.categories(schoolId),
      filtering.engineFor(schoolId),
    ]);
    return reply.render('features/filtering/views/overview.njk', {
      title: 'Filtering',
      policies,
      lists,
      networks,
      categories,
      snapshot: { version: engine.version, path: filtering.snapshotPath(schoolId), counts: engine.current.header.counts },
      exportFormats: exportFormats.map((format) => ({ format, label: exportLabels[format] })),
      groupItems: await groupItems(schoolId),
      canManage: allowed(request, 'filtering.manage'),
      values: {},
    });
  });

  // List imports: a file, a UT1-style directory under the incoming folder, or an address.
  async function importPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const categories = (await filtering.categories(schoolId)).map((category) => ({ value: category.code, text: category.name }));
    return {
      title: 'Import a list',
      categoryItems: categories,
      incomingDir: filtering.incomingDir,
      values: { format: 'auto', sourceType: 'upload' },
      backLink: '/filtering',
      ...extra,
    };
  }

  app.get('/filtering/lists/new', { config: { access: 'filtering.manage' } }, async (request, reply) =>
    reply.render('features/filtering/views/import.njk', await importPage(request)),
  );

  app.post('/filtering/lists', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const file = uploadedFile(request, 'file');
    const values = {
      name: field(body, 'name'),
      category: field(body, 'category'),
      format: field(body, 'format') || 'auto',
      sourceType: field(body, 'sourceType') || 'upload',
      path: field(body, 'path'),
      url: field(body, 'url'),
      scheduleHours: field(body, 'scheduleHours'),
    };
    return handleForm(reply, 'features/filtering/views/import.njk', await importPage(request, { values }), async () => {
      let source: Parameters<typeof filtering.importList>[1]['source'];
      if (values.sourceType === 'path') source = { type: 'path', path: values.path };
      else if (values.sourceType === 'url') source = { type: 'url', url: values.url };
      else {
        if (!file || file.data.length === 0) throw invalid('Choose a list file', [{ field: 'file', message: 'Choose the list file to upload' }]);
        if (file.data.includes(0))
          throw invalid('The file is not a text list', [{ field: 'file', message: 'The file must be a text list (domains, hosts, adblock, URLs or CSV)' }]);
        source = { type: 'upload', text: file.data.toString('utf8'), fileName: file.filename };
      }
      const result = await filtering.importList(auditContext(request), {
        name: values.name,
        category: values.category,
        format: values.format,
        source,
        scheduleHours: values.scheduleHours.trim() ? Number(values.scheduleHours) : null,
      });
      return reply.render('features/filtering/views/imported.njk', { title: 'List imported', result, backLink: '/filtering' });
    });
  });

  app.get('/filtering/lists/:id', { config: { access: 'filtering.read' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { list, versions } = await filtering.listVersions(schoolIdOf(request), id);
    return reply.render('features/filtering/views/list.njk', {
      title: list.name,
      list,
      versions: versions.map((version) => ({
        ...version,
        report: JSON.parse(version.report) as Record<string, unknown>,
        diff: JSON.parse(version.diff) as Record<string, number>,
      })),
      canManage: allowed(request, 'filtering.manage'),
      backLink: '/filtering',
    });
  });

  app.post('/filtering/lists/:id/reimport', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { list } = await filtering.listVersions(schoolIdOf(request), id);
    if (!list.source || (list.source_type !== 'path' && list.source_type !== 'url'))
      throw new AppError('CONFLICT', 'Only a list from a path or an address can be imported again');
    await filtering.importList(auditContext(request), {
      name: list.name,
      category: list.category ?? '',
      format: list.format,
      source: list.source_type === 'url' ? { type: 'url', url: list.source } : { type: 'path', path: list.source },
      listId: list.id,
    });
    return redirect(reply, `/filtering/lists/${id}`);
  });

  async function policyPage(request: FastifyRequest, groupCode: string, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const policy = (await filtering.policies(schoolId)).find((row) => row.group_code === groupCode);
    if (!policy) throw notFound('policy');
    const [categories, allow, deny] = await Promise.all([
      filtering.categories(schoolId),
      policy.allow_list_id ? filtering.currentEntries(schoolId, policy.allow_list_id) : Promise.resolve({ domains: [], urls: [] }),
      policy.deny_list_id ? filtering.currentEntries(schoolId, policy.deny_list_id) : Promise.resolve({ domains: [], urls: [] }),
    ]);
    return {
      title: `Filtering policy: ${policy.name}`,
      policy,
      categories: categories.map((category) => ({
        ...category,
        illegal: illegalCategories.includes(category.code),
        blocked: illegalCategories.includes(category.code) || policy.blocked.includes(category.code),
      })),
      windows: policy.timeWindows.map((window) => {
        const time = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
        const days = window.days.map((day) => ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day]).join(', ');
        return `${days} ${time(window.from)}–${time(window.to)}: ${window.allowCategories.join(', ')}`;
      }),
      allow: [...allow.domains, ...allow.urls],
      deny: [...deny.domains, ...deny.urls],
      canManage: allowed(request, 'filtering.manage'),
      backLink: '/filtering',
      values: {},
      ...extra,
    };
  }

  app.get('/filtering/policies/:group', { config: { access: 'filtering.read' } }, async (request, reply) => {
    const { group } = request.params as { group: string };
    return reply.render('features/filtering/views/policy.njk', await policyPage(request, group));
  });

  app.post('/filtering/policies/:group', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { group } = request.params as { group: string };
    const body = formBody(request);
    return handleForm(
      reply,
      'features/filtering/views/policy.njk',
      await policyPage(request, group, { values: { reason: field(body, 'reason') } }),
      async () => {
        await filtering.updatePolicy(auditContext(request), group, {
          blocked: fieldList(body, 'blocked'),
          allowListOnly: field(body, 'allowListOnly') === 'yes',
          safeSearch: field(body, 'safeSearch') === 'yes',
          reason: field(body, 'reason'),
        });
        return redirect(reply, `/filtering/policies/${encodeURIComponent(group)}`);
      },
    );
  });

  app.post('/filtering/policies/:group/entries', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { group } = request.params as { group: string };
    const body = formBody(request);
    const values = { entry: field(body, 'entry'), entryReason: field(body, 'entryReason'), kind: field(body, 'kind') };
    return handleForm(reply, 'features/filtering/views/policy.njk', await policyPage(request, group, { values }), async () => {
      const remove = field(body, 'remove');
      const kind = values.kind === 'deny' ? 'deny' : 'allow';
      if (remove) await filtering.removeLocalEntry(auditContext(request), { groupCode: group, kind, entry: remove, reason: values.entryReason || 'Removed' });
      else await filtering.addLocalEntry(auditContext(request), { groupCode: group, kind, entry: values.entry, reason: values.entryReason });
      return redirect(reply, `/filtering/policies/${encodeURIComponent(group)}`);
    });
  });

  app.post('/filtering/policies/:group/windows', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { group } = request.params as { group: string };
    const body = formBody(request);
    const remove = field(body, 'remove');
    const values = { from: field(body, 'from'), to: field(body, 'to'), windowReason: field(body, 'windowReason') };
    return handleForm(reply, 'features/filtering/views/policy.njk', await policyPage(request, group, { values }), async () => {
      if (remove !== '') await filtering.removeTimeWindow(auditContext(request), group, Number(remove));
      else
        await filtering.addTimeWindow(auditContext(request), group, {
          days: fieldList(body, 'days'),
          from: values.from,
          to: values.to,
          allowCategories: fieldList(body, 'allowCategories'),
          reason: values.windowReason,
        });
      return redirect(reply, `/filtering/policies/${encodeURIComponent(group)}`);
    });
  });

  app.post('/filtering/networks', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const values = { cidr: field(body, 'cidr'), groupCode: field(body, 'groupCode'), label: field(body, 'label') };
    try {
      await filtering.addNetwork(auditContext(request), values);
    } catch (error) {
      if (error instanceof AppError && error.code === 'VALIDATION') {
        const schoolId = schoolIdOf(request);
        reply.code(400);
        return reply.render('features/filtering/views/overview.njk', {
          title: 'Filtering',
          policies: await filtering.policies(schoolId),
          lists: await filtering.lists(schoolId),
          networks: await filtering.networks(schoolId),
          categories: await filtering.categories(schoolId),
          snapshot: null,
          groupItems: await groupItems(schoolId, values.groupCode),
          canManage: true,
          values,
          errors: error.fields.map((item) => ({ text: item.message, href: `#${item.field}` })),
          errorFor: Object.fromEntries(error.fields.map((item) => [item.field, { text: item.message }])),
        });
      }
      throw error;
    }
    return redirect(reply, '/filtering');
  });

  app.post('/filtering/networks/:id/delete', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await filtering.removeNetwork(auditContext(request), id);
    return redirect(reply, '/filtering');
  });

  // Change requests: any member of staff asks (also from the block page); the approver decides.
  app.get('/filtering/requests', { config: { access: 'filtering.request' } }, async (request, reply) => {
    const schoolId = schoolIdOf(request);
    const seesAll = allowed(request, 'filtering.approve') || allowed(request, 'filtering.read');
    const userId = request.actor?.kind === 'user' ? request.actor.userId : '';
    const rows = await filtering.requests(schoolId, seesAll ? {} : { requestedBy: userId });
    return reply.render('features/filtering/views/requests.njk', { title: 'Filtering change requests', rows, statusLabels, seesAll });
  });

  async function newRequestPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const query = request.query as Record<string, string | undefined>;
    const today = services.clock().toISOString().slice(0, 10);
    const categories = (await filtering.categories(schoolId)).filter((category) => !illegalCategories.includes(category.code));
    return {
      title: 'Ask for a filtering change',
      groupItems: await groupItems(schoolId, query.group),
      categoryItems: categories.map((category) => ({ value: category.code, text: category.name })),
      values: { target: query.site?.slice(0, 300) ?? '', targetType: 'site', startsOn: today, endsOn: today, groupCode: query.group ?? '' },
      backLink: '/filtering/requests',
      ...extra,
    };
  }

  app.get('/filtering/requests/new', { config: { access: 'filtering.request' } }, async (request, reply) =>
    reply.render('features/filtering/views/request-form.njk', await newRequestPage(request)),
  );

  app.post('/filtering/requests', { config: { access: 'filtering.request' } }, async (request, reply) => {
    const body = formBody(request);
    const values = {
      targetType: field(body, 'targetType'),
      target: field(body, 'targetType') === 'category' ? field(body, 'category') : field(body, 'target'),
      groupCode: field(body, 'groupCode'),
      reason: field(body, 'reason'),
      riskNotes: field(body, 'riskNotes'),
      startsOn: field(body, 'startsOn'),
      endsOn: field(body, 'endsOn'),
    };
    return handleForm(reply, 'features/filtering/views/request-form.njk', await newRequestPage(request, { values }), async () => {
      const made = await filtering.requestChange(auditContext(request), values);
      return redirect(reply, `/filtering/requests/${made.id}`);
    });
  });

  async function requestPage(request: FastifyRequest, id: string, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    const row = await filtering.request(schoolId, id);
    const userId = request.actor?.kind === 'user' ? request.actor.userId : '';
    // Staff see their own requests; approvers and the filtering team see all (others: not found).
    if (row.requested_by !== userId && !allowed(request, 'filtering.approve') && !allowed(request, 'filtering.read')) throw notFound('request');
    const accounts = await services.users.list(schoolId);
    const nameOf = (accountId: string | null) => accounts.find((account) => account.id === accountId)?.displayName ?? '';
    const roles = request.actor?.kind === 'user' ? request.actor.roles : [];
    const canDecide =
      row.status === 'pending' &&
      (roles.includes('headteacher') || (row.stage === 'technician' && roles.includes('technician') && row.requested_by !== userId));
    return {
      title: `Filtering change request ${row.reference}`,
      row,
      statusLabels,
      requestedBy: nameOf(row.requested_by),
      decidedBy: nameOf(row.decided_by),
      canDecide,
      canWithdraw: row.requested_by === userId && (row.status === 'pending' || row.status === 'approved'),
      backLink: '/filtering/requests',
      values: {},
      ...extra,
    };
  }

  app.get('/filtering/requests/:id', { config: { access: 'filtering.request' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return reply.render('features/filtering/views/request.njk', await requestPage(request, id));
  });

  app.post('/filtering/requests/:id/decision', { config: { access: 'filtering.approve' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = formBody(request);
    const values = { decisionReason: field(body, 'decisionReason') };
    return handleForm(reply, 'features/filtering/views/request.njk', await requestPage(request, id, { values }), async () => {
      await filtering.decide(auditContext(request), id, { approve: field(body, 'decision') === 'approve', reason: values.decisionReason });
      return redirect(reply, `/filtering/requests/${id}`);
    });
  });

  app.post('/filtering/requests/:id/withdraw', { config: { access: 'filtering.request' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await filtering.withdraw(auditContext(request), id);
    return redirect(reply, `/filtering/requests/${id}`);
  });

  app.get('/filtering/log', { config: { access: 'filtering.changeLog' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const page = Math.max(1, Number(query.page) || 1);
    const rows = await filtering.changeLog(schoolIdOf(request), page);
    return reply.render('features/filtering/views/log.njk', { title: 'Filtering change log', rows, page });
  });

  // Filtering checks (DfE standard): run on demand here, weekly by the jobs scheduler.
  async function checksPage(request: FastifyRequest, extra: Record<string, unknown> = {}) {
    const schoolId = schoolIdOf(request);
    return {
      title: 'Filtering checks',
      checks: await filtering.checks(schoolId),
      groupItems: await groupItems(schoolId),
      canRun: allowed(request, 'filtering.manage'),
      values: {},
      ...extra,
    };
  }

  app.get('/filtering/checks', { config: { access: 'filtering.changeLog' } }, async (request, reply) =>
    reply.render('features/filtering/views/checks.njk', await checksPage(request)),
  );

  app.post('/filtering/checks', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const values = { groupCode: field(body, 'groupCode'), location: field(body, 'location'), proxyUrl: field(body, 'proxyUrl') };
    return handleForm(reply, 'features/filtering/views/checks.njk', await checksPage(request, { values }), async () => {
      const outcome = await filtering.runCheck(auditContext(request), values);
      return redirect(reply, `/filtering/checks/${outcome.id}`);
    });
  });

  async function checkPage(request: FastifyRequest, id: string, extra: Record<string, unknown> = {}) {
    return {
      title: 'Filtering check',
      check: await filtering.check(schoolIdOf(request), id),
      canRun: allowed(request, 'filtering.manage'),
      backLink: '/filtering/checks',
      values: {},
      ...extra,
    };
  }

  app.get('/filtering/checks/:id', { config: { access: 'filtering.changeLog' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return reply.render('features/filtering/views/check.njk', await checkPage(request, id));
  });

  app.post('/filtering/checks/:id/action', { config: { access: 'filtering.manage' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const action = field(formBody(request), 'action');
    return handleForm(reply, 'features/filtering/views/check.njk', await checkPage(request, id, { values: { action } }), async () => {
      await filtering.recordCheckAction(auditContext(request), id, action);
      return redirect(reply, `/filtering/checks/${id}`);
    });
  });

  // Exports for DNS servers and other filters: people download them here; servers fetch them with an API token.
  async function sendExport(request: FastifyRequest, reply: FastifyReply) {
    const { group, format } = request.params as { group: string; format: string };
    if (!(exportFormats as readonly string[]).includes(format)) throw notFound('export format');
    const text = await filtering.exportFor(schoolIdOf(request), group, format as ExportFormat);
    const extension = format === 'rpz' ? 'zone' : format === 'squid-acl' ? 'acl' : format === 'adblock' ? 'txt' : 'conf';
    return reply
      .type('text/plain; charset=utf-8')
      .header('content-disposition', `attachment; filename="haven-${group.replace(/[^a-zA-Z0-9_-]/g, '-')}.${format}.${extension}"`)
      .send(text);
  }

  app.get('/filtering/exports/:group/:format', { config: { access: 'filtering.read' } }, sendExport);
  app.get('/api/v1/filter/exports/:group/:format', { config: { access: 'filtering.decide' } }, sendExport);

  // The block page: public (a pupil's browser lands here); the token says what was blocked and why.
  app.get('/blocked/:schoolId', { config: { access: 'public' } }, async (request, reply) => {
    const { schoolId } = request.params as { schoolId: string };
    const query = request.query as Record<string, string | undefined>;
    const school = await services.schools.find(schoolId);
    const info = school && query.t ? filtering.readToken(schoolId, query.t) : null;
    const category = info?.category ? (await filtering.categories(schoolId)).find((row) => row.code === info.category) : undefined;
    reply.code(info ? 200 : 400);
    return reply.render('features/filtering/views/blocked.njk', {
      title: 'This site is blocked',
      info,
      categoryName: category?.name ?? null,
      illegal: info?.category ? illegalCategories.includes(info.category) : false,
      requestLink: info?.host
        ? `/filtering/requests/new?site=${encodeURIComponent(info.host)}&group=${encodeURIComponent(info.group)}`
        : '/filtering/requests/new',
    });
  });

  const decideItem = z.object({ url: z.string().min(1).max(8000), ip: z.string().max(64).optional(), user: z.string().max(256).optional() });
  const verdictSchema = z.object({
    action: z.enum(['allow', 'block']),
    category: z.string().nullable(),
    rule: z.string(),
    group: z.string(),
    snapshot: z.string(),
    blockPage: z.string().optional(),
    rewriteUrl: z.string().optional(),
  });
  app.post(
    '/api/v1/filter/decide',
    {
      config: { access: 'filtering.decide' },
      schema: {
        tags: ['filtering'],
        summary: 'Decide a batch of web requests (for proxies and firewalls other than Squid)',
        body: z.object({ requests: z.array(decideItem).min(1).max(1000) }),
        response: { 200: z.object({ verdicts: z.array(verdictSchema) }) },
      },
    },
    async (request) => {
      const { requests } = request.body as { requests: Array<{ url: string; ip?: string; user?: string }> };
      const schoolId = schoolIdOf(request);
      const engine = await filtering.engineFor(schoolId);
      const verdicts = await filtering.decideBatch(schoolId, requests);
      return {
        verdicts: verdicts.map((verdict) => ({
          action: verdict.action,
          category: verdict.category,
          rule: verdict.rule,
          group: verdict.group,
          snapshot: verdict.snapshot,
          ...(verdict.action === 'block' ? { blockPage: engine.blockPageFor(verdict) } : {}),
          ...(verdict.rewriteUrl ? { rewriteUrl: verdict.rewriteUrl } : {}),
        })),
      };
    },
  );
}
