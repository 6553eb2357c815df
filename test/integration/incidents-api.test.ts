import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildPupil, buildSchool } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`incidents through the API (${dialect})`, () => {
    let haven: TestHaven;
    let token: string;
    let reportOnly: string;
    let schoolId: string;
    let head: TestAgent;

    before(async () => {
      haven = await buildTestHaven(dialect);
      const school = await buildSchool(haven.services);
      schoolId = school.schoolId;
      head = new TestAgent(haven.app);
      await head.signIn(school.head.email, school.head.password, school.head.totpSecret, haven.clock);
      const created = await head.post('/admin/api-tokens', { name: 'Monitoring', scopes: ['incident.report', 'incidents.read'] });
      token = /data-qa="token-value">([^<]+)</.exec(created.body)![1]!;
      const second = await head.post('/admin/api-tokens', { name: 'Report only', scopes: ['incident.report'] });
      reportOnly = /data-qa="token-value">([^<]+)</.exec(second.body)![1]!;
    });
    after(() => haven.close());

    const call = (method: 'GET' | 'POST', url: string, bearer: string, payload?: object) =>
      haven.app.inject({ method, url, headers: { authorization: `Bearer ${bearer}` }, ...(payload ? { payload } : {}) });

    it('creates a concern from an integration, and lists it with the same rules as the pages', async () => {
      const pupil = await buildPupil(haven.services, schoolId);
      const created = await call('POST', '/api/v1/concerns', reportOnly, {
        occurredAt: '2026-11-23T08:10:00Z',
        typeCodes: ['inappropriate_website'],
        whatHappened: 'Repeated attempts to reach a blocked gambling site',
        device: 'Suite 2, PC 14',
        people: [{ personId: pupil.id, role: 'instigator' }],
      });
      assert.equal(created.statusCode, 201, created.body);
      const { id, reference } = created.json<{ id: string; reference: string }>();
      assert.match(reference, /^ES-2026-\d{4}$/);
      assert.equal((await call('GET', '/api/v1/incidents', reportOnly)).statusCode, 403, 'reporting does not grant reading');
      const listed = await call('GET', '/api/v1/incidents', token);
      assert.equal(listed.statusCode, 200);
      const body = listed.json<{ incidents: Array<{ id: string; people: Array<{ role: string }> }> }>();
      assert.deepEqual(
        body.incidents.find((incident) => incident.id === id)?.people.map((person) => person.role),
        ['instigator'],
      );
      const source = await haven.services.handle.db.selectFrom('incidents').select(['source', 'reporter_role']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.deepEqual(source, { source: 'api', reporter_role: 'Integration' });
    });

    it('never shows a token DSL-only incidents or allegations', async () => {
      const created = await call('POST', '/api/v1/concerns', token, {
        occurredAt: '2026-11-23T08:20:00Z',
        typeCodes: ['online_hate'],
        whatHappened: 'Posts about a pupil',
      });
      const { id } = created.json<{ id: string }>();
      assert.equal(
        (await head.post(`/incidents/${id}/triage`, { severity: 'medium', severityReason: 'Sensitive family context', illegal: 'no', visibility: 'dsl_only' }))
          .statusCode,
        303,
      );
      assert.equal((await call('GET', `/api/v1/incidents/${id}`, token)).statusCode, 404);
      const listed = await call('GET', '/api/v1/incidents', token);
      assert.ok(!listed.json<{ incidents: Array<{ id: string }> }>().incidents.some((incident) => incident.id === id));
    });

    it('explains a bad request', async () => {
      const unknownType = await call('POST', '/api/v1/concerns', token, { occurredAt: '2026-11-23T08:20:00Z', typeCodes: ['dragons'], whatHappened: 'x' });
      assert.equal(unknownType.statusCode, 400);
      assert.match(unknownType.json<{ error: { message: string } }>().error.message, /Unknown type code: use one of/);
      const missing = await call('POST', '/api/v1/concerns', token, { typeCodes: ['cyberbullying'] });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json<{ error: { code: string } }>().error.code, 'VALIDATION');
    });
  });
}
