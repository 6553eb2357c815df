import { z } from 'zod';
import type { HavenApp } from '../../app.js';
import { personKinds } from '../../features/people/schema.js';
import type { Services } from '../../services.js';
import { AppError } from '../errors.js';
import { auditContext, schoolIdOf } from '../http.js';

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

  const incidentSummary = z.object({
    id: z.string(),
    reference: z.string(),
    occurredAt: z.string(),
    status: z.string(),
    severity: z.string().nullable(),
    types: z.array(z.string()),
    people: z.array(z.object({ personId: z.string().nullable(), name: z.string(), role: z.string() })),
  });
  const toSummary = (row: {
    incident: { id: string; reference: string; occurred_at: string; status: string; severity: string | null };
    types: Array<{ code: string }>;
    people: Array<{ personId: string | null; name: string; role: string }>;
  }) => ({
    id: row.incident.id,
    reference: row.incident.reference,
    occurredAt: row.incident.occurred_at,
    status: row.incident.status,
    severity: row.incident.severity,
    types: row.types.map((type) => type.code),
    people: row.people.map((person) => ({ personId: person.personId, name: person.name, role: person.role })),
  });

  app.post(
    '/api/v1/concerns',
    {
      config: { access: 'incident.report' },
      schema: {
        tags: ['incidents'],
        summary: 'Report a concern (for integrations such as monitoring tools); returns its reference',
        body: z.object({
          occurredAt: z.string().datetime({ offset: true }),
          typeCodes: z.array(z.string()).min(1),
          whatHappened: z.string().min(1).max(10_000),
          reporterName: z.string().max(100).optional(),
          location: z.string().max(100).optional(),
          device: z.string().max(100).optional(),
          urgent: z.boolean().default(false),
          people: z
            .array(z.object({ personId: z.string().uuid(), role: z.enum(['victim', 'instigator', 'witness', 'affected', 'other']) }))
            .max(30)
            .default([]),
        }),
        response: { 201: z.object({ id: z.string(), reference: z.string() }), 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        occurredAt: string;
        typeCodes: string[];
        whatHappened: string;
        reporterName?: string;
        location?: string;
        device?: string;
        urgent: boolean;
        people: Array<{ personId: string; role: 'victim' }>;
      };
      const schoolId = schoolIdOf(request);
      const types = await services.incidents.typesFor(schoolId);
      const typeIds = body.typeCodes.map((code) => types.find((type) => type.code === code && type.retired_at === null)?.id);
      if (typeIds.some((id) => id === undefined))
        throw new AppError(
          'VALIDATION',
          `Unknown type code: use one of ${types
            .filter((type) => type.retired_at === null)
            .map((type) => type.code)
            .join(', ')}`,
        );
      const created = await services.incidents.report(
        auditContext(request),
        {
          occurredAt: body.occurredAt,
          typeIds: typeIds as string[],
          whatHappened: body.whatHappened,
          reporterName: body.reporterName,
          location: body.location,
          device: body.device,
          urgent: body.urgent,
          people: body.people,
          outOfSchool: false,
        },
        { source: 'api' },
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/incidents',
    {
      config: { access: 'incidents.read' },
      schema: {
        tags: ['incidents'],
        summary: 'The incident log, newest first (ordinary incidents only: never DSL-only or allegations)',
        querystring: z.object({
          status: z.enum(['reported', 'illegal_track', 'internal_track', 'debrief', 'closed']).optional(),
          page: z.coerce.number().int().min(1).default(1),
        }),
        response: { 200: z.object({ incidents: z.array(incidentSummary), total: z.number(), page: z.number() }), 401: errorSchema, 403: errorSchema },
      },
    },
    async (request) => {
      const query = request.query as { status?: string; page: number };
      const result = await services.incidents.log(auditContext(request), { status: query.status }, query.page, 100);
      return { incidents: result.rows.map(toSummary), total: result.total, page: result.page };
    },
  );

  app.get(
    '/api/v1/incidents/:incidentId',
    {
      config: { access: 'incidents.read' },
      schema: {
        tags: ['incidents'],
        summary: 'One incident the token may read',
        params: z.object({ incidentId: z.string() }),
        response: { 200: incidentSummary, 404: errorSchema },
      },
    },
    async (request) => {
      const { incidentId } = request.params as { incidentId: string };
      const view = await services.incidents.get(auditContext(request), incidentId);
      return toSummary({ incident: view.incident, types: view.types, people: view.people });
    },
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
