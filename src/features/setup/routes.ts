import type { HavenApp } from '../../app.js';
import { authRateLimit, setSessionCookie } from '../../platform/auth/routes.js';
import { field, formBody, handleForm, redirect } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { setUpSchool } from './service.js';

export function registerSetupRoutes(app: HavenApp, services: Services): void {
  app.get('/setup', { config: { access: 'public' } }, async (_request, reply) => {
    if ((await services.schools.count()) > 0) return redirect(reply, '/sign-in');
    return reply.render('features/setup/views/setup.njk', { title: 'Set up Haven', values: {} });
  });

  app.post('/setup', { config: { access: 'public', rateLimit: authRateLimit } }, async (request, reply) => {
    if ((await services.schools.count()) > 0) return redirect(reply, '/sign-in');
    const body = formBody(request);
    const values = { schoolName: field(body, 'schoolName'), urn: field(body, 'urn'), headName: field(body, 'headName'), headEmail: field(body, 'headEmail') };
    return handleForm(reply, 'features/setup/views/setup.njk', { title: 'Set up Haven', values }, async () => {
      const { school, userId } = await setUpSchool(services, { ...values, password: field(body, 'password') }, { ip: request.ip });
      // The first headteacher enrols two-factor sign-in straight away.
      const token = await services.auth.createSession(school.id, userId, 'enrol', { ip: request.ip, userAgent: request.headers['user-agent'] });
      setSessionCookie(reply, services, token);
      return redirect(reply, '/account/two-factor/setup');
    });
  });
}
