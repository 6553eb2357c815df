import { parse } from 'csv-parse/sync';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoPassword, seedDemoSchool } from '../../src/features/demo/seed.js';
import { TestAgent } from '../support/agent.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';

/**
 * Acceptance: the access register CSV for the demo school matches a register worked out here
 * straight from the tables, with none of the register's own code.
 */
for (const dialect of dialects()) {
  describe(`the demo school's access register (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;

    before(async () => {
      haven = await buildTestHaven(dialect);
      schoolId = (await seedDemoSchool(haven.services)).schoolId;
    });
    after(() => haven.close());

    async function expectedRows(): Promise<string[][]> {
      const { db } = haven.services.handle;
      const today = haven.clock().toISOString().slice(0, 10);
      const people = await db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('status', '=', 'current').execute();
      const templates = await db.selectFrom('agreement_templates').selectAll().where('school_id', '=', schoolId).execute();
      const published = await db.selectFrom('agreement_versions').selectAll().where('school_id', '=', schoolId).where('status', '=', 'published').execute();
      const signatures = await db.selectFrom('agreement_signatures').selectAll().where('school_id', '=', schoolId).execute();
      const guests = await db.selectFrom('guest_access').selectAll().where('school_id', '=', schoolId).execute();
      const accounts = await db.selectFrom('access_provisioning').selectAll().where('school_id', '=', schoolId).where('removed_at', 'is', null).execute();

      // The signature that counts: the newest (highest version, then latest) — and it must be of the version in force.
      const signedCurrent = (audience: string, personId: string): string | null => {
        const template = templates.find((row) => row.audience === audience)!;
        const current = published.find((row) => row.template_id === template.id)!;
        const mine = signatures
          .filter((row) => row.template_id === template.id && row.person_id === personId)
          .sort((a, b) => b.version - a.version || b.signed_at.localeCompare(a.signed_at));
        return mine[0] && mine[0].version_id === current.id ? mine[0].signed_at : null;
      };
      const keyStage = (year: number) => (year <= 0 ? 'EYFS' : year <= 2 ? 'KS1' : year <= 6 ? 'KS2' : year <= 9 ? 'KS3' : year <= 11 ? 'KS4' : 'KS5');
      const stageLabel: Record<string, string> = { EYFS: 'Pupils: early years', KS1: 'Pupils: key stage 1', KS2: 'Pupils: key stage 2' };
      const rows: string[][] = [];
      for (const person of people) {
        const name = `${person.legal_last_name}, ${person.legal_first_name}`;
        const account = accounts.some((row) => row.person_id === person.id) ? 'yes' : 'no';
        let cleared: string | null = null;
        let filtering = 'Most restrictive (not cleared)';
        let category: string;
        let detail: string;
        if (person.kind === 'staff' || person.kind === 'governor') {
          category = person.kind === 'staff' ? 'Staff' : 'Governor';
          detail = person.job_title ?? '';
          cleared = signedCurrent('staff', person.id);
          if (cleared) filtering = person.kind === 'staff' ? 'Staff' : 'Governors';
        } else if (person.kind === 'pupil') {
          category = 'Pupil';
          detail = person.class_name ?? '';
          const stage = keyStage(person.year_group!);
          const parent = signedCurrent('parent', person.id);
          const own = stage === 'EYFS' ? parent : signedCurrent((person.year_group ?? 0) <= 2 ? 'pupil_ks1' : 'pupil_ks2', person.id);
          cleared = parent && own ? [parent, own].sort().at(-1)! : null;
          if (cleared) filtering = stageLabel[stage]!;
        } else if (person.kind === 'visitor') {
          category = 'Visitor or community user';
          detail = person.organisation ?? '';
          const signed = signedCurrent('community', person.id);
          const access = guests.find((row) => row.person_id === person.id && !row.revoked_at && row.starts_on <= today && row.expires_on >= today);
          cleared = signed && access ? [signed, `${access.starts_on}T00:00:00.000Z`].sort().at(-1)! : null;
          if (cleared) filtering = 'Guests';
        } else continue;
        rows.push([name, category, detail, cleared ? 'yes' : 'no', cleared ? cleared.slice(0, 10) : '', filtering, account]);
      }
      return rows;
    }

    it('exports a CSV that matches the register computed independently from the tables', async () => {
      const technician = new TestAgent(haven.app);
      await technician.signIn('technician@demo.haven.test', demoPassword);
      const response = await technician.get('/access-register.csv');
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/csv/);
      const rows: string[][] = parse(response.body, { relax_column_count: false });
      const [header, ...records] = rows;
      assert.deepEqual(header, ['Name', 'Category', 'Class or job title', 'Cleared', 'Reason', 'Cleared since', 'Filtering', 'Network account recorded']);
      // Everything but the free-text reason, compared as a multiset (names can repeat).
      const actual = records.map((row) => [row[0]!, row[1]!, row[2]!, row[3]!, row[5]!, row[6]!, row[7]!].join('|')).sort();
      const expected = (await expectedRows()).map((row) => row.join('|')).sort();
      assert.equal(actual.length, expected.length);
      assert.deepEqual(actual, expected);
      // The demo has both kinds in every category, so the comparison can tell them apart.
      for (const category of ['Staff', 'Pupil', 'Visitor or community user']) {
        const mine = records.filter((row) => row[1] === category);
        assert.ok(mine.some((row) => row[3] === 'yes') && mine.some((row) => row[3] === 'no'), `${category}: some cleared, some not`);
      }
    });
  });
}
