import type { HavenApp } from '../../app.js';
import type { Services } from '../../services.js';
import { actorOf, redirect } from '../http.js';

export function registerNotificationRoutes(app: HavenApp, services: Services): void {
  app.get('/notifications', { config: { access: 'signed-in' } }, async (request, reply) => {
    const actor = actorOf(request);
    const userId = request.session!.user.id;
    const notifications = await services.notifications.list(actor.schoolId, userId);
    return reply.render('platform/notifications/views/list.njk', { title: 'Notifications', notifications });
  });

  app.post('/notifications/read', { config: { access: 'signed-in' } }, async (request, reply) => {
    await services.notifications.markAllRead(actorOf(request).schoolId, request.session!.user.id);
    return redirect(reply, '/notifications');
  });
}
