import type { HavenApp } from '../../app.js';
import type { Services } from '../../services.js';
import { allowed, auditContext, field, fieldList, formBody, handleForm, redirect, schoolIdOf } from '../http.js';
import { tokenScopes } from '../permissions.js';
import { isRole, roleLabels, roles } from '../roles.js';
import { schoolSettingsSchema } from '../schools/service.js';
import { AppError } from '../errors.js';

const assignableRoles = roles.filter((role) => role !== 'trust_admin' && role !== 'pupil' && role !== 'parent');
/** Pupil, parent and trust accounts are not made from this form; a posted one is refused, not ignored. */
function refuseUnassignable(posted: string[]): void {
  const refused = posted.filter((role) => !(assignableRoles as readonly string[]).includes(role));
  if (refused.length > 0)
    throw new AppError('VALIDATION', `These roles cannot be given here: ${refused.join(', ')}`, [{ field: 'roles', message: 'Choose roles from the list' }]);
}

const roleItems = (checked: string[]) => assignableRoles.map((role) => ({ value: role, text: roleLabels[role], checked: checked.includes(role) }));

export function registerUserRoutes(app: HavenApp, services: Services): void {
  const { users, apiTokens, schools, mailer } = services;

  app.get('/admin/users', { config: { access: 'users.read' } }, async (request, reply) => {
    const list = await users.list(schoolIdOf(request));
    return reply.render('platform/users/views/list.njk', { title: 'Accounts', accounts: list, canManage: allowed(request, 'users.manage') });
  });

  // Inviting from a person's record links the account to them, so marking them as left disables it.
  app.get('/admin/users/new', { config: { access: 'users.manage' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (!query.person) return reply.render('platform/users/views/new.njk', { title: 'Invite someone', values: {}, roleItems: roleItems(['staff']) });
    const person = await services.people.get(schoolIdOf(request), query.person);
    const defaultRole = person.kind === 'governor' ? 'governor' : person.kind === 'visitor' ? 'visitor' : 'staff';
    return reply.render('platform/users/views/new.njk', {
      title: 'Invite someone',
      values: { displayName: person.displayName, email: person.email ?? '', personId: person.id },
      roleItems: roleItems([defaultRole]),
    });
  });

  app.post('/admin/users', { config: { access: 'users.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const chosen = fieldList(body, 'roles');
    refuseUnassignable(chosen);
    const values = { displayName: field(body, 'displayName'), email: field(body, 'email'), personId: field(body, 'personId') };
    return handleForm(reply, 'platform/users/views/new.njk', { title: 'Invite someone', values, roleItems: roleItems(chosen) }, async () => {
      const personId = values.personId ? (await services.people.get(schoolIdOf(request), values.personId)).id : null;
      const { userId, link } = await users.invite(
        schoolIdOf(request),
        { displayName: values.displayName, email: values.email, personId, roles: chosen.filter(isRole) },
        auditContext(request),
      );
      const account = await users.get(schoolIdOf(request), userId);
      return reply.render('platform/users/views/invited.njk', { title: 'Invitation sent', account, link: mailer.configured ? null : link });
    });
  });

  app.get('/admin/users/:userId', { config: { access: 'users.read' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    const account = await users.get(schoolIdOf(request), userId);
    return reply.render('platform/users/views/show.njk', {
      title: account.displayName,
      account,
      roleItems: roleItems(account.roles),
      backLink: '/admin/users',
    });
  });

  app.post('/admin/users/:userId/roles', { config: { access: 'users.manage' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    const posted = fieldList(formBody(request), 'roles');
    refuseUnassignable(posted);
    const chosen = posted.filter(isRole);
    const account = await users.get(schoolIdOf(request), userId);
    return handleForm(reply, 'platform/users/views/show.njk', { title: account.displayName, account, roleItems: roleItems(chosen) }, async () => {
      await users.setRoles(schoolIdOf(request), userId, chosen, auditContext(request));
      return redirect(reply, `/admin/users/${userId}`);
    });
  });

  app.post('/admin/users/:userId/disable', { config: { access: 'users.manage' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    if (request.session?.user.id === userId) throw new AppError('CONFLICT', 'You cannot disable your own account');
    await users.disable(schoolIdOf(request), userId, auditContext(request));
    return redirect(reply, `/admin/users/${userId}`);
  });

  app.post('/admin/users/:userId/enable', { config: { access: 'users.manage' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    await users.enable(schoolIdOf(request), userId, auditContext(request));
    return redirect(reply, `/admin/users/${userId}`);
  });

  app.post('/admin/users/:userId/reset-two-factor', { config: { access: 'users.manage' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    await users.resetTwoFactor(schoolIdOf(request), userId, auditContext(request));
    return redirect(reply, `/admin/users/${userId}`);
  });

  app.post('/admin/users/:userId/resend-invitation', { config: { access: 'users.manage' } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    const link = await users.sendInvitation(schoolIdOf(request), userId, auditContext(request));
    const account = await users.get(schoolIdOf(request), userId);
    return reply.render('platform/users/views/invited.njk', { title: 'Invitation sent', account, link: mailer.configured ? null : link });
  });

  // API tokens: shown once, stored hashed.
  app.get('/admin/api-tokens', { config: { access: 'apiTokens.manage' } }, async (request, reply) => {
    const tokens = await apiTokens.list(schoolIdOf(request));
    return reply.render('platform/users/views/api-tokens.njk', {
      title: 'API tokens',
      tokens,
      scopeItems: tokenScopes.map((scope) => ({ value: scope, text: scope })),
      values: {},
    });
  });

  app.post('/admin/api-tokens', { config: { access: 'apiTokens.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const tokens = await apiTokens.list(schoolIdOf(request));
    const values = { name: field(body, 'name') };
    const scopes = fieldList(body, 'scopes');
    return handleForm(
      reply,
      'platform/users/views/api-tokens.njk',
      { title: 'API tokens', tokens, scopeItems: tokenScopes.map((scope) => ({ value: scope, text: scope, checked: scopes.includes(scope) })), values },
      async () => {
        const created = await apiTokens.create(schoolIdOf(request), { name: values.name, scopes }, auditContext(request));
        const list = await apiTokens.list(schoolIdOf(request));
        return reply.render('platform/users/views/api-tokens.njk', {
          title: 'API tokens',
          tokens: list,
          scopeItems: tokenScopes.map((scope) => ({ value: scope, text: scope })),
          values: {},
          created,
        });
      },
    );
  });

  app.post('/admin/api-tokens/:tokenId/revoke', { config: { access: 'apiTokens.manage' } }, async (request, reply) => {
    const { tokenId } = request.params as { tokenId: string };
    await apiTokens.revoke(schoolIdOf(request), tokenId, auditContext(request));
    return redirect(reply, '/admin/api-tokens');
  });

  // School settings: password rules and session timeouts.
  app.get('/admin/settings', { config: { access: 'school.manage' } }, async (request, reply) => {
    const school = await schools.get(schoolIdOf(request));
    return reply.render('platform/users/views/settings.njk', { title: 'Settings', settings: school.settings });
  });

  app.post('/admin/settings', { config: { access: 'school.manage' } }, async (request, reply) => {
    const body = formBody(request);
    const school = await schools.get(schoolIdOf(request));
    const candidate = {
      passwordMinLength: Number(field(body, 'passwordMinLength')),
      passwordDenyCommon: field(body, 'passwordDenyCommon') === 'yes',
      passwordHistory: Number(field(body, 'passwordHistory')),
      passwordExpiryDays: Number(field(body, 'passwordExpiryDays')),
      sessionIdleMinutes: Number(field(body, 'sessionIdleMinutes')),
      sessionAbsoluteHours: Number(field(body, 'sessionAbsoluteHours')),
      consentNeedsEveryParent: field(body, 'consentNeedsEveryParent') === 'yes',
      filterApproval: field(body, 'filterApproval') === 'technician_then_headteacher' ? ('technician_then_headteacher' as const) : ('headteacher' as const),
    };
    return handleForm(reply, 'platform/users/views/settings.njk', { title: 'Settings', settings: { ...school.settings, ...candidate } }, async () => {
      const parsed = schoolSettingsSchema.safeParse(candidate);
      if (!parsed.success) {
        throw new AppError(
          'VALIDATION',
          'There is a problem with the settings',
          parsed.error.issues.map((issue) => ({ field: String(issue.path[0]), message: `${String(issue.path[0])}: ${issue.message}` })),
        );
      }
      await services.handle.db.transaction().execute(async (trx) => {
        await schools.updateSettings(trx, school.id, parsed.data);
        await services.audit.record(auditContext(request), 'school.settings_changed', { type: 'school', id: school.id }, { ...parsed.data }, trx);
      });
      return reply.render('platform/users/views/settings.njk', { title: 'Settings', settings: parsed.data, notice: 'Settings saved.' });
    });
  });

  app.get('/admin/outbox', { config: { access: 'outbox.read' } }, async (request, reply) => {
    const messages = await mailer.outbox(schoolIdOf(request));
    return reply.render('platform/users/views/outbox.njk', { title: 'Outbox', messages, configured: mailer.configured });
  });
}
