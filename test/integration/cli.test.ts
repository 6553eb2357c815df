import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { testSecret } from '../support/app.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/database.js';
import { simsHeaders, simsPupils, toCsv } from '../support/mis.js';

function haven(database: TestDatabase, args: string[], input?: string) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HAVEN_SECRET: testSecret,
    HAVEN_DATA_DIR: database.dataDir,
    NODE_ENV: 'test',
    PUBLIC_URL: 'http://haven.test',
  };
  if (database.databaseUrl) env.DATABASE_URL = database.databaseUrl;
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env, encoding: 'utf8', input: input ?? '' });
}

describe('the haven command', () => {
  it('lists its subcommands', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { encoding: 'utf8' });
    for (const command of ['serve', 'migrate', 'setup', 'demo', 'import', 'backup', 'audit', 'user'])
      assert.match(result.stdout, new RegExp(`\\n  ${command}\\b`));
  });

  it('fails fast naming a bad setting', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PUBLIC_URL: 'https://haven.example.sch.uk' },
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /HAVEN_SECRET: required in production/);
    const port = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PORT: 'eighty' },
    });
    assert.match(port.stderr, /PORT: /);
  });
});

for (const dialect of dialects()) {
  describe(`haven commands against a real database (${dialect})`, () => {
    let database: TestDatabase;
    const work = mkdtempSync(join(tmpdir(), 'haven-cli-'));
    before(async () => {
      database = await createTestDatabase(dialect);
    });
    after(async () => {
      await database.drop();
      rmSync(work, { recursive: true, force: true });
    });

    it('sets up a school, creates and manages accounts, imports people and verifies the audit trail', () => {
      const weak = haven(database, ['setup', '--school', 'Moor Lane Primary', '--head-name', 'Pat Moor', '--email', 'pat@moorlane.test'], 'short\n');
      assert.equal(weak.status, 1);
      assert.match(weak.stderr, /password: Password must be at least 12 characters/);
      const setup = haven(
        database,
        ['setup', '--school', 'Moor Lane Primary', '--head-name', 'Pat Moor', '--email', 'pat@moorlane.test'],
        'heather-moor-lantern\n',
      );
      assert.equal(setup.status, 0, setup.stderr);
      assert.match(setup.stdout, /Created Moor Lane Primary/);

      const second = haven(
        database,
        ['setup', '--school', 'Second School', '--head-name', 'Lee Second', '--email', 'lee@second.test'],
        'heather-moor-lantern\n',
      );
      assert.equal(second.status, 1);
      assert.match(second.stderr, /already has a school.*--add/);
      const added = haven(
        database,
        ['setup', '--add', '--school', 'Second School', '--head-name', 'Lee Second', '--email', 'lee@second.test'],
        'heather-moor-lantern\n',
      );
      assert.equal(added.status, 0, added.stderr);
      const ambiguous = haven(database, ['user', 'create', '--email', 'kim@moorlane.test', '--name', 'Kim Ash', '--role', 'staff']);
      assert.match(ambiguous.stderr, /This Haven has 2 schools: choose one with --school/);
      const moorLane = /([0-9a-f-]{36}) Moor Lane Primary/.exec(ambiguous.stderr)![1]!;

      const invite = haven(database, [
        'user',
        'create',
        '--school',
        moorLane,
        '--email',
        'kim@moorlane.test',
        '--name',
        'Kim Ash',
        '--role',
        'staff',
        'esafety_lead',
      ]);
      assert.equal(invite.status, 0, invite.stderr);
      assert.match(invite.stdout, /http:\/\/haven\.test\/invitations\/\S+/);
      assert.match(haven(database, ['user', 'create', '--email', 'x@moorlane.test', '--name', 'X', '--role', 'wizard']).stderr, /Unknown role wizard/);
      assert.equal(haven(database, ['user', 'disable', '--email', 'kim@moorlane.test']).status, 0);
      assert.equal(haven(database, ['user', 'reset-2fa', '--email', 'pat@moorlane.test']).status, 0);
      assert.match(haven(database, ['user', 'disable', '--email', 'nobody@moorlane.test']).stderr, /No account has the email address/);

      const pupils = simsPupils(30).map((pupil) => pupil.cells);
      const bad = pupils.map((row) => [...row]);
      bad[4]![7] = 'Year 20';
      writeFileSync(join(work, 'bad.csv'), toCsv(simsHeaders, bad));
      writeFileSync(join(work, 'good.csv'), toCsv(simsHeaders, pupils));
      const refused = haven(database, ['import', 'people', join(work, 'bad.csv'), '--school', moorLane]);
      assert.equal(refused.status, 1);
      assert.match(refused.stdout, /row 6, column "Year": “Year 20” is not a year group/);
      assert.match(refused.stdout, /Nothing was written/);
      const dry = haven(database, ['import', 'people', join(work, 'good.csv'), '--dry-run', '--school', moorLane]);
      assert.match(dry.stdout, /30 new/);
      assert.match(dry.stdout, /Dry run: nothing was written/);
      const imported = haven(database, ['import', 'people', join(work, 'good.csv'), '--school', moorLane]);
      assert.equal(imported.status, 0, imported.stderr);
      assert.match(imported.stdout, /Imported: 30 added, 0 changed, 0 unchanged, 0 marked as left/);
      assert.match(haven(database, ['import', 'people', join(work, 'good.csv'), '--school', moorLane]).stdout, /Imported: 0 added, 0 changed, 30 unchanged/);

      const verify = haven(database, ['audit', 'verify']);
      assert.equal(verify.status, 0, verify.stdout);
      assert.match(verify.stdout, /Audit trail intact/);
    });

    it('backs the database up while it is in use', () => {
      const result = haven(database, ['backup', '--out', join(work, 'copy.sqlite')]);
      assert.equal(result.status, 0, result.stderr);
      if (dialect === 'sqlite') {
        assert.match(result.stdout, /integrity check ok/);
        const copy = new SQLite(join(work, 'copy.sqlite'), { readonly: true });
        const row = copy.prepare("SELECT count(*) AS n FROM people WHERE kind = 'pupil'").get() as { n: number };
        copy.close();
        assert.equal(row.n, 30);
      } else {
        assert.match(result.stdout, /pg_dump --format=custom/);
      }
    });
  });
}
