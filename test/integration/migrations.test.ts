import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator } from 'kysely';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { buildTestHaven, type TestHaven } from '../support/app.js';
import { dialects } from '../support/database.js';
import { buildSchool } from '../support/factories.js';

for (const dialect of dialects()) {
  describe(`migrations carry data over (${dialect})`, () => {
    let haven: TestHaven;
    let schoolId: string;

    before(async () => {
      haven = await buildTestHaven(dialect);
      schoolId = (await buildSchool(haven.services)).schoolId;
    });
    after(async () => haven.close());

    it('turns per-site daily counts into one row per subject and day, and back into per-site rows on the way down', async () => {
      const db = haven.services.handle.db;
      const migrator = new Migrator({ db, provider: migrationProvider });
      const down = await migrator.migrateTo('2026_12_02_0009_monitoring');
      assert.equal(down.error, undefined);
      const old = (host: string, subject: string, allowed: number, blocked: number, day = '2026-11-30', category: string | null = null) => ({
        school_id: schoolId,
        day,
        subject,
        host,
        person_id: subject.startsWith('p:') ? subject.slice(2) : null,
        group_code: 'key_stage:KS2',
        category,
        allowed,
        blocked,
      });
      await db
        .insertInto('web_activity_daily' as never)
        .values([
          old('library.example', 'ip:10.1.2.3', 5, 0),
          old('games.example', 'ip:10.1.2.3', 0, 2, '2026-11-30', 'games'),
          old('library.example', 'p:person-7', 3, 0),
          old('library.example', 'ip:10.1.2.3', 1, 0, '2026-12-01'),
        ] as never)
        .execute();
      const up = await migrator.migrateToLatest();
      assert.equal(up.error, undefined);
      const rows = await db.selectFrom('web_activity').selectAll().where('school_id', '=', schoolId).orderBy('day').orderBy('subject').execute();
      assert.deepEqual(
        rows.map((row) => [
          row.day,
          row.subject,
          row.person_id,
          JSON.parse(row.sites) as unknown,
          Number(row.site_count),
          Number(row.allowed),
          Number(row.blocked),
        ]),
        [
          [
            '2026-11-30',
            'ip:10.1.2.3',
            null,
            [
              ['games.example', 'games', 'key_stage:KS2', 0, 2],
              ['library.example', null, 'key_stage:KS2', 5, 0],
            ],
            2,
            5,
            2,
          ],
          ['2026-11-30', 'p:person-7', 'person-7', [['library.example', null, 'key_stage:KS2', 3, 0]], 1, 3, 0],
          ['2026-12-01', 'ip:10.1.2.3', null, [['library.example', null, 'key_stage:KS2', 1, 0]], 1, 1, 0],
        ],
      );
      // Down again: the same per-site rows come back.
      assert.equal((await migrator.migrateTo('2026_12_02_0009_monitoring')).error, undefined);
      const back = (await db
        .selectFrom('web_activity_daily' as never)
        .selectAll()
        .where('school_id' as never, '=', schoolId as never)
        .execute()) as Array<{ day: string; subject: string; host: string; category: string | null; allowed: number | string; blocked: number | string }>;
      assert.deepEqual(back.map((row) => `${row.day} ${row.subject} ${row.host} ${row.category ?? '-'} ${Number(row.allowed)}/${Number(row.blocked)}`).sort(), [
        '2026-11-30 ip:10.1.2.3 games.example games 0/2',
        '2026-11-30 ip:10.1.2.3 library.example - 5/0',
        '2026-11-30 p:person-7 library.example - 3/0',
        '2026-12-01 ip:10.1.2.3 library.example - 1/0',
      ]);
      assert.equal((await migrator.migrateToLatest()).error, undefined);
    });
  });
}
