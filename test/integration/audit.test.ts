import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, testSecret, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool } from '../support/factories.js';

function runCli(haven: TestHaven, args: string[]) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HAVEN_SECRET: testSecret, HAVEN_DATA_DIR: haven.database.dataDir, NODE_ENV: 'test' };
  if (haven.database.databaseUrl) env.DATABASE_URL = haven.database.databaseUrl;
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env, encoding: 'utf8' });
}

for (const dialect of dialects()) {
  describe(`audit trail (${dialect})`, () => {
    let haven: TestHaven;
    before(async () => {
      haven = await buildTestHaven(dialect);
    });
    after(() => haven.close());

    it('chains every event to the one before, even when written concurrently', async () => {
      const { schoolId } = await buildSchool(haven.services);
      await Promise.all(Array.from({ length: 40 }, (_, i) => haven.services.audit.record({ schoolId }, 'test.concurrent', { type: 'thing', id: String(i) })));
      const result = await haven.services.audit.verify();
      assert.equal(result.ok, true, JSON.stringify(result.broken));
      const events = await haven.services.audit.list(schoolId, { action: 'test.concurrent' }, 1, 100);
      assert.equal(events.length, 40);
      assert.equal(new Set(events.map((event) => event.seq)).size, 40);
    });

    it('audits a read in one line, with who, what and where from', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      await haven.services.audit.read(
        { schoolId, actor: { kind: 'user', schoolId, userId: head.userId, displayName: 'Robin Ashdown', roles: ['headteacher'] }, ip: '192.0.2.10' },
        'incident',
        'inc-1',
      );
      const [event] = await haven.services.audit.list(schoolId, { action: 'incident.read' }, 1);
      assert.equal(event?.actor_user_id, head.userId);
      assert.equal(event?.target_id, 'inc-1');
      assert.equal(event?.ip, '192.0.2.10');
    });

    it('shows the headteacher the trail, filtered by person and action', async () => {
      const { schoolId, head } = await buildSchool(haven.services);
      const agent = new TestAgent(haven.app);
      await agent.signIn(head.email, head.password, head.totpSecret, haven.clock);
      haven.clock.advance(30_000);
      const page = await agent.get(`/audit?actor=${head.userId}&action=auth.signed_in`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /auth\.signed_in/);
      assert.doesNotMatch(page.body, /<td class="govuk-table__cell">school\.created<\/td>/);
      assert.ok((await haven.services.audit.list(schoolId, {}, 1)).length > 0);
    });

    it('`haven audit verify` passes on an intact trail and reports the first altered row', async () => {
      const { schoolId } = await buildSchool(haven.services);
      for (let i = 0; i < 5; i += 1) await haven.services.audit.record({ schoolId }, 'test.event', { type: 'thing', id: String(i) }, { n: i });
      const intact = runCli(haven, ['audit', 'verify']);
      assert.equal(intact.status, 0, intact.stderr);
      assert.match(intact.stdout, /Audit trail intact: \d+ events checked/);

      const [target] = await haven.services.audit
        .list(schoolId, { action: 'test.event' }, 1, 5)
        .then((events) => events.filter((event) => event.target_id === '2'));
      await sql`UPDATE audit_events SET details = ${'{"n":99}'} WHERE school_id = ${schoolId} AND seq = ${target!.seq}`.execute(haven.services.handle.db);
      const broken = runCli(haven, ['audit', 'verify']);
      assert.equal(broken.status, 1);
      assert.match(broken.stdout, new RegExp(`BROKEN at school ${schoolId}, event ${target!.seq}: its content does not match its hash`));
    });

    it('reports rows deleted from the end of a chain', async () => {
      const fresh = await buildTestHaven(dialect);
      try {
        const { schoolId } = await buildSchool(fresh.services);
        await fresh.services.audit.record({ schoolId }, 'test.last', null);
        await sql`DELETE FROM audit_events WHERE action = 'test.last'`.execute(fresh.services.handle.db);
        const result = await fresh.services.audit.verify();
        assert.equal(result.ok, false);
        assert.match(result.broken!.reason, /rows were deleted/);
      } finally {
        await fresh.close();
      }
    });
  });
}
