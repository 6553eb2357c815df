import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import type { Role } from '../../src/platform/roles.js';
import { buildPupil, buildSchool, buildUser } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`JSON API and tokens (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    async function tokenFor(scopes: string[]) {
      const { schoolId, head } = await buildSchool(haven.services);
      const agent = new TestAgent(haven.app);
      await agent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      haven.clock.advance(30_000);
      const created = await agent.post('/admin/api-tokens', { name: 'MIS sync', scopes });
      assert.equal(created.statusCode, 200);
      const token = /data-qa="token-value">([^<]+)</.exec(created.body)?.[1];
      assert.ok(token, 'the token is shown once');
      return { schoolId, agent, token };
    }

    it('lists people for a token with the people.read scope, and nothing from another school', async () => {
      const { schoolId, token } = await tokenFor(['people.read']);
      await buildPupil(haven.services, schoolId, { legalFirstName: 'Wren' });
      const other = await buildSchool(haven.services, 'Another School');
      const elsewhere = await buildPupil(haven.services, other.schoolId, { legalFirstName: 'Elsewhere' });
      const response = await haven.app.inject({ method: 'GET', url: '/api/v1/people?kind=pupil', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 200);
      const body = response.json<{ people: Array<{ legalFirstName: string }>; total: number }>();
      assert.deepEqual(
        body.people.map((person) => person.legalFirstName),
        ['Wren'],
      );
      const foreign = await haven.app.inject({ method: 'GET', url: `/api/v1/people/${elsewhere.id}`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(foreign.statusCode, 404);
      assert.equal(foreign.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
    });

    it('refuses what the token’s scopes do not cover, a bad query, and a revoked token', async () => {
      const { agent, token } = await tokenFor(['groups.read']);
      const groups = await haven.app.inject({ method: 'GET', url: '/api/v1/groups', headers: { authorization: `Bearer ${token}` } });
      assert.equal(groups.statusCode, 200);
      const people = await haven.app.inject({ method: 'GET', url: '/api/v1/people', headers: { authorization: `Bearer ${token}` } });
      assert.equal(people.statusCode, 403);
      assert.equal(people.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
      const page = await agent.get('/admin/api-tokens');
      const tokenId = /action="\/admin\/api-tokens\/([^/]+)\/revoke"/.exec(page.body)![1]!;
      assert.equal((await agent.post(`/admin/api-tokens/${tokenId}/revoke`)).statusCode, 303);
      const revoked = await haven.app.inject({ method: 'GET', url: '/api/v1/groups', headers: { authorization: `Bearer ${token}` } });
      assert.equal(revoked.statusCode, 401);
      const forged = await haven.app.inject({ method: 'GET', url: '/api/v1/groups', headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
      assert.equal(forged.statusCode, 401);
    });

    it('lets the technician give a token the proxy scopes no role holds, and nobody else beyond their work', async () => {
      const { schoolId } = await buildSchool(haven.services);
      const actorOf = (userId: string, roles: Role[]) => ({ schoolId, actor: { kind: 'user' as const, schoolId, userId, displayName: 'Someone', roles } });
      const technician = await buildUser(haven.services, schoolId, ['technician']);
      const teacher = await buildUser(haven.services, schoolId, ['staff']);
      const made = await haven.services.apiTokens.create(
        schoolId,
        { name: 'Proxy', scopes: ['filtering.decide', 'monitoring.ingest'] },
        actorOf(technician.userId, ['technician']),
      );
      assert.match(made.token, /^hvn\./);
      await assert.rejects(
        haven.services.apiTokens.create(schoolId, { name: 'Proxy', scopes: ['monitoring.ingest'] }, actorOf(teacher.userId, ['staff'])),
        /There is a problem with the token details/,
      );
      await assert.rejects(
        haven.services.apiTokens.create(schoolId, { name: 'Reader', scopes: ['incidents.read'] }, actorOf(technician.userId, ['technician'])),
        /There is a problem with the token details/,
        'a technician never reads incidents, so cannot give a token that does',
      );
    });

    it('validates query parameters with a JSON error', async () => {
      const { token } = await tokenFor(['people.read']);
      const response = await haven.app.inject({ method: 'GET', url: '/api/v1/people?kind=dragon', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json<{ error: { code: string } }>().error.code, 'VALIDATION');
    });

    it('serves the OpenAPI document and a docs page', async () => {
      const document = await haven.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      assert.equal(document.statusCode, 200);
      const spec = document.json<{ openapi: string; paths: Record<string, unknown> }>();
      assert.equal(spec.openapi, '3.1.0');
      assert.ok(spec.paths['/api/v1/people']);
      assert.ok(spec.paths['/api/v1/people/{personId}']);
      assert.equal(spec.paths['/people'], undefined, 'HTML pages are not in the API document');
      const docs = await haven.app.inject({ method: 'GET', url: '/api/v1/docs' });
      assert.match(docs.body, /\/api\/v1\/groups/);
    });

    it('answers unknown API routes and health checks in JSON', async () => {
      const missing = await haven.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), { error: { code: 'NOT_FOUND', message: 'No such API route' } });
      const health = await haven.app.inject({ method: 'GET', url: '/healthz' });
      assert.deepEqual(health.json(), { status: 'ok' });
    });
  });
}
