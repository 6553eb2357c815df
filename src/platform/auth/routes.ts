import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionCookie, type HavenApp } from '../../app.js';
import type { Services } from '../../services.js';
import { AppError } from '../errors.js';
import { actorOf, auditContext, field, formBody, handleForm, redirect, safeNext } from '../http.js';
import type { SessionStage } from './service.js';

/**
 * Per-address limit on the sign-in and account-recovery forms, against guessing across many
 * accounts. Generous, because a whole school signs in from one NAT address; per-account
 * lock-out (auth service) is the main defence.
 */
export const authRateLimit = { max: 120, timeWindow: '1 minute' };

export function setSessionCookie(reply: FastifyReply, services: Services, token: string): void {
  reply.setCookie(sessionCookie, token, { httpOnly: true, secure: services.config.secureCookies, sameSite: 'lax', path: '/' });
}

export function nextStep(stage: SessionStage, next = '/'): string {
  if (stage === 'second-factor') return `/sign-in/two-factor?next=${encodeURIComponent(next)}`;
  if (stage === 'enrol') return '/account/two-factor/setup';
  return next;
}

function partialContext(request: FastifyRequest) {
  const session = request.session;
  if (!session) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
  return { session, context: { schoolId: session.schoolId, actor: session.actor, ip: request.ip } };
}

export function registerAuthRoutes(app: HavenApp, services: Services): void {
  const { auth, users, schools } = services;

  app.get('/sign-in', { config: { access: 'public' } }, async (request, reply) => {
    if ((await schools.count()) === 0) return redirect(reply, '/setup');
    if (request.session?.stage === 'full') return redirect(reply, '/');
    const query = request.query as Record<string, string | undefined>;
    return reply.render('platform/auth/views/sign-in.njk', { title: 'Sign in', next: safeNext(query.next), values: {} });
  });

  app.post('/sign-in', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const body = formBody(request);
    const next = safeNext(field(body, 'next'));
    const values = { email: field(body, 'email') };
    try {
      const { token, stage } = await auth.signIn(values.email, field(body, 'password'), {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        previous: request.session,
      });
      setSessionCookie(reply, services, token);
      return redirect(reply, nextStep(stage, next));
    } catch (error) {
      if (error instanceof AppError && (error.code === 'UNAUTHENTICATED' || error.code === 'RATE_LIMITED')) {
        reply.code(error.statusCode);
        return reply.render('platform/auth/views/sign-in.njk', {
          title: 'Sign in',
          next,
          values,
          errors: [{ text: error.message, href: '#email' }],
          errorFor: { email: { text: error.message } },
        });
      }
      throw error;
    }
  });

  app.get('/sign-in/two-factor', { config: { access: 'signing-in' } }, async (request, reply) => {
    const { session } = partialContext(request);
    if (session.stage !== 'second-factor') return redirect(reply, nextStep(session.stage));
    const query = request.query as Record<string, string | undefined>;
    const demoCode = session.school.isDemo ? await auth.demoCode(session.schoolId, session.user.id) : undefined;
    return reply.render('platform/auth/views/two-factor.njk', { title: 'Enter your code', next: safeNext(query.next), demoCode });
  });

  app.post('/sign-in/two-factor', { config: { access: 'signing-in', rateLimit: authRateLimit } }, async (request, reply) => {
    const { session, context } = partialContext(request);
    const body = formBody(request);
    const next = safeNext(field(body, 'next'));
    return handleForm(reply, 'platform/auth/views/two-factor.njk', { title: 'Enter your code', next }, async () => {
      try {
        await auth.completeSecondFactor(session, field(body, 'code'), context);
      } catch (error) {
        if (error instanceof AppError && error.code === 'RATE_LIMITED') {
          reply.clearCookie(sessionCookie, { path: '/' });
          reply.code(error.statusCode);
          return reply.render('platform/auth/views/sign-in.njk', {
            title: 'Sign in',
            next: '/',
            values: {},
            session: null,
            user: null,
            errors: [{ text: error.message, href: '#email' }],
            errorFor: { email: { text: error.message } },
          });
        }
        throw error;
      }
      return redirect(reply, next);
    });
  });

  app.get('/account/two-factor/setup', { config: { access: 'signing-in' } }, async (request, reply) => {
    const { session } = partialContext(request);
    if (session.stage === 'second-factor') return redirect(reply, '/sign-in/two-factor');
    if (session.user.totpEnabled) return redirect(reply, '/account');
    const enrolment = await auth.beginEnrolment(session);
    return reply.render('platform/auth/views/enrol.njk', { title: 'Set up two-factor sign-in', enrolment });
  });

  app.post('/account/two-factor/setup', { config: { access: 'signing-in' } }, async (request, reply) => {
    const { session, context } = partialContext(request);
    if (session.stage === 'second-factor') return redirect(reply, '/sign-in/two-factor');
    if (session.user.totpEnabled) return redirect(reply, '/account');
    const body = formBody(request);
    const enrolment = await auth.beginEnrolment(session);
    return handleForm(reply, 'platform/auth/views/enrol.njk', { title: 'Set up two-factor sign-in', enrolment }, async () => {
      const codes = await auth.confirmEnrolment(session, field(body, 'code'), context);
      return reply.render('platform/auth/views/recovery-codes.njk', { title: 'Save your recovery codes', codes, stage: 'full' });
    });
  });

  app.post('/sign-out', { config: { access: 'signing-in' } }, async (request, reply) => {
    const { session, context } = partialContext(request);
    await auth.signOut(session, context);
    reply.clearCookie(sessionCookie, { path: '/' });
    return redirect(reply, '/sign-in');
  });

  app.post('/account/sign-out-everywhere', { config: { access: 'signed-in' } }, async (request, reply) => {
    const { session, context } = partialContext(request);
    await auth.signOutEverywhere(session, context);
    reply.clearCookie(sessionCookie, { path: '/' });
    return redirect(reply, '/sign-in');
  });

  app.get('/account', { config: { access: 'signed-in' } }, async (request, reply) => {
    const actor = actorOf(request);
    const user = await users.get(actor.schoolId, request.session!.user.id);
    const recoveryCodesLeft = await users.unusedRecoveryCodes(actor.schoolId, user.id);
    return reply.render('platform/auth/views/account.njk', { title: 'Your account', account: user, recoveryCodesLeft });
  });

  app.get('/account/password', { config: { access: 'signed-in' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    return reply.render('platform/auth/views/change-password.njk', { title: 'Change your password', expired: query.expired === '1' });
  });

  app.post('/account/password', { config: { access: 'signed-in' } }, async (request, reply) => {
    const body = formBody(request);
    const session = request.session!;
    return handleForm(reply, 'platform/auth/views/change-password.njk', { title: 'Change your password' }, async () => {
      if (!(await auth.verifyPassword(session.schoolId, session.user.id, field(body, 'currentPassword')))) {
        throw new AppError('VALIDATION', 'Your current password is wrong', [{ field: 'currentPassword', message: 'Your current password is wrong' }]);
      }
      if (field(body, 'password') !== field(body, 'confirmPassword')) {
        throw new AppError('VALIDATION', 'The passwords do not match', [{ field: 'confirmPassword', message: 'The passwords do not match' }]);
      }
      await auth.changePassword(session.schoolId, session.user.id, field(body, 'password'), auditContext(request));
      await auth.endOtherSessions(session.schoolId, session.user.id, session.sessionId);
      return reply.render('platform/auth/views/change-password.njk', {
        title: 'Change your password',
        notice: 'Your password has been changed, and you have been signed out everywhere else.',
      });
    });
  });

  // Invitations and password reset: single-use, expiring links; only their hashes are stored.
  app.get('/invitations/:token', { config: { access: 'public' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const { user } = await auth.checkOneTimeToken(token, 'invitation');
    return reply.render('platform/auth/views/accept-invitation.njk', {
      title: 'Set your password',
      token,
      invitee: { displayName: user.display_name, email: user.email },
    });
  });

  app.post('/invitations/:token', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const { user } = await auth.checkOneTimeToken(token, 'invitation');
    const body = formBody(request);
    const context = { title: 'Set your password', token, invitee: { displayName: user.display_name, email: user.email } };
    return handleForm(reply, 'platform/auth/views/accept-invitation.njk', context, async () => {
      if (field(body, 'password') !== field(body, 'confirmPassword')) {
        throw new AppError('VALIDATION', 'The passwords do not match', [{ field: 'confirmPassword', message: 'The passwords do not match' }]);
      }
      const session = await users.acceptInvitation(token, field(body, 'password'), { ip: request.ip, userAgent: request.headers['user-agent'] });
      setSessionCookie(reply, services, session.token);
      return redirect(reply, nextStep(session.stage));
    });
  });

  app.get('/password-reset', { config: { access: 'public' } }, async (_request, reply) =>
    reply.render('platform/auth/views/request-reset.njk', { title: 'Reset your password' }),
  );

  app.post('/password-reset', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const body = formBody(request);
    users.requestPasswordReset(field(body, 'email'), request.ip, (error) => request.log.error({ err: error }, 'password reset request failed'));
    return reply.render('platform/auth/views/request-reset.njk', { title: 'Reset your password', sent: true });
  });

  app.get('/password-reset/:token', { config: { access: 'public' } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    await auth.checkOneTimeToken(token, 'password-reset');
    return reply.render('platform/auth/views/reset-password.njk', { title: 'Choose a new password', token });
  });

  app.post('/password-reset/:token', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const body = formBody(request);
    return handleForm(reply, 'platform/auth/views/reset-password.njk', { title: 'Choose a new password', token }, async () => {
      if (field(body, 'password') !== field(body, 'confirmPassword')) {
        throw new AppError('VALIDATION', 'The passwords do not match', [{ field: 'confirmPassword', message: 'The passwords do not match' }]);
      }
      await users.resetPassword(token, field(body, 'password'), request.ip);
      return reply.render('platform/auth/views/reset-password.njk', { title: 'Password changed', done: true });
    });
  });
}
