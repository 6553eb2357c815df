import { z } from 'zod';
import type { HavenApp } from '../../app.js';
import { personKinds } from '../../features/people/schema.js';
import type { Services } from '../../services.js';
import { schoolIdOf } from '../http.js';

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const personSchema = z.object({
  id: z.string(),
  kind: z.enum(personKinds),
  displayName: z.string(),
  legalFirstName: z.string(),
  legalLastName: z.string(),
  yearGroup: z.number().nullable(),
  className: z.string().nullable(),
  misId: z.string().nullable(),
  jobTitle: z.string().nullable(),
  status: z.enum(['current', 'left']),
});

const groupSchema = z.object({ id: z.string(), kind: z.string(), code: z.string(), name: z.string(), members: z.number() });

/** The JSON API under /api/v1: same services as the HTML pages, schemas in and out, OpenAPI served. */
export function registerApiRoutes(app: HavenApp, services: Services): void {
  app.get(
    '/api/v1/people',
    {
      config: { access: 'people.read' },
      schema: {
        tags: ['people'],
        summary: 'List people (pupils, staff, parents, governors, visitors)',
        querystring: z.object({
          kind: z.enum(personKinds).optional(),
          status: z.enum(['current', 'left']).optional(),
          page: z.coerce.number().int().min(1).default(1),
        }),
        response: { 200: z.object({ people: z.array(personSchema), total: z.number(), page: z.number() }), 401: errorSchema, 403: errorSchema },
      },
    },
    async (request) => {
      const query = request.query as { kind?: (typeof personKinds)[number]; status?: 'current' | 'left'; page: number };
      const result = await services.people.list(schoolIdOf(request), { kind: query.kind, status: query.status }, query.page, 100);
      return { people: result.people, total: result.total, page: result.page };
    },
  );

  app.get(
    '/api/v1/people/:personId',
    {
      config: { access: 'people.read' },
      schema: { tags: ['people'], summary: 'One person', params: z.object({ personId: z.string() }), response: { 200: personSchema, 404: errorSchema } },
    },
    async (request) => {
      const { personId } = request.params as { personId: string };
      return services.people.get(schoolIdOf(request), personId);
    },
  );

  app.get(
    '/api/v1/groups',
    {
      config: { access: 'groups.read' },
      schema: {
        tags: ['groups'],
        summary: 'Groups (classes, year groups, key stages, staff, governors, guests) with member counts',
        response: { 200: z.object({ groups: z.array(groupSchema) }) },
      },
    },
    async (request) => ({ groups: await services.people.listGroups(schoolIdOf(request)) }),
  );

  app.get('/api/v1/openapi.json', { config: { access: 'public' } }, async () => app.swagger());

  app.get('/api/v1/docs', { config: { access: 'public' } }, async (_request, reply) => {
    const document = app.swagger() as { paths?: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
    const operations = Object.entries(document.paths ?? {}).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, summary: operation.summary ?? '' })),
    );
    return reply.render('platform/api/views/docs.njk', { title: 'API', operations });
  });
}
